// The study's stages and the shared ones; see stages.h.
#include "study/stages.h"

#include "data/corpus.h"
#include "data/tokenize.h"
#include "data/tokenizer.h"
#include "study/record.h"
#include "study/tasks.h"
#include "tasks/builtin_tasks.h"

namespace em {

std::array<bool, 4> study_stages_done(const StudyConfig &c, const StudyPaths &p) {
    return {!study_uses_builtin_tasks(c) || builtin_tasks_done(p.tasks()),
            corpus_manifest_read(p.corpus()).is_ok(), Tokenizer::load(p.tokenizer()).is_ok(),
            shards_manifest_read(p.shards()).is_ok()};
}

Status study_stage(const StudyPaths &p, Progress &progress, const std::string &name, bool done,
                   const std::function<Status()> &work) {
    if (done) {
        // Recorded once (a stage from before the record, or built by hand); not rewritten on
        // every start.
        EM_ASSIGN_OR_RETURN(auto stages, stage_records_read(p));
        for (const auto &s : stages)
            if (s.name == name && s.status == "done") return Status::ok();
        return stage_record_set(p, name, "done", 0);
    }
    progress.done("study: " + name + " ...");
    auto t0 = StudyClock::now();
    EM_TRY(stage_record_set(p, name, "running", 0));
    Status s = work();
    if (!s.is_ok()) {
        // The stage's own error is the one to report; the record's, if any, is secondary.
        (void)stage_record_set(p, name, "failed", seconds_since(t0));
        return s.with_context(name);
    }
    EM_TRY(stage_record_set(p, name, "done", seconds_since(t0)));
    progress.done("study: " + name + " done in " + fmt_duration(seconds_since(t0)));
    return Status::ok();
}

Status study_stages_prepare(const StudyConfig &cfg, const StudyPaths &p, Progress &progress) {
    const bool builtin = study_uses_builtin_tasks(cfg);
    auto stage = [&](const std::string &name, bool done, const std::function<Status()> &work) {
        return study_stage(p, progress, name, done, work);
    };

    // 1. Tasks first: the corpus mixes in their skill documents and leaves out their sources.
    if (builtin)
        EM_TRY(stage("tasks", builtin_tasks_done(p.tasks()), [&] {
            BuiltinTasksOptions bo;
            bo.seed = cfg.seed;
            bo.items = cfg.task_items;
            bo.skills_bytes = cfg.skills_bytes;
            return builtin_tasks_build(p.tasks(), bo);
        }));

    // 2. Corpus, tokenizer, shards.
    EM_TRY(stage("corpus", corpus_manifest_read(p.corpus()).is_ok(), [&]() -> Status {
        CorpusOptions co;
        co.sources = cfg.corpus_sources;
        co.weights = cfg.corpus_weights;
        co.val_fraction = cfg.val_fraction;
        co.seed = cfg.seed;
        if (builtin && cfg.skills) co.extra = {"skills=" + builtin_tasks_skills_path(p.tasks())};
        return corpus_build(p.corpus(), co).status();
    }));
    EM_TRY(stage("tokenizer", Tokenizer::load(p.tokenizer()).is_ok(), [&]() -> Status {
        TokenizerOptions to;
        to.vocab_size = static_cast<int>(cfg.vocab_size);
        to.character_coverage = cfg.character_coverage;
        to.sample_bytes = cfg.tokenizer_sample_bytes;
        to.seed = cfg.seed;
        return tokenizer_train(p.corpus(), p.tokenizer(), to).status();
    }));
    EM_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::load(p.tokenizer()));
    return stage("tokenize", shards_manifest_read(p.shards()).is_ok(), [&] {
        return tokenize_corpus(p.corpus(), tok, p.shards(), TokenizeOptions{}).status();
    });
}

}  // namespace em
