// Strict TOML reading; see toml_util.h.
#include "common/toml_util.h"

#include "common/fileio.h"

namespace em {

std::string TomlReader::line_of(const char *key) const {
    const toml::node *n = t_.get(key);
    if (n && n->source().begin.line > 0) return ", line " + std::to_string(n->source().begin.line);
    return "";
}

void TomlReader::type_error(const char *key, const char *want) {
    if (error_.is_ok())
        error_ = Status::error(where_ + line_of(key) + ": key '" + key + "' must be " + want);
}

void TomlReader::get(const char *key, int64_t &out) {
    seen_.insert(key);
    const toml::node *n = t_.get(key);
    if (!n) return;
    if (auto v = n->value_exact<int64_t>())
        out = *v;
    else
        type_error(key, "an integer");
}

void TomlReader::get(const char *key, double &out) {
    seen_.insert(key);
    const toml::node *n = t_.get(key);
    if (!n) return;
    if (auto v = n->value_exact<double>())
        out = *v;
    else if (auto i = n->value_exact<int64_t>())
        out = static_cast<double>(*i);
    else
        type_error(key, "a number");
}

void TomlReader::get(const char *key, bool &out) {
    seen_.insert(key);
    const toml::node *n = t_.get(key);
    if (!n) return;
    if (auto v = n->value_exact<bool>())
        out = *v;
    else
        type_error(key, "true or false");
}

void TomlReader::get(const char *key, std::string &out) {
    seen_.insert(key);
    const toml::node *n = t_.get(key);
    if (!n) return;
    if (auto v = n->value_exact<std::string>())
        out = *v;
    else
        type_error(key, "a string");
}

void TomlReader::get(const char *key, std::vector<std::string> &out) {
    seen_.insert(key);
    const toml::node *n = t_.get(key);
    if (!n) return;
    const toml::array *a = n->as_array();
    if (!a) return type_error(key, "an array of strings");
    std::vector<std::string> v;
    for (const auto &e : *a) {
        if (auto s = e.value_exact<std::string>())
            v.push_back(*s);
        else
            return type_error(key, "an array of strings");
    }
    out = std::move(v);
}

void TomlReader::get(const char *key, std::vector<int64_t> &out) {
    seen_.insert(key);
    const toml::node *n = t_.get(key);
    if (!n) return;
    const toml::array *a = n->as_array();
    if (!a) return type_error(key, "an array of integers");
    std::vector<int64_t> v;
    for (const auto &e : *a) {
        if (auto s = e.value_exact<int64_t>())
            v.push_back(*s);
        else
            return type_error(key, "an array of integers");
    }
    out = std::move(v);
}

void TomlReader::get(const char *key, std::vector<double> &out) {
    seen_.insert(key);
    const toml::node *n = t_.get(key);
    if (!n) return;
    const toml::array *a = n->as_array();
    if (!a) return type_error(key, "an array of numbers");
    std::vector<double> v;
    for (const auto &e : *a) {
        if (auto s = e.value_exact<double>())
            v.push_back(*s);
        else if (auto i = e.value_exact<int64_t>())
            v.push_back(static_cast<double>(*i));
        else
            return type_error(key, "an array of numbers");
    }
    out = std::move(v);
}

Status TomlReader::finish() const {
    if (!error_.is_ok()) return error_;
    for (const auto &[k, node] : t_) {
        std::string key(k.str());
        if (!seen_.count(key)) {
            std::string line =
                k.source().begin.line > 0 ? ", line " + std::to_string(k.source().begin.line) : "";
            return Status::error(where_ + line + ": unknown key '" + key +
                                 "' (check its spelling; " + docs_ + " lists the keys)");
        }
    }
    return Status::ok();
}

Result<toml::table> toml_parse_file(const std::string &path) {
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    try {
        return toml::parse(text, path);
    } catch (const toml::parse_error &e) {
        return Status::error(path + ", line " + std::to_string(e.source().begin.line) +
                             ", column " + std::to_string(e.source().begin.column) + ": " +
                             std::string(e.description()) + " (fix the TOML syntax)");
    }
}

}  // namespace em
