// Continuation tasks from held-out texts: a KJV verse's second half (books Ruth, Esther, Jonah,
// Proverbs, Mark, Titus, James are held out of both Bibles) and the next line of a held-out Song ci
// poem (every 10th poem).
#include <algorithm>
#include <map>

#include "data/corpus.h"
#include "data/text.h"
#include "tasks/suite_internal.h"

namespace em::suite {
namespace {

// Splits a verse at the ", " "; " or ": " nearest its middle, within its middle half.
bool verse_split(const std::string &t, std::string &head, std::string &tail) {
    const double mid = static_cast<double>(t.size()) / 2;
    size_t best = std::string::npos;
    for (size_t i = 0; i + 1 < t.size(); ++i) {
        if ((t[i] != ',' && t[i] != ';' && t[i] != ':') || t[i + 1] != ' ') continue;
        const size_t end = i + 2;
        if (end <= t.size() / 4 || end >= t.size() * 3 / 4) continue;
        if (best == std::string::npos ||
            std::abs(static_cast<double>(end) - mid) < std::abs(static_cast<double>(best) - mid))
            best = end;
    }
    if (best == std::string::npos || best >= t.size()) return false;
    head = t.substr(0, best);
    while (!head.empty() && head.back() == ' ') head.pop_back();
    tail = t.substr(best);
    return true;
}

}  // namespace

Result<Built> kjv_task(const TrainingIndex &ix, const SourcePaths &paths, uint64_t seed,
                       int64_t items) {
    EM_ASSIGN_OR_RETURN(std::vector<Document> docs, corpus_heldout_documents("kjv", paths));
    Rng rng(seed ^ 0x4B4A56);
    Built b;
    b.name = "kjv_continuation";
    struct Half {
        std::string book, id, head, tail;
    };
    std::vector<Half> halves;
    for (const auto &d : docs)
        for (const auto &u : d.units) {
            Half h{d.title,
                   d.title + " " + std::to_string(u.group) + ":" + std::to_string(u.number), "",
                   ""};
            if (verse_split(u.text, h.head, h.tail)) halves.push_back(std::move(h));
        }
    // Wrong endings: distinct endings of other verses of the same book, of the nearest length
    // (an untrained model prefers fewer tokens, so length must not point at the answer).
    std::map<std::string, std::vector<std::string>> tails;
    for (const auto &h : halves) tails[h.book].push_back(h.tail);
    std::map<std::string, LengthIndex> index;
    for (auto &[book, t] : tails) {
        std::sort(t.begin(), t.end());
        t.erase(std::unique(t.begin(), t.end()), t.end());
        index.emplace(book, LengthIndex(t));
    }
    for (const auto &h : halves) {
        std::vector<std::string> ds =
            draw_near_length(rng, tails[h.book], index.at(h.book), h.tail, 3);
        if (ds.size() < 3) continue;
        b.docs.push_back(mc_doc(rng, h.id, h.head, h.tail, ds));
    }
    b.stats["candidates"] = static_cast<int64_t>(b.docs.size());
    decontaminate(b, [&](const nlohmann::json &d) {
        return ix.seen_en(d["prompt"].get<std::string>() + " " +
                          d["choices"][d["answer"].get<size_t>()].get<std::string>());
    });
    keep_random(rng, b.docs, items);
    SpecInfo si;
    si.name = b.name;
    si.title = "KJV verse continuation (HellaSwag-style)";
    si.source =
        "held-out KJV verses split at the comma, semicolon or colon nearest the middle: the "
        "first half -> its second half vs 3 second halves of the same book of the nearest length";
    si.packages = "deb:bible-kjv deb:bible-kjv-text";
    si.licence = "KJV text: public domain (Crown copyright in the UK)";
    si.heldout =
        "books Ruth, Esther, Jonah, Proverbs, Mark, Titus and James are removed from both "
        "KJV and WEB training text; items >= 50% seen in training (8-word windows: "
        "parallel passages, quotations) are dropped";
    si.chance = "0.25 (4 choices)";
    b.spec = spec_toml(si, b.stats);
    return b;
}

Result<Built> songci_task(const TrainingIndex &ix, const SourcePaths &paths, uint64_t seed,
                          int64_t items) {
    EM_ASSIGN_OR_RETURN(std::vector<Document> docs, corpus_heldout_documents("songci", paths));
    Rng rng(seed ^ 0x50C1);
    Built b;
    b.name = "zh_ci_nextline";
    std::map<int64_t, std::vector<std::pair<size_t, std::string>>> by_len;  // line length -> lines
    for (size_t i = 0; i < docs.size(); ++i)
        for (const auto &u : docs[i].units) by_len[utf8_length(u.text)].push_back({i, u.text});
    for (size_t i = 0; i < docs.size(); ++i) {
        const auto &units = docs[i].units;
        if (units.size() < 2) continue;
        // One item per poem, at a random line, so the items spread over many poems.
        const size_t j = rng.below(units.size() - 1);
        const std::string &next = units[j + 1].text;
        std::vector<std::string> pool;
        for (const auto &[pi, line] : by_len[utf8_length(next)])
            if (pi != i && line != next) pool.push_back(line);
        if (pool.size() < 3) continue;
        // The poem as training text shows it: "title author", then a line per line.
        std::string ctx = docs[i].title + " " + docs[i].author;
        for (size_t k = 0; k <= j; ++k) ctx += "\n" + units[k].text;
        nlohmann::json d = mc_doc(rng, docs[i].id + ":" + std::to_string(j + 1), ctx, next,
                                  draw_distinct(rng, pool, 3, {next}));
        d["line"] = units[j].text;
        b.docs.push_back(std::move(d));
    }
    b.stats["candidates"] = static_cast<int64_t>(b.docs.size());
    decontaminate(b, [&](const nlohmann::json &d) {
        return ix.seen_zh(d["line"].get<std::string>() +
                              d["choices"][d["answer"].get<size_t>()].get<std::string>(),
                          0.34);
    });
    keep_random(rng, b.docs, items);
    SpecInfo si;
    si.name = b.name;
    si.target_delimiter = "\n";
    si.title = "Song ci next line (Chinese)";
    si.source =
        "held-out Song ci poems (chinese-poetry): the title, author and the poem up to a "
        "line -> the next line vs 3 lines of the same length from other held-out poems";
    si.packages = "npm:chinese-poetry";
    si.licence = "MIT (compilation of classical texts)";
    si.heldout =
        "every 10th Song ci poem is held out of training; items whose line pair shares "
        ">= 34% of its 8-character windows with training text are dropped";
    si.chance = "0.25 (4 choices)";
    b.spec = spec_toml(si, b.stats);
    return b;
}

}  // namespace em::suite
