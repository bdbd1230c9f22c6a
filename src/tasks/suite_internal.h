// Pieces shared by the built-in suite's generators (suite_*.cpp): the index of the training text
// (word frequencies, and the 8-word / 8-character windows behind the decontamination rule), the
// generated-task record, and helpers for multiple-choice documents and task specs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/rng.h"
#include "common/status.h"
#include "data/sources.h"

namespace em::suite {

// Lower-cased English words of `text`: letters a-z joined by single inner hyphens or apostrophes
// ("don't", "well-known"); anything else separates words.
std::vector<std::string> english_words(std::string_view text);

// What the training corpus contains: the default corpus's sources without their held-out
// documents (the suite is built before the corpus, from the same sources).
class TrainingIndex {
  public:
    static Result<TrainingIndex> build(const SourcePaths &paths, bool verbose);

    int64_t freq(const std::string &lower_word) const;
    // How often the word follows "a" or "an": evidence that it is a countable noun.
    int64_t after_article(const std::string &lower_word) const;
    // The decontamination rule: true when at least `threshold` of the text's 8-word windows
    // (8-character windows for Chinese) occur in the training text. Shorter texts are unseen.
    bool seen_en(std::string_view text, double threshold = 0.5) const;
    bool seen_zh(std::string_view text, double threshold) const;
    int64_t natural_bytes() const { return bytes_; }

  private:
    std::unordered_map<std::string, int64_t> freq_, after_article_;
    std::vector<uint64_t> en8_, zh8_;  // sorted window hashes
    int64_t bytes_ = 0;
};

// A generated task: its spec (TOML text) and documents.
struct Built {
    std::string name;
    std::string spec;  // the TOML file's text
    std::vector<nlohmann::json> docs;
    nlohmann::json stats = nlohmann::json::object();  // candidates, dropped as seen, ...
};

// How a task's spec reads. Unset strings are left out of the TOML.
struct SpecInfo {
    std::string name, output_type = "multiple_choice";
    std::string doc_to_text = "{{prompt}}", doc_to_target = "{{answer}}",
                doc_to_choice = "{{choices}}";
    std::vector<std::string> doc_to_choice_list;  // used instead of doc_to_choice when set
    std::string target_delimiter = " ", description;
    std::vector<std::string> until;
    int64_t max_gen_toks = 0;
    std::vector<std::string> metrics;  // empty: every metric of the output type
    // metadata
    std::string title, source, packages, licence, heldout, chance, notes;
};
std::string spec_toml(const SpecInfo &s, const nlohmann::json &stats);

template <typename T>
void shuffle(Rng &rng, std::vector<T> &v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

// {"id", "prompt", "choices", "answer"} with the gold choice at a random position.
nlohmann::json mc_doc(Rng &rng, const std::string &id, const std::string &prompt,
                      const std::string &answer, std::vector<std::string> distractors);

// `n` distinct items of `pool` other than those in `exclude`, drawn at random; fewer when the
// pool runs out.
std::vector<std::string> draw_distinct(Rng &rng, const std::vector<std::string> &pool, size_t n,
                                       const std::vector<std::string> &exclude);

// Words bucketed by length, for distractors as long as the answer: a model that only counts
// tokens (a random one prefers fewer) must not find the answer by its length.
class LengthIndex {
  public:
    explicit LengthIndex(const std::vector<std::string> &words);
    // Up to n distinct indices of words accepted by `ok`, drawn at random among those whose length
    // is nearest `len` (the narrowest band len +- d that yields them).
    std::vector<size_t> draw(Rng &rng, size_t len, size_t n,
                             const std::function<bool(size_t)> &ok) const;

  private:
    std::map<size_t, std::vector<size_t>> by_len_;
};

// The distractors of every length-matched item: up to n distinct items of `pool` (indexed by
// `index`) other than `answer` and accepted by `ok` (when given), of the nearest length.
std::vector<std::string> draw_near_length(Rng &rng, const std::vector<std::string> &pool,
                                          const LengthIndex &index, const std::string &answer,
                                          size_t n,
                                          const std::function<bool(const std::string &)> &ok = {});

// Up to n distinct words of `pool` (indexed by `index`) accepted by `ok`, like `word` in the two
// things that decide how many tokens a word takes, and so what an untrained model prefers: the
// nearest length, and a training frequency within 2x (else 5x, else any).
std::vector<std::string> draw_like(Rng &rng, const TrainingIndex &ix,
                                   const std::vector<std::string> &pool, const LengthIndex &index,
                                   const std::string &word, size_t n,
                                   const std::function<bool(const std::string &)> &ok);

// Keeps `n` of the candidates chosen at random (all of them when fewer), in random order.
void keep_random(Rng &rng, std::vector<nlohmann::json> &docs, int64_t n);

// Drops documents whose text `key` is seen in training; records the count in stats.
template <typename Pred>
void decontaminate(Built &b, Pred seen) {
    std::vector<nlohmann::json> keep;
    for (auto &d : b.docs)
        if (!seen(d)) keep.push_back(std::move(d));
    b.stats["dropped_as_seen_in_training"] = static_cast<int64_t>(b.docs.size() - keep.size());
    b.docs = std::move(keep);
}

// ---- the generators ----
Result<std::vector<Built>> wordnet_tasks(const TrainingIndex &ix, const SourcePaths &paths,
                                         uint64_t seed, int64_t items);
Result<std::vector<Built>> brown_tasks(const TrainingIndex &ix, const SourcePaths &paths,
                                       uint64_t seed, int64_t items);
Result<Built> kjv_task(const TrainingIndex &ix, const SourcePaths &paths, uint64_t seed,
                       int64_t items);
Result<Built> songci_task(const TrainingIndex &ix, const SourcePaths &paths, uint64_t seed,
                          int64_t items);

// The synthetic tasks and the skill documents that teach them (written to `skills_path`,
// about `skills_bytes` of text). `summary` receives counts and bytes per skill.
Result<std::vector<Built>> synthetic_tasks(const TrainingIndex &ix, uint64_t seed, int64_t items,
                                           int64_t skills_bytes, const std::string &skills_path,
                                           nlohmann::json &summary);

}  // namespace em::suite
