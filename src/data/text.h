// Text hygiene for corpus documents: UTF-8 validation and repair, and the normalization every
// document goes through before deduplication, splitting and tokenization (docs/corpus.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace em {

// Where the first invalid UTF-8 sequence starts: byte offset, 1-based line and column (in bytes).
struct Utf8Error {
    size_t offset = 0;
    int64_t line = 0, column = 0;
    unsigned char byte = 0;
};

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool utf8_valid(std::string_view s, Utf8Error *where = nullptr);

// Replaces every invalid sequence with U+FFFD; `replaced` counts them.
std::string utf8_repair(std::string_view s, int64_t *replaced = nullptr);

// Rejects invalid UTF-8 with "NAME:LINE:COLUMN: invalid UTF-8 byte 0xNN ..." and the fix.
Status utf8_check(std::string_view s, const std::string &name);

// Number of code points in valid UTF-8.
int64_t utf8_length(std::string_view s);

// Decodes the code point at s[i] (valid UTF-8 assumed) and advances i.
uint32_t utf8_next(std::string_view s, size_t &i);
void utf8_append(std::string &out, uint32_t cp);

// The corpus normalization, applied to valid UTF-8 (idempotent):
//   CRLF and lone CR -> LF; U+2028/U+2029 -> LF; a leading BOM and other U+FEFF removed;
//   C0 controls other than TAB and LF, DEL and C1 controls removed; NBSP (U+00A0) -> space;
//   trailing spaces and tabs of every line removed; runs of blank lines collapsed to one;
//   leading and trailing blank lines removed.
// Unicode composition (NFC) is not applied: the sources are already composed.
std::string text_normalize(std::string_view s);

// Splits on LF. Empty lines are kept.
std::vector<std::string_view> text_lines(std::string_view s);

// Splits into blocks of consecutive non-blank lines (a line of only spaces and tabs is blank).
// Blocks keep their lines' indentation.
std::vector<std::string_view> text_blocks(std::string_view s);

// Collapses every run of whitespace (space, tab, LF) to one space and trims both ends.
std::string text_collapse_spaces(std::string_view s);

// Removes ANSI terminal escape sequences (ESC [ ... final byte) such as colour codes.
std::string text_strip_ansi(std::string_view s);

// Share of code points that are CJK unified ideographs (the Han script), among non-space ones.
double text_han_fraction(std::string_view s);

}  // namespace em
