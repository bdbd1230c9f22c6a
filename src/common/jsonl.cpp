// JSON-lines reading with one error style; see jsonl.h.
#include "common/jsonl.h"

#include <cerrno>
#include <cstring>

namespace em {
namespace {

bool blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// The parser's description of a syntax error, placed within the line: "at column 5: syntax
// error while parsing value - invalid literal; last read: 'nul'".
std::string parse_error_text(std::string_view line) {
    try {
        [[maybe_unused]] const nlohmann::json j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error &e) {
        std::string what = e.what();
        // Drop the "[json.exception.parse_error.101] " prefix; the line is always 1.
        if (size_t c = what.find("] "); c != std::string::npos) what = what.substr(c + 2);
        const std::string on_line = "parse error at line 1, ";
        if (what.rfind(on_line, 0) == 0) return "at " + what.substr(on_line.size());
        return "(" + what + ")";
    } catch (const nlohmann::json::exception &e) {
        // Not a syntax error: a number too large for a double ("number overflow parsing '1e999'").
        std::string what = e.what();
        if (size_t c = what.find("] "); c != std::string::npos) what = what.substr(c + 2);
        return "(" + what + ")";
    }
    return "";
}

}  // namespace

Status JsonlReader::open(const std::string &path, std::string fix) {
    path_ = path;
    fix_ = std::move(fix);
    streamed_ = true;
    line_ = 0;
    cur_ = {};
    in_.open(path, std::ios::binary);
    if (!in_)
        return Status::error(path + ": cannot open: " + std::strerror(errno) + " (" + fix_ + ")");
    return Status::ok();
}

void JsonlReader::open_text(const std::string &path, std::string text, std::string fix) {
    path_ = path;
    fix_ = std::move(fix);
    streamed_ = false;
    text_ = std::move(text);
    pos_ = 0;
    line_ = 0;
    cur_ = {};
}

bool JsonlReader::next_line() {
    if (streamed_) {
        if (!std::getline(in_, buf_)) return false;
        cur_ = buf_;
    } else {
        if (pos_ > text_.size()) return false;
        size_t nl = text_.find('\n', pos_);
        if (nl == std::string::npos) nl = text_.size();
        cur_ = std::string_view(text_).substr(pos_, nl - pos_);
        pos_ = nl + 1;
    }
    ++line_;
    return true;
}

Result<bool> JsonlReader::next(nlohmann::json &j) {
    while (next_line()) {
        if (blank(cur_)) continue;
        j = nlohmann::json::parse(cur_, nullptr, false);
        if (j.is_discarded()) return error("invalid JSON " + parse_error_text(cur_));
        if (!j.is_object()) return error("expected a JSON object");
        return true;
    }
    if (streamed_ && in_.bad())
        return Status::error(path_ + ": read failed after line " + std::to_string(line_) + " (" +
                             fix_ + ")");
    return false;
}

std::string JsonlReader::where() const {
    return path_ + ":" + std::to_string(line_);
}

Status JsonlReader::error(const std::string &what, const std::string &fix) const {
    return Status::error(where() + ": " + what + " (" + fix + ")");
}

}  // namespace em
