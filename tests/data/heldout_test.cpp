// On the installed Debian/npm sources (skipped when absent): the held-out documents and the
// WordNet reader that task builders use, and the decontamination guarantee end to end: no
// held-out document and no WordNet text reaches a training shard.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_set>

#include "data/corpus.h"
#include "data/shard.h"
#include "data/text.h"
#include "data/tokenize.h"
#include "data/wordnet.h"
#include "fixtures.h"

namespace em {
namespace {

bool installed(const std::vector<std::string> &sources) {
    SourcePaths p = SourcePaths::system();
    for (const auto &s : sources)
        for (const auto &path : source_paths(s, p))
            if (!std::filesystem::exists(path)) return false;
    return true;
}

#define REQUIRE_SOURCES(...)                         \
    if (!installed({__VA_ARGS__}))                   \
    GTEST_SKIP() << "corpus packages not installed " \
                    "(scripts/install-deps.sh)"

TEST(Heldout, BibleBooksInBothTranslations) {
    REQUIRE_SOURCES("kjv", "web");
    const std::set<std::string> books = {"Ruth", "Esther", "Jonah", "Proverbs",
                                         "Mark", "Titus",  "James"};
    for (const char *src : {"kjv", "web"}) {
        auto docs = corpus_heldout_documents(src);
        ASSERT_TRUE(docs.is_ok()) << docs.status().message();
        std::set<std::string> seen;
        int64_t verses = 0;
        for (const auto &d : *docs) {
            seen.insert(d.title == "Esther (Greek)" ? "Esther" : d.title);
            EXPECT_EQ(d.source, src);
            EXPECT_EQ(d.id, d.title + " " + std::to_string(d.units.at(0).group));
            for (const auto &u : d.units) EXPECT_FALSE(u.text.empty());
            verses += static_cast<int64_t>(d.units.size());
        }
        EXPECT_EQ(seen, books) << src;
        EXPECT_GT(verses, 2000) << src;
    }
    auto kjv = corpus_heldout_documents("kjv");
    ASSERT_TRUE(kjv.is_ok());
    EXPECT_EQ(kjv->size(), 73u);  // 4 + 10 + 4 + 31 + 16 + 3 + 5 chapters
    const auto &ruth1 = kjv->front();
    EXPECT_EQ(ruth1.id, "Ruth 1");
    EXPECT_EQ(ruth1.units[15].number, 16);
    EXPECT_NE(ruth1.units[15].text.find("whither thou goest, I will go"), std::string::npos);
}

TEST(Heldout, BrownSongciAndPoems) {
    REQUIRE_SOURCES("brown", "songci", "zh_poems");
    auto brown = corpus_heldout_documents("brown");
    ASSERT_TRUE(brown.is_ok()) << brown.status().message();
    EXPECT_EQ(brown->size(), 41u);
    for (const auto &d : *brown) {
        EXPECT_EQ(d.id.back(), '0');
        ASSERT_FALSE(d.units.empty());
        EXPECT_NE(d.units[0].tagged.find('/'), std::string::npos);  // word/tag
        EXPECT_EQ(d.units[0].group, 1);
    }
    auto ci = corpus_heldout_documents("songci");
    ASSERT_TRUE(ci.is_ok()) << ci.status().message();
    EXPECT_GT(ci->size(), 2000u);
    EXPECT_EQ(ci->at(0).id, "songci:0");
    EXPECT_EQ(ci->at(1).id, "songci:10");
    EXPECT_FALSE(ci->at(1).author.empty());
    auto poems = corpus_heldout_documents("zh_poems");
    ASSERT_TRUE(poems.is_ok()) << poems.status().message();
    EXPECT_GT(poems->size(), 380u);
    EXPECT_GT(poems->at(0).units.size(), 3u);
    auto none = corpus_heldout_documents("moby_dick");
    ASSERT_TRUE(none.is_ok() || !installed({"moby_dick"}));
    if (none.is_ok()) {
        EXPECT_TRUE(none->empty());
    }
}

TEST(WordNetReader, SynsetsPointersAndGlosses) {
    REQUIRE_SOURCES("wordnet");
    auto wn = wordnet_read(SourcePaths::system());
    ASSERT_TRUE(wn.is_ok()) << wn.status().message();
    EXPECT_EQ(wn->synsets.size(), 117659u);
    const Synset *dog = wn->find("02084071-n");
    ASSERT_NE(dog, nullptr);
    EXPECT_EQ(dog->words.at(0), "dog");
    EXPECT_NE(dog->definition.find("domesticated"), std::string::npos);
    EXPECT_FALSE(dog->examples.empty());
    auto hyper = wn->hypernyms(*dog);
    EXPECT_NE(std::find(hyper.begin(), hyper.end(), "02083346-n"), hyper.end());  // canine
    bool found = false;
    for (const auto &s : wn->synsets)
        for (const auto &[a, b] : wn->antonyms(s))
            if (a == "good" && b == "bad") found = true;
    EXPECT_TRUE(found);
}

// Hashes of every 8-word window (lower-case a-z words) of `text`.
void windows8(std::string_view text, std::vector<uint64_t> &out) {
    std::vector<std::string> w;
    std::string cur;
    for (char c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c >= 'a' && c <= 'z') {
            cur.push_back(c);
        } else if (!cur.empty()) {
            w.push_back(std::move(cur));
            cur.clear();
        }
    }
    if (!cur.empty()) w.push_back(cur);
    for (size_t i = 0; i + 8 <= w.size(); ++i) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t k = i; k < i + 8; ++k) h = hash_fnv1a(w[k].data(), w[k].size() + 1, h);
        out.push_back(h);
    }
}

