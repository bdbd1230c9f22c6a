// Runs the emergence binary in tests and captures its exit code, stdout and stderr; also a fresh
// temporary directory per test.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace em::testing {

struct CliResult {
    int code = -1;
    std::string out, err;
};

inline std::string file_slurp(const std::string &path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline void file_put(const std::string &path, const std::string &text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
}

// A new empty directory under the system temp folder, removed by the destructor.
struct TempDir {
    std::string path;
    explicit TempDir(const std::string &tag) {
        path =
            (std::filesystem::temp_directory_path() /
             ("em_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand())))
                .string();
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string operator/(const std::string &name) const { return path + "/" + name; }
};

// `args` is passed through the shell; quote it as a shell would need.
inline CliResult cli_run(const std::string &args, const TempDir &tmp) {
    std::string out = tmp / "cli.out", err = tmp / "cli.err";
    std::string cmd = std::string(EM_BINARY) + " " + args + " >" + out + " 2>" + err;
    int status = std::system(cmd.c_str());
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = file_slurp(out);
    r.err = file_slurp(err);
    return r;
}

inline int line_count(const std::string &s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    if (!s.empty() && s.back() != '\n') ++n;
    return n;
}

}  // namespace em::testing
