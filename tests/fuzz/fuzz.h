// What every parser fuzz target shares. A target defines LLVMFuzzerTestOneInput: it hands the
// input to one parser of a format emergence reads, which must return a value or one error and
// never crash, hang or allocate without bound. Built with libFuzzer (EM_FUZZ=ON, clang) it is a
// coverage-guided fuzzer; in the ordinary build standalone_main.cpp drives it over the committed
// seeds and regressions plus seeded mutations of them (the default suite's smoke).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace em::fuzz {

// A folder of this process's own for the files a parser must read from disk: /dev/shm when it
// exists (no disk writes at a million inputs), else the temporary directory.
inline const std::string &scratch_dir() {
    // Never destroyed, so the exit handler that removes the folder can still read the path.
    static const std::string *dir = [] {
        std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                         ? std::filesystem::path("/dev/shm")
                                         : std::filesystem::temp_directory_path();
        auto d = base / ("emergence_fuzz_" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return new std::string(d.string());
    }();
    static const bool cleanup = [] {
        return std::atexit([] {
                   std::error_code ec;
                   std::filesystem::remove_all(*dir, ec);
               }) == 0;
    }();
    (void)cleanup;
    return *dir;
}

// Writes `bytes` to scratch_dir()/name and returns the path.
inline std::string put(const std::string &name, std::string_view bytes) {
    std::string path = scratch_dir() + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();  // the harness itself failed, not the parser
    if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return path;
}

// Splits an input at the first "\n----\n" into two files' contents (a spec and its documents,
// say); without the separator the second part is empty.
inline std::pair<std::string_view, std::string_view> split2(std::string_view in) {
    const std::string_view sep = "\n----\n";
    size_t at = in.find(sep);
    if (at == std::string_view::npos) return {in, {}};
    return {in.substr(0, at), in.substr(at + sep.size())};
}

inline std::string_view view(const uint8_t *data, size_t size) {
    return {reinterpret_cast<const char *>(data), size};
}

}  // namespace em::fuzz
