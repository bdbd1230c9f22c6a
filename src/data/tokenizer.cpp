// SentencePiece training through its library, with our own sentence sampling; see tokenizer.h.
#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "common/fileio.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "data/corpus.h"
#include "data/text.h"

// Exported by libsentencepiece but not declared in its public headers: the log threshold
// (0 info, 1 warning, 2 error) that silences the trainer's progress chatter.
namespace sentencepiece::logging {
void SetMinLogLevel(int v);
}

namespace em {
namespace {

std::string hex64(uint64_t h) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

class VectorIterator : public sentencepiece::SentenceIterator {
  public:
    explicit VectorIterator(const std::vector<std::string> &v) : v_(v) {}
    bool done() const override { return i_ >= v_.size(); }
    void Next() override { ++i_; }
    const std::string &value() const override { return v_[i_]; }
    sentencepiece::util::Status status() const override { return {}; }

  private:
    const std::vector<std::string> &v_;
    size_t i_ = 0;
};

// Cuts a line into pieces of at most `max` bytes, at a space when there is one, else at a
// character boundary.
void line_chunks(std::string_view line, size_t max, std::vector<std::string> &out) {
    while (line.size() > max) {
        size_t cut = line.rfind(' ', max);
        if (cut == std::string_view::npos || cut < max / 2) {
            cut = max;
            while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
        }
        out.emplace_back(line.substr(0, cut));
        line.remove_prefix(cut);
    }
    if (!line.empty()) out.emplace_back(line);
}

std::mutex g_train_mutex;  // SentencePiece keeps its log level and RNG seed in globals

}  // namespace

Result<nlohmann::json> tokenizer_train(const std::string &corpus_dir, const std::string &out_model,
                                       const TokenizerOptions &opt) {
    auto t0 = std::chrono::steady_clock::now();
    if (opt.vocab_size < 64)
        return Status::error("--vocab " + std::to_string(opt.vocab_size) +
                             " is too small (at least 64; 300 and up for real text)");
    if (opt.vocab_size > 65536)
        return Status::error(
            "--vocab " + std::to_string(opt.vocab_size) +
            " is larger than the 16-bit shard format carries well (at most 65536)");
    if (!(opt.character_coverage > 0 && opt.character_coverage <= 1))
        return Status::error("--character-coverage must be in (0, 1]");
    EM_TRY(corpus_manifest_read(corpus_dir).status());

    // Candidate sentences: the lines of the training documents (pieces never span a line, and
    // "\n" is its own piece).
    std::vector<std::string> lines;
    CorpusReader reader;
    EM_TRY(reader.open(corpus_dir + "/train.jsonl"));
    CorpusRecord rec;
    int64_t total_bytes = 0;
    for (;;) {
        EM_ASSIGN_OR_RETURN(bool more, reader.next(rec));
        if (!more) break;
        for (std::string_view l : text_lines(rec.text)) {
            if (l.empty()) continue;
            line_chunks(l, static_cast<size_t>(opt.max_sentence_bytes), lines);
        }
    }
    int64_t candidates = static_cast<int64_t>(lines.size());
    if (lines.empty()) return Status::error(corpus_dir + "/train.jsonl: no text to train on");
    int64_t all_bytes = 0;
    for (const auto &l : lines) all_bytes += static_cast<int64_t>(l.size());
    if (static_cast<int64_t>(lines.size()) > opt.max_sentences || all_bytes > opt.sample_bytes) {
        // Keep the lines with the smallest seeded hashes up to the limits: a deterministic
        // uniform sample that does not depend on the thread count.
        std::vector<std::pair<uint64_t, uint32_t>> keys(lines.size());
        for (size_t i = 0; i < lines.size(); ++i) {
            uint64_t h =
                hash_fnv1a(lines[i].data(), lines[i].size(), 0xcbf29ce484222325ULL ^ opt.seed);
            Rng r(h);
            keys[i] = {r.next_u64(), static_cast<uint32_t>(i)};
        }
        std::sort(keys.begin(), keys.end());
        size_t n = 0;
        int64_t bytes = 0;
        while (n < keys.size() && static_cast<int64_t>(n) < opt.max_sentences &&
               bytes + static_cast<int64_t>(lines[keys[n].second].size()) <= opt.sample_bytes)
            bytes += static_cast<int64_t>(lines[keys[n++].second].size());
        keys.resize(n);
        // Back to corpus order, which is already shuffled across sources.
        std::sort(keys.begin(), keys.end(),
                  [](const auto &a, const auto &b) { return a.second < b.second; });
        std::vector<std::string> kept;
        kept.reserve(keys.size());
        for (const auto &k : keys) kept.push_back(std::move(lines[k.second]));
        lines = std::move(kept);
    }
    for (const auto &l : lines) total_bytes += static_cast<int64_t>(l.size());

    std::unordered_map<std::string, std::string> args = {
        {"model_type", "bpe"},
        {"vocab_size", std::to_string(opt.vocab_size)},
        {"character_coverage", std::to_string(opt.character_coverage)},
        {"byte_fallback", opt.byte_fallback ? "true" : "false"},
        {"normalization_rule_name", "identity"},
        {"add_dummy_prefix", "false"},
        {"remove_extra_whitespaces", "false"},
        {"split_digits", "true"},
        {"user_defined_symbols", "\n"},
        {"unk_id", "0"},
        {"bos_id", "1"},
        {"eos_id", "2"},
        {"pad_id", "-1"},
        // Sampling is done above; SentencePiece must take every sentence in the given order.
        {"input_sentence_size", "0"},
        {"shuffle_input_sentence", "false"},
        {"max_sentence_length", std::to_string(opt.max_sentence_bytes + 16)},
        {"hard_vocab_limit", "false"},
        {"num_threads", "1"},
    };
    std::string model;
    {
        std::lock_guard<std::mutex> lock(g_train_mutex);
        sentencepiece::logging::SetMinLogLevel(opt.verbose ? 0 : 2);
        sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(opt.seed));
        VectorIterator it(lines);
        auto st = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
        if (!st.ok()) {
            std::string m(st.message()), fix;
            if (m.find("smaller than required_chars") != std::string::npos)
                fix =
                    " (raise --vocab: each kept character takes one id, byte fallback 256 "
                    "more; or lower --character-coverage)";
            else if (m.find("too high") != std::string::npos)
                fix = " (the corpus is too small for this --vocab: lower it)";
            std::replace(m.begin(), m.end(), '\n', ' ');
            return Status::error(out_model + ": SentencePiece training failed: " + m + fix);
        }
    }
    EM_TRY(file_write_atomic(out_model, model));
    EM_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::load(out_model));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return nlohmann::json{{"model", out_model},
                          {"fnv1a64", tok.fnv1a64()},
                          {"vocab_size", tok.vocab_size()},
                          {"boundary_id", tok.boundary_id()},
                          {"candidate_sentences", candidates},
                          {"sentences", lines.size()},
                          {"sentence_bytes", total_bytes},
                          {"seconds", secs}};
}

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;
Tokenizer &Tokenizer::operator=(Tokenizer &&) noexcept = default;

