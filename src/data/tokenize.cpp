// Parallel corpus encoding into token shards; see tokenize.h.
#include "data/tokenize.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "common/fileio.h"
#include "common/parallel.h"
#include "data/corpus.h"
#include "data/shard.h"

namespace em {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct SourceCount {
    int64_t documents = 0, bytes = 0, tokens = 0;
};

class ShardSink {
  public:
    ShardSink(std::string dir, std::string split, uint32_t vocab, int64_t shard_tokens)
        : dir_(std::move(dir)), split_(std::move(split)), vocab_(vocab), limit_(shard_tokens) {}

    Status add(int boundary, const std::vector<int> &ids) {
        buf_.push_back(static_cast<uint32_t>(boundary));
        for (int id : ids) buf_.push_back(static_cast<uint32_t>(id));
        ++docs_;
        if (static_cast<int64_t>(buf_.size()) >= limit_) return flush();
        return Status::ok();
    }
    Status flush() {
        if (buf_.empty()) return Status::ok();
        char name[64];
        std::snprintf(name, sizeof name, "%s_%03zu.bin", split_.c_str(), files_.size());
        EM_TRY(shard_write(dir_ + "/" + name, buf_, vocab_, docs_));
        files_.push_back({{"file", name}, {"tokens", buf_.size()}, {"documents", docs_}});
        total_ += static_cast<int64_t>(buf_.size());
        buf_.clear();
        docs_ = 0;
        return Status::ok();
    }
    const json &files() const { return files_; }
    int64_t total() const { return total_; }

  private:
    std::string dir_, split_;
    uint32_t vocab_;
    int64_t limit_, total_ = 0;
    std::vector<uint32_t> buf_;
    uint64_t docs_ = 0;
    json files_ = json::array();
};

}  // namespace

Result<json> tokenize_corpus(const std::string &corpus_dir, const Tokenizer &tok,
                             const std::string &out_dir, const TokenizeOptions &opt) {
    auto t0 = std::chrono::steady_clock::now();
    if (opt.shard_tokens < 1) return Status::error("--shard-tokens must be positive");
    EM_ASSIGN_OR_RETURN(json corpus, corpus_manifest_read(corpus_dir));
    EM_TRY(dir_create(out_dir));
    std::error_code ec;
    fs::remove(out_dir + "/manifest.json", ec);
    const uint32_t vocab = static_cast<uint32_t>(tok.vocab_size());
    std::map<std::string, std::map<std::string, SourceCount>> per_source;  // split -> source
    json shards = json::object();
    std::set<std::string> written;
    BatchEncoder encoder(tok);
    for (const std::string split : {"train", "val"}) {
        CorpusReader reader;
        EM_TRY(reader.open(corpus_dir + "/" + split + ".jsonl"));
        ShardSink sink(out_dir, split, vocab, opt.shard_tokens);
        std::vector<CorpusRecord> batch;
        std::vector<std::string_view> texts;
        std::vector<std::vector<int>> ids;
        for (;;) {
            EM_ASSIGN_OR_RETURN(bool more, reader.next_batch(opt.batch_bytes, batch));
            if (!more) break;
            texts.assign(batch.size(), {});
            for (size_t i = 0; i < batch.size(); ++i) texts[i] = batch[i].text;
            EM_TRY(encoder.encode(texts, ids));
            for (size_t i = 0; i < batch.size(); ++i) {
                SourceCount &c = per_source[split][batch[i].source];
                c.documents += 1;
                c.bytes += static_cast<int64_t>(texts[i].size());
                c.tokens += static_cast<int64_t>(ids[i].size()) + 1;  // with its boundary token
                EM_TRY(sink.add(tok.boundary_id(), ids[i]));
            }
        }
        EM_TRY(sink.flush());
        shards[split] = sink.files();
        for (const auto &f : sink.files()) written.insert(f["file"].get<std::string>());
    }
    // Shards left from an earlier, larger run would be picked up by a directory scan.
    static const std::regex shard_name(R"((train|val)_[0-9]+\.bin)");
    for (const auto &e : fs::directory_iterator(out_dir, ec)) {
        std::string name = e.path().filename().string();
        if (std::regex_match(name, shard_name) && !written.count(name)) fs::remove(e.path(), ec);
    }
    json src = json::object();
    int64_t totals[2] = {0, 0};
    for (const auto &[split, m] : per_source)
        for (const auto &[name, c] : m) {
            json &j = src[name];
            j[split + "_documents"] = c.documents;
            j[split + "_bytes"] = c.bytes;
            j[split + "_tokens"] = c.tokens;
            totals[split == "val"] += c.tokens;
        }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    json manifest = {{"format", "emergence-shards"},
                     {"version", 1},
                     {"tokenizer", fs::absolute(tok.path()).string()},
                     {"tokenizer_fnv1a64", tok.fnv1a64()},
                     {"vocab_size", vocab},
                     {"boundary_id", tok.boundary_id()},
                     {"boundary_piece", tok.piece(tok.boundary_id())},
                     {"boundary_rule", "every document is preceded by the boundary token"},
                     {"corpus", fs::absolute(corpus_dir).string()},
                     {"corpus_train_fnv1a64", corpus["files"]["train.jsonl"]["fnv1a64"]},
                     {"shards", shards},
                     {"sources", src},
                     {"totals", {{"train_tokens", totals[0]}, {"val_tokens", totals[1]}}},
                     {"threads", parallel_threads()},
                     {"seconds", secs}};
    EM_TRY(file_write_atomic(out_dir + "/manifest.json", manifest.dump(2) + "\n"));
    return manifest;
}

Result<json> shards_manifest_read(const std::string &dir) {
    std::string path = dir + "/manifest.json";
    if (!file_exists(path))
        return Status::error(path + " not found: " + dir +
                             " holds no complete shard set (run `emergence tokenize`)");
    EM_ASSIGN_OR_RETURN(std::string raw, file_read(path));
    auto j = json::parse(raw, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", "") != "emergence-shards")
        return Status::error(path + ": not a shard manifest (rerun `emergence tokenize`)");
    return j;
}

std::vector<std::string> shards_paths(const std::string &dir, const json &manifest,
                                      const std::string &split) {
    std::vector<std::string> out;
    if (!manifest.contains("shards") || !manifest["shards"].contains(split)) return out;
    for (const auto &f : manifest["shards"][split])
        out.push_back(dir + "/" + f["file"].get<std::string>());
    return out;
}

}  // namespace em
