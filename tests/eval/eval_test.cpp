// End to end: tasks of every output type on a small random model and a tiny tokenizer, metrics
// against values recomputed from the scorer's log-likelihoods, baselines, --limit, the results
// and samples files in lm-eval's shape, rescoring our own samples file as lm-eval samples, and the
// `emergence eval` command line.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "common/fileio.h"
#include "common/parallel.h"
#include "eval/eval.h"
#include "eval/metrics.h"
#include "fixtures.h"
#include "train/checkpoint.h"

namespace em {
namespace {

using testing::write_file;

class EvalEndToEnd : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::temp_dir("e2e");
        tok_path_ = testing::tiny_tokenizer(dir_);
        ASSERT_FALSE(tok_path_.empty());
        tok_ = std::make_unique<Tokenizer>(Tokenizer::load(tok_path_).value());
        cfg_ = testing::tiny_config(tok_->vocab_size(), 64);
        model_ = testing::tiny_model(cfg_);
        write_file(
            dir_ + "/mc.jsonl",
            "{\"q\": \"the cat saw\", \"choices\": [\"the river\", \"a small box\", "
            "\"中文字符\"], \"gold\": 1}\n"
            "{\"q\": \"my friend liked\", \"choices\": [\"three apples\", \"the blue car\"], "
            "\"gold\": 0}\n"
            "{\"q\": \"we opened\", \"choices\": [\"an open window\", \"the red door\", "
            "\"the river\", \"a dog\"], \"gold\": 3}\n"
            "{\"q\": \"her sister found\", \"choices\": [\"a dog\", \"the river\"], "
            "\"gold\": \"the river\"}\n");
        write_file(dir_ + "/mc.toml",
                   "output_type = \"multiple_choice\"\ndocs = \"mc.jsonl\"\n"
                   "doc_to_text = \"{{q}}\"\ndoc_to_target = \"{{gold}}\"\n"
                   "doc_to_choice = \"{{choices}}\"\n"
                   "[metadata]\nsource = \"test\"\n");
        write_file(dir_ + "/gen.jsonl",
                   "{\"a\": 12, \"b\": 30, \"s\": \"42\"}\n"
                   "{\"a\": 1, \"b\": 2, \"s\": \"3\"}\n");
        write_file(dir_ + "/gen.toml",
                   "output_type = \"generate_until\"\ndocs = \"gen.jsonl\"\n"
                   "doc_to_text = \"{{a}} + {{b}} =\"\n"
                   "doc_to_target = \" {{s}}\"\nuntil = [\"\\n\"]\n"
                   "max_gen_toks = 6\n");
        write_file(dir_ + "/roll.jsonl",
                   "{\"t\": \"the old man carried a small box.\"}\n"
                   "{\"t\": \"we saw the blue car. 12 + 30 = 42.\"}\n");
        write_file(dir_ + "/roll.toml",
                   "output_type = \"loglikelihood_rolling\"\n"
                   "docs = \"roll.jsonl\"\ndoc_to_target = \"{{t}}\"\n");
        parallel_set_threads(2);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string dir_, tok_path_;
    std::unique_ptr<Tokenizer> tok_;
    ModelConfig cfg_;
    std::unique_ptr<Model> model_;
};

TEST_F(EvalEndToEnd, MultipleChoiceMetricsFromTheLogLikelihoods) {
    auto tasks = tasks_load(dir_ + "/mc.toml");
    ASSERT_TRUE(tasks.is_ok()) << tasks.status().message();
    auto res = eval_checkpoint(*model_, *tok_, tasks.value(), EvalOptions{});
    ASSERT_TRUE(res.is_ok()) << res.status().message();
    const TaskResult &r = res.value()[0];
    EXPECT_EQ(r.n_evaluated, 4);
    // Recompute from the log-likelihoods of the same requests.
    const Task &t = tasks.value()[0];
    std::vector<LoglikRequest> reqs;
    for (const auto &in : t.instances) {
        LoglikRequest q{in.context, {}};
        for (const auto &c : in.choices) q.continuations.push_back(" " + c);
        reqs.push_back(q);
    }
    auto ll = score_loglikelihood(*model_, *tok_, reqs, ScoreOptions{});
    ASSERT_TRUE(ll.is_ok());
    std::vector<double> acc, norm, brier, ccp;
    for (size_t i = 0; i < reqs.size(); ++i) {
        ChoiceMetrics m =
            choice_metrics(ll.value()[i].ll, t.instances[i].choices, t.instances[i].gold);
        acc.push_back(m.acc), norm.push_back(m.acc_norm), brier.push_back(m.brier_score),
            ccp.push_back(m.correct_choice_prob);
    }
    EXPECT_DOUBLE_EQ(r.metric("acc")->value, aggregate_mean(acc).value);
    EXPECT_DOUBLE_EQ(r.metric("acc_norm")->value, aggregate_mean(norm).value);
    EXPECT_DOUBLE_EQ(r.metric("brier_score")->value, aggregate_mean(brier).value);
    EXPECT_DOUBLE_EQ(r.metric("correct_choice_prob")->value, aggregate_mean(ccp).value);
    EXPECT_DOUBLE_EQ(r.metric("correct_choice_prob")->std_err, aggregate_mean(ccp).std_err);
    // Chance: mean of 1/K over documents with 3, 2, 4 and 2 choices.
    const double chance = (1.0 / 3 + 1.0 / 2 + 1.0 / 4 + 1.0 / 2) / 4;
    EXPECT_NEAR(r.metric("acc")->baseline, chance, 1e-12);
    EXPECT_NEAR(r.metric("brier_score")->baseline, 1 - chance, 1e-12);
    EXPECT_NEAR(r.metric("correct_choice_prob")->baseline, chance, 1e-12);
    // A uniform distribution over the vocabulary: nats = tokens * log V.
    EXPECT_GT(r.metric("nll")->baseline, 0);
    EXPECT_GT(r.metric("bits_per_byte")->value, 0);
    ASSERT_EQ(r.samples.size(), 4u);
    const auto &s0 = r.samples[0];
    EXPECT_EQ(s0["doc_id"], 0);
    EXPECT_EQ(s0["target"], 1);
    EXPECT_EQ(s0["arguments"]["gen_args_1"]["arg_0"], "the cat saw");
    EXPECT_EQ(s0["arguments"]["gen_args_1"]["arg_1"], " a small box");
    EXPECT_EQ(s0["resps"].size(), 3u);
    EXPECT_EQ(std::stod(s0["filtered_resps"][1][0].get<std::string>()), ll.value()[0].ll[1]);
    // --limit keeps the first documents.
    EvalOptions lim;
    lim.limit = 2;
    auto two = eval_task(*model_, *tok_, t, lim);
    ASSERT_TRUE(two.is_ok());
    EXPECT_EQ(two.value().n_evaluated, 2);
    EXPECT_EQ(two.value().n_docs, 4);
    EXPECT_DOUBLE_EQ(two.value().metric("acc")->value, (acc[0] + acc[1]) / 2);
}

TEST_F(EvalEndToEnd, GenerationAndRollingTasks) {
    auto tasks = tasks_load(std::vector<std::string>{dir_ + "/gen.toml", dir_ + "/roll.toml"});
    ASSERT_TRUE(tasks.is_ok()) << tasks.status().message();
    auto res = eval_checkpoint(*model_, *tok_, tasks.value(), EvalOptions{});
    ASSERT_TRUE(res.is_ok()) << res.status().message();
    const TaskResult &gen = res.value()[0], &roll = res.value()[1];
    // A random model does not add: exact match 0, and the distance is measured in tokens.
    EXPECT_EQ(gen.metric("exact_match")->value, 0.0);
    EXPECT_EQ(gen.metric("exact_match")->baseline, 0.0);
    std::vector<int> a, b;
    ASSERT_TRUE(tok_->encode("42", a).is_ok() && tok_->encode("3", b).is_ok());
    EXPECT_DOUBLE_EQ(gen.metric("token_edit_distance")->baseline,
                     static_cast<double>(a.size() + b.size()) / 2);
    for (const auto &s : gen.samples) {
        std::string got = s["filtered_resps"][0];
        EXPECT_EQ(got.find('\n'), std::string::npos);
        EXPECT_EQ(s["arguments"]["gen_args_0"]["arg_1"]["until"][0], "\n");
    }
    // Rolling: bits per byte is the byte-weighted ratio of the documents' NLL.
    auto rr = score_rolling(
        *model_, *tok_, {"the old man carried a small box.", "we saw the blue car. 12 + 30 = 42."},
        ScoreOptions{});
    ASSERT_TRUE(rr.is_ok());
    double nll = -(rr.value()[0].ll + rr.value()[1].ll);
    double bytes = 32 + 34;
    EXPECT_NEAR(roll.metric("bits_per_byte")->value, nll / bytes / std::log(2.0), 1e-9);
    EXPECT_NEAR(roll.metric("byte_perplexity")->value, std::exp(nll / bytes), 1e-9);
    EXPECT_NEAR(roll.metric("word_perplexity")->value, std::exp(nll / (7 + 10)), 1e-6);
}

// A loglikelihood request scores the target as written (lm-eval adds no delimiter there, unlike
// multiple choice), and the results file names each metric's lm-eval aggregation.
TEST_F(EvalEndToEnd, LogLikelihoodScoresTheTargetAsWritten) {
    write_file(dir_ + "/ll.jsonl", "{\"q\": \"the old man carried a small\", \"w\": \"box\"}\n");
    write_file(dir_ + "/ll.toml",
               "output_type = \"loglikelihood\"\ndocs = \"ll.jsonl\"\n"
               "doc_to_text = \"{{q}}\"\ndoc_to_target = \" {{w}}\"\n");
    auto task = task_load(dir_ + "/ll.toml");
    ASSERT_TRUE(task.is_ok()) << task.status().message();
    auto res = eval_task(*model_, *tok_, *task, EvalOptions{});
    ASSERT_TRUE(res.is_ok()) << res.status().message();
    ASSERT_EQ(res->samples.size(), 1u);
    EXPECT_EQ(res->samples[0]["arguments"]["gen_args_0"]["arg_1"], " box");
    auto ll = score_loglikelihood(
        *model_, *tok_, {LoglikRequest{"the old man carried a small", {" box"}}}, ScoreOptions{});
    ASSERT_TRUE(ll.is_ok());
    EXPECT_NEAR(res->metric("nll")->value, -ll.value()[0].ll[0], 1e-9);

    auto roll = task_load(dir_ + "/roll.toml");
    ASSERT_TRUE(roll.is_ok());
    const nlohmann::json spec = task_spec_to_json(roll->spec);
    std::map<std::string, std::string> agg;
    for (const auto &m : spec["metric_list"]) agg[m["metric"]] = m["aggregation"];
    EXPECT_EQ(agg["bits_per_byte"], "bits_per_byte");
    EXPECT_EQ(agg["word_perplexity"], "weighted_perplexity");
}

// exact_match as lm-eval: the filter changes the generation, never the target.
TEST(ExactMatch, FiltersTheGenerationNeverTheTarget) {
    EXPECT_TRUE(generation_matches(GenFilter::none, " 60", " 60"));
    EXPECT_FALSE(generation_matches(GenFilter::none, " 60 ", " 60"));
    EXPECT_FALSE(generation_matches(GenFilter::none, "60", " 60"));
    EXPECT_TRUE(generation_matches(GenFilter::strip, " 60 ", "60"));
    EXPECT_FALSE(generation_matches(GenFilter::strip, " 60", " 60"));
    EXPECT_TRUE(generation_matches(GenFilter::first_line, " 60\nand more", "60"));
}

TEST_F(EvalEndToEnd, ResultsFilesAndLmEvalSamplesRoundTrip) {
    auto tasks = tasks_load(dir_);
    ASSERT_TRUE(tasks.is_ok()) << tasks.status().message();
    ASSERT_EQ(tasks.value().size(), 3u);
    auto res = eval_checkpoint(*model_, *tok_, tasks.value(), EvalOptions{});
    ASSERT_TRUE(res.is_ok());
    // A folder loads in file-name order.
    ASSERT_EQ(res.value()[1].task, "mc");
    const TaskResult &mc = res.value()[1];
    const std::string out = dir_ + "/out";
    ASSERT_TRUE(eval_write(out, res.value(), {{"model", "test"}}).is_ok());
    auto j = nlohmann::json::parse(file_read(out + "/mc.json").value());
    EXPECT_DOUBLE_EQ(j["results"]["mc"]["acc,none"].get<double>(), mc.metric("acc")->value);
    EXPECT_TRUE(j["results"]["mc"].contains("acc_stderr,none"));
    EXPECT_EQ(j["configs"]["mc"]["output_type"], "multiple_choice");
    EXPECT_EQ(j["configs"]["mc"]["metadata"]["source"], "test");
    EXPECT_EQ(j["n-shot"]["mc"], 0);
    EXPECT_EQ(j["versions"]["mc"], 1);
    EXPECT_EQ(j["config"]["model"], "test");
    EXPECT_NEAR(j["baselines"]["mc"]["brier_score"].get<double>(),
                mc.metric("brier_score")->baseline, 1e-12);
    // Our samples file rescored as lm-eval samples gives the same numbers.
    for (size_t i = 0; i < 3; ++i) {
        const TaskResult &orig = res.value()[i];
        auto again = eval_lm_eval_samples(*model_, *tok_, out + "/samples_" + orig.task + ".jsonl",
                                          EvalOptions{});
        ASSERT_TRUE(again.is_ok()) << again.status().message();
        EXPECT_EQ(again.value().task, orig.task);
        EXPECT_EQ(again.value().spec.output_type, orig.spec.output_type);
        for (const auto &m : orig.metrics) {
            ASSERT_NE(again.value().metric(m.name), nullptr) << m.name;
            EXPECT_DOUBLE_EQ(again.value().metric(m.name)->value, m.value)
                << orig.task << " " << m.name;
        }
    }
    // lm-eval's older list form of arguments, a string target, and a second filter's record.
    write_file(dir_ + "/samples_old_2024-01-01T00-00-00.jsonl",
               "{\"doc_id\": 0, \"target\": \" a small box\", \"arguments\": [[\"the cat saw\", "
               "\" the river\"], [\"the cat saw\", \" a small box\"]], \"filter\": \"none\"}\n"
               "{\"doc_id\": 0, \"target\": \" a small box\", \"arguments\": [[\"the cat saw\", "
               "\" the river\"], [\"the cat saw\", \" a small box\"]], \"filter\": \"other\"}\n");
    auto old = eval_lm_eval_samples(*model_, *tok_, dir_ + "/samples_old_2024-01-01T00-00-00.jsonl",
                                    EvalOptions{});
    ASSERT_TRUE(old.is_ok()) << old.status().message();
    EXPECT_EQ(old.value().task, "old");
    EXPECT_EQ(old.value().n_evaluated, 1);
    EXPECT_EQ(old.value().samples[0]["target"], " a small box");
    write_file(dir_ + "/samples_bad.jsonl",
               "{\"doc_id\": 0, \"target\": 7, \"arguments\": "
               "[[\"a\", \" b\"], [\"a\", \" c\"]]}\n");
    auto bad = eval_lm_eval_samples(*model_, *tok_, dir_ + "/samples_bad.jsonl", EvalOptions{});
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("samples_bad.jsonl:1"), std::string::npos);
    // Values that used to throw out of the reader (std::stoll out of range, a typed json::value)
    // are one located error.
    write_file(dir_ + "/samples_huge.jsonl",
               "{\"doc_id\": 0, \"target\": \"99999999999999999999999\", \"arguments\": "
               "[[\"a\", \" b\"], [\"a\", \" c\"]]}\n");
    bad = eval_lm_eval_samples(*model_, *tok_, dir_ + "/samples_huge.jsonl", EvalOptions{});
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("samples_huge.jsonl:1"), std::string::npos)
        << bad.status().message();
    write_file(dir_ + "/samples_gen.jsonl",
               "{\"doc_id\": 0, \"target\": \"x\", \"arguments\": {\"gen_args_0\": "
               "{\"arg_0\": \"a\", \"arg_1\": {\"max_gen_toks\": \"many\"}}}}\n");
    bad = eval_lm_eval_samples(*model_, *tok_, dir_ + "/samples_gen.jsonl", EvalOptions{});
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("max_gen_toks must be an integer"), std::string::npos)
        << bad.status().message();
}