// Share of WordNet definitions (10 words or more) all of whose 8-word windows are in `index`.
double wordnet_coverage(const WordNet &wn, const std::vector<uint64_t> &index) {
    int64_t total = 0, covered = 0;
    std::vector<uint64_t> g;
    for (const auto &s : wn.synsets) {
        g.clear();
        windows8(s.definition, g);
        if (g.size() < 3) continue;
        ++total;
        covered += std::all_of(g.begin(), g.end(), [&](uint64_t h) {
            return std::binary_search(index.begin(), index.end(), h);
        });
    }
    return static_cast<double>(covered) / static_cast<double>(total);
}

TEST(Decontamination, NoHeldoutDocumentOrWordNetTextReachesTrainingShards) {
    REQUIRE_SOURCES("kjv", "web", "brown", "songci", "gcide", "wordnet");
    std::string d = testing::temp_dir("leak");
    CorpusOptions copt;
    copt.sources = {"kjv", "web", "brown", "songci", "gcide"};
    // A third of GCIDE keeps the test quick; WordNet entries are dropped before weighting, so
    // any that got through would still show.
    copt.weights = {{"gcide", 0.3}};
    auto manifest = corpus_build(d + "/corpus", copt);
    ASSERT_TRUE(manifest.is_ok()) << manifest.status().message();
    TokenizerOptions topt;
    topt.vocab_size = 1500;
    topt.character_coverage = 0.98;
    topt.sample_bytes = 2'000'000;
    ASSERT_TRUE(tokenizer_train(d + "/corpus", d + "/tok.model", topt).is_ok());
    auto tok = Tokenizer::load(d + "/tok.model");
    ASSERT_TRUE(tok.is_ok());
    auto shards = tokenize_corpus(d + "/corpus", *tok, d + "/shards", {});
    ASSERT_TRUE(shards.is_ok()) << shards.status().message();

    // Every document of the training shards, decoded.
    std::unordered_multiset<uint64_t> train_docs;
    std::vector<uint64_t> index;
    int64_t n_docs = 0;
    for (const auto &p : shards_paths(d + "/shards", *shards, "train")) {
        auto s = Shard::open(p);
        ASSERT_TRUE(s.is_ok()) << s.status().message();
        std::vector<int> ids;
        auto flush = [&] {
            auto text = tok->decode(ids);
            ASSERT_TRUE(text.is_ok());
            train_docs.insert(corpus_doc_hash(*text));
            windows8(*text, index);
            ids.clear();
            ++n_docs;
        };
        for (uint64_t i = 0; i < s->size(); ++i) {
            int t = static_cast<int>(s->token(i));
            if (t == tok->boundary_id()) {
                if (i > 0) flush();
            } else {
                ids.push_back(t);
            }
        }
        flush();
    }
    std::sort(index.begin(), index.end());
    EXPECT_EQ(n_docs, (*manifest)["totals"]["train_documents"].get<int64_t>());

    // 1. No held-out document, and no training record carrying a held-out id.
    std::set<std::pair<std::string, std::string>> heldout_ids;
    int64_t checked = 0;
    for (const char *src : {"kjv", "web", "brown", "songci"}) {
        auto held = corpus_heldout_documents(src);
        ASSERT_TRUE(held.is_ok()) << held.status().message();
        for (const auto &doc : *held) {
            EXPECT_EQ(train_docs.count(corpus_doc_hash(doc.text)), 0u) << src << " " << doc.id;
            heldout_ids.insert({src, doc.id});
            ++checked;
        }
    }
    EXPECT_GT(checked, 2200);
    CorpusReader r;
    ASSERT_TRUE(r.open(d + "/corpus/train.jsonl").is_ok());
    CorpusRecord rec;
    while (r.next(rec).value()) EXPECT_EQ(heldout_ids.count({rec.source, rec.id}), 0u) << rec.id;

    // 2. No GCIDE entry taken from WordNet is a training document...
    auto files = source_paths("gcide", SourcePaths::system());
    auto entries = dictd_read("gcide", files[0], files[1], "deb:dict-gcide");
    ASSERT_TRUE(entries.is_ok());
    std::vector<uint64_t> wn_entry_index;
    int64_t wn_entries = 0;
    for (const auto &e : *entries) {
        if (e.text.find("[WordNet 1.5") == std::string::npos) continue;
        std::string text = text_normalize(gcide_plain(utf8_repair(e.text)));
        EXPECT_EQ(train_docs.count(corpus_doc_hash(text)), 0u) << e.headword;
        windows8(text, wn_entry_index);
        ++wn_entries;
    }
    EXPECT_GT(wn_entries, 5000);
    // ... and WordNet's own definitions are (almost) absent from the training text, while the
    // dropped entries would have carried many of them: the check can see a leak.
    auto wn = wordnet_read(SourcePaths::system());
    ASSERT_TRUE(wn.is_ok());
    std::sort(wn_entry_index.begin(), wn_entry_index.end());
    double in_training = wordnet_coverage(*wn, index),
           in_dropped = wordnet_coverage(*wn, wn_entry_index);
    EXPECT_LT(in_training, 0.004) << "WordNet definitions found verbatim in training shards";
    EXPECT_GT(in_dropped, 0.01);
    EXPECT_GT(in_dropped, 5 * in_training);
}

}  // namespace
}  // namespace em
