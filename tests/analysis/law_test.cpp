// The scaling law (Chinchilla approach 3): exact recovery of a planted law, and the published
// Chinchilla points give the replication's fit (E 1.8172, alpha 0.3478 [0.317, 0.373], beta
// 0.3658 [0.331, 0.415]) once the 5 highest-loss points are dropped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <tuple>

#include "analysis/scaling_law.h"
#include "common/csv.h"
#include "common/parallel.h"

namespace em {
namespace {

TEST(ScalingLaw, RecoversAPlantedLaw) {
    std::vector<double> N, D, L;
    for (double n : {1e7, 3e7, 1e8, 3e8, 1e9})
        for (double r : {5.0, 20.0, 80.0}) {
            N.push_back(n), D.push_back(r * n);
            L.push_back(1.7 + 400 / std::pow(n, 0.34) + 1200 / std::pow(r * n, 0.3));
        }
    ScalingLawOptions o;
    o.bootstrap = 20;
    ScalingLaw s = scaling_law_fit(N, D, L, o);
    ASSERT_TRUE(s.ok) << s.note;
    EXPECT_NEAR(s.E, 1.7, 0.01);
    EXPECT_NEAR(s.alpha, 0.34, 0.01);
    EXPECT_NEAR(s.beta, 0.30, 0.01);
    EXPECT_NEAR(s.predict(3e8, 6e9), L[10], 1e-3);
    // The size that reaches a loss at a given budget reaches it, and one 10% smaller does not.
    double target = 2.6, D0 = 1e11;
    double n_need = s.params_for_loss(target, D0);
    ASSERT_TRUE(std::isfinite(n_need));
    EXPECT_NEAR(s.predict(n_need, D0), target, 1e-6);
    EXPECT_GT(s.predict(0.9 * n_need, D0), target);
    double n_ratio = s.params_for_loss_at_ratio(target, 20);
    EXPECT_NEAR(s.predict(n_ratio, 20 * n_ratio), target, 1e-6);
    EXPECT_TRUE(std::isinf(s.params_for_loss(1.65, D0)));  // below E: unreachable
}

TEST(ScalingLaw, RefusesDataThatCannotDetermineIt) {
    ScalingLaw s = scaling_law_fit({1e8, 2e8, 3e8, 4e8, 5e8}, {1e10, 1e10, 1e10, 1e10, 1e10},
                                   {3, 2.9, 2.8, 2.75, 2.7}, ScalingLawOptions{});
    EXPECT_FALSE(s.ok);
    EXPECT_NE(s.note.find("2 distinct token counts"), std::string::npos);
}

TEST(ScalingLaw, ChinchillaPointsMatchTheReplication) {
    std::string path = std::string(EM_SHARED_DIR) + "/data/chinchilla/svg_extracted_data.csv";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
    auto t = csv_read(path);
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    int64_t cn = t->column_index("Model Size"), cf = t->column_index("Training FLOP"),
            cl = t->column_index("loss");
    ASSERT_GE(std::min({cn, cf, cl}), 0);
    std::vector<std::tuple<double, double, double>> rows;  // loss, N, D
    for (const auto &r : t->rows) {
        double n = *number_parse(r[cn].text), f = *number_parse(r[cf].text),
               l = *number_parse(r[cl].text);
        rows.emplace_back(l, n, f / (6 * n));
    }
    ASSERT_EQ(rows.size(), 245u);
    std::sort(rows.begin(), rows.end());
    rows.resize(rows.size() - 5);  // drop the 5 highest losses, as the replication did
    std::vector<double> N, D, L;
    for (auto &[l, n, d] : rows) N.push_back(n), D.push_back(d), L.push_back(l);
    parallel_set_threads(parallel_default_threads());
    ScalingLawOptions o;
    o.bootstrap = 100;
    ScalingLaw s = scaling_law_fit(N, D, L, o);
    ASSERT_TRUE(s.ok) << s.note;
    std::printf(
        "Chinchilla (240 points): E %.4f [%.4f, %.4f]  A %.2f  B %.2f  alpha %.4f [%.4f, %.4f]  "
        "beta %.4f "
        "[%.4f, %.4f]\n",
        s.E, s.E_ci.lo, s.E_ci.hi, s.A, s.B, s.alpha, s.alpha_ci.lo, s.alpha_ci.hi, s.beta,
        s.beta_ci.lo, s.beta_ci.hi);
    EXPECT_NEAR(s.E, 1.8172, 0.02);
    EXPECT_GE(s.alpha, 0.317);
    EXPECT_LE(s.alpha, 0.373);
    EXPECT_GE(s.beta, 0.331);
    EXPECT_LE(s.beta, 0.415);
    EXPECT_LT(s.E_ci.lo, s.E);
    EXPECT_GT(s.E_ci.hi, s.E);
}

}  // namespace
}  // namespace em
