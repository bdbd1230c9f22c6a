// Corpus assembly: read sources, normalize, drop held-out and duplicate documents, split by
// document hash, apply per-source weights, shuffle, write JSONL and the manifest. See corpus.h.
#include "data/corpus.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "common/fileio.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "data/text.h"

namespace em {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char *kNormalization =
    "UTF-8 checked (invalid bytes rejected in user files unless --invalid-utf8 replace; "
    "replaced by U+FFFD in package files); CRLF/CR/U+2028/U+2029 -> LF; BOM and U+FEFF "
    "removed; C0 controls except TAB and LF, DEL and C1 controls removed; NBSP -> space; "
    "trailing spaces and tabs removed; blank-line runs collapsed to one; leading and trailing "
    "blank lines removed; no NFC composition";

uint64_t mix64(uint64_t x) {  // splitmix64 finalizer: spreads the FNV hash over all bits
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

double unit_interval(uint64_t h) {
    return static_cast<double>(h >> 11) * 0x1.0p-53;
}

struct Source {
    std::string name, kind;  // kind: builtin, user, extra
    std::vector<std::string> inputs;
    std::string packages, licence, language;
    std::vector<Document> docs;
    int64_t utf8_replaced = 0;
};

struct Input {
    std::string name, path;
};

Input input_parse(const std::string &spec) {
    size_t eq = spec.find('=');
    // "NAME=PATH" only when NAME looks like a name (a path may contain '=' too).
    if (eq != std::string::npos && eq > 0 && spec.find_first_of("/.") > eq)
        return {spec.substr(0, eq), spec.substr(eq + 1)};
    fs::path p(spec);
    std::string stem = p.has_filename() ? p.stem().string() : p.parent_path().filename().string();
    return {stem, spec};
}

// Rejects user inputs that lie inside the evaluation-only data (WordNet, SpamAssassin, the
// held-out poem files): those must never reach training.
Status guard_eval_only(const std::string &path, const SourcePaths &paths) {
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(path), ec);
    for (const auto &info : source_registry()) {
        if (!info.eval_only) continue;
        for (const auto &p : source_paths(info.name, paths)) {
            fs::path q = fs::weakly_canonical(fs::absolute(p), ec);
            auto [a, b] = std::mismatch(q.begin(), q.end(), abs.begin(), abs.end());
            if (a == q.end())
                return Status::error(path + ": lies inside " + p + ", " + info.description +
                                     ", which never enters training (remove it from --sources)");
        }
    }
    return Status::ok();
}

std::string utf8_or_fail(std::string raw, const std::string &file, bool replace, int64_t &replaced,
                         Status &st) {
    if (utf8_valid(raw)) return raw;
    if (!replace) {
        st = utf8_check(raw, file);
        return {};
    }
    int64_t n = 0;
    std::string out = utf8_repair(raw, &n);
    replaced += n;
    return out;
}

Status read_jsonl_file(const std::string &file, Source &src, bool replace,
                       std::vector<Source> &extra_sources) {
    EM_ASSIGN_OR_RETURN(std::string raw, file_read(file));
    Status st;
    raw = utf8_or_fail(std::move(raw), file, replace, src.utf8_replaced, st);
    EM_TRY(st);
    JsonlReader r;
    r.open_text(file, std::move(raw), "one {\"text\": ...} object per line");
    json j;
    for (;;) {
        EM_ASSIGN_OR_RETURN(bool more, r.next(j));
        if (!more) break;
        if (!j.contains("text") || !j["text"].is_string())
            return r.error("expected a JSON object with a string \"text\" field");
        Document d;
        d.text = j["text"].get<std::string>();
        d.id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>()
               : j.contains("id")                      ? j["id"].dump()
                                                       : r.where();
        std::string s = j.contains("source") && j["source"].is_string()
                            ? j["source"].get<std::string>()
                            : src.name;
        if (s == src.name) {
            src.docs.push_back(std::move(d));
            continue;
        }
        auto it = std::find_if(extra_sources.begin(), extra_sources.end(),
                               [&](const Source &x) { return x.name == s; });
        if (it == extra_sources.end()) {
            Source n;
            n.name = s;
            n.kind = src.kind;
            n.inputs = src.inputs;
            n.licence = src.licence;
            extra_sources.push_back(std::move(n));
            it = extra_sources.end() - 1;
        }
        it->docs.push_back(std::move(d));
    }
    return Status::ok();
}

Status read_text_file(const std::string &file, const std::string &rel, Source &src,
                      const CorpusOptions &opt) {
    EM_ASSIGN_OR_RETURN(std::string raw, file_read(file));
    Status st;
    raw = utf8_or_fail(std::move(raw), file, opt.invalid_utf8_replace, src.utf8_replaced, st);
    EM_TRY(st);
    if (opt.doc_split == DocSplit::file) {
        if (text_normalize(raw).empty()) return Status::ok();  // only whitespace: no document
        Document d;
        d.id = rel;
        d.text = std::move(raw);
        src.docs.push_back(std::move(d));
        return Status::ok();
    }
    // Blocks of the file as it is (line endings unified), so ids carry the file's line numbers.
    std::string text;
    text.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\r')
            text.push_back(raw[i]);
        else if (i + 1 >= raw.size() || raw[i + 1] != '\n')
            text.push_back('\n');
    }
    for (std::string_view b : text_blocks(text)) {
        Document d;
        int64_t line =
            1 + std::count(text.cbegin(), text.cbegin() + (b.data() - text.data()), '\n');
        d.id = rel + ":" + std::to_string(line);
        d.text = std::string(b);
        if (!text_normalize(d.text).empty()) src.docs.push_back(std::move(d));
    }
    return Status::ok();
}

