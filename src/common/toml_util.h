// Strict reading of TOML tables into config structs: every key of the table must be consumed,
// and each must have the expected type, else one error names the file, table, key and fix.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "common/status.h"

namespace em {

class TomlReader {
  public:
    // `docs`: the page an unknown-key error points to for the list of keys.
    TomlReader(const toml::table &t, std::string where, std::string docs = "docs/config.md")
        : t_(t), where_(std::move(where)), docs_(std::move(docs)) {}

    void get(const char *key, int64_t &out);
    void get(const char *key, double &out);  // integers are accepted too
    void get(const char *key, bool &out);
    void get(const char *key, std::string &out);
    void get(const char *key, std::vector<std::string> &out);
    void get(const char *key, std::vector<int64_t> &out);
    void get(const char *key, std::vector<double> &out);
    // Marks a sub-table key as known without reading it (the caller reads it itself).
    void known(const char *key) { seen_.insert(key); }
    const toml::table &table() const { return t_; }

    // The first type error, or an error for the first key nobody asked for.
    Status finish() const;

  private:
    void type_error(const char *key, const char *want);
    std::string line_of(const char *key) const;

    const toml::table &t_;
    std::string where_, docs_;
    std::set<std::string> seen_;
    Status error_;
};

// Parses a TOML file; a syntax error names the file, line and column.
Result<toml::table> toml_parse_file(const std::string &path);

}  // namespace em
