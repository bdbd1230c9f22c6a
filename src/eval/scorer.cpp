// Log-likelihood, rolling log-likelihood and greedy generation over documents; see scorer.h.
#include "eval/scorer.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <numeric>

#include "common/parallel.h"
#include "eval/metrics.h"
#include "model/infer.h"

namespace em {
namespace {

int32_t prefix_of(const Tokenizer &tok, const ScoreOptions &opt) {
    return opt.prefix_token >= 0 ? opt.prefix_token : tok.boundary_id();
}

// One inference session per pool thread, created on first use.
class Sessions {
  public:
    explicit Sessions(const Model &m) : model_(m), s_(static_cast<size_t>(parallel_threads())) {}
    InferSession &get(int slot, const ScoreOptions &opt) {
        auto &p = s_[static_cast<size_t>(slot)];
        if (!p) p = std::make_unique<InferSession>(model_);
        p->set_max_pass_tokens(opt.max_pass_tokens > 0 ? opt.max_pass_tokens : (1 << 30));
        return *p;
    }

  private:
    const Model &model_;
    std::vector<std::unique_ptr<InferSession>> s_;
};

// Documents by decreasing size, so the longest start first and the threads finish together.
std::vector<int64_t> order_by_size(const std::vector<size_t> &sizes) {
    std::vector<int64_t> order(sizes.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return sizes[static_cast<size_t>(a)] > sizes[static_cast<size_t>(b)];
    });
    return order;
}

// Context plus continuations, in tokens or bytes.
template <typename Request>
std::vector<int64_t> order_by_request_size(const std::vector<Request> &docs) {
    std::vector<size_t> sizes(docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
        sizes[i] = docs[i].context.size();
        for (const auto &c : docs[i].continuations) sizes[i] += c.size();
    }
    return order_by_size(sizes);
}

// Predicts tokens[first..n) in windows of at most T predictions, each token seeing up to T tokens
// before it (lm-eval's rolling windows when first is 1 and tokens[0] the prefix token; one window,
// lm-eval's left-cut input, when everything to predict fits in T). fn(logits row, target).
template <typename Fn>
void rolling_windows(InferSession &S, const std::vector<int32_t> &tokens, int64_t first, Fn &&fn) {
    const int64_t T = S.max_positions(), V = S.vocab_size();
    const int64_t n = static_cast<int64_t>(tokens.size());
    for (int64_t s = first; s < n;) {
        const int64_t e = std::min(n, s + T);
        const int64_t in0 = std::max<int64_t>(0, e - 1 - T);
        S.truncate(0);
        S.append(tokens.data() + in0, e - 1 - in0, e - s);
        for (int64_t j = s; j < e; ++j)
            fn(S.logits() + (j - s) * V, tokens[static_cast<size_t>(j)]);
        s = e;
    }
}

Status score_doc(InferSession &S, const TokenRequest &d, const ScoreOptions &o, LoglikResult &r) {
    const int64_t T = S.max_positions(), V = S.vocab_size();
    const size_t K = d.continuations.size();
    r.ll.assign(K, 0.0);
    r.greedy.assign(K, true);
    r.n_tokens.assign(K, 0);
    if (d.context.empty())
        return Status::error(
            "a log-likelihood request needs at least one context token (the "
            "prefix token)");
    int64_t max_cont = 0;
    for (size_t k = 0; k < K; ++k) {
        r.n_tokens[k] = static_cast<int64_t>(d.continuations[k].size());
        max_cont = std::max(max_cont, r.n_tokens[k]);
    }
    if (max_cont == 0) return Status::ok();
    auto add = [&](size_t k, const float *row, int32_t target) {
        bool g = false;
        r.ll[k] += logprob_of(row, V, target, &g);
        r.greedy[k] = r.greedy[k] && g;
    };
    const int64_t P = static_cast<int64_t>(d.context.size());
    if (o.prefix_reuse && P + max_cont - 1 <= T) {
        S.truncate(0);
        S.append(d.context.data(), P, 1);
        std::vector<float> first(S.logits(), S.logits() + V);
        for (size_t k = 0; k < K; ++k)
            if (r.n_tokens[k] > 0) add(k, first.data(), d.continuations[k][0]);
        // The last token of a continuation predicts nothing, so it is never fed.
        if (o.batch_choices) {
            std::vector<const int32_t *> toks(K);
            std::vector<int64_t> lens(K);
            for (size_t k = 0; k < K; ++k) {
                toks[k] = d.continuations[k].data();
                lens[k] = std::max<int64_t>(r.n_tokens[k] - 1, 0);
            }
            S.branch(toks, lens);
            int64_t row = 0;
            for (size_t k = 0; k < K; ++k)
                for (int64_t j = 1; j < r.n_tokens[k]; ++j, ++row)
                    add(k, S.logits() + row * V, d.continuations[k][static_cast<size_t>(j)]);
        } else {
            for (size_t k = 0; k < K; ++k) {
                const int64_t m = r.n_tokens[k];
                if (m < 2) continue;
                S.truncate(P);
                S.append(d.continuations[k].data(), m - 1, m - 1);
                for (int64_t j = 1; j < m; ++j)
                    add(k, S.logits() + (j - 1) * V, d.continuations[k][static_cast<size_t>(j)]);
            }
        }
        return Status::ok();
    }
    // Each continuation on its own, the context cut from the left as lm-eval does when the whole
    // does not fit (input: the last T + 1 tokens of context + continuation, minus the last); a
    // continuation longer than T goes in disjoint windows (rolling_windows).
    std::vector<int32_t> full;
    for (size_t k = 0; k < K; ++k) {
        if (r.n_tokens[k] == 0) continue;
        full.assign(d.context.begin(), d.context.end());
        full.insert(full.end(), d.continuations[k].begin(), d.continuations[k].end());
        rolling_windows(S, full, P, [&](const float *row, int32_t target) { add(k, row, target); });
    }
    return Status::ok();
}

Status encode(const Tokenizer &tok, std::string_view text, std::vector<int32_t> &ids) {
    std::vector<int> tmp;
    EM_TRY(tok.encode(text, tmp));
    ids.assign(tmp.begin(), tmp.end());
    return Status::ok();
}

// The continuations' tokens of one document, sharing the context's encoding.
Status encode_doc(const Tokenizer &tok, const LoglikRequest &req, int32_t prefix,
                  TokenRequest &out) {
    const size_t cut = req.context.size() - trailing_whitespace(req.context);
    const std::string ctx = req.context.substr(0, cut), moved = req.context.substr(cut);
    std::vector<int32_t> ctx_ids, whole;
    EM_TRY(encode(tok, ctx, ctx_ids));
    out.context.assign(1, prefix);
    out.context.insert(out.context.end(), ctx_ids.begin(), ctx_ids.end());
    out.continuations.clear();
    for (const auto &c : req.continuations) {
        EM_TRY(encode(tok, ctx + moved + c, whole));
        const size_t n = std::min(ctx_ids.size(), whole.size());
        out.continuations.emplace_back(whole.begin() + static_cast<std::ptrdiff_t>(n), whole.end());
    }
    return Status::ok();
}

}  // namespace