// Reads one user input (file or directory) into `src` (JSONL records naming another source go
// to `more`).
Status read_user_input(const Input &in, Source &src, const CorpusOptions &opt, bool extra,
                       std::vector<Source> &more) {
    std::error_code ec;
    if (!fs::exists(in.path, ec))
        return Status::error(in.path + ": not found (check the path given to " +
                             (extra ? "--extra" : "--sources") + ")");
    EM_TRY(guard_eval_only(in.path, opt.paths));
    std::vector<std::pair<std::string, std::string>> files;  // (path, name relative to input)
    if (fs::is_directory(in.path, ec)) {
        for (auto it = fs::recursive_directory_iterator(in.path, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (!it->is_regular_file()) continue;
            std::string ext = it->path().extension().string();
            if (ext == ".txt" || ext == ".md" || ext == ".jsonl")
                files.push_back({it->path().string(), fs::relative(it->path(), in.path).string()});
        }
        std::sort(files.begin(), files.end());
        if (files.empty())
            return Status::error(in.path + ": directory holds no .txt, .md or .jsonl files");
    } else {
        files.push_back({in.path, fs::path(in.path).filename().string()});
    }
    auto count_docs = [&] {
        size_t n = src.docs.size();
        for (const auto &m : more) n += m.docs.size();
        return n;
    };
    size_t before = count_docs();
    for (const auto &[file, rel] : files) {
        // A directory above evaluation-only data (node_modules, /usr/share) must not pull it in.
        EM_TRY(guard_eval_only(file, opt.paths));
        std::string ext = fs::path(file).extension().string();
        if (extra && ext != ".jsonl")
            return Status::error(file +
                                 ": --extra takes JSONL files (one {\"text\": ...} per line)");
        if (ext == ".jsonl") {
            EM_TRY(read_jsonl_file(file, src, opt.invalid_utf8_replace, more));
        } else if (ext == ".txt" || ext == ".md") {
            EM_TRY(read_text_file(file, rel, src, opt));
        } else {
            return Status::error(file + ": unsupported file type '" + ext +
                                 "' (use .txt, .md or .jsonl)");
        }
    }
    if (count_docs() == before)
        return Status::error(in.path + ": no documents (the file is empty): remove it from " +
                             (extra ? "--extra" : "--sources") + " or add text");
    return Status::ok();
}

Result<std::vector<Source>> sources_collect(const CorpusOptions &opt) {
    std::vector<std::string> builtin;
    std::vector<Input> user;
    for (const auto &spec : opt.sources) {
        if (spec == "default") {
            for (const auto &n : source_default_names()) builtin.push_back(n);
            continue;
        }
        if (const SourceInfo *info = source_find(spec)) {
            if (info->eval_only)
                return Status::error(spec + " is evaluation-only (" + info->description +
                                     ") and never enters training: remove it from --sources");
            builtin.push_back(spec);
            continue;
        }
        std::error_code ec;
        if (!fs::exists(input_parse(spec).path, ec) && spec.find('/') == std::string::npos &&
            spec.find('.') == std::string::npos) {
            std::string known;
            for (const auto &n : source_default_names()) known += (known.empty() ? "" : ", ") + n;
            return Status::error("--sources: '" + spec + "' is neither a built-in source (" +
                                 known + ") nor an existing file or directory");
        }
        user.push_back(input_parse(spec));
    }
    std::vector<Source> out(builtin.size());
    std::vector<Status> errors(builtin.size());
    // Sources are independent; reading them in parallel hides the decompression of GCIDE.
    parallel_for(static_cast<int64_t>(builtin.size()), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            const SourceInfo *info = source_find(builtin[i]);
            Source &s = out[i];
            s.name = info->name;
            s.kind = "builtin";
            s.packages = info->packages;
            s.licence = info->licence;
            s.language = info->language;
            s.inputs = source_paths(info->name, opt.paths);
            auto docs = source_read(info->name, opt.paths);
            if (!docs)
                errors[i] = docs.status();
            else
                s.docs = std::move(docs).value();
        }
    });
    for (const auto &st : errors) EM_TRY(st);
    auto add_user = [&](const Input &in, bool extra) -> Status {
        Source s;
        s.name = in.name;
        s.kind = extra ? "extra" : "user";
        s.inputs = {in.path};
        s.licence = "user-supplied";
        std::vector<Source> more;
        EM_TRY(read_user_input(in, s, opt, extra, more));
        if (!s.docs.empty()) out.push_back(std::move(s));
        for (auto &m : more) out.push_back(std::move(m));
        return Status::ok();
    };
    for (const auto &in : user) EM_TRY(add_user(in, false));
    for (const auto &spec : opt.extra) EM_TRY(add_user(input_parse(spec), true));
    // Merge same-named sources (several files of one source), keeping first-seen order.
    std::vector<Source> merged;
    for (auto &s : out) {
        auto it = std::find_if(merged.begin(), merged.end(),
                               [&](const Source &m) { return m.name == s.name; });
        if (it == merged.end()) {
            merged.push_back(std::move(s));
            continue;
        }
        if (it->kind == "builtin" || s.kind == "builtin")
            return Status::error("source name '" + s.name +
                                 "' is used twice (a built-in source and a user input): name the "
                                 "input NAME=PATH");
        for (auto &d : s.docs) it->docs.push_back(std::move(d));
        for (auto &p : s.inputs) it->inputs.push_back(p);
        it->utf8_replaced += s.utf8_replaced;
    }
    for (const auto &weight : opt.weights) {
        // Named, not a structured binding: the lambda below captures it (clang 14 cannot).
        const std::string &name = weight.first;
        const double w = weight.second;
        if (!(w >= 0) || !std::isfinite(w))
            return Status::error("--weights " + name + "=" + std::to_string(w) +
                                 ": a weight must be a finite number >= 0");
        if (std::none_of(merged.begin(), merged.end(),
                         [&](const Source &s) { return s.name == name; }))
            return Status::error("--weights names '" + name +
                                 "', which is not a source of this corpus");
    }
    return merged;
}