TEST_F(EvalEndToEnd, CommandLinePrintsATableAndWritesResults) {
    const std::string ckpt = dir_ + "/step_00000001.safetensors";
    ASSERT_TRUE(model_save(ckpt, *model_, {}).is_ok());
    const std::string cmd = std::string(EM_BINARY) + " eval --checkpoint " + ckpt +
                            " --tokenizer " + tok_path_ + " --tasks " + dir_ +
                            " --threads 2 --out " + dir_ + "/cli 2>&1";
    FILE *p = ::popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (p && std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    ASSERT_EQ(::pclose(p), 0) << out;
    EXPECT_NE(out.find("task"), std::string::npos) << out;
    EXPECT_NE(out.find("chance"), std::string::npos);
    EXPECT_NE(out.find("correct_choice_prob"), std::string::npos);
    EXPECT_NE(out.find("exact_match"), std::string::npos);
    EXPECT_TRUE(file_exists(dir_ + "/cli/mc.json"));
    EXPECT_TRUE(file_exists(dir_ + "/cli/samples_roll.jsonl"));
    // The same numbers as the library call.
    auto tasks = tasks_load(dir_ + "/mc.toml");
    auto res = eval_checkpoint(*model_, *tok_, tasks.value(), EvalOptions{});
    auto j = nlohmann::json::parse(file_read(dir_ + "/cli/mc.json").value());
    EXPECT_DOUBLE_EQ(j["results"]["mc"]["brier_score,none"].get<double>(),
                     res.value()[0].metric("brier_score")->value);
}

}  // namespace
}  // namespace em
