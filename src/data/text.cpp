// UTF-8 checks and the corpus normalization; see text.h.
#include "data/text.h"

#include <cstdio>

namespace em {
namespace {

// Length of the well-formed sequence at s[i], or 0 when it is invalid (RFC 3629 table 3-7).
size_t utf8_seq_len(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    if (c < 0x80) return 1;
    size_t left = s.size() - i;
    auto cont = [&](size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 2) return 0;
        unsigned char c1 = b(1);
        if (c == 0xE0 && (c1 < 0xA0 || c1 > 0xBF)) return 0;  // overlong
        if (c == 0xED && (c1 < 0x80 || c1 > 0x9F)) return 0;  // surrogates
        return cont(1) && cont(2) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 2) return 0;
        unsigned char c1 = b(1);
        if (c == 0xF0 && (c1 < 0x90 || c1 > 0xBF)) return 0;  // overlong
        if (c == 0xF4 && (c1 < 0x80 || c1 > 0x8F)) return 0;  // past U+10FFFF
        return cont(1) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n';
}

}  // namespace

bool utf8_valid(std::string_view s, Utf8Error *where) {
    int64_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_seq_len(s, i);
        if (n == 0) {
            if (where) {
                where->offset = i;
                where->line = line;
                where->column = static_cast<int64_t>(i - line_start) + 1;
                where->byte = static_cast<unsigned char>(s[i]);
            }
            return false;
        }
        if (s[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
        i += n;
    }
    return true;
}

std::string utf8_repair(std::string_view s, int64_t *replaced) {
    std::string out;
    out.reserve(s.size());
    int64_t count = 0;
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_seq_len(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++count;
            ++i;
        } else {
            out.append(s.data() + i, n);
            i += n;
        }
    }
    if (replaced) *replaced = count;
    return out;
}

Status utf8_check(std::string_view s, const std::string &name) {
    Utf8Error e;
    if (utf8_valid(s, &e)) return Status::ok();
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", e.byte);
    return Status::error(name + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) +
                         ": invalid UTF-8 byte " + hex +
                         " (convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8`, or pass "
                         "--invalid-utf8 replace to substitute U+FFFD)");
}

int64_t utf8_length(std::string_view s) {
    int64_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

uint32_t utf8_next(std::string_view s, size_t &i) {
    auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k])); };
    uint32_t c = b(0);
    if (c < 0x80) {
        i += 1;
        return c;
    }
    if (c < 0xE0) {
        uint32_t cp = (c & 0x1F) << 6 | (b(1) & 0x3F);
        i += 2;
        return cp;
    }
    if (c < 0xF0) {
        uint32_t cp = (c & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
        i += 3;
        return cp;
    }
    uint32_t cp = (c & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
    i += 4;
    return cp;
}

void utf8_append(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | cp >> 6));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | cp >> 12));
        out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | cp >> 18));
        out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string text_normalize(std::string_view s) {
    // Pass 1: character-level mapping.
    std::string t;
    t.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            if (c == '\r') {
                t.push_back('\n');
                if (i < s.size() && s[i] == '\n') ++i;
            } else if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7F)) {
                t.push_back(static_cast<char>(c));
            }
            continue;
        }
        size_t start = i;
        uint32_t cp = utf8_next(s, i);
        if (cp >= 0x80 && cp <= 0x9F) continue;  // C1 controls
        if (cp == 0xFEFF) continue;              // byte-order mark / zero-width no-break space
        if (cp == 0x2028 || cp == 0x2029) {
            t.push_back('\n');
        } else if (cp == 0xA0) {
            t.push_back(' ');
        } else {
            t.append(s.data() + start, i - start);
        }
    }
    // Pass 2: line-level cleanup.
    std::string out;
    out.reserve(t.size());
    int pending_newlines = 0;  // newlines seen since the last non-blank line
    size_t pos = 0;
    while (pos <= t.size()) {
        size_t nl = t.find('\n', pos);
        if (nl == std::string::npos) nl = t.size();
        size_t end = nl;
        while (end > pos && (t[end - 1] == ' ' || t[end - 1] == '\t')) --end;
        if (end > pos) {
            if (!out.empty()) out.append(pending_newlines >= 2 ? "\n\n" : "\n");
            out.append(t, pos, end - pos);
            pending_newlines = 0;
        }
        ++pending_newlines;
        pos = nl + 1;
    }
    return out;
}

std::vector<std::string_view> text_lines(std::string_view s) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    for (;;) {
        size_t nl = s.find('\n', pos);
        if (nl == std::string_view::npos) {
            out.push_back(s.substr(pos));
            return out;
        }
        out.push_back(s.substr(pos, nl - pos));
        pos = nl + 1;
    }
}

std::vector<std::string_view> text_blocks(std::string_view s) {
    std::vector<std::string_view> out;
    size_t block_start = std::string_view::npos, block_end = 0, pos = 0;
    while (pos <= s.size()) {
        size_t nl = s.find('\n', pos);
        if (nl == std::string_view::npos) nl = s.size();
        std::string_view line = s.substr(pos, nl - pos);
        bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
        if (!blank) {
            if (block_start == std::string_view::npos) block_start = pos;
            block_end = nl;
        } else if (block_start != std::string_view::npos) {
            out.push_back(s.substr(block_start, block_end - block_start));
            block_start = std::string_view::npos;
        }
        pos = nl + 1;
    }
    if (block_start != std::string_view::npos)
        out.push_back(s.substr(block_start, block_end - block_start));
    return out;
}

std::string text_collapse_spaces(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool space = false;
    for (char c : s) {
        if (is_space(c)) {
            space = true;
            continue;
        }
        if (space && !out.empty()) out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    return out;
}

std::string text_strip_ansi(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
            size_t k = i + 2;
            while (k < s.size() && static_cast<unsigned char>(s[k]) >= 0x20 &&
                   static_cast<unsigned char>(s[k]) <= 0x3F)
                ++k;
            i = k;  // skips the final byte too (the loop's ++i moves past it)
            continue;
        }
        out.push_back(s[i]);
    }
    return out;
}

double text_han_fraction(std::string_view s) {
    int64_t han = 0, total = 0;
    for (size_t i = 0; i < s.size();) {
        uint32_t cp = utf8_next(s, i);
        if (cp == ' ' || cp == '\t' || cp == '\n' || cp == 0x3000) continue;
        ++total;
        if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
            (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0xF900 && cp <= 0xFAFF))
            ++han;
    }
    return total ? static_cast<double>(han) / static_cast<double>(total) : 0.0;
}

}  // namespace em