struct OutDoc {
    uint32_t source;
    uint32_t doc;
};

Result<json> write_jsonl(const std::string &path, const std::vector<OutDoc> &order,
                         const std::vector<Source> &sources) {
    AtomicFile f;
    EM_TRY(f.open(path));
    uint64_t h = 0xcbf29ce484222325ULL;
    int64_t bytes = 0;
    std::string buf;
    for (const auto &o : order) {
        const Source &s = sources[o.source];
        const Document &d = s.docs[o.doc];
        json j = {{"source", s.name}, {"id", d.id}, {"text", d.text}};
        buf += j.dump();
        buf.push_back('\n');
        if (buf.size() > (1u << 20)) {
            h = hash_fnv1a(buf.data(), buf.size(), h);
            bytes += static_cast<int64_t>(buf.size());
            EM_TRY(f.write(buf.data(), buf.size()));
            buf.clear();
        }
    }
    h = hash_fnv1a(buf.data(), buf.size(), h);
    bytes += static_cast<int64_t>(buf.size());
    EM_TRY(f.write(buf.data(), buf.size()));
    EM_TRY(f.commit());
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return json{{"bytes", bytes}, {"documents", order.size()}, {"fnv1a64", hex}};
}

}  // namespace

uint64_t corpus_doc_hash(std::string_view text) {
    return hash_fnv1a(text.data(), text.size());
}

bool corpus_is_val(std::string_view text, double val_fraction) {
    return unit_interval(mix64(corpus_doc_hash(text) ^ 0x5eed5eed5eed5eedULL)) < val_fraction;
}

