// Tokenization throughput of `emergence`'s encoder against Debian's `spm_encode` on the same
// model and the same lines of text, run interleaved (spm, ours x 1 thread, ours x 2 threads,
// repeated) with medians and ratios. Both sides read the input file, encode every line and write
// the ids to a file; the first round also checks that both produce identical ids. CPU seconds are
// reported beside wall-clock seconds: on a shared machine they show the work each side does.
//
// usage: tokenize_bench --model tok.model (--input lines.txt | --corpus DIR [--mb 10])
//                       [--reps 5] [--threads 1,2] [--spm-encode /usr/bin/spm_encode]
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/fileio.h"
#include "common/parallel.h"
#include "data/corpus.h"
#include "data/text.h"
#include "data/tokenize.h"
#include "data/tokenizer.h"

extern char **environ;

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
    double wall = 0, cpu = 0;
};

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Args {
    std::string model, input, corpus, spm = "/usr/bin/spm_encode", tmp = "/tmp";
    double mb = 10;
    int reps = 5;
    std::vector<int> threads = {1, 2};
};

[[noreturn]] void die(const std::string &m) {
    std::fprintf(stderr, "tokenize_bench: %s\n", m.c_str());
    std::exit(1);
}

void check(const em::Status &s) {
    if (!s.is_ok()) die(s.message());
}

Args args_parse(int argc, char **argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        auto v = [&]() -> std::string {
            if (i + 1 >= argc) die(k + " needs a value");
            return argv[++i];
        };
        if (k == "--model")
            a.model = v();
        else if (k == "--input")
            a.input = v();
        else if (k == "--corpus")
            a.corpus = v();
        else if (k == "--mb")
            a.mb = std::stod(v());
        else if (k == "--reps")
            a.reps = std::stoi(v());
        else if (k == "--spm-encode")
            a.spm = v();
        else if (k == "--tmp")
            a.tmp = v();
        else if (k == "--threads") {
            a.threads.clear();
            std::stringstream ss(v());
            std::string t;
            while (std::getline(ss, t, ',')) a.threads.push_back(std::stoi(t));
        } else
            die("unknown option " + k);
    }
    if (a.model.empty() || (a.input.empty() == a.corpus.empty()))
        die("usage: tokenize_bench --model M (--input FILE | --corpus DIR [--mb N]) [--reps N] "
            "[--threads 1,2] [--spm-encode PATH]");
    return a;
}

// The first `mb` megabytes of non-empty lines of the corpus's training documents.
std::string lines_from_corpus(const std::string &dir, double mb) {
    em::CorpusReader r;
    check(r.open(dir + "/train.jsonl"));
    em::CorpusRecord rec;
    std::string out;
    while (out.size() < mb * 1e6) {
        auto more = r.next(rec);
        if (!more) die(more.status().message());
        if (!*more) break;
        for (std::string_view l : em::text_lines(rec.text))
            if (!l.empty()) out.append(l).push_back('\n');
    }
    return out;
}

