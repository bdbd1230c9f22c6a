// Checked file I/O: whole-file reads, atomic writes (temporary name, fsync, rename, fsync of the
// directory) so that a crash never leaves a half-written file under its final name, and a hook
// that lets tests inject write failures.
#pragma once

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

// Test hook: the next writes fail once `bytes` more bytes have been written (negative: never).
void io_inject_write_failure(int64_t bytes);

}  // namespace em
