// JSON parsing whose errors name file:line:column, for JSON files a user hands in (analysis
// inputs, imported results).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace em {

// Parses `text`; a syntax error becomes "path:line:column: <what>; <fix>".
Result<nlohmann::json> json_parse_located(const std::string &text, const std::string &path,
                                          const std::string &fix);

// "path:line:column" of a byte offset in text (1-based line and column).
std::string text_position(const std::string &text, size_t offset, const std::string &path);

}  // namespace em