Result<Tokenizer> Tokenizer::load(const std::string &path) {
    if (!file_exists(path))
        return Status::error(path +
                             ": tokenizer model not found (train one with `emergence "
                             "tokenizer train`)");
    EM_ASSIGN_OR_RETURN(std::string bytes, file_read(path));
    Tokenizer t;
    t.sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
    auto st = t.sp_->LoadFromSerializedProto(bytes);
    if (!st.ok())
        return Status::error(path + ": not a SentencePiece model (" + std::string(st.message()) +
                             "): retrain it with `emergence tokenizer train`");
    if (t.sp_->eos_id() < 0)
        return Status::error(path +
                             ": the model has no </s> piece to mark document boundaries "
                             "(train it with `emergence tokenizer train`)");
    t.path_ = path;
    t.hash_ = hex64(hash_fnv1a(bytes.data(), bytes.size()));
    t.word_cache_check();
    return t;
}

bool Tokenizer::word_cache_check() {
    newline_id_ = -1;
    int nl = sp_->PieceToId("\n");
    if (nl == sp_->unk_id() || sp_->IdToPiece(nl) != "\n") return false;
    // No piece may hold a space marker after its first character or a line break with other
    // characters: then no merge crosses the cuts.
    const std::string space = "\u2581";
    for (int id = 0; id < sp_->GetPieceSize(); ++id) {
        if (sp_->IsControl(id) || sp_->IsUnknown(id) || sp_->IsByte(id) || id == nl) continue;
        const std::string &p = sp_->IdToPiece(id);
        if (p.find(space, 1) != std::string::npos || p.find('\n') != std::string::npos)
            return false;
    }
    // Normalization must map each cut segment as it maps it in context (no dummy prefix, no
    // whitespace squeezing): probe the cases where that would show.
    newline_id_ = nl;
    for (const char *probe : {"a b", " a", "a  b", "a\nb", "x \n  y z", "  z ", "\n\nq\n"}) {
        std::vector<int> fast, ref;
        if (!encode(probe, fast) || !encode_reference(probe, ref) || fast != ref) {
            newline_id_ = -1;
            return false;
        }
    }
    return true;
}

// Word -> ids table: ids kept in one pool, each word's entry packing (offset, count) into 62
// bits; keys are looked up by string_view.
struct WordTable {
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> index;
    std::vector<int> pool;

