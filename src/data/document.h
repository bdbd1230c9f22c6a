// The document type shared by the corpus sources, the corpus builder and the task builders.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace em {

// A structural piece of a document that evaluation tasks are built from: a Bible verse, a Brown
// sentence, a line of a poem.
struct TextUnit {
    int32_t group = 0;  // Bible: chapter; Brown: paragraph (1-based); poems: 0
    int32_t number =
        0;             // Bible: verse; Brown: sentence within the paragraph; poems: line (1-based)
    std::string text;  // plain text
    std::string tagged;  // Brown: the sentence as "word/tag" tokens; empty elsewhere
};

struct Document {
    std::string source;           // source name, e.g. "kjv"
    std::string id;               // stable within the source, e.g. "Ruth 1", "ca10", "songci 120"
    std::string title;            // Bible: book name; Brown: genre; poems: title
    std::string author;           // poems; empty elsewhere
    std::string text;             // the text as it enters the corpus (before normalization)
    bool heldout = false;         // reserved for evaluation: never enters training
    std::vector<TextUnit> units;  // filled by sources that tasks are built from
};

}  // namespace em
