// Checked file I/O: whole-file reads, atomic writes (temporary name, fsync, rename, fsync of the
// directory) so that a crash never leaves a half-written file under its final name, and a seam
// through which tests make any of these operations fail (a full disk, a short write, a failed
// fsync or rename) at a chosen call for a chosen path.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace em {

Result<std::string> file_read(const std::string &path);
bool file_exists(const std::string &path);
Status dir_create(const std::string &path);  // like mkdir -p

// Writes `path` atomically: either the old content or the complete new one is visible.
Status file_write_atomic(const std::string &path, std::string_view data);

// Streams a large file to `path + ".tmp"`; commit() fsyncs and renames it into place. An
// AtomicFile destroyed without commit() removes its temporary file. Not copyable.
class AtomicFile {
  public:
    AtomicFile() = default;
    ~AtomicFile();
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    Status open(const std::string &path);
    Status write(const void *data, size_t n);
    Status commit();

  private:
    std::string path_, tmp_;
    int fd_ = -1;
};

// Appends one line to `path` (creating it), without fsync: for logs whose durable point is a
// later atomic write (the metrics log is truncated back to the last checkpoint on resume).
Status file_append_line(const std::string &path, std::string_view line);

// Fault injection, for tests: every file operation above passes through one check, as LevelDB's
// tests do through its Env. A fault names the operation, a pattern for the file's final path
// (fnmatch(3), `*` also matching '/'), and which matching call fails: the nth and, for `times`
// calls, the ones after it. The failed call reports `error` as the system would have.
enum class IoOp {
    open,    // creating a temporary file, or opening a file to append to
    write,   // a write(2) to it
    fsync,   // the fsync(2) of a temporary file before its rename
    rename,  // the rename(2) of a temporary file into place
};
struct IoFault {
    IoOp op = IoOp::write;
    std::string path = "*";    // pattern for the final path (not the temporary one)
    int64_t nth = 1;           // the first matching call that fails (1-based)
    int64_t times = 1;         // how many matching calls fail from there on; -1: every one
    int error = ENOSPC;        // errno reported: a full disk unless set
    bool short_write = false;  // write: half the bytes reach the file before the failure
};

// Sets the one active fault (replacing any earlier one) and zeroes the counts below.
void io_fault_set(const IoFault &fault);
void io_fault_clear();
// Calls that matched the fault's operation and path, and how many of them failed.
int64_t io_fault_matches();
int64_t io_fault_fired();

// A fault active for one scope.
struct IoFaultScope {
    explicit IoFaultScope(const IoFault &fault) { io_fault_set(fault); }
    ~IoFaultScope() { io_fault_clear(); }
    IoFaultScope(const IoFaultScope &) = delete;
    IoFaultScope &operator=(const IoFaultScope &) = delete;
};

}  // namespace em