    void append_entry(uint64_t e, std::vector<int> &out) const {
        auto first = pool.begin() + static_cast<int64_t>(e >> 20);
        out.insert(out.end(), first, first + static_cast<int64_t>(e & 0xFFFFF));
    }
    // Appends the ids of `w` to `out` and returns true when `w` is known.
    bool append(std::string_view w, std::vector<int> &out) const {
        auto it = index.find(w);
        if (it == index.end()) return false;
        append_entry(it->second, out);
        return true;
    }
    uint64_t insert(std::string_view w, const std::vector<int> &ids) {
        uint64_t e = static_cast<uint64_t>(pool.size()) << 20 | ids.size();
        index.emplace(std::string(w), e);
        pool.insert(pool.end(), ids.begin(), ids.end());
        return e;
    }
    void clear() {
        index.clear();
        pool.clear();
    }
    static constexpr size_t kMaxWordBytes = 64;  // longer words are encoded each time
    static constexpr size_t kMaxEntries = 1 << 22;
};

namespace {

// Cuts `text` before every space and around every line break; calls word(w) for each non-empty
// word and newline() for each "\n".
template <typename Word, typename Newline>
Status words_for_each(std::string_view text, Word &&word, Newline &&newline) {
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != ' ' && c != '\n') continue;
        if (i > start) EM_TRY(word(text.substr(start, i - start)));
        if (c == '\n') {
            newline();
            start = i + 1;
        } else {
            start = i;  // the space starts the next word, as SentencePiece's "\u2581word"
        }
    }
    if (text.size() > start) EM_TRY(word(text.substr(start)));
    return Status::ok();
}

struct ThreadCache {
    const void *owner = nullptr;
    std::string model_hash;
    WordTable table;
};

}  // namespace

Status Tokenizer::encode_word(std::string_view w, std::vector<int> &ids) const {
    ids.clear();
    auto st = sp_->Encode(w, &ids);
    if (!st.ok()) return Status::error(path_ + ": encoding failed: " + std::string(st.message()));
    return Status::ok();
}

Status Tokenizer::encode(std::string_view text, std::vector<int> &ids) const {
    if (newline_id_ < 0) return encode_reference(text, ids);
    thread_local ThreadCache cache;
    if (cache.owner != this || cache.model_hash != hash_) {
        cache.table.clear();
        cache.owner = this;
        cache.model_hash = hash_;
    }
    std::vector<int> tmp;
    return words_for_each(
        text,
        [&](std::string_view w) -> Status {
            if (cache.table.append(w, ids)) return Status::ok();
            EM_TRY(encode_word(w, tmp));
            ids.insert(ids.end(), tmp.begin(), tmp.end());
            if (w.size() <= WordTable::kMaxWordBytes) {
                if (cache.table.index.size() >= WordTable::kMaxEntries) cache.table.clear();
                cache.table.insert(w, tmp);
            }
            return Status::ok();
        },
        [&] { ids.push_back(newline_id_); });
}

BatchEncoder::BatchEncoder(const Tokenizer &tok)
    : tok_(tok), table_(std::make_unique<WordTable>()) {}
BatchEncoder::~BatchEncoder() = default;

