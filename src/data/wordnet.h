// Reader of the WordNet 3.0 database (Debian wordnet-base: data.noun, data.verb, data.adj,
// data.adv), for evaluation tasks built from synsets. WordNet never enters the training corpus.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "data/sources.h"

namespace em {

struct WordNetPointer {
    std::string symbol;   // "@" hypernym, "@i" instance hypernym, "!" antonym, "~" hyponym, ...
    std::string target;   // synset id, e.g. "02084071-n"
    int source_word = 0;  // 1-based word in this synset, 0: the pointer is between synsets
    int target_word = 0;  // 1-based word in the target synset, 0: whole synset
};

struct Synset {
    std::string id;  // "<8-digit offset>-<pos>", pos n, v, a or r (satellites use a)
    char pos = 'n';
    bool satellite = false;  // adjective satellite (WordNet ss_type s)
    int lex_file = 0;
    std::vector<std::string> words;  // lemmas, underscores as spaces, syntactic markers removed
    std::string definition;          // the gloss without its quoted examples
    std::vector<std::string> examples;
    std::vector<WordNetPointer> pointers;
};

class WordNet {
  public:
    std::vector<Synset> synsets;  // in file order: nouns, verbs, adjectives, adverbs

    const Synset *find(const std::string &id) const;
    // Ids of the direct hypernyms (regular and instance) of `s`.
    std::vector<std::string> hypernyms(const Synset &s) const;
    // Word-level antonym pairs of `s`: (word in s, antonym word in the target synset).
    std::vector<std::pair<std::string, std::string>> antonyms(const Synset &s) const;
    void index_build();

  private:
    std::unordered_map<std::string, size_t> by_id_;
};

// Reads the four data files under `dir` (normally /usr/share/wordnet); fails naming the package.
Result<WordNet> wordnet_read(const std::string &dir);
Result<WordNet> wordnet_read(const SourcePaths &paths);

}  // namespace em
