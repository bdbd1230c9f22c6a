// The micro study the study tests run: a user corpus, a user task, two tiny sizes x two budgets,
// seconds to run. Shared by tests/study, tests/slurm and tests/faults.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "common/rng.h"

namespace em {

// A small English-like corpus: sentences from a tiny grammar about invented countries and their
// capitals (the fact the task asks for), so even micro models learn something in seconds.
inline void write_micro_inputs(const std::string &dir) {
    const char *countries[] = {"Arvel", "Brisk", "Calden", "Dorn",
                               "Evra",  "Fenn",  "Galt",   "Hollin"};
    const char *capitals[] = {"Tamsin", "Oruk", "Pell", "Quist", "Ravel", "Sorn", "Tull", "Ubar"};
    const char *verbs[] = {"visited", "praised", "left", "remembered", "described"};
    std::filesystem::create_directories(dir + "/texts");
    Rng rng(5);
    for (int f = 0; f < 40; ++f) {
        std::ofstream out(dir + "/texts/doc" + std::to_string(f) + ".txt");
        for (int s = 0; s < 60; ++s) {
            int c = static_cast<int>(rng.below(8));
            out << "The traveller " << verbs[rng.below(5)] << " " << countries[c]
                << ". The capital of " << countries[c] << " is " << capitals[c] << ".\n";
        }
    }
    std::filesystem::create_directories(dir + "/tasks");
    std::ofstream(dir + "/tasks/capitals.toml")
        << "output_type = \"multiple_choice\"\ndocs = \"capitals.jsonl\"\n"
           "doc_to_text = \"The capital of {{country}} is\"\n"
           "doc_to_target = \"{{answer}}\"\ndoc_to_choice = \"{{choices}}\"\n";
    std::ofstream docs(dir + "/tasks/capitals.jsonl");
    for (int c = 0; c < 8; ++c) {
        docs << "{\"country\": \"" << countries[c] << "\", \"choices\": [\"" << capitals[c]
             << "\", \"" << capitals[(c + 3) % 8] << "\"], \"answer\": 0}\n";
    }
    std::ofstream(dir + "/study.toml")
        << "name = \"micro\"\nseed = 2\nthreads = 2\n"
           "[corpus]\nsources = [\"texts\"]\nskills = false\nval_fraction = 0.1\n"
           "[tokenizer]\nvocab_size = 400\n"
           "[tasks]\nsuite = [\"tasks\"]\nlimit = 0\n"
           "[train]\nbatch_size = 8\nseq_len = 32\nlr = 0.01\nval_windows = 8\n"
           "budgets = [12800, 25600]\n"
           "[checkpoint]\nlog = 1\nevery_fraction = 0.5\n"
           "[[size]]\nname = \"a\"\nd_model = 32\nn_layers = 1\nn_heads = 2\n"
           "[[size]]\nname = \"b\"\nd_model = 48\nn_layers = 2\nn_heads = 3\n";
}

}  // namespace em