Status for_each_document(const std::vector<int64_t> &order,
                         const std::function<Status(int64_t doc, int slot)> &fn) {
    // BLAS runs single-threaded inside each document; the parallelism is across documents.
    openblas_set_num_threads(1);
    const int threads = parallel_threads();
    std::atomic<size_t> next{0};
    std::vector<Status> errors(order.size());
    parallel_for(threads, [&](int64_t s0, int64_t s1) {
        for (int64_t slot = s0; slot < s1; ++slot)
            for (size_t i; (i = next.fetch_add(1)) < order.size();)
                errors[i] = fn(order[i], static_cast<int>(slot));
    });
    int64_t first_doc = -1;
    Status first;
    for (size_t i = 0; i < order.size(); ++i)
        if (!errors[i].is_ok() && (first_doc < 0 || order[i] < first_doc)) {
            first_doc = order[i];
            first = errors[i];
        }
    return first;
}

Result<std::vector<LoglikResult>> loglik_tokens(const Model &model,
                                                const std::vector<TokenRequest> &docs,
                                                const ScoreOptions &opt) {
    std::vector<LoglikResult> out(docs.size());
    Sessions sessions(model);
    EM_TRY(for_each_document(order_by_request_size(docs), [&](int64_t i, int slot) {
        return score_doc(sessions.get(slot, opt), docs[static_cast<size_t>(i)], opt,
                         out[static_cast<size_t>(i)]);
    }));
    return out;
}

Status encode_pair(const Tokenizer &tok, const std::string &context,
                   const std::string &continuation, int32_t prefix, std::vector<int32_t> &ctx_ids,
                   std::vector<int32_t> &cont_ids) {
    TokenRequest tr;
    EM_TRY(encode_doc(tok, LoglikRequest{context, {continuation}}, prefix, tr));
    ctx_ids = std::move(tr.context);
    cont_ids = std::move(tr.continuations[0]);
    return Status::ok();
}

