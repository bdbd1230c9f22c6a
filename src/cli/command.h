// Subcommand registration. Each cli/cmd_*.cpp defines a static CommandRegistrar that adds its
// subcommand to the CLI11 app, so main.cpp only dispatches. A callback reports a user error by
// throwing CommandError (main prints it as one line and exits non-zero).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>

#include "common/status.h"

namespace em::cli {

struct CommandError : std::runtime_error {
    explicit CommandError(const std::string &m) : std::runtime_error(m) {}
};

// Throws CommandError carrying the status's message when it failed.
inline void check(const Status &s) {
    if (!s.is_ok()) throw CommandError(s.message());
}
template <typename T>
T check(Result<T> r) {
    if (!r.is_ok()) throw CommandError(r.status().message());
    return std::move(r).value();
}

using CommandSetup = std::function<void(CLI::App &root)>;

struct CommandRegistrar {
    CommandRegistrar(const char *name, CommandSetup setup);
};

void commands_setup(CLI::App &root);  // adds every registered subcommand, sorted by name

}  // namespace em::cli
