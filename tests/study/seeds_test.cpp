// Replicate seeds (`seeds`, for the study or per size): the planned runs, their names and seeds,
// branched replicates with their own trunks, selection by seed, the plan's table, mistakes named,
// the shipped seeds-small config, and a seed-1 replicate training bit-identically to the
// unsuffixed run of a study without seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/fileio.h"
#include "model/safetensors.h"
#include "study/collect.h"
#include "study/config.h"
#include "study/plan.h"
#include "study/select.h"
#include "study/status.h"
#include "tests/common/testing.h"
#include "tests/study/micro.h"
#include "train/checkpoint.h"

namespace em {
namespace {

using testing::TempDir;

// The micro study's config (seed = 2, sizes a and b, budgets 12.8k and 25.6k) with each edit's
// first text replaced by its second, written to `name` in `dir`; returns its path.
std::string micro_config(const std::string &dir, const std::string &name,
                         const std::vector<std::pair<std::string, std::string>> &edits) {
    if (!file_exists(dir + "/study.toml")) write_micro_inputs(dir);
    std::string text = file_read(dir + "/study.toml").value();
    for (const auto &[from, to] : edits) {
        const size_t at = text.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        if (at != std::string::npos) text.replace(at, from.size(), to);
    }
    EXPECT_TRUE(file_write_atomic(dir + "/" + name, text).is_ok());
    return dir + "/" + name;
}

std::vector<StudyRun> planned(const std::string &path) {
    auto c = study_config_load(path);
    EXPECT_TRUE(c.is_ok()) << c.status().message();
    return c.is_ok() ? study_plan_runs(*c, "/study", 400) : std::vector<StudyRun>{};
}

std::vector<std::string> names_of(const std::vector<StudyRun> &runs) {
    std::vector<std::string> out;
    for (const auto &r : runs) out.push_back(r.name);
    return out;
}

TEST(StudySeeds, NamesCarryTheSeedOnlyWhenSeedsAreGiven) {
    TempDir dir("seeds_names");
    const auto plain = planned(micro_config(dir.path, "plain.toml", {}));
    EXPECT_EQ(names_of(plain),
              (std::vector<std::string>{"a-12.8k", "a-25.6k", "b-12.8k", "b-25.6k"}));
    for (const auto &r : plain) {
        EXPECT_EQ(r.train.seed, 2u) << r.name;
        EXPECT_EQ(r.train.data_seed, 2u) << r.name;
    }
    const std::string path =
        micro_config(dir.path, "seeds.toml", {{"seed = 2\n", "seed = 2\nseeds = [3, 1, 2]\n"}});
    auto c = study_config_load(path);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    EXPECT_EQ(c->seed, 2u);  // the suite, corpus and tokenizer keep the study's seed
    const auto runs = study_plan_runs(*c, "/study", 400);
    // Per size, seed by seed in the listed order, each seed's budgets.
    EXPECT_EQ(names_of(runs),
              (std::vector<std::string>{"a-12.8k-s3", "a-25.6k-s3", "a-12.8k-s1", "a-25.6k-s1",
                                        "a-12.8k-s2", "a-25.6k-s2", "b-12.8k-s3", "b-25.6k-s3",
                                        "b-12.8k-s1", "b-25.6k-s1", "b-12.8k-s2", "b-25.6k-s2"}));
    for (const auto &r : runs) {
        const uint64_t seed = static_cast<uint64_t>(r.name.back() - '0');
        EXPECT_EQ(r.train.seed, seed) << r.name;
        EXPECT_EQ(r.train.data_seed, seed) << r.name;
        EXPECT_EQ(r.train.out_dir, "/study/runs/" + r.name);
    }
    // Replicates share the size's parameters (the analysis groups them by params) and differ from
    // each other in the two seeds only.
    EXPECT_EQ(runs[0].params, runs[2].params);
    TrainConfig s3 = runs[0].train, s1 = runs[2].train;
    EXPECT_NE(train_config_to_json(s3), train_config_to_json(s1));
    s3.seed = s3.data_seed = s1.seed;
    s3.out_dir = s1.out_dir;
    EXPECT_EQ(train_config_to_json(s3), train_config_to_json(s1));
}

// With seeds = [1] in a study whose seed is 1 every run is the unsuffixed run renamed.
TEST(StudySeeds, SeedOneIsTheUnsuffixedRunRenamed) {
    TempDir dir("seeds_one");
    const auto plain = planned(micro_config(dir.path, "plain.toml", {{"seed = 2", "seed = 1"}}));
    const auto one =
        planned(micro_config(dir.path, "one.toml", {{"seed = 2", "seed = 1\nseeds = [1]"}}));
    ASSERT_EQ(one.size(), plain.size());
    for (size_t i = 0; i < one.size(); ++i) {
        EXPECT_EQ(one[i].name, plain[i].name + "-s1");
        TrainConfig t = one[i].train;
        EXPECT_EQ(t.out_dir, "/study/runs/" + plain[i].name + "-s1");
        t.out_dir = plain[i].train.out_dir;
        EXPECT_EQ(train_config_to_json(t), train_config_to_json(plain[i].train)) << one[i].name;
        EXPECT_EQ(t.threads, plain[i].train.threads);
        EXPECT_EQ(t.train_shards, plain[i].train.train_shards);
    }
}

TEST(StudySeeds, SizeSeedsOverrideTheStudys) {
    TempDir dir("seeds_size");
    // b lists its own seeds; a takes the study's.
    auto runs = planned(micro_config(dir.path, "both.toml",
                                     {{"seed = 2\n", "seed = 2\nseeds = [1, 2]\n"},
                                      {"name = \"b\"\n", "name = \"b\"\nseeds = [7]\n"}}));
    EXPECT_EQ(names_of(runs), (std::vector<std::string>{"a-12.8k-s1", "a-25.6k-s1", "a-12.8k-s2",
                                                        "a-25.6k-s2", "b-12.8k-s7", "b-25.6k-s7"}));
    EXPECT_EQ(runs[5].train.seed, 7u);
    // Only a lists seeds: b's runs keep the study's seed and their names.
    runs = planned(
        micro_config(dir.path, "a_only.toml", {{"name = \"a\"\n", "name = \"a\"\nseeds = [4]\n"}}));
    EXPECT_EQ(names_of(runs),
              (std::vector<std::string>{"a-12.8k-s4", "a-25.6k-s4", "b-12.8k", "b-25.6k"}));
    EXPECT_EQ(runs[0].train.data_seed, 4u);
    EXPECT_EQ(runs[2].train.seed, 2u);
}

// Branched: each seed has its own trunk, and a seed's branches start from it.
TEST(StudySeeds, BranchesStartFromTheirSeedsTrunk) {
    TempDir dir("seeds_branch");
    const auto runs =
        planned(micro_config(dir.path, "branched.toml",
                             {{"seed = 2\n", "seed = 2\nseeds = [1, 2]\n"},
                              {"budgets = [12800, 25600]",
                               "budgets = [25600, 6400, 12800]\nschedule = \"wsd-branch\""}}));
    ASSERT_EQ(runs.size(), 12u);
    EXPECT_EQ(names_of(runs),
              (std::vector<std::string>{"a-25.6k-wsd-s1", "a-6.4k-wsd-s1", "a-12.8k-wsd-s1",
                                        "a-25.6k-wsd-s2", "a-6.4k-wsd-s2", "a-12.8k-wsd-s2",
                                        "b-25.6k-wsd-s1", "b-6.4k-wsd-s1", "b-12.8k-wsd-s1",
                                        "b-25.6k-wsd-s2", "b-6.4k-wsd-s2", "b-12.8k-wsd-s2"}));
    for (size_t first = 0; first < runs.size(); first += 3) {
        const StudyRun &trunk = runs[first];
        EXPECT_TRUE(trunk.trunk.empty()) << trunk.name;
        // Branch points at 20 and 40 steps (docs/study.md), kept with their state, once each.
        EXPECT_EQ(trunk.train.checkpoint_keep_state_steps, (std::vector<int64_t>{20, 40}))
            << trunk.name;
        for (size_t i = first + 1; i < first + 3; ++i) {
            EXPECT_EQ(runs[i].trunk, trunk.name) << runs[i].name;
            EXPECT_EQ(runs[i].train.branch_from, trunk.train.out_dir) << runs[i].name;
            EXPECT_EQ(runs[i].train.seed, trunk.train.seed) << runs[i].name;
            EXPECT_EQ(runs[i].train.data_seed, trunk.train.data_seed) << runs[i].name;
        }
    }
    EXPECT_EQ(runs[3].train.seed, 2u);
    EXPECT_EQ(runs[4].train.branch_from, "/study/runs/a-25.6k-wsd-s2");
    // Picking a branch picks its own seed's trunk, not another seed's.
    auto sel = study_selection_parse("a-6.4k-wsd-s2", "");
    ASSERT_TRUE(sel.is_ok());
    auto picked = study_select(runs, *sel, 1e5);
    ASSERT_TRUE(picked.is_ok()) << picked.status().message();
    EXPECT_EQ(names_of(*picked), (std::vector<std::string>{"a-25.6k-wsd-s2", "a-6.4k-wsd-s2"}));
    // Shards deal a trunk with its branches: four units, each shard's branches with their trunk.
    std::set<std::string> dealt;
    for (int k = 1; k <= 4; ++k) {
        auto deal = study_selection_parse("", std::to_string(k) + "/4");
        ASSERT_TRUE(deal.is_ok());
        auto shard = study_select(runs, *deal, 1e5);
        ASSERT_TRUE(shard.is_ok()) << shard.status().message();
        ASSERT_EQ(shard->size(), 3u) << k;
        for (const auto &r : *shard) {
            EXPECT_EQ(r.train.seed, (*shard)[0].train.seed) << r.name;
            EXPECT_EQ(r.size, (*shard)[0].size) << r.name;
            dealt.insert(r.name);
        }
    }
    EXPECT_EQ(dealt.size(), runs.size());
    auto five = study_selection_parse("", "5/5");
    ASSERT_TRUE(five.is_ok());
    EXPECT_FALSE(study_select(runs, *five, 1e5).is_ok());
}

TEST(StudySeeds, RunsGlobPicksOneSeedsReplicates) {
    TempDir dir("seeds_select");
    const auto runs = planned(
        micro_config(dir.path, "seeds.toml", {{"seed = 2\n", "seed = 2\nseeds = [1, 2, 3]\n"}}));
    auto pick = [&](const std::string &pattern) {
        auto sel = study_selection_parse(pattern, "");
        EXPECT_TRUE(sel.is_ok());
        auto r = study_select(runs, *sel, 1e5);
        EXPECT_TRUE(r.is_ok()) << r.status().message();
        return r.is_ok() ? names_of(*r) : std::vector<std::string>{};
    };
    EXPECT_EQ(pick("*-s2"),
              (std::vector<std::string>{"a-12.8k-s2", "a-25.6k-s2", "b-12.8k-s2", "b-25.6k-s2"}));
    EXPECT_EQ(pick("a-*-s3"), (std::vector<std::string>{"a-12.8k-s3", "a-25.6k-s3"}));
    EXPECT_EQ(pick("b-25.6k-*"),
              (std::vector<std::string>{"b-25.6k-s1", "b-25.6k-s2", "b-25.6k-s3"}));
    EXPECT_EQ(pick("a-*").size(), 6u);
    auto unsuffixed = study_selection_parse("a-12.8k", "");
    ASSERT_TRUE(unsuffixed.is_ok());
    auto none = study_select(runs, *unsuffixed, 1e5);
    ASSERT_FALSE(none.is_ok());
    EXPECT_NE(none.status().message().find("matches no run; the runs are a-12.8k-s1"),
              std::string::npos)
        << none.status().message();
}

TEST(StudySeeds, SeedsMistakesAreNamed) {
    TempDir dir("seeds_bad");
    auto expect_error = [&](const std::string &from, const std::string &to,
                            const std::string &want) {
        const std::string path = micro_config(dir.path, "bad.toml", {{from, to}});
        auto c = study_config_load(path);
        ASSERT_FALSE(c.is_ok()) << from << " -> " << to;
        EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status().message();
        EXPECT_EQ(c.status().message().rfind(path, 0), 0u) << c.status().message();
    };
    const std::string top = "seed = 2\n";
    expect_error(top, "seed = 2\nseeds = [1, 2, 1]\n",
                 "bad.toml: seeds lists 1 twice; list each replicate seed once");
    expect_error(top, "seed = 2\nseeds = [0, 1]\n",
                 "bad.toml: seeds lists 0; replicate seeds must be integers >= 1");
    expect_error(top, "seed = 2\nseeds = [-3]\n", "seeds lists -3; replicate seeds must be");
    expect_error(top, "seed = 2\nseeds = []\n",
                 "bad.toml: seeds is empty; list the replicate seeds (seeds = [1, 2, 3]) or "
                 "remove the key");
    expect_error(top, "seed = 2\nseeds = [1.5]\n", "key 'seeds' must be an array of integers");
    expect_error(top, "seed = 2\nseeds = 3\n", "key 'seeds' must be an array of integers");
    const std::string size = "name = \"b\"\n";
    expect_error(size, "name = \"b\"\nseeds = [4, 4]\n",
                 "bad.toml [[size]] #2: seeds lists 4 twice; list each replicate seed once");
    expect_error(size, "name = \"b\"\nseeds = []\n", "bad.toml [[size]] #2: seeds is empty");
    expect_error(size, "name = \"b\"\nseeds = [0]\n",
                 "[[size]] #2: seeds lists 0; replicate seeds must be integers >= 1");
    expect_error(size, "name = \"b\"\nseed = 4\n", "unknown key 'seed'");
}

// configs/seeds-small.toml: three replicates of paper-small's n100k-16M and n200k-16M, the seed-1
// ones paper-small's runs renamed, the others differing in their seeds only.
TEST(StudySeeds, SeedsSmallReplicatesPaperSmallsRuns) {
    auto paper = study_config_load(EM_SOURCE_DIR "/configs/paper-small.toml");
    auto seeds = study_config_load(EM_SOURCE_DIR "/configs/seeds-small.toml");
    ASSERT_TRUE(paper.is_ok()) << paper.status().message();
    ASSERT_TRUE(seeds.is_ok()) << seeds.status().message();
    EXPECT_EQ(seeds->seed, paper->seed);
    EXPECT_EQ(seeds->corpus_sources, paper->corpus_sources);
    EXPECT_EQ(seeds->skills, paper->skills);
    EXPECT_EQ(seeds->vocab_size, paper->vocab_size);
    EXPECT_EQ(seeds->tasks, paper->tasks);
    EXPECT_EQ(seeds->eval_limit, paper->eval_limit);
    EXPECT_EQ(seeds->analysis.threshold.bootstrap_runs, paper->analysis.threshold.bootstrap_runs);
    const auto grid = study_plan_runs(*paper, "/study", 8192);
    const auto runs = study_plan_runs(*seeds, "/study", 8192);
    EXPECT_EQ(names_of(runs),
              (std::vector<std::string>{"n100k-16M-s1", "n100k-16M-s2", "n100k-16M-s3",
                                        "n200k-16M-s1", "n200k-16M-s2", "n200k-16M-s3"}));
    for (const auto &r : runs) {
        const std::string base = r.name.substr(0, r.name.size() - 3);
        auto it = std::find_if(grid.begin(), grid.end(),
                               [&](const StudyRun &g) { return g.name == base; });
        ASSERT_NE(it, grid.end()) << base;
        EXPECT_EQ(r.params, it->params) << r.name;
        TrainConfig t = r.train;
        t.out_dir = it->train.out_dir;
        if (t.seed != 1) t.seed = t.data_seed = 1;
        EXPECT_EQ(train_config_to_json(t), train_config_to_json(it->train)) << r.name;
    }
}

// `study plan` lists every replicate, its name column as wide as the longest name.
TEST(StudySeeds, PlanListsEveryReplicateAligned) {
    TempDir dir("seeds_plan");
    const std::string path =
        micro_config(dir.path, "plan.toml",
                     {{"seed = 2\n", "seed = 2\nseeds = [1, 12]\n"},
                      {"name = \"a\"\n", "name = \"tiny_a\"\n"},
                      {"budgets = [12800, 25600]",
                       "budgets = [25600, 6400, 12800]\nschedule = \"wsd-branch\""}});
    auto c = study_config_load(path);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    auto plan = study_plan(*c, dir / "out", StudySelection{});
    ASSERT_TRUE(plan.is_ok()) << plan.status().message();
    const std::string &text = *plan;
    EXPECT_NE(text.find("study micro: 12 runs"), std::string::npos) << text;
    const size_t head = text.find("  run ");
    ASSERT_NE(head, std::string::npos) << text;
    const size_t head_line = text.rfind('\n', head) + 1;
    const size_t x_col = text.find(" x layers", head) - head_line;
    int rows = 0;
    for (const auto &r : study_plan_runs(*c, dir / "out", c->vocab_size)) {
        const size_t at = text.find("\n  " + r.name + " ");
        ASSERT_NE(at, std::string::npos) << r.name << "\n" << text;
        const std::string line = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
        EXPECT_EQ(line.find(" x "), x_col) << line;
        const bool marked = line.find("(branch of " + r.trunk + " at step") != std::string::npos;
        EXPECT_EQ(marked, !r.trunk.empty()) << line;
        ++rows;
    }
    EXPECT_EQ(rows, 12);
    EXPECT_NE(text.find("tiny_a-25.6k-wsd-s12 "), std::string::npos) << text;
}

// Trained for real: the seed-1 replicate of a study with seeds = [1] writes the same checkpoints
// as the unsuffixed run of the study without seeds, the seed-2 replicate other ones; collect and
// status name the replicates, and their points carry the size's params.
TEST(StudySeeds, SeedOneTrainsBitIdenticallyToTheUnsuffixedRun) {
    TempDir dir("seeds_train");
    const std::string plain = micro_config(dir.path, "plain.toml", {{"seed = 2", "seed = 1"}});
    const std::string seeds =
        micro_config(dir.path, "seeds.toml", {{"seed = 2", "seed = 1\nseeds = [1, 2]"}});
    const std::string out = dir / "out";
    auto study = [&](const std::string &cfg, const std::string &runs) {
        return testing::run_captured(std::string(EM_BINARY) + " study " + cfg + " --dir " + out +
                                     " --runs '" + runs + "' --no-outputs 2>&1 >/dev/null");
    };
    auto [rc1, log1] = study(plain, "a-12.8k");
    ASSERT_EQ(rc1, 0) << log1;
    auto [rc2, log2] = study(seeds, "a-12.8k-s*");
    ASSERT_EQ(rc2, 0) << log2;
    auto checksums = [&](const std::string &run) {
        std::vector<std::string> sums;
        for (int64_t step : checkpoint_list(out + "/runs/" + run)) {
            auto meta =
                safetensors_read_metadata(checkpoint_weights_path(out + "/runs/" + run, step));
            EXPECT_TRUE(meta.is_ok()) << meta.status().message();
            if (meta.is_ok())
                sums.push_back(std::to_string(step) + " " + meta->at("emergence.checksum") + " " +
                               meta->at("emergence.val_loss"));
        }
        return sums;
    };
    const auto base = checksums("a-12.8k"), s1 = checksums("a-12.8k-s1"),
               s2 = checksums("a-12.8k-s2");
    ASSERT_EQ(base.size(), 3u);  // steps 7, 25 and 50
    EXPECT_EQ(s1, base);
    ASSERT_EQ(s2.size(), base.size());
    for (size_t i = 0; i < s2.size(); ++i) EXPECT_NE(s2[i], base[i]);

    auto c = study_config_load(seeds);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    ASSERT_TRUE(study_collect(*c, out, dir / "points.csv").is_ok());
    const std::string points = file_read(dir / "points.csv").value();
    // run,params,...: both replicates, with one params value.
    const std::regex row("\n(a-12\\.8k-s[12]),([0-9.e+]+),");
    std::set<std::string> runs, params;
    for (std::sregex_iterator it(points.begin(), points.end(), row), end; it != end; ++it) {
        runs.insert((*it)[1]);
        params.insert((*it)[2]);
    }
    EXPECT_EQ(runs, (std::set<std::string>{"a-12.8k-s1", "a-12.8k-s2"})) << points;
    EXPECT_EQ(params.size(), 1u) << points;
    EXPECT_EQ(points.find("\na-12.8k,"), std::string::npos);  // not a run of this config
    auto status = study_status(*c, out);
    ASSERT_TRUE(status.is_ok()) << status.status().message();
    for (const char *run : {"a-12.8k-s1", "a-12.8k-s2"})
        EXPECT_TRUE(std::regex_search(*status, std::regex(std::string("\n  ") + run + " .* done ")))
            << *status;
}

}  // namespace
}  // namespace em