Result<json> corpus_build(const std::string &out_dir, const CorpusOptions &opt) {
    if (!(opt.val_fraction >= 0 && opt.val_fraction < 1))
        return Status::error("--val-fraction must be in [0, 1), got " +
                             std::to_string(opt.val_fraction));
    EM_ASSIGN_OR_RETURN(std::vector<Source> sources, sources_collect(opt));
    if (sources.empty()) return Status::error("no sources given (use --sources default)");

    // Normalize every document (in parallel: it is the bulk of the work).
    std::vector<std::pair<uint32_t, uint32_t>> all;
    for (uint32_t s = 0; s < sources.size(); ++s)
        for (uint32_t d = 0; d < sources[s].docs.size(); ++d) all.push_back({s, d});
    parallel_for(static_cast<int64_t>(all.size()), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            Document &d = sources[all[i].first].docs[all[i].second];
            d.text = text_normalize(d.text);
        }
    });
    for (const auto &[s, d] : all) {
        const Document &doc = sources[s].docs[d];
        if (!utf8_valid(doc.text))
            return utf8_check(doc.text, sources[s].name + " document '" + doc.id + "'");
    }

    // Held-out texts of every source read (not only the ones trained on a held-out book's text
    // may sit in another source, e.g. a Song ci poem listed twice).
    std::unordered_multimap<uint64_t, std::pair<uint32_t, uint32_t>> heldout;
    for (uint32_t s = 0; s < sources.size(); ++s)
        for (uint32_t d = 0; d < sources[s].docs.size(); ++d)
            if (sources[s].docs[d].heldout)
                heldout.insert({corpus_doc_hash(sources[s].docs[d].text), {s, d}});
    auto same_text =
        [&](uint64_t h, const std::string &text,
            const std::unordered_multimap<uint64_t, std::pair<uint32_t, uint32_t>> &m) {
            auto [a, b] = m.equal_range(h);
            for (auto it = a; it != b; ++it)
                if (sources[it->second.first].docs[it->second.second].text == text) return true;
            return false;
        };

    json src_stats = json::array();
    std::vector<OutDoc> train, val;
    std::unordered_multimap<uint64_t, std::pair<uint32_t, uint32_t>> seen;
    for (uint32_t s = 0; s < sources.size(); ++s) {
        Source &src = sources[s];
        double w = opt.weights.count(src.name) ? opt.weights.at(src.name) : 1.0;
        int64_t n_heldout = 0, n_empty = 0, n_dup = 0, n_overlap = 0, n_unique = 0,
                unique_bytes = 0;
        int64_t n_train = 0, n_val = 0, train_bytes = 0, val_bytes = 0;
        for (uint32_t d = 0; d < src.docs.size(); ++d) {
            const Document &doc = src.docs[d];
            if (doc.heldout) {
                ++n_heldout;
                continue;
            }
            if (doc.text.empty()) {
                ++n_empty;
                continue;
            }
            uint64_t h = corpus_doc_hash(doc.text);
            if (same_text(h, doc.text, heldout)) {
                ++n_overlap;
                continue;
            }
            if (same_text(h, doc.text, seen)) {
                ++n_dup;
                continue;
            }
            seen.insert({h, {s, d}});
            ++n_unique;
            unique_bytes += static_cast<int64_t>(doc.text.size());
            // Weight w: floor(w) copies plus one more with probability frac(w), decided by the
            // document's hash and the seed, so subsampling is deterministic.
            int64_t copies = static_cast<int64_t>(std::floor(w));
            double frac = w - std::floor(w);
            if (frac > 0 && unit_interval(mix64(h ^ mix64(opt.seed + 0x77))) < frac) ++copies;
            bool is_val = corpus_is_val(doc.text, opt.val_fraction);
            for (int64_t c = 0; c < copies; ++c) {
                (is_val ? val : train).push_back({s, d});
                (is_val ? n_val : n_train) += 1;
                (is_val ? val_bytes : train_bytes) += static_cast<int64_t>(doc.text.size());
            }
        }
        json j = {{"name", src.name},
                  {"kind", src.kind},
                  {"inputs", src.inputs},
                  {"licence", src.licence},
                  {"weight", w},
                  {"documents_read", src.docs.size()},
                  {"heldout_documents", n_heldout},
                  {"empty_removed", n_empty},
                  {"duplicates_removed", n_dup},
                  {"heldout_overlap_removed", n_overlap},
                  {"unique_documents", n_unique},
                  {"unique_bytes", unique_bytes},
                  {"train_documents", n_train},
                  {"train_bytes", train_bytes},
                  {"val_documents", n_val},
                  {"val_bytes", val_bytes},
                  {"utf8_replacements", src.utf8_replaced}};
        if (!src.packages.empty()) j["packages"] = src.packages;
        if (!src.language.empty()) j["language"] = src.language;
        if (const SourceInfo *info = source_find(src.name); info && src.kind == "builtin")
            j["heldout_rule"] = info->heldout_rule;
        src_stats.push_back(std::move(j));
    }
    if (train.empty())
        return Status::error(
            "the corpus would have no training documents (check --weights and the sources)");

    // Shuffle so that shards mix sources and repeated copies do not sit side by side.
    Rng rng(opt.seed);
    for (size_t i = train.size(); i > 1; --i) std::swap(train[i - 1], train[rng.below(i)]);
    for (size_t i = val.size(); i > 1; --i) std::swap(val[i - 1], val[rng.below(i)]);

    EM_TRY(dir_create(out_dir));
    std::error_code ec;
    fs::remove(out_dir + "/manifest.json", ec);  // the corpus is incomplete until rewritten
    EM_ASSIGN_OR_RETURN(json train_file, write_jsonl(out_dir + "/train.jsonl", train, sources));
    EM_ASSIGN_OR_RETURN(json val_file, write_jsonl(out_dir + "/val.jsonl", val, sources));

    int64_t tb = 0, vb = 0;
    for (const auto &j : src_stats) {
        tb += j["train_bytes"].get<int64_t>();
        vb += j["val_bytes"].get<int64_t>();
    }
    json manifest = {{"format", "emergence-corpus"},
                     {"version", 1},
                     {"seed", opt.seed},
                     {"val_fraction", opt.val_fraction},
                     {"split",
                      "validation when splitmix64(FNV-1a-64(text) ^ 0x5eed5eed5eed5eed) / 2^64 < "
                      "val_fraction; independent of the seed"},
                     {"doc_split", opt.doc_split == DocSplit::file ? "file" : "block"},
                     {"normalization", kNormalization},
                     {"sources", src_stats},
                     {"totals",
                      {{"train_documents", train.size()},
                       {"train_bytes", tb},
                       {"val_documents", val.size()},
                       {"val_bytes", vb}}},
                     {"files", {{"train.jsonl", train_file}, {"val.jsonl", val_file}}}};
    EM_TRY(file_write_atomic(out_dir + "/manifest.json", manifest.dump(2) + "\n"));
    return manifest;
}

