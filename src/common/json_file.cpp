// Located JSON parse errors; see json_file.h.
#include "common/json_file.h"

#include <algorithm>

namespace em {

std::string text_position(const std::string &text, size_t offset, const std::string &path) {
    offset = std::min(offset, text.size());
    size_t line = 1, col = 1;
    for (size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n')
            ++line, col = 1;
        else
            ++col;
    }
    return path + ":" + std::to_string(line) + ":" + std::to_string(col);
}

Result<nlohmann::json> json_parse_located(const std::string &text, const std::string &path,
                                          const std::string &fix) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error &e) {
        // e.byte is one past the offending character.
        size_t at = e.byte > 0 ? e.byte - 1 : 0;
        std::string what = e.what();
        // Keep the parser's own description, without its "[json.exception...] parse error at ..."
        // prefix.
        size_t colon = what.rfind(": ");
        std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
        return Status::error(text_position(text, at, path) + ": invalid JSON (" + detail + "); " +
                             fix);
    } catch (const nlohmann::json::exception &e) {
        // Valid syntax the parser cannot hold, such as a number beyond a double's range
        // ("number overflow parsing '1e999'"); it gives no position.
        std::string what = e.what();
        if (size_t c = what.find("] "); c != std::string::npos) what = what.substr(c + 2);
        return Status::error(path + ": invalid JSON (" + what + "); " + fix);
    }
}

}  // namespace em
