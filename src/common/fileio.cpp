// Checked file I/O with atomic replacement; see fileio.h.
#include "common/fileio.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>

namespace em {
namespace {

// The injected fault (tests only); `g_fault_on` keeps the common path to one relaxed load.
std::mutex g_fault_mu;
std::optional<IoFault> g_fault;
int64_t g_fault_matches = 0, g_fault_fired = 0;
std::atomic<bool> g_fault_on{false};

// Whether this call of `op` on `path` (the final path) is to fail; sets errno when it is.
bool fault_hits(IoOp op, const std::string &path, bool *short_write = nullptr) {
    if (!g_fault_on.load(std::memory_order_relaxed)) return false;
    std::lock_guard<std::mutex> lock(g_fault_mu);
    if (!g_fault || g_fault->op != op || ::fnmatch(g_fault->path.c_str(), path.c_str(), 0) != 0)
        return false;
    const int64_t k = ++g_fault_matches;
    if (k < g_fault->nth || (g_fault->times >= 0 && k >= g_fault->nth + g_fault->times))
        return false;
    ++g_fault_fired;
    if (short_write) *short_write = g_fault->short_write;
    errno = g_fault->error;
    return true;
}

std::string errno_text() {
    return std::strerror(errno);
}

// The errno of a failed write, with the fix when it is a full disk.
std::string write_error_text() {
    return errno == ENOSPC || errno == EDQUOT ? errno_text() + " (free disk space and run again)"
                                              : errno_text();
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

// Writes all of `data` to `fd`; `path` is the final path, `shown` the file actually written.
Status write_all(int fd, const void *data, size_t n, const std::string &path,
                 const std::string &shown) {
    const char *p = static_cast<const char *>(data);
    bool short_write = false;
    if (n > 0 && fault_hits(IoOp::write, path, &short_write)) {
        const int err = errno;
        if (short_write) {
            // Half the bytes land, as when the disk fills in the middle of a write.
            const ssize_t w = ::write(fd, p, n / 2);
            (void)w;
        }
        errno = err;
        return Status::error(shown + ": write failed: " + write_error_text());
    }
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return Status::error(shown + ": write failed: " + write_error_text());
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return Status::ok();
}

}  // namespace

void io_fault_set(const IoFault &fault) {
    std::lock_guard<std::mutex> lock(g_fault_mu);
    g_fault = fault;
    g_fault_matches = g_fault_fired = 0;
    g_fault_on.store(true);
}

void io_fault_clear() {
    std::lock_guard<std::mutex> lock(g_fault_mu);
    g_fault.reset();
    g_fault_on.store(false);
}

int64_t io_fault_matches() {
    std::lock_guard<std::mutex> lock(g_fault_mu);
    return g_fault_matches;
}

int64_t io_fault_fired() {
    std::lock_guard<std::mutex> lock(g_fault_mu);
    return g_fault_fired;
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
    fd_ = fault_hits(IoOp::open, path_)
              ? -1
              : ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::error(tmp_ + ": cannot create: " + write_error_text());
    return Status::ok();
}

Status AtomicFile::write(const void *data, size_t n) {
    if (fd_ < 0) return Status::error(path_ + ": write to a file that is not open");
    return write_all(fd_, data, n, path_, tmp_);
}

Status AtomicFile::commit() {
    if (fd_ < 0) return Status::error(path_ + ": commit of a file that is not open");
    if (fault_hits(IoOp::fsync, path_) || ::fsync(fd_) != 0)
        return Status::error(tmp_ + ": fsync failed: " + write_error_text());
    ::close(fd_);
    fd_ = -1;
    if (fault_hits(IoOp::rename, path_) || ::rename(tmp_.c_str(), path_.c_str()) != 0) {
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
    int fd = fault_hits(IoOp::open, path)
                 ? -1
                 : ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Status::error(path + ": cannot open for append: " + write_error_text());
    std::string s(line);
    s.push_back('\n');
    Status st = write_all(fd, s.data(), s.size(), path, path);
    ::close(fd);
    return st;
}

}  // namespace em