Status CorpusReader::open(const std::string &path) {
    return reader_.open(path, "build the corpus again with `emergence corpus build`");
}

Result<bool> CorpusReader::next(CorpusRecord &r) {
    json j;
    EM_ASSIGN_OR_RETURN(bool more, reader_.next(j));
    if (!more) return false;
    if (!j.contains("text") || !j["text"].is_string())
        return reader_.error("expected a JSON object with a string \"text\" field");
    r.text = j["text"].get<std::string>();
    r.source =
        j.contains("source") && j["source"].is_string() ? j["source"].get<std::string>() : "";
    r.id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : "";
    return true;
}

Result<bool> CorpusReader::next_batch(int64_t max_bytes, std::vector<CorpusRecord> &out) {
    out.clear();
    int64_t bytes = 0;
    CorpusRecord r;
    while (bytes < max_bytes) {
        EM_ASSIGN_OR_RETURN(bool more, next(r));
        if (!more) break;
        bytes += static_cast<int64_t>(r.text.size());
        out.push_back(std::move(r));
    }
    return !out.empty();
}

Result<json> corpus_manifest_read(const std::string &dir) {
    std::string path = dir + "/manifest.json";
    if (!file_exists(path))
        return Status::error(path + " not found: " + dir +
                             " is not a complete corpus (run `emergence corpus build --out " + dir +
                             "`)");
    EM_ASSIGN_OR_RETURN(std::string raw, file_read(path));
    auto j = json::parse(raw, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", "") != "emergence-corpus")
        return Status::error(path +
                             ": not a corpus manifest (rebuild with `emergence corpus build`)");
    return j;
}

Result<std::vector<Document>> corpus_heldout_documents(const std::string &source,
                                                       const SourcePaths &paths) {
    EM_ASSIGN_OR_RETURN(std::vector<Document> docs, source_read(source, paths));
    std::vector<Document> out;
    for (auto &d : docs) {
        if (!d.heldout) continue;
        d.text = text_normalize(d.text);
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace em
