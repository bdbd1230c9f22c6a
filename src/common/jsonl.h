// JSON-lines files (one JSON object per line), read the same way everywhere: blank lines are
// skipped and every complaint about a line reads "<file>:<line>: <what is wrong> (<fix>)".
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace em {

// Reads a JSON-lines file record by record: streamed from disk (open), or from text already in
// memory (open_text: files read whole to be checked or repaired first). Lines holding only spaces,
// tabs or CR are skipped; every other line must be one JSON object. Not copyable.
class JsonlReader {
  public:
    JsonlReader() = default;
    JsonlReader(const JsonlReader &) = delete;
    JsonlReader &operator=(const JsonlReader &) = delete;

    // `fix` closes every message about the file: how to write or rebuild it.
    Status open(const std::string &path, std::string fix);
    // Reads `text` as the content of `path` (named in messages).
    void open_text(const std::string &path, std::string text, std::string fix);

    // Parses the next record into `j`; false at the end of the file. A line that is not valid
    // JSON, or not an object, fails naming its file and line.
    Result<bool> next(nlohmann::json &j);

    const std::string &path() const { return path_; }
    // The 1-based number and the text (as written, without its line break) of the line that
    // next() returned last.
    int64_t line() const { return line_; }
    std::string_view line_text() const { return cur_; }
    // "<file>:<line>" of that line.
    std::string where() const;
    // "<file>:<line>: <what> (<fix>)" for something wrong in that line's record; the one-argument
    // form closes with the fix given at open.
    Status error(const std::string &what) const { return error(what, fix_); }
    Status error(const std::string &what, const std::string &fix) const;

  private:
    bool next_line();  // advances cur_ and line_; false at the end (or on a read error)

    std::string path_, fix_;
    std::ifstream in_;
    bool streamed_ = false;
    std::string text_;  // open_text's content
    size_t pos_ = 0;    // next unread byte of text_
    std::string buf_;   // the streamed line
    std::string_view cur_;
    int64_t line_ = 0;
};

}  // namespace em
