// Runs the emergence binary in tests and captures its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/common/testing.h"

namespace em::testing {

struct CliResult {
    int code = -1;
    std::string out, err;
};

// `args` is passed through the shell; quote it as a shell would need.
inline CliResult cli_run(const std::string &args, const TempDir &tmp) {
    std::string out = tmp / "cli.out", err = tmp / "cli.err";
    std::string cmd = std::string(EM_BINARY) + " " + args + " >" + out + " 2>" + err;
    int status = std::system(cmd.c_str());
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

inline int line_count(const std::string &s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    if (!s.empty() && s.back() != '\n') ++n;
    return n;
}

}  // namespace em::testing
