// WordNet tasks (WordNet never enters training): "A X is a kind of" -> the hypernym, and a
// definition -> the word it defines. Only words the training text uses often enough are asked
// about, so a model can have learned them.
#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "data/wordnet.h"
#include "tasks/suite_internal.h"

namespace em::suite {
namespace {

constexpr int64_t kHypernymMinFreq = 50;  // both words of a hypernym item
constexpr int64_t kDefinitionMinFreq = 20;

bool all_lower(const std::string &w) {
    return !w.empty() &&
           std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The first lemma of a synset that is one lower-case word used at least `min_freq` times.
std::string lemma(const TrainingIndex &ix, const Synset &s, int64_t min_freq) {
    for (const auto &w : s.words)
        if (all_lower(w) && ix.freq(w) >= min_freq) return w;
    return "";
}

bool contains_word(const std::string &text, const std::string &w) {
    std::vector<std::string> words = english_words(text);
    return std::find(words.begin(), words.end(), w) != words.end();
}

const char *kWordNetPackages = "deb:wordnet-base";
const char *kWordNetLicence = "WordNet 3.0 licence (permissive, notice kept)";
const char *kWordNetHeldout = "WordNet is evaluation-only: it never enters the training corpus";

Built hypernym_task(const TrainingIndex &ix, const WordNet &wn, Rng &rng, int64_t items) {
    Built b;
    b.name = "wn_hypernym";
    std::vector<const Synset *> nouns;
    for (const auto &s : wn.synsets)
        if (s.pos == 'n') nouns.push_back(&s);
    // Distractors are category words too: lemmas of synsets that are some noun's hypernym (so
    // they resemble the answers in form), each with the synsets it names.
    std::unordered_set<const Synset *> is_hypernym;
    for (const Synset *s : nouns)
        for (const auto &id : wn.hypernyms(*s))
            if (const Synset *p = wn.find(id)) is_hypernym.insert(p);
    std::vector<std::string> pool;
    std::unordered_map<std::string, std::vector<const Synset *>> senses;
    for (const Synset *s : nouns)
        if (auto w = lemma(ix, *s, kHypernymMinFreq); !w.empty() && is_hypernym.count(s)) {
            if (senses[w].empty()) pool.push_back(w);
            senses[w].push_back(s);
        }
    const LengthIndex by_len(pool);
    std::unordered_map<const Synset *, std::unordered_set<const Synset *>> anc_cache;
    std::function<const std::unordered_set<const Synset *> &(const Synset *)> ancestors =
        [&](const Synset *s) -> const std::unordered_set<const Synset *> & {
        auto it = anc_cache.find(s);
        if (it != anc_cache.end()) return it->second;
        std::unordered_set<const Synset *> out;
        for (const auto &h : wn.hypernyms(*s))
            if (const Synset *p = wn.find(h)) {
                out.insert(p);
                const auto &up = ancestors(p);
                out.insert(up.begin(), up.end());
            }
        return anc_cache[s] = std::move(out);
    };
    int64_t candidates = 0;
    for (const Synset *s : nouns) {
        const std::string h = lemma(ix, *s, kHypernymMinFreq);
        if (h.empty()) continue;
        std::string hyp;
        for (const auto &id : wn.hypernyms(*s))
            if (const Synset *p = wn.find(id); p && hyp.empty())
                hyp = lemma(ix, *p, kHypernymMinFreq);
        if (hyp.empty() || hyp == h) continue;
        // Distractors are never an ancestor of the noun or one of its ancestors' words.
        const auto &anc = ancestors(s);
        std::set<std::string> anc_words(s->words.begin(), s->words.end());
        for (const Synset *a : anc) anc_words.insert(a->words.begin(), a->words.end());
        std::vector<std::string> ds =
            draw_like(rng, ix, pool, by_len, hyp, 3, [&](const std::string &w) {
                if (anc_words.count(w) || w == h) return false;
                for (const Synset *ps : senses[w])
                    if (anc.count(ps)) return false;
                return true;
            });
        if (ds.size() < 3) continue;
        ++candidates;
        // "A dog", "An apple" when the corpus uses the noun after an article, else "Furniture".
        std::string subj = h;
        if (ix.after_article(h) >= 2)
            subj =
                std::string(std::string("aeiou").find(h[0]) != std::string::npos ? "An " : "A ") +
                h;
        else
            subj[0] = static_cast<char>(subj[0] - 'a' + 'A');
        nlohmann::json d = mc_doc(rng, s->id, subj + " is a kind of", hyp, ds);
        d["hyponym"] = h;
        d["hypernym"] = hyp;
        b.docs.push_back(std::move(d));
    }
    b.stats["candidates"] = candidates;
    decontaminate(b, [&](const nlohmann::json &d) {
        return ix.seen_en(d["prompt"].get<std::string>() + " " + d["hypernym"].get<std::string>());
    });
    keep_random(rng, b.docs, items);
    SpecInfo si;
    si.name = b.name;
    si.title = "WordNet hypernym multiple choice";
    si.source =
        "WordNet 3.0 noun synsets: \"A <noun> is a kind of\" -> its direct hypernym vs 3 "
        "hypernym words that are not its ancestors, of the nearest length and a training frequency "
        "within "
        "2x (else 5x); both words occur >= 50 times in training";
    si.packages = kWordNetPackages;
    si.licence = kWordNetLicence;
    si.heldout = kWordNetHeldout;
    si.chance = "0.25 (4 choices)";
    b.spec = spec_toml(si, b.stats);
    return b;
}

Built definition_task(const TrainingIndex &ix, const WordNet &wn, Rng &rng, int64_t items) {
    Built b;
    b.name = "wn_def2word";
    std::unordered_map<char, std::vector<std::string>> by_pos;
    std::unordered_map<char, std::unordered_set<std::string>> seen;
    for (const auto &s : wn.synsets)
        if (auto w = lemma(ix, s, kDefinitionMinFreq); !w.empty() && seen[s.pos].insert(w).second)
            by_pos[s.pos].push_back(w);
    std::unordered_map<char, LengthIndex> index;
    for (const auto &[pos, words] : by_pos) index.emplace(pos, LengthIndex(words));
    int64_t candidates = 0;
    for (const auto &s : wn.synsets) {
        const std::string w = lemma(ix, s, kDefinitionMinFreq);
        if (w.empty() || s.definition.empty() || contains_word(s.definition, w)) continue;
        std::set<std::string> own;
        for (const auto &x : s.words) {
            std::string l = x;
            for (char &c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            own.insert(l);
        }
        // Distractors: same part of speech, similar frequency and length.
        std::vector<std::string> ds =
            draw_like(rng, ix, by_pos[s.pos], index.at(s.pos), w, 3,
                      [&](const std::string &c) { return !own.count(c); });
        if (ds.size() < 3) continue;
        ++candidates;
        std::string defn = s.definition;
        while (!defn.empty() && (defn.back() == '.' || defn.back() == ' ')) defn.pop_back();
        nlohmann::json d = mc_doc(rng, s.id, "Definition: " + defn + ".\nWord:", w, ds);
        d["definition"] = defn;
        b.docs.push_back(std::move(d));
    }
    b.stats["candidates"] = candidates;
    decontaminate(
        b, [&](const nlohmann::json &d) { return ix.seen_en(d["definition"].get<std::string>()); });
    keep_random(rng, b.docs, items);
    SpecInfo si;
    si.name = b.name;
    si.title = "WordNet definition -> word multiple choice";
    si.source =
        "WordNet 3.0 glosses: \"Definition: ...\\nWord:\" -> the lemma vs 3 lemmas of the same "
        "part of speech, the nearest length and a training frequency within 2x (else 5x); words "
        "occur >= 20 times";
    si.packages = kWordNetPackages;
    si.licence = kWordNetLicence;
    si.heldout = kWordNetHeldout + std::string(
                                       "; definitions whose 8-word windows are >= 50% in "
                                       "training are dropped");
    si.chance = "0.25 (4 choices)";
    b.spec = spec_toml(si, b.stats);
    return b;
}

}  // namespace

Result<std::vector<Built>> wordnet_tasks(const TrainingIndex &ix, const SourcePaths &paths,
                                         uint64_t seed, int64_t items) {
    EM_ASSIGN_OR_RETURN(WordNet wn, wordnet_read(paths));
    Rng r1(seed ^ 0x57A1), r2(seed ^ 0x57A2);
    std::vector<Built> out;
    out.push_back(hypernym_task(ix, wn, r1, items));
    out.push_back(definition_task(ix, wn, r2, items));
    return out;
}

}  // namespace em::suite
