// Drives a fuzz target without libFuzzer: every file named on the command line (or found in a
// named folder) is run through LLVMFuzzerTestOneInput as it is, then `--mutations N` seeded
// mutations of each (byte flips, truncations, duplicated and deleted spans, inserted boundary
// bytes) are run too. Any crash, sanitizer report or hang fails the process, which is what the
// test checks; the parser's own error returns are the expected outcome.
//
// usage: fuzz_<target> [--mutations N] [--seed S] FILE_OR_DIR...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

uint64_t next(uint64_t &s) {  // splitmix64
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::string mutate(std::string s, uint64_t &rng) {
    static const char specials[] = {'\0', '\n', ',', '"',    '{', '}',
                                    '[',  ']',  '=', '\xff', '-', '9'};
    const int edits = 1 + static_cast<int>(next(rng) % 4);
    for (int e = 0; e < edits; ++e) {
        const size_t n = s.size();
        switch (next(rng) % 6) {
            case 0:  // flip a bit
                if (n) s[next(rng) % n] ^= static_cast<char>(1u << (next(rng) % 8));
                break;
            case 1:  // truncate
                if (n) s.resize(next(rng) % n);
                break;
            case 2: {  // duplicate a span
                if (!n) break;
                size_t a = next(rng) % n, len = std::min<size_t>(n - a, 1 + next(rng) % 64);
                s.insert(next(rng) % (n + 1), s.substr(a, len));
                break;
            }
            case 3: {  // delete a span
                if (!n) break;
                size_t a = next(rng) % n, len = std::min<size_t>(n - a, 1 + next(rng) % 16);
                s.erase(a, len);
                break;
            }
            case 4:  // insert a byte that parsers treat specially
                s.insert(s.begin() + static_cast<std::ptrdiff_t>(next(rng) % (n + 1)),
                         specials[next(rng) % sizeof specials]);
                break;
            default:  // overwrite with a random byte
                if (n) s[next(rng) % n] = static_cast<char>(next(rng));
                break;
        }
    }
    return s;
}

}  // namespace

int main(int argc, char **argv) {
    long mutations = 0;
    uint64_t seed = 1;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--mutations" && i + 1 < argc) {
            mutations = std::atol(argv[++i]);
        } else if (a == "--seed" && i + 1 < argc) {
            seed = std::strtoull(argv[++i], nullptr, 10);
        } else if (std::filesystem::is_directory(a)) {
            for (const auto &e : std::filesystem::recursive_directory_iterator(a))
                if (e.is_regular_file()) files.push_back(e.path().string());
        } else {
            files.push_back(a);
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::fprintf(stderr, "%s: no inputs (give seed files or folders)\n", argv[0]);
        return 2;
    }
    uint64_t rng = seed;
    long runs = 0;
    for (const auto &f : files) {
        std::ifstream in(f, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
        ++runs;
        for (long m = 0; m < mutations; ++m) {
            std::string x = mutate(bytes, rng);
            LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(x.data()), x.size());
            ++runs;
        }
    }
    std::printf("%s: %zu inputs, %ld runs, no crash\n", argv[0], files.size(), runs);
    return 0;
}
