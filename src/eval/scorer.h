// The request kinds of lm-evaluation-harness, answered by KV-cached inference (model/infer.h):
// log-likelihood of continuations (with lm-eval's tokenization boundary rules and a document's
// shared context computed once), rolling log-likelihood over disjoint windows, and greedy
// generation until a stop string. Documents run in parallel (one inference session per thread,
// longest documents first); each document's numbers are computed the same way whatever the thread
// count, so scores do not depend on it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/tokenizer.h"
#include "model/model.h"

namespace em {

struct ScoreOptions {
    bool prefix_reuse = true;     // run a document's context once for all its continuations
    bool batch_choices = true;    // and its continuations side by side in one pass
    int64_t max_pass_tokens = 0;  // tokens per model pass, 0: unlimited
    int32_t prefix_token = -1;    // starts every context; -1: the tokenizer's document boundary
};

// ---- token level (what the tests compare against Model::forward) ----

// One document: a context (the prefix token included) and its continuations.
struct TokenRequest {
    std::vector<int32_t> context;
    std::vector<std::vector<int32_t>> continuations;
};
struct LoglikResult {
    std::vector<double> ll;         // per continuation: sum of log p(token | everything before)
    std::vector<bool> greedy;       // every continuation token was the argmax
    std::vector<int64_t> n_tokens;  // continuation tokens scored
};
// Scores every document; results in the documents' order. When context + continuation is longer
// than the model's context T, the context is cut from the left (lm-eval's rule); a continuation
// longer than T itself is scored in disjoint windows, each token seeing up to T tokens before it.
Result<std::vector<LoglikResult>> loglik_tokens(const Model &model,
                                                const std::vector<TokenRequest> &docs,
                                                const ScoreOptions &opt);

// ---- text level ----

// lm-eval's split of a (context, continuation) pair into tokens: trailing whitespace of the
// context moves to the continuation; context + continuation is encoded together and the
// continuation is what follows the context's own encoding. `prefix` (>= 0) is put first.
Status encode_pair(const Tokenizer &tok, const std::string &context,
                   const std::string &continuation, int32_t prefix, std::vector<int32_t> &ctx_ids,
                   std::vector<int32_t> &cont_ids);

struct LoglikRequest {
    std::string context;
    std::vector<std::string> continuations;  // with their delimiter, as scored
};
Result<std::vector<LoglikResult>> score_loglikelihood(const Model &model, const Tokenizer &tok,
                                                      const std::vector<LoglikRequest> &docs,
                                                      const ScoreOptions &opt);

struct RollingResult {
    double ll = 0;  // summed over every token of the text
    int64_t n_tokens = 0;
};
// lm-eval's rolling windows: the first window starts with the prefix token, every token is
// predicted exactly once, each window with up to max_seq tokens of context.
Result<std::vector<RollingResult>> score_rolling(const Model &model, const Tokenizer &tok,
                                                 const std::vector<std::string> &texts,
                                                 const ScoreOptions &opt);

struct GenRequest {
    std::string context;
    std::vector<std::string> until;  // stop strings (not included in the output)
    int64_t max_gen_toks = 32;
};
struct GenResult {
    std::string text;
    std::vector<int32_t> tokens;  // generated ids up to the stop
};
// Greedy decoding with the KV cache; stops at a stop string, the document boundary token,
// max_gen_toks or the model's context length. The context keeps its last
// (max_seq - max_gen_toks) tokens when longer.
Result<std::vector<GenResult>> generate_greedy(const Model &model, const Tokenizer &tok,
                                               const std::vector<GenRequest> &docs,
                                               const ScoreOptions &opt);

// Runs fn(doc, session_slot) for every doc index in `order`, spread over the thread pool with
// one slot per thread (slots are 0..parallel_threads()-1). Returns the first failure in
// document order.
Status for_each_document(const std::vector<int64_t> &order,
                         const std::function<Status(int64_t doc, int slot)> &fn);

}  // namespace em
