// The training corpus: built from the built-in sources or user files into DIR/train.jsonl,
// DIR/val.jsonl and DIR/manifest.json (docs/corpus.md), read back record by record, and the
// held-out documents that evaluation tasks are built from.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/jsonl.h"
#include "common/status.h"
#include "data/document.h"
#include "data/sources.h"

namespace em {

enum class DocSplit { file, block };  // .txt/.md: one document per file or per blank-line block

struct CorpusOptions {
    // "default" (the built-in default corpus), built-in source names, or user inputs written
    // "PATH" or "NAME=PATH" (a .txt/.md/.jsonl file or a directory searched for them).
    std::vector<std::string> sources = {"default"};
    // JSONL files mixed into training ("PATH" or "NAME=PATH"); a record's "source" field, when
    // present, names its source.
    std::vector<std::string> extra;
    std::map<std::string, double> weights;  // per source; default 1
    double val_fraction = 0.01;
    uint64_t seed = 1234;
    DocSplit doc_split = DocSplit::file;
    bool invalid_utf8_replace = false;  // user files: replace with U+FFFD instead of failing
    SourcePaths paths = SourcePaths::system();
};

// Builds the corpus into `out_dir` and returns the manifest it wrote. Files are written under
// temporary names and renamed; the manifest is written last, so a corpus without manifest.json
// is incomplete.
Result<nlohmann::json> corpus_build(const std::string &out_dir, const CorpusOptions &opt);

// One line of train.jsonl / val.jsonl.
struct CorpusRecord {
    std::string source, id, text;
};

// Streams a corpus JSONL file line by line. Not copyable.
class CorpusReader {
  public:
    Status open(const std::string &path);
    // Reads the next record into `r`; returns false at the end. Errors name the file and line.
    Result<bool> next(CorpusRecord &r);
    // Replaces `out` with the next records, up to about `max_bytes` of text; returns false when
    // none were left.
    Result<bool> next_batch(int64_t max_bytes, std::vector<CorpusRecord> &out);
    int64_t line() const { return reader_.line(); }

  private:
    JsonlReader reader_;
};

// Reads DIR/manifest.json, failing with the fix when the corpus is missing or incomplete.
Result<nlohmann::json> corpus_manifest_read(const std::string &dir);

// The held-out documents of a built-in source (kjv, web, brown, songci; zh_poems are all held
// out), with their structure (verses, tagged sentences, poem lines) and normalized text.
// Sources without held-out documents return an empty list.
Result<std::vector<Document>> corpus_heldout_documents(
    const std::string &source, const SourcePaths &paths = SourcePaths::system());

// The 64-bit document hash used for deduplication and the train/validation split.
uint64_t corpus_doc_hash(std::string_view text);
// True when a document with this normalized text goes to validation at `val_fraction`.
bool corpus_is_val(std::string_view text, double val_fraction);

}  // namespace em