Status BatchEncoder::encode(const std::vector<std::string_view> &texts,
                            std::vector<std::vector<int>> &ids) {
    ids.assign(texts.size(), {});
    // Contiguous ranges of about equal bytes, one per thread: documents vary in length by
    // orders of magnitude, so equal counts would leave threads idle.
    int parts = std::max(1, std::min<int>(parallel_threads(), static_cast<int>(texts.size())));
    int64_t total = 0;
    for (const auto &t : texts) total += static_cast<int64_t>(t.size());
    std::vector<size_t> cut(parts + 1, texts.size());
    cut[0] = 0;
    int64_t acc = 0;
    int next = 1;
    for (size_t i = 0; i < texts.size() && next < parts; ++i) {
        acc += static_cast<int64_t>(texts[i].size());
        if (acc * parts >= total * next) cut[next++] = i + 1;
    }
    std::vector<Status> errors(parts);
    auto each_part = [&](auto &&fn) -> Status {
        parallel_for(parts, [&](int64_t b, int64_t e) {
            for (int64_t p = b; p < e; ++p) errors[p] = fn(p);
        });
        for (const auto &st : errors) EM_TRY(st);
        return Status::ok();
    };
    if (!tok_.word_cache_enabled())
        return each_part([&](int64_t p) -> Status {
            for (size_t i = cut[p]; i < cut[p + 1]; ++i)
                EM_TRY(tok_.encode_reference(texts[i], ids[i]));
            return Status::ok();
        });
    if (table_->index.size() >= WordTable::kMaxEntries) table_->clear();  // bounds memory
    const WordTable &table = *table_;
    // 1. Each thread looks up every word of its texts once, recording per occurrence where its
    //    ids are: a table entry, or (for a word the table lacks) its index in the thread's list
    //    of new words; words too long for the table are marked for encoding in place.
    constexpr uint64_t kFresh = 1ULL << 63, kLong = 1ULL << 62;
    struct Part {
        std::vector<uint64_t> occ;  // table entry | kFresh + new-word index | kLong
        std::vector<std::string_view> fresh;
    };
    std::vector<Part> part(parts);
    EM_TRY(each_part([&](int64_t p) -> Status {
        std::unordered_map<std::string_view, uint32_t> seen;
        Part &pt = part[p];
        for (size_t i = cut[p]; i < cut[p + 1]; ++i)
            EM_TRY(words_for_each(
                texts[i],
                [&](std::string_view w) -> Status {
                    if (w.size() > WordTable::kMaxWordBytes) {
                        pt.occ.push_back(kLong);
                    } else if (auto it = table.index.find(w); it != table.index.end()) {
                        pt.occ.push_back(it->second);
                    } else {
                        auto [s, added] = seen.emplace(w, static_cast<uint32_t>(pt.fresh.size()));
                        if (added) pt.fresh.push_back(w);
                        pt.occ.push_back(kFresh | s->second);
                    }
                    return Status::ok();
                },
                [] {}));
        return Status::ok();
    }));
    // 2. The distinct new words of all threads, each encoded once, split between the threads,
    //    then added to the table.
    std::unordered_map<std::string_view, uint32_t> unique;
    std::vector<std::string_view> words;
    std::vector<std::vector<uint32_t>> local_to_word(parts);
    for (int p = 0; p < parts; ++p)
        for (std::string_view w : part[p].fresh) {
            auto [it, added] = unique.emplace(w, static_cast<uint32_t>(words.size()));
            if (added) words.push_back(w);
            local_to_word[p].push_back(it->second);
        }
    std::vector<std::vector<int>> word_ids(words.size());
    int wparts = std::max(1, std::min<int>(parallel_threads(), static_cast<int>(words.size())));
    std::vector<Status> werr(wparts);
    parallel_for(wparts, [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
            size_t wb = words.size() * p / wparts, we = words.size() * (p + 1) / wparts;
            for (size_t k = wb; k < we && werr[p].is_ok(); ++k)
                werr[p] = tok_.encode_word(words[k], word_ids[k]);
        }
    });
    for (const auto &st : werr) EM_TRY(st);
    std::vector<uint64_t> word_entry(words.size());
    for (size_t k = 0; k < words.size(); ++k) word_entry[k] = table_->insert(words[k], word_ids[k]);
    // 3. Every text assembled from the recorded entries.
    return each_part([&](int64_t p) -> Status {
        std::vector<int> tmp;
        const Part &pt = part[p];
        size_t k = 0;
        for (size_t i = cut[p]; i < cut[p + 1]; ++i) {
            std::vector<int> &out = ids[i];
            EM_TRY(words_for_each(
                texts[i],
                [&](std::string_view w) -> Status {
                    uint64_t e = pt.occ[k++];
                    if (e == kLong) {
                        EM_TRY(tok_.encode_word(w, tmp));
                        out.insert(out.end(), tmp.begin(), tmp.end());
                    } else {
                        if (e & kFresh) e = word_entry[local_to_word[p][e & ~kFresh]];
                        table.append_entry(e, out);
                    }
                    return Status::ok();
                },
                [&] { out.push_back(tok_.newline_id_); }));
        }
        return Status::ok();
    });
}

Status Tokenizer::encode_reference(std::string_view text, std::vector<int> &ids) const {
    std::vector<int> out;
    auto st = sp_->Encode(text, &out);
    if (!st.ok()) return Status::error(path_ + ": encoding failed: " + std::string(st.message()));
    ids.insert(ids.end(), out.begin(), out.end());
    return Status::ok();
}

Result<std::string> Tokenizer::decode(const std::vector<int> &ids) const {
    std::string out;
    for (int id : ids)
        if (id < 0 || id >= vocab_size())
            return Status::error(path_ + ": token id " + std::to_string(id) +
                                 " is outside the vocabulary of " + std::to_string(vocab_size()));
    auto st = sp_->Decode(ids, &out);
    if (!st.ok()) return Status::error(path_ + ": decoding failed: " + std::string(st.message()));
    return out;
}

int Tokenizer::boundary_id() const {
    return sp_->eos_id();
}
int Tokenizer::vocab_size() const {
    return sp_->GetPieceSize();
}
std::string Tokenizer::piece(int id) const {
    return sp_->IdToPiece(id);
}

}  // namespace em
