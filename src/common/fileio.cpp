// Checked file I/O with atomic replacement; see fileio.h.
#include "common/fileio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace em {
namespace {

int64_t g_fail_after = -1;

std::string errno_text() {
    return std::strerror(errno);
}

std::string parent_dir(const std::string &path) {
    auto p = std::filesystem::path(path).parent_path();
    return p.empty() ? "." : p.string();
}

Status fsync_dir(const std::string &dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return Status::error(dir + ": cannot open directory: " + errno_text());
    ::fsync(fd);
    ::close(fd);
    return Status::ok();
}

Status write_all(int fd, const void *data, size_t n, const std::string &path) {
    const char *p = static_cast<const char *>(data);
    while (n > 0) {
        size_t chunk = n;
        if (g_fail_after >= 0) {
            if (g_fail_after == 0)
                return Status::error(path + ": write failed: no space left on device (injected)");
            chunk = std::min<size_t>(chunk, static_cast<size_t>(g_fail_after));
        }
        ssize_t w = ::write(fd, p, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            return Status::error(path + ": write failed: " + errno_text() +
                                 " (check free disk space)");
        }
        if (g_fail_after >= 0) g_fail_after -= w;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return Status::ok();
}

}  // namespace

void io_inject_write_failure(int64_t bytes) {
    g_fail_after = bytes;
}

Result<std::string> file_read(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return Status::error(path + ": cannot open: " + errno_text());
    std::string out;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            return Status::error(path + ": read failed: " + errno_text());
        }
        if (r == 0) break;
        out.append(buf, static_cast<size_t>(r));
    }
    ::close(fd);
    return out;
}

bool file_exists(const std::string &path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

Status dir_create(const std::string &path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return Status::error(path + ": cannot create directory: " + ec.message());
    return Status::ok();
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(tmp_.c_str());
    }
}

Status AtomicFile::open(const std::string &path) {
    path_ = path;
    tmp_ = path + ".tmp";
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::error(tmp_ + ": cannot create: " + errno_text());
    return Status::ok();
}

Status AtomicFile::write(const void *data, size_t n) {
    if (fd_ < 0) return Status::error(path_ + ": write to a file that is not open");
    return write_all(fd_, data, n, tmp_);
}

Status AtomicFile::commit() {
    if (fd_ < 0) return Status::error(path_ + ": commit of a file that is not open");
    if (::fsync(fd_) != 0) return Status::error(tmp_ + ": fsync failed: " + errno_text());
    ::close(fd_);
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
        Status s = Status::error(path_ + ": rename failed: " + errno_text());
        ::unlink(tmp_.c_str());
        return s;
    }
    return fsync_dir(parent_dir(path_));
}

Status file_write_atomic(const std::string &path, std::string_view data) {
    AtomicFile f;
    EM_TRY(f.open(path));
    EM_TRY(f.write(data.data(), data.size()));
    return f.commit();
}

Status file_append_line(const std::string &path, std::string_view line) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Status::error(path + ": cannot open for append: " + errno_text());
    std::string s(line);
    s.push_back('\n');
    Status st = write_all(fd, s.data(), s.size(), path);
    ::close(fd);
    return st;
}

}  // namespace em