Result<std::vector<LoglikResult>> score_loglikelihood(const Model &model, const Tokenizer &tok,
                                                      const std::vector<LoglikRequest> &docs,
                                                      const ScoreOptions &opt) {
    const int32_t prefix = prefix_of(tok, opt);
    std::vector<LoglikResult> out(docs.size());
    Sessions sessions(model);
    EM_TRY(for_each_document(order_by_request_size(docs), [&](int64_t i, int slot) -> Status {
        TokenRequest tr;
        EM_TRY(encode_doc(tok, docs[static_cast<size_t>(i)], prefix, tr));
        return score_doc(sessions.get(slot, opt), tr, opt, out[static_cast<size_t>(i)]);
    }));
    return out;
}

Result<std::vector<RollingResult>> score_rolling(const Model &model, const Tokenizer &tok,
                                                 const std::vector<std::string> &texts,
                                                 const ScoreOptions &opt) {
    const int32_t prefix = prefix_of(tok, opt);
    const int64_t V = model.config().vocab_size;
    std::vector<size_t> sizes(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) sizes[i] = texts[i].size();
    std::vector<RollingResult> out(texts.size());
    Sessions sessions(model);
    EM_TRY(for_each_document(order_by_size(sizes), [&](int64_t i, int slot) -> Status {
        std::vector<int32_t> toks;
        EM_TRY(encode(tok, texts[static_cast<size_t>(i)], toks));
        InferSession &S = sessions.get(slot, opt);
        RollingResult &r = out[static_cast<size_t>(i)];
        r.n_tokens = static_cast<int64_t>(toks.size());
        toks.insert(toks.begin(), prefix);
        rolling_windows(S, toks, 1, [&](const float *row, int32_t target) {
            r.ll += logprob_of(row, V, target, nullptr);
        });
        return Status::ok();
    }));
    return out;
}

Result<std::vector<GenResult>> generate_greedy(const Model &model, const Tokenizer &tok,
                                               const std::vector<GenRequest> &docs,
                                               const ScoreOptions &opt) {
    const int32_t prefix = prefix_of(tok, opt);
    // The argmax runs over ids the tokenizer can decode (a model may have a padded vocabulary).
    const int64_t T = model.config().max_seq,
                  V = std::min<int64_t>(model.config().vocab_size, tok.vocab_size());
    const int32_t eos = tok.boundary_id();
    std::vector<size_t> sizes(docs.size());
    for (size_t i = 0; i < docs.size(); ++i) sizes[i] = docs[i].context.size();
    std::vector<GenResult> out(docs.size());
    Sessions sessions(model);
    EM_TRY(for_each_document(order_by_size(sizes), [&](int64_t i, int slot) -> Status {
        const GenRequest &g = docs[static_cast<size_t>(i)];
        std::vector<int32_t> ctx(1, prefix), body;
        EM_TRY(encode(tok, g.context, body));
        ctx.insert(ctx.end(), body.begin(), body.end());
        const int64_t keep = std::max<int64_t>(1, T - g.max_gen_toks);
        if (static_cast<int64_t>(ctx.size()) > keep) ctx.erase(ctx.begin(), ctx.end() - keep);
        InferSession &S = sessions.get(slot, opt);
        GenResult &r = out[static_cast<size_t>(i)];
        S.truncate(0);
        S.append(ctx.data(), static_cast<int64_t>(ctx.size()), 1);
        std::vector<int> gen;
        for (int64_t step = 0; step < g.max_gen_toks; ++step) {
            const float *row = S.logits();
            int32_t next = 0;
            for (int64_t v = 1; v < V; ++v)
                if (row[v] > row[next]) next = static_cast<int32_t>(v);
            if (next == eos) break;
            gen.push_back(next);
            EM_ASSIGN_OR_RETURN(std::string text, tok.decode(gen));
            size_t stop = std::string::npos;
            for (const auto &u : g.until) stop = std::min(stop, text.find(u));
            if (stop != std::string::npos) {
                r.text = text.substr(0, stop);
                r.tokens.assign(gen.begin(), gen.end());
                return Status::ok();
            }
            r.text = std::move(text);
            if (S.length() >= T) break;
            S.append(&next, 1, 1);
        }
        r.tokens.assign(gen.begin(), gen.end());
        return Status::ok();
    }));
    return out;
}

}  // namespace em