Timing run_spm(const Args &a, const std::string &input, const std::string &output) {
    std::vector<std::string> argv_s = {a.spm, "--model=" + a.model, "--output_format=id",
                                       "--input=" + input, "--output=" + output};
    std::vector<char *> argv;
    for (auto &s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    auto t0 = Clock::now();
    pid_t pid;
    if (posix_spawn(&pid, a.spm.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
        die("cannot run " + a.spm + " (install the Debian package sentencepiece)");
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    Timing t;
    t.wall = std::chrono::duration<double>(Clock::now() - t0).count();
    t.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die(a.spm + " failed");
    return t;
}

// Ours: load the model, read the file, encode every line in parallel, write the ids (uint16,
// each line followed by the boundary id). Fills `ids` for the comparison.
Timing run_ours(const Args &a, const std::string &input, const std::string &output, int threads,
                std::vector<std::vector<int>> &ids) {
    em::parallel_set_threads(threads);
    auto t0 = Clock::now();
    double c0 = process_cpu_seconds();
    auto tok = em::Tokenizer::load(a.model);
    if (!tok) die(tok.status().message());
    auto text = em::file_read(input);
    if (!text) die(text.status().message());
    std::vector<std::string_view> lines = em::text_lines(*text);
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    em::BatchEncoder enc(*tok);
    check(enc.encode(lines, ids));
    std::vector<uint16_t> out;
    for (const auto &v : ids) {
        for (int id : v) out.push_back(static_cast<uint16_t>(id));
        out.push_back(static_cast<uint16_t>(tok->boundary_id()));
    }
    check(em::file_write_atomic(output, std::string_view(reinterpret_cast<const char *>(out.data()),
                                                         out.size() * sizeof(uint16_t))));
    return {std::chrono::duration<double>(Clock::now() - t0).count(), process_cpu_seconds() - c0};
}

std::vector<std::vector<int>> spm_ids(const std::string &path) {
    std::ifstream in(path);
    std::vector<std::vector<int>> out;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        std::vector<int> v;
        int id;
        while (ss >> id) v.push_back(id);
        out.push_back(std::move(v));
    }
    return out;
}

double median(const std::vector<Timing> &t, double Timing::*field) {
    std::vector<double> v;
    for (const auto &x : t) v.push_back(x.*field);
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char **argv) {
    Args a = args_parse(argc, argv);
    std::string input = a.input;
    if (!a.corpus.empty()) {
        input = a.tmp + "/tokenize_bench_input.txt";
        check(em::file_write_atomic(input, lines_from_corpus(a.corpus, a.mb)));
    }
    auto text = em::file_read(input);
    if (!text) die(text.status().message());
    double mbytes = static_cast<double>(text->size()) / 1e6;
    int64_t n_lines = std::count(text->begin(), text->end(), '\n');
    std::string spm_out = a.tmp + "/tokenize_bench_spm.txt",
                our_out = a.tmp + "/tokenize_bench_ours.bin";

    std::vector<Timing> t_spm;
    std::vector<std::vector<Timing>> t_ours(a.threads.size());
    int64_t tokens = 0;
    for (int r = 0; r < a.reps; ++r) {
        t_spm.push_back(run_spm(a, input, spm_out));
        for (size_t k = 0; k < a.threads.size(); ++k) {
            std::vector<std::vector<int>> ids;
            t_ours[k].push_back(run_ours(a, input, our_out, a.threads[k], ids));
            if (r == 0 && k == 0) {
                auto ref = spm_ids(spm_out);
                if (ref != ids) die("ids differ from spm_encode's: the encoder is wrong");
                for (const auto &v : ids) tokens += static_cast<int64_t>(v.size());
            }
        }
        std::fprintf(stderr, "round %d/%d done\n", r + 1, a.reps);
    }
    std::printf("input: %s, %.2f MB, %lld lines, %lld tokens; ids identical to spm_encode's\n",
                input.c_str(), mbytes, (long long)n_lines, (long long)tokens);
    std::printf(
        "%d interleaved rounds, medians; wall clock and CPU seconds include model load, file "
        "read and writing the ids:\n",
        a.reps);
    double ms = median(t_spm, &Timing::wall), mc = median(t_spm, &Timing::cpu);
    std::printf("  %-24s %8.3f s wall %8.2f MB/s %10.0f tokens/s   %7.3f s CPU\n",
                "spm_encode (1 thread)", ms, mbytes / ms, tokens / ms, mc);
    for (size_t k = 0; k < a.threads.size(); ++k) {
        double m = median(t_ours[k], &Timing::wall), c = median(t_ours[k], &Timing::cpu);
        std::string name = "emergence, " + std::to_string(a.threads[k]) + " thread" +
                           (a.threads[k] > 1 ? "s" : "");
        std::printf(
            "  %-24s %8.3f s wall %8.2f MB/s %10.0f tokens/s   %7.3f s CPU   %.2fx "
            "spm_encode (wall)\n",
            name.c_str(), m, mbytes / m, tokens / m, c, ms / m);
    }
    std::remove(spm_out.c_str());
    std::remove(our_out.c_str());
    return 0;
}
