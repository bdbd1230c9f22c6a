// Evaluation tasks with lm-evaluation-harness semantics: a small TOML spec (request type, field
// templates, delimiters, few-shot settings, metrics) next to a JSONL file of documents. Loading a
// task renders every document into its requests, so a malformed file fails at once with one line
// naming the file, the line and the fix (docs/tasks.md is the format's description).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace em {

enum class OutputType { multiple_choice, loglikelihood, loglikelihood_rolling, generate_until };

const char *output_type_name(OutputType t);

// What a generation goes through before exact_match compares it with the target (lm-eval's
// filters: they change the generation only, never the target).
enum class GenFilter { none, strip, first_line };

struct TaskSpec {
    std::string name;       // results key; default: the spec file's stem
    std::string spec_path;  // the TOML file
    int64_t version = 1;
    OutputType output_type = OutputType::multiple_choice;
    std::string docs_path;     // evaluated documents (JSONL), relative to the spec's folder
    std::string fewshot_path;  // documents few-shot examples are drawn from; "" = docs_path
    std::string description;   // prepended to every context
    std::string doc_to_text, doc_to_target;
    // Either several templates (one per choice) or one template naming a list field.
    std::vector<std::string> doc_to_choice;
    bool choice_list_field = false;  // doc_to_choice is one "{{field}}" holding a list
    std::string target_delimiter = " ";
    std::string fewshot_delimiter = "\n\n";
    int64_t num_fewshot = 0;
    uint64_t fewshot_seed = 1234;
    std::vector<std::string> until;  // generation stops; default {fewshot_delimiter}
    int64_t max_gen_toks = 32;
    GenFilter gen_filter =
        GenFilter::none;               // lm-eval's default filter (take_first) changes nothing
    std::vector<std::string> metrics;  // default: every metric of the output type
    std::map<std::string, double> baselines;             // explicit random-guess values, by metric
    nlohmann::json metadata = nlohmann::json::object();  // provenance, licence, notes
};

// One document rendered into what the scorer needs.
struct TaskInstance {
    int64_t doc_id = 0;   // 0-based index in the documents file
    int64_t line = 0;     // 1-based line of the document in its file
    std::string context;  // description + few-shot examples + doc_to_text (empty for rolling)
    std::vector<std::string> choices;  // multiple_choice: the choice texts, without delimiter
    int64_t gold = -1;                 // multiple_choice: index of the correct choice
    std::string target;  // loglikelihood/generate_until: target text; rolling: the text scored
};

struct Task {
    TaskSpec spec;
    std::vector<nlohmann::json> docs;
    std::vector<TaskInstance> instances;  // one per document, same order
};

// The metrics each output type can report, in their default order.
std::vector<std::string> task_default_metrics(OutputType t);
// True when a larger value is better (false for brier_score, nll, bits_per_byte, ...).
bool metric_higher_is_better(const std::string &metric);

// Loads one spec file and its documents.
Result<Task> task_load(const std::string &spec_path);
// Loads a directory (every *.toml inside, sorted by name) or a single spec file.
Result<std::vector<Task>> tasks_load(const std::string &path);
// Loads several paths (directories or spec files) in order; task names must be unique.
Result<std::vector<Task>> tasks_load(const std::vector<std::string> &paths);

// Renders a template: "{{field}}" (or "{{ a.b.0 }}" for nested fields and list items) is replaced
// by the document's value; strings go in as they are, numbers in their shortest form. `where`
// labels errors ("file:line").
Result<std::string> template_render(const std::string &tmpl, const nlohmann::json &doc,
                                    const std::string &where);

// The spec as lm-eval's "configs" entry of a results file.
nlohmann::json task_spec_to_json(const TaskSpec &s);

}  // namespace em
