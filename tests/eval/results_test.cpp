// The results reader: lm-eval's current and v0.3 layouts, the sections `emergence eval` adds, and
// one located error for a malformed file.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/results.h"

namespace em {
namespace {

TEST(Results, CurrentLayoutWithFiltersCountsAndBaselines) {
    const char *text = R"({"results": {
  "arc": {"alias": "arc", "acc,none": 0.3, "acc_stderr,none": 0.013, "f1,none": "N/A"},
  "gsm8k": {"exact_match,strict-match": 0.05, "exact_match_stderr,strict-match": "N/A"}},
 "n-samples": {"arc": {"original": 1172, "effective": 100}},
 "baselines": {"arc": {"acc": 0.25, "f1": null}}})";
    auto f = results_parse(text, "r.json", "fix it");
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    ASSERT_EQ(f->tasks.size(), 2u);
    const ResultsTask *arc = f->task("arc");
    ASSERT_NE(arc, nullptr);
    ASSERT_EQ(arc->metrics.size(), 1u);  // alias, stderr and "N/A" are not metrics
    EXPECT_EQ(arc->metrics[0].name(), "acc");
    EXPECT_EQ(arc->metrics[0].value, 0.3);
    EXPECT_EQ(arc->metrics[0].std_err, 0.013);
    EXPECT_EQ(arc->n, 100);
    ASSERT_TRUE(arc->baselines.has_value());
    EXPECT_EQ(arc->baselines->at("acc"), 0.25);
    EXPECT_EQ(arc->baselines->count("f1"), 0u);
    const ResultsTask *gsm = f->task("gsm8k");
    ASSERT_NE(gsm, nullptr);
    EXPECT_EQ(gsm->metrics[0].name(), "exact_match_strict-match");
    EXPECT_TRUE(std::isnan(gsm->metrics[0].std_err));
    EXPECT_FALSE(gsm->n.has_value());
    EXPECT_FALSE(gsm->baselines.has_value());
    EXPECT_EQ(f->task("none"), nullptr);
}

TEST(Results, V03LayoutHasNoFilter) {
    auto f = results_parse(R"({"results": {"arc": {"acc": 0.5, "acc_stderr": 0.01}}})", "r.json",
                           "fix it");
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    const ResultsMetric &m = f->tasks.at(0).metrics.at(0);
    EXPECT_EQ(m.metric, "acc");
    EXPECT_EQ(m.filter, "");
    EXPECT_EQ(m.std_err, 0.01);
}

TEST(Results, MalformedFilesNameTheirPlaceAndTheFix) {
    auto bad = results_parse("{\"results\": {\n  \"arc\": {\"acc\": 0.3,,}}}", "r.json", "fix it");
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("r.json:2:22: invalid JSON"), std::string::npos)
        << bad.status().message();
    EXPECT_NE(bad.status().message().find("; fix it"), std::string::npos);
    bad = results_parse("[1]", "r.json", "fix it");
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("r.json:1:1: no \"results\" object"), std::string::npos)
        << bad.status().message();
    bad = results_parse("{\"results\": {\n \"arc\": 3}}", "r.json", "fix it");
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().message(), "r.json:2:2: results entry 'arc' is not an object; fix it");
    EXPECT_FALSE(results_read("/nonexistent/r.json", "fix it").is_ok());
}

}  // namespace
}  // namespace em
