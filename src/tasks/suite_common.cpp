// Training-text index, decontamination and spec/document helpers for the built-in suite; see
// suite_internal.h.
#include <algorithm>
#include <cstdio>

#include "data/text.h"
#include "tasks/suite_internal.h"

namespace em::suite {
namespace {

bool is_lower_letter(char c) {
    return c >= 'a' && c <= 'z';
}

char lower_ascii(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

uint64_t window_hash(const uint64_t *h, size_t n) {
    uint64_t x = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; ++i) x = (x ^ h[i]) * 0x100000001b3ULL;
    return x;
}

// Hashes of every run of 8 consecutive units (words or characters).
std::vector<uint64_t> windows8(const std::vector<uint64_t> &units) {
    std::vector<uint64_t> out;
    for (size_t i = 0; i + 8 <= units.size(); ++i) out.push_back(window_hash(units.data() + i, 8));
    return out;
}

std::vector<uint64_t> word_hashes(const std::vector<std::string> &words) {
    std::vector<uint64_t> h;
    h.reserve(words.size());
    for (const auto &w : words) h.push_back(hash_fnv1a(w.data(), w.size()));
    return h;
}

std::vector<uint64_t> char_hashes(std::string_view s) {
    std::vector<uint64_t> h;
    for (size_t i = 0; i < s.size();) {
        uint32_t cp = utf8_next(s, i);
        if (cp == '\n' || cp == ' ') continue;  // windows run over the characters of a text
        h.push_back(cp * 0x9E3779B97F4A7C15ULL + 1);
    }
    return h;
}

bool seen_in(const std::vector<uint64_t> &set, const std::vector<uint64_t> &windows,
             double threshold) {
    if (windows.empty()) return false;
    size_t hit = 0;
    for (uint64_t w : windows) hit += std::binary_search(set.begin(), set.end(), w);
    return static_cast<double>(hit) >= threshold * static_cast<double>(windows.size());
}

void sort_unique(std::vector<uint64_t> &v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::vector<std::string> english_words(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    for (size_t i = 0; i <= text.size(); ++i) {
        char c = i < text.size() ? lower_ascii(text[i]) : ' ';
        if (is_lower_letter(c)) {
            cur.push_back(c);
        } else if ((c == '-' || c == '\'') && !cur.empty() && cur.back() != '-' &&
                   cur.back() != '\'' && i + 1 < text.size() &&
                   is_lower_letter(lower_ascii(text[i + 1]))) {
            cur.push_back(c);
        } else if (!cur.empty()) {
            out.push_back(std::move(cur));
            cur.clear();
        }
    }
    return out;
}

Result<TrainingIndex> TrainingIndex::build(const SourcePaths &paths, bool verbose) {
    TrainingIndex ix;
    for (const auto &name : source_default_names()) {
        EM_ASSIGN_OR_RETURN(std::vector<Document> docs, source_read(name, paths));
        const SourceInfo *info = source_find(name);
        const bool zh = info && info->language == "zh";
        int64_t bytes = 0;
        for (const auto &d : docs) {
            if (d.heldout) continue;
            const std::string text = text_normalize(d.text);
            bytes += static_cast<int64_t>(text.size());
            if (zh) {
                auto w = windows8(char_hashes(text));
                ix.zh8_.insert(ix.zh8_.end(), w.begin(), w.end());
                continue;
            }
            std::vector<std::string> words = english_words(text);
            for (size_t i = 0; i < words.size(); ++i) {
                ++ix.freq_[words[i]];
                if (i > 0 && (words[i - 1] == "a" || words[i - 1] == "an"))
                    ++ix.after_article_[words[i]];
            }
            auto w = windows8(word_hashes(words));
            ix.en8_.insert(ix.en8_.end(), w.begin(), w.end());
        }
        ix.bytes_ += bytes;
        if (verbose)
            std::fprintf(stderr, "tasks: indexed %s (%lld bytes of training text)\n", name.c_str(),
                         static_cast<long long>(bytes));
    }
    sort_unique(ix.en8_);
    sort_unique(ix.zh8_);
    return ix;
}

int64_t TrainingIndex::freq(const std::string &w) const {
    auto it = freq_.find(w);
    return it == freq_.end() ? 0 : it->second;
}

int64_t TrainingIndex::after_article(const std::string &w) const {
    auto it = after_article_.find(w);
    return it == after_article_.end() ? 0 : it->second;
}

bool TrainingIndex::seen_en(std::string_view text, double threshold) const {
    return seen_in(en8_, windows8(word_hashes(english_words(text))), threshold);
}

bool TrainingIndex::seen_zh(std::string_view text, double threshold) const {
    return seen_in(zh8_, windows8(char_hashes(text)), threshold);
}

namespace {

std::string toml_quote(const std::string &v) {
    std::string out = "\"";
    for (unsigned char c : v) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    return out + "\"";
}

std::string toml_list(const std::vector<std::string> &v) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_quote(v[i]);
    return out + "]";
}

}  // namespace

std::string spec_toml(const SpecInfo &s, const nlohmann::json &stats) {
    // Written by hand in a fixed order, with basic strings only (a multi-line literal string
    // would lose a leading line break, which a stop string "\n" is).
    std::string t =
        "# Built-in task " + s.name + " (emergence tasks build); docs/tasks.md describes it.\n";
    auto kv = [&](const char *k, const std::string &v) { t += std::string(k) + " = " + v + "\n"; };
    kv("task", toml_quote(s.name));
    kv("version", "1");
    kv("output_type", toml_quote(s.output_type));
    kv("docs", toml_quote(s.name + ".jsonl"));
    if (!s.description.empty()) kv("description", toml_quote(s.description));
    kv("doc_to_text", toml_quote(s.doc_to_text));
    kv("doc_to_target", toml_quote(s.doc_to_target));
    if (s.output_type == "multiple_choice")
        kv("doc_to_choice", s.doc_to_choice_list.empty() ? toml_quote(s.doc_to_choice)
                                                         : toml_list(s.doc_to_choice_list));
    kv("target_delimiter", toml_quote(s.target_delimiter));
    if (!s.until.empty()) kv("until", toml_list(s.until));
    if (s.max_gen_toks > 0) kv("max_gen_toks", std::to_string(s.max_gen_toks));
    if (!s.metrics.empty()) kv("metrics", toml_list(s.metrics));
    t += "\n[metadata]\n";
    auto meta = [&](const char *k, const std::string &v) {
        if (!v.empty()) kv(k, toml_quote(v));
    };
    meta("title", s.title);
    meta("source", s.source);
    meta("packages", s.packages);
    meta("licence", s.licence);
    meta("heldout", s.heldout);
    meta("chance", s.chance);
    meta("notes", s.notes);
    for (const auto &[k, v] : stats.items())
        if (v.is_number_integer()) kv(k.c_str(), std::to_string(v.get<int64_t>()));
    return t;
}

nlohmann::json mc_doc(Rng &rng, const std::string &id, const std::string &prompt,
                      const std::string &answer, std::vector<std::string> distractors) {
    std::vector<std::string> choices = std::move(distractors);
    choices.push_back(answer);
    shuffle(rng, choices);
    const auto gold = std::find(choices.begin(), choices.end(), answer) - choices.begin();
    return {{"id", id}, {"prompt", prompt}, {"choices", choices}, {"answer", gold}};
}

std::vector<std::string> draw_distinct(Rng &rng, const std::vector<std::string> &pool, size_t n,
                                       const std::vector<std::string> &exclude) {
    std::vector<std::string> out;
    // Rejection draws first (fast for large pools), then a scan so that small pools are exact.
    for (int tries = 0; out.size() < n && tries < 200 && !pool.empty(); ++tries) {
        const std::string &c = pool[rng.below(pool.size())];
        if (std::find(exclude.begin(), exclude.end(), c) == exclude.end() &&
            std::find(out.begin(), out.end(), c) == out.end())
            out.push_back(c);
    }
    if (out.size() < n) {
        std::vector<std::string> rest;
        for (const auto &c : pool)
            if (std::find(exclude.begin(), exclude.end(), c) == exclude.end() &&
                std::find(out.begin(), out.end(), c) == out.end() &&
                std::find(rest.begin(), rest.end(), c) == rest.end())
                rest.push_back(c);
        shuffle(rng, rest);
        for (size_t i = 0; i < rest.size() && out.size() < n; ++i) out.push_back(rest[i]);
    }
    return out;
}

LengthIndex::LengthIndex(const std::vector<std::string> &words) {
    for (size_t i = 0; i < words.size(); ++i) by_len_[words[i].size()].push_back(i);
}

std::vector<size_t> LengthIndex::draw(Rng &rng, size_t len, size_t n,
                                      const std::function<bool(size_t)> &ok) const {
    std::vector<size_t> out;
    if (by_len_.empty()) return out;
    const size_t widest = std::max(len, by_len_.rbegin()->first);
    for (size_t d = 0; out.size() < n && d <= widest; ++d) {
        std::vector<const std::vector<size_t> *> band;
        size_t total = 0;
        for (auto it = by_len_.lower_bound(len > d ? len - d : 0);
             it != by_len_.end() && it->first <= len + d; ++it) {
            band.push_back(&it->second);
            total += it->second.size();
        }
        for (size_t tries = 0; total > 0 && out.size() < n && tries < 40 * n; ++tries) {
            size_t r = rng.below(total), b = 0;
            while (r >= band[b]->size()) r -= band[b++]->size();
            const size_t id = (*band[b])[r];
            if (ok(id) && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
        }
    }
    return out;
}

std::vector<std::string> draw_near_length(Rng &rng, const std::vector<std::string> &pool,
                                          const LengthIndex &index, const std::string &answer,
                                          size_t n,
                                          const std::function<bool(const std::string &)> &ok) {
    std::vector<std::string> out;
    for (size_t id : index.draw(rng, answer.size(), n, [&](size_t i) {
             return pool[i] != answer && (!ok || ok(pool[i]));
         }))
        out.push_back(pool[id]);
    return out;
}

std::vector<std::string> draw_like(Rng &rng, const TrainingIndex &ix,
                                   const std::vector<std::string> &pool, const LengthIndex &index,
                                   const std::string &word, size_t n,
                                   const std::function<bool(const std::string &)> &ok) {
    std::vector<std::string> out;
    const double fw = static_cast<double>(ix.freq(word) + 1);
    for (double band : {2.0, 5.0, 0.0}) {
        if (out.size() >= n) break;
        for (std::string &d :
             draw_near_length(rng, pool, index, word, n - out.size(), [&](const std::string &c) {
                 const double r = static_cast<double>(ix.freq(c) + 1) / fw;
                 return ok(c) && std::find(out.begin(), out.end(), c) == out.end() &&
                        (band == 0 || (r >= 1 / band && r <= band));
             }))
            out.push_back(std::move(d));
    }
    return out;
}

void keep_random(Rng &rng, std::vector<nlohmann::json> &docs, int64_t n) {
    shuffle(rng, docs);
    if (static_cast<int64_t>(docs.size()) > n) docs.resize(static_cast<size_t>(n));
}

}  // namespace em::suite
