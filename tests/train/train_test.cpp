// Training end to end on a synthetic language: the loss falls toward its known floor, runs are
// deterministic, and a config's mistakes are reported clearly.
#include <gtest/gtest.h>

#include <fstream>

#include "common/fileio.h"
#include "model/config.h"
#include "tests/train/fixtures.h"
#include "tests/train/same_run.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/trainer.h"

namespace em {
namespace {

using testing::small_config;
using testing::temp_dir;
using testing::write_bigram_shards;

std::vector<double> losses_of(const std::string &metrics) {
    std::vector<double> out;
    std::ifstream in(metrics);
    std::string line;
    while (std::getline(in, line))
        out.push_back(nlohmann::json::parse(line)["train_loss"].get<double>());
    return out;
}

TEST(Train, LossFallsTowardTheLanguagesEntropy) {
    std::string dir = temp_dir("falls");
    write_bigram_shards(dir + "/shards", 64, 2);
    auto cfg = train_config_load(small_config(dir, "", 16 * 32 * 150));
    ASSERT_TRUE(cfg.is_ok()) << cfg.status().message();
    TrainOptions o;
    o.on_step = [](const TrainProgress &) {};
    Status s = train_run(*cfg, o);
    ASSERT_TRUE(s.is_ok()) << s.message();
    auto l = losses_of(dir + "/run/metrics.jsonl");
    ASSERT_EQ(l.size(), 150u);
    EXPECT_NEAR(l.front(), std::log(64.0), 0.3);  // starts near uniform
    EXPECT_LT(l.back(),
              std::log(64.0) - 2.0);  // ends far below uniform: log(2) = 0.69 is the floor
    EXPECT_GT(l.back(), std::log(2.0) - 0.05);
    EXPECT_FALSE(checkpoint_list(dir + "/run").empty());
}

TEST(Train, SameSeedAndThreadsGiveIdenticalLossCurve) {
    std::vector<std::vector<double>> curves;
    for (int i = 0; i < 2; ++i) {
        std::string dir = temp_dir("det" + std::to_string(i));
        write_bigram_shards(dir + "/shards", 64, 2);
        auto cfg = train_config_load(small_config(dir));
        ASSERT_TRUE(cfg.is_ok());
        TrainOptions o;
        o.on_step = [](const TrainProgress &) {};
        ASSERT_TRUE(train_run(*cfg, o).is_ok());
        curves.push_back(losses_of(dir + "/run/metrics.jsonl"));
    }
    ASSERT_EQ(curves[0].size(), 40u);
    EXPECT_EQ(curves[0], curves[1]);
}

TEST(Train, ConfigErrorsNameTheKeyAndTheFix) {
    std::string dir = temp_dir("cfgerr");
    write_bigram_shards(dir + "/shards", 64, 2);
    auto check = [&](const std::string &extra, const std::string &want) {
        std::string p = small_config(dir, extra);
        auto r = train_config_load(p);
        ASSERT_FALSE(r.is_ok()) << extra;
        EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
        EXPECT_NE(r.status().message().find("run.toml"), std::string::npos) << r.status().message();
    };
    check("learning_rate = 0.1\n", "unknown key 'learning_rate'");
    check("grad_accum = \"big\"\n", "must be an integer");
    check("tokens = 5\n", "less than one step");
    check("schedule = \"linear\"\n", "unknown (use cosine, constant or wsd)");
    // Impossible shape.
    std::ofstream(dir + "/shape.toml") << "[data]\ntrain=[\"shards\"]\nval=[\"shards\"]\n[model]"
                                          "\nd_model = 30\nn_heads = 4\n[train]\ntokens=100000\n";
    auto r = train_config_load(dir + "/shape.toml");
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("not divisible by n_heads"), std::string::npos)
        << r.status().message();
}

// A product's output elements are each computed by one sgemm call, and the reductions run in a
// fixed order whatever the chunking, so a run's bits do not depend on its thread count: a study
// may resume a run with other threads (docs/parallel.md). Weights, optimizer state and metrics at
// 1, 2 and 3 threads.
TEST(Train, ThreadCountDoesNotChangeTheBits) {
    std::vector<std::string> runs;
    for (int t : {1, 2, 3}) {
        std::string dir = temp_dir("threads" + std::to_string(t));
        write_bigram_shards(dir + "/shards", 64, 2);
        auto cfg = train_config_load(small_config(dir));
        ASSERT_TRUE(cfg.is_ok()) << cfg.status().message();
        cfg->threads = t;
        TrainOptions o;
        o.on_step = [](const TrainProgress &) {};
        ASSERT_TRUE(train_run(*cfg, o).is_ok());
        runs.push_back(dir + "/run");
    }
    testing::expect_same_run(runs[0], runs[1]);
    testing::expect_same_run(runs[0], runs[2]);
}

// configs/real-text.toml (the README's real-text curve) loads, and is the model the README
// describes: 1.0M non-embedding parameters, 3.1M in all, 977 steps of 4096 tokens.
TEST(Train, ShippedRealTextConfigLoads) {
    auto cfg = train_config_load(EM_SOURCE_DIR "/configs/real-text.toml");
    ASSERT_TRUE(cfg.is_ok()) << cfg.status().message();
    ParamCounts n = model_param_counts(cfg->model);
    EXPECT_EQ(n.non_embedding, 1004928);
    EXPECT_EQ(n.total, 3102080);
    const int64_t per_step = cfg->batch_size * cfg->seq_len * cfg->grad_accum;
    EXPECT_EQ((cfg->tokens + per_step - 1) / per_step, 977);
    EXPECT_EQ(cfg->threads, 2);
}

TEST(Train, MissingShardIsReported) {
    std::string dir = temp_dir("noshard");
    std::filesystem::create_directories(dir + "/shards");
    auto cfg = train_config_load(small_config(dir));
    ASSERT_TRUE(cfg.is_ok());
    Status s = train_run(*cfg, {});
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("no train_*.bin shards"), std::string::npos) << s.message();
}

