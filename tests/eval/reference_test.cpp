// Multiple-choice scoring against an independent implementation: tests/reference/score_reference.py
// recomputes the log-likelihoods in float64 PyTorch from the same token ids, and acc, acc_norm,
// brier_score, correct_choice_prob with their means and standard errors with lm-eval's formulas.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>

#include "common/fileio.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "eval/eval.h"
#include "fixtures.h"
#include "train/checkpoint.h"

namespace em {
namespace {

using testing::kPython;
using testing::torch_available;

TEST(Reference, MultipleChoiceMatchesPyTorchAndLmEvalFormulas) {
    if (!torch_available()) GTEST_SKIP() << "python3-torch is not installed";
    const std::string dir = testing::temp_dir("reference");
    const std::string tok_path = testing::tiny_tokenizer(dir);
    ASSERT_FALSE(tok_path.empty());
    Tokenizer tok = Tokenizer::load(tok_path).value();
    auto model = testing::tiny_model(testing::tiny_config(tok.vocab_size(), 64));
    // Documents with choices of different lengths, scripts and accents.
    const std::vector<std::string> pool = {"the river", "a small box",  "中文字符",
                                           "é",         "e\xcc\x81",    "three apples",
                                           "ü",         "the blue car", "an open window"};
    const std::vector<std::string> prompts = {"the cat saw", "my friend liked", "we opened",
                                              "her sister found ", "the old man carried"};
    Rng rng(3);
    std::string docs;
    for (int i = 0; i < 40; ++i) {
        nlohmann::json c = nlohmann::json::array();
        const size_t K = 2 + rng.below(3);
        std::vector<std::string> picked;
        while (picked.size() < K) {
            const std::string &x = pool[rng.below(pool.size())];
            if (std::find(picked.begin(), picked.end(), x) == picked.end()) picked.push_back(x);
        }
        docs += nlohmann::json({{"q", prompts[rng.below(prompts.size())]},
                                {"choices", picked},
                                {"gold", rng.below(K)}})
                    .dump() +
                "\n";
    }
    testing::write_file(dir + "/mc.jsonl", docs);
    testing::write_file(dir + "/mc.toml",
                        "output_type = \"multiple_choice\"\ndocs = \"mc.jsonl\"\n"
                        "doc_to_text = \"{{q}}\"\ndoc_to_target = \"{{gold}}\"\n"
                        "doc_to_choice = \"{{choices}}\"\n");
    auto task = task_load(dir + "/mc.toml");
    ASSERT_TRUE(task.is_ok()) << task.status().message();
    parallel_set_threads(2);
    auto res = eval_task(*model, tok, task.value(), EvalOptions{});
    ASSERT_TRUE(res.is_ok()) << res.status().message();
    nlohmann::json out = {{"docs", nlohmann::json::array()},
                          {"aggregate", nlohmann::json::object()}};
    for (const auto &s : res.value().samples) {
        const TaskInstance &in = task.value().instances[s["doc_id"].get<size_t>()];
        nlohmann::json d = {{"doc_id", in.doc_id}, {"choices", in.choices}, {"gold", in.gold}};
        d["conts"] = nlohmann::json::array();
        std::vector<double> ll;
        for (size_t k = 0; k < in.choices.size(); ++k) {
            std::vector<int32_t> ctx, cont;
            ASSERT_TRUE(
                encode_pair(tok, in.context, " " + in.choices[k], tok.boundary_id(), ctx, cont)
                    .is_ok());
            d["ctx"] = ctx;
            d["conts"].push_back(cont);
            ll.push_back(std::stod(s["filtered_resps"][k][0].get<std::string>()));
        }
        d["ours"] = {{"ll", ll}};
        for (const char *m : {"acc", "acc_norm", "brier_score", "correct_choice_prob"})
            d["ours"][m] = s[m];
        out["docs"].push_back(d);
    }
    for (const auto &m : res.value().metrics)
        out["aggregate"][m.name] = {{"value", m.value}, {"stderr", m.std_err}};
    const std::string weights = dir + "/model.safetensors", case_path = dir + "/case.json";
    ASSERT_TRUE(model_save(weights, *model, {}).is_ok());
    ASSERT_TRUE(file_write_atomic(case_path, out.dump()).is_ok());
    const std::string cmd = std::string(kPython) + " " + EM_TEST_DIR +
                            "/reference/score_reference.py " + weights + " " + case_path + " 2>&1";
    FILE *p = ::popen(cmd.c_str(), "r");
    std::string text;
    std::array<char, 4096> buf;
    while (p && std::fgets(buf.data(), buf.size(), p)) text += buf.data();
    const int rc = p ? ::pclose(p) : -1;
    EXPECT_EQ(rc, 0) << text;
    std::printf("%s", text.c_str());
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace em
