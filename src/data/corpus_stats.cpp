// Corpus statistics; see corpus_stats.h.
#include "data/corpus_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "data/corpus.h"
#include "data/shard.h"
#include "data/tokenize.h"
#include "data/tokenizer.h"

namespace em {
namespace {

using json = nlohmann::json;

struct Count {
    int64_t documents = 0, bytes = 0, tokens = 0;
};

// Reads a split; with a tokenizer also encodes it, adding to the split's histogram.
Status split_count(const std::string &path, const Tokenizer *tok, BatchEncoder *enc,
                   std::map<std::string, Count> &out, std::vector<int64_t> &hist) {
    CorpusReader reader;
    EM_TRY(reader.open(path));
    std::vector<CorpusRecord> batch;
    std::vector<std::string_view> texts;
    std::vector<std::vector<int>> ids;
    for (;;) {
        EM_ASSIGN_OR_RETURN(bool more, reader.next_batch(16 << 20, batch));
        if (!more) break;
        texts.assign(batch.size(), {});
        for (size_t i = 0; i < batch.size(); ++i) texts[i] = batch[i].text;
        if (tok) EM_TRY(enc->encode(texts, ids));
        for (size_t i = 0; i < batch.size(); ++i) {
            Count &c = out[batch[i].source];
            c.documents += 1;
            c.bytes += static_cast<int64_t>(texts[i].size());
            if (!tok) continue;
            c.tokens += static_cast<int64_t>(ids[i].size()) + 1;  // with the boundary token
            for (int id : ids[i]) ++hist[id];
            ++hist[tok->boundary_id()];
        }
    }
    return Status::ok();
}

// Entropy in nats per token of a histogram's frequencies: the loss of a model that predicts every
// token by its frequency in the split itself (a unigram model fitted to what it is scored on).
double unigram_entropy(const std::vector<int64_t> &hist) {
    int64_t sum = 0;
    for (int64_t c : hist) sum += c;
    if (sum == 0) return 0.0;
    double h = 0.0;
    for (int64_t c : hist)
        if (c > 0) {
            const double p = static_cast<double>(c) / static_cast<double>(sum);
            h -= p * std::log(p);
        }
    return h;
}

}  // namespace

Result<json> corpus_stats(const std::string &corpus_dir, const StatsOptions &opt) {
    EM_TRY(corpus_manifest_read(corpus_dir).status());
    json shard_manifest;
    std::string tok_path = opt.tokenizer;
    if (!opt.shards.empty()) {
        EM_ASSIGN_OR_RETURN(shard_manifest, shards_manifest_read(opt.shards));
        if (tok_path.empty()) tok_path = shard_manifest.value("tokenizer", "");
    }
    Tokenizer tok;
    bool have_tok = !tok_path.empty();
    if (have_tok) {
        EM_ASSIGN_OR_RETURN(tok, Tokenizer::load(tok_path));
        if (!opt.shards.empty() && shard_manifest.value("tokenizer_fnv1a64", "") != tok.fnv1a64())
            return Status::error(tok_path + ": not the tokenizer the shards in " + opt.shards +
                                 " were made with (pass the matching --tokenizer or re-tokenize)");
    }
    // Encoding is needed only when no shards give the token counts.
    const Tokenizer *encoder = have_tok && opt.shards.empty() ? &tok : nullptr;
    // Token histograms of the train and val splits.
    std::vector<int64_t> hists[2] = {std::vector<int64_t>(have_tok ? tok.vocab_size() : 0, 0),
                                     std::vector<int64_t>(have_tok ? tok.vocab_size() : 0, 0)};
    std::map<std::string, Count> train, val;
    BatchEncoder batch(tok);
    EM_TRY(split_count(corpus_dir + "/train.jsonl", encoder, &batch, train, hists[0]));
    EM_TRY(split_count(corpus_dir + "/val.jsonl", encoder, &batch, val, hists[1]));

    json out = {{"corpus", corpus_dir}, {"sources", json::object()}};
    if (!opt.shards.empty()) {
        // Token counts from the shards, each shard opened (size and checksum verified).
        int64_t shard_tokens[2] = {0, 0};
        int si = 0;
        for (const char *split : {"train", "val"}) {
            for (const auto &p : shards_paths(opt.shards, shard_manifest, split)) {
                EM_ASSIGN_OR_RETURN(Shard s, Shard::open(p));
                shard_tokens[si] += static_cast<int64_t>(s.size());
                std::vector<int64_t> &hist = hists[si];
                if (hist.size() < s.header().vocab_size) hist.resize(s.header().vocab_size, 0);
                for (uint64_t i = 0; i < s.size(); ++i) ++hist[s.token(i)];
            }
            ++si;
        }
        const json &ms = shard_manifest["sources"];
        for (auto &[name, c] : train)
            if (ms.contains(name)) c.tokens = ms[name].value("train_tokens", int64_t{0});
        for (auto &[name, c] : val)
            if (ms.contains(name)) c.tokens = ms[name].value("val_tokens", int64_t{0});
        out["shard_tokens"] = {{"train", shard_tokens[0]}, {"val", shard_tokens[1]}};
    }
    bool have_tokens = have_tok || !opt.shards.empty();
    auto row = [&](const Count &a, const Count &b) {
        json j = {{"train_documents", a.documents},
                  {"train_bytes", a.bytes},
                  {"val_documents", b.documents},
                  {"val_bytes", b.bytes}};
        if (!have_tokens) return j;
        j["train_tokens"] = a.tokens;
        j["val_tokens"] = b.tokens;
        // Bytes per token of text: the boundary token before each document is not text.
        int64_t text_tokens = a.tokens + b.tokens - a.documents - b.documents;
        if (text_tokens > 0)
            j["bytes_per_token"] =
                static_cast<double>(a.bytes + b.bytes) / static_cast<double>(text_tokens);
        return j;
    };
    Count tt, tv;
    std::set<std::string> names;
    for (const auto &[n, c] : train) names.insert(n);
    for (const auto &[n, c] : val) names.insert(n);
    for (const auto &n : names) {
        Count a = train.count(n) ? train[n] : Count{}, b = val.count(n) ? val[n] : Count{};
        out["sources"][n] = row(a, b);
        tt.documents += a.documents, tt.bytes += a.bytes, tt.tokens += a.tokens;
        tv.documents += b.documents, tv.bytes += b.bytes, tv.tokens += b.tokens;
    }
    out["totals"] = row(tt, tv);
    if (have_tokens)
        out["unigram_entropy"] = {{"train", unigram_entropy(hists[0])},
                                  {"val", unigram_entropy(hists[1])}};
    // The most frequent tokens: of the training shards, or of both splits encoded.
    std::vector<int64_t> hist = hists[0];
    if (opt.shards.empty())
        for (size_t i = 0; i < hist.size(); ++i) hist[i] += hists[1][i];
    if (!hist.empty()) {
        int64_t sum = 0;
        std::vector<int> order;
        for (size_t i = 0; i < hist.size(); ++i) {
            sum += hist[i];
            if (hist[i] > 0) order.push_back(static_cast<int>(i));
        }
        std::sort(order.begin(), order.end(),
                  [&](int a, int b) { return hist[a] != hist[b] ? hist[a] > hist[b] : a < b; });
        if (static_cast<int>(order.size()) > opt.top) order.resize(opt.top);
        json top = json::array();
        for (int id : order) {
            json t = {{"id", id},
                      {"count", hist[id]},
                      {"share", static_cast<double>(hist[id]) / static_cast<double>(sum)}};
            if (have_tok) t["piece"] = tok.piece(id);
            top.push_back(t);
        }
        out["top_tokens"] = top;
        out["top_tokens_from"] = opt.shards.empty() ? "train and val, encoded" : "train shards";
        out["distinct_tokens_used"] =
            std::count_if(hist.begin(), hist.end(), [](int64_t c) { return c > 0; });
    }
    return out;
}

std::string corpus_stats_format(const json &s) {
    bool tokens = s["totals"].contains("train_tokens");
    std::string out = fmt::format("{:<14} {:>9} {:>12} {:>7} {:>10}", "source", "train docs",
                                  "train bytes", "val docs", "val bytes");
    if (tokens)
        out += fmt::format(" {:>12} {:>10} {:>10}", "train tokens", "val tokens", "bytes/tok");
    out += "\n";
    auto row = [&](const std::string &name, const json &j) {
        out += fmt::format("{:<14} {:>9} {:>12} {:>7} {:>10}", name,
                           j["train_documents"].get<int64_t>(), j["train_bytes"].get<int64_t>(),
                           j["val_documents"].get<int64_t>(), j["val_bytes"].get<int64_t>());
        if (tokens)
            out += fmt::format(" {:>12} {:>10} {:>10.3f}", j["train_tokens"].get<int64_t>(),
                               j["val_tokens"].get<int64_t>(), j.value("bytes_per_token", 0.0));
        out += "\n";
    };
    for (const auto &[name, j] : s["sources"].items()) row(name, j);
    row("TOTAL", s["totals"]);
    if (s.contains("unigram_entropy"))
        out += fmt::format(
            "\nunigram entropy (nats per token, each split's own token frequencies): train {:.3f}, "
            "val {:.3f}\n",
            s["unigram_entropy"]["train"].get<double>(), s["unigram_entropy"]["val"].get<double>());
    if (s.contains("top_tokens")) {
        out += fmt::format("\nmost frequent tokens ({}; {} distinct ids used):\n",
                           s["top_tokens_from"].get<std::string>(),
                           s["distinct_tokens_used"].get<int64_t>());
        for (const auto &t : s["top_tokens"]) {
            std::string piece = t.value("piece", "");
            std::string shown;
            for (char c : piece) shown += c == '\n' ? std::string("\\n") : std::string(1, c);
            out += fmt::format("  {:>6}  {:<16} {:>12}  {:6.2f}%\n", t["id"].get<int>(), shown,
                               t["count"].get<int64_t>(), 100.0 * t["share"].get<double>());
        }
    }
    return out;
}

}  // namespace em