TEST(Train, NonFiniteLossStopsTheRun) {
    std::string dir = temp_dir("nan");
    write_bigram_shards(dir + "/shards", 64, 2);
    auto cfg =
        train_config_load(small_config(dir, "lr = 1e30\nwarmup_fraction = 0.0\ngrad_clip = 0.0\n"));
    ASSERT_TRUE(cfg.is_ok()) << cfg.status().message();
    ASSERT_TRUE(cfg.is_ok()) << cfg.status().message();
    TrainOptions o;
    o.on_step = [](const TrainProgress &) {};
    Status s = train_run(*cfg, o);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("not finite"), std::string::npos) << s.message();
}

// A run over an existing one needs --resume, and a resumed run continues the recipe it was
// started with: a changed learning rate, seed or checkpoint plan is named; threads and logging
// may change.
TEST(Train, ExistingRunNeedsResumeWithTheSameRecipe) {
    std::string dir = temp_dir("exist");
    write_bigram_shards(dir + "/shards", 64, 2);
    auto cfg = train_config_load(small_config(dir));
    ASSERT_TRUE(cfg.is_ok());
    TrainOptions o;
    o.on_step = [](const TrainProgress &) {};
    ASSERT_TRUE(train_run(*cfg, o).is_ok());
    Status s0 = train_run(*cfg, o);
    ASSERT_FALSE(s0.is_ok());
    EXPECT_NE(s0.message().find("--resume"), std::string::npos);
    o.resume = true;
    TrainConfig c = *cfg;
    c.log_every = 3;
    c.threads = 1;
    EXPECT_TRUE(train_run(c, o).is_ok());
    c = *cfg;
    c.lr *= 2;
    Status s = train_run(c, o);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("config.json: the run was started with train.lr = "),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("restore the config that started the run"), std::string::npos);
    c = *cfg;
    c.seed += 1;
    s = train_run(c, o);
    EXPECT_NE(s.message().find("started with seed = "), std::string::npos) << s.message();
    c = *cfg;
    c.checkpoint_every += 1;
    s = train_run(c, o);
    EXPECT_NE(s.message().find("checkpoint.every"), std::string::npos) << s.message();
}

// A study launching a run under mpirun writes its config as TOML: it must read back to the same
// values, doubles to the last bit.
TEST(Train, ConfigWrittenAsTomlReadsBackTheSame) {
    testing::TempDir dir("config_toml");
    TrainConfig c = train_config_load(small_config(dir.path, "grad_accum = 2\n")).value();
    c.lr = 0.1 + 0.2;  // not a short decimal
    c.adamw.eps = 1e-8 / 3;
    c.checkpoint_steps = {3, 7};
    c.model.tie_embeddings = true;
    const std::string path = dir.path + "/again.toml";
    testing::write_file(path, train_config_to_toml(c));
    Result<TrainConfig> back = train_config_load(path);
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    EXPECT_EQ(train_config_to_json(*back), train_config_to_json(c));
    EXPECT_EQ(back->lr, c.lr);
    EXPECT_EQ(back->adamw.eps, c.adamw.eps);
}

}  // namespace
}  // namespace em
