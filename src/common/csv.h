// A strict RFC 4180 CSV reader that remembers where every field came from (line and column), so
// that any complaint about a value can name the exact place, and the matching field writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace em {

struct CsvField {
    std::string text;
    int64_t line = 0;    // 1-based line where the field starts
    int64_t column = 0;  // 1-based character column where the field starts
};

struct CsvTable {
    std::string path;                         // for messages
    std::vector<CsvField> header;             // the first non-empty record
    std::vector<std::vector<CsvField>> rows;  // every later record, each as wide as the header

    // Index of a header name, or -1.
    int64_t column_index(std::string_view name) const;
    // "path:line:column" of a field, the prefix of every message about it.
    std::string where(const CsvField &f) const;
};

// Parses CSV text: comma separated, fields optionally in double quotes ("" inside quotes is one
// quote), LF or CRLF line ends, a UTF-8 byte-order mark ignored, blank lines skipped. Every record
// must have as many fields as the header. `path` only names the source in messages.
Result<CsvTable> csv_parse(std::string_view text, const std::string &path);
Result<CsvTable> csv_read(const std::string &path);

// Quotes a field when it holds a comma, quote, CR or LF.
std::string csv_escape(std::string_view field);

// Strict number parsing: the whole text must be a finite decimal number (no spaces, no "nan").
std::optional<double> number_parse(std::string_view text);
// Strict integer parsing; accepts "1200" and, for files written by float-minded tools, "1200.0".
std::optional<int64_t> integer_parse(std::string_view text);

}  // namespace em
