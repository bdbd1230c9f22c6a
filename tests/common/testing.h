// What every test area shares: temporary folders, whole-file reads and writes, and whether the
// PyTorch test oracle can run.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <utility>

namespace em::testing {

// The Python that has Debian's python3-torch (the first python3 on PATH may not see it).
constexpr const char *kPython = "/usr/bin/python3";

inline bool torch_available() {
    return std::system(
               (std::string(kPython) + " -c 'import torch, numpy' >/dev/null 2>&1").c_str()) == 0;
}

// A new empty folder under the system's temporary directory, named by `name` and this process,
// emptied first if an earlier run of the same test left it. It stays after the test, for a look
// at what a failing test wrote; TempDir removes its folder.
// Runs a shell command: its exit status (-1 if it did not exit) and what it printed on stdout
// (redirect in the command what else to capture, e.g. "2>&1 >/dev/null" for stderr alone).
inline std::pair<int, std::string> run_captured(const std::string &cmd) {
    FILE *p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    const int st = p ? pclose(p) : -1;
    return {st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

inline std::string temp_dir(const std::string &name) {
    auto d = std::filesystem::temp_directory_path() /
             ("emergence_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d.string();
}

// A temp_dir removed with everything in it on scope exit, failed assertions included.
struct TempDir {
    explicit TempDir(const std::string &name) : path(temp_dir(name)) {}
    ~TempDir() {
        std::error_code ec;  // a destructor must not throw
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    std::string operator/(const std::string &name) const { return path + "/" + name; }
    std::string path;
};

// Writes `text` to `path`, creating its parent folders.
inline void write_file(const std::string &path, const std::string &text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace em::testing
