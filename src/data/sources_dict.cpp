// Reference texts: GCIDE and the Devil's Dictionary (dictd databases) and the Jargon File. One
// document per dictionary entry; GCIDE entries that come from WordNet 1.5 are dropped so that
// WordNet facts reach the model only through evaluation tasks.
#include <algorithm>
#include <cstring>
#include <set>

#include "data/sources.h"
#include "data/text.h"

namespace em {

Result<std::vector<DictEntry>> dictd_read(const std::string &source, const std::string &dict,
                                          const std::string &index, const std::string &packages) {
    EM_ASSIGN_OR_RETURN(std::string body, source_file(source, dict, packages));
    EM_ASSIGN_OR_RETURN(std::string idx, source_file(source, index, packages));
    auto b64 = [](std::string_view s, bool &ok) {
        static const std::string digits =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        uint64_t v = 0;
        for (char c : s) {
            size_t d = digits.find(c);
            if (d == std::string::npos) ok = false;
            v = v * 64 + d;
        }
        return v;
    };
    std::vector<DictEntry> out;
    std::set<std::pair<uint64_t, uint64_t>> seen;
    int64_t lineno = 0;
    for (std::string_view line : text_lines(idx)) {
        ++lineno;
        if (line.empty()) continue;
        size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
        bool ok = t1 != std::string_view::npos && t2 != std::string_view::npos;
        uint64_t off = 0, len = 0;
        if (ok) {
            off = b64(line.substr(t1 + 1, t2 - t1 - 1), ok);
            len = b64(line.substr(t2 + 1), ok);
        }
        if (!ok || off + len > body.size())
            return Status::error(source + ": " + index + ":" + std::to_string(lineno) +
                                 ": malformed index line (reinstall " + packages.substr(4) + ")");
        std::string_view hw = line.substr(0, t1);
        if (hw.rfind("00-database", 0) == 0 || hw.rfind("00database", 0) == 0) continue;
        if (!seen.insert({off, len}).second) continue;
        out.push_back({std::string(hw), body.substr(off, len)});
    }
    return out;
}

namespace {

// Paragraphs of hard-wrapped text joined into single lines; blocks whose lines are all indented
// (verse) keep their line breaks. Paragraphs end up one per line.
std::string reflow(std::string_view text) {
    std::string out, norm = text_normalize(text);
    for (std::string_view block : text_blocks(norm)) {
        std::vector<std::string_view> lines = text_lines(block);
        bool verse = lines.size() > 1;
        for (std::string_view l : lines)
            if (l.rfind("  ", 0) != 0) verse = false;
        std::string para;
        if (verse) {
            for (auto l : lines) {
                std::string t = text_collapse_spaces(l);
                if (t.empty()) continue;
                para += (para.empty() ? "" : "\n") + t;
            }
        } else {
            para = text_collapse_spaces(block);
        }
        if (para.empty()) continue;
        out += (out.empty() ? "" : "\n") + para;
    }
    return out;
}

// GCIDE character codes for accented letters ("caf['e]" is "café").
std::string gcide_accents(std::string_view s) {
    struct Code {
        char mark;
        const char *base, *accented;  // parallel lists of code points, as UTF-8 strings
    };
    static const Code codes[] = {{'\'', "aeiouyAEIOU", "áéíóúýÁÉÍÓÚ"},
                                 {'`', "aeiouAEIOU", "àèìòùÀÈÌÒÙ"},
                                 {'"', "aeiouyAEIOU", "äëïöüÿÄËÏÖÜ"},
                                 {'^', "aeiouAEIOU", "âêîôûÂÊÎÔÛ"},
                                 {'~', "anoANO", "ãñõÃÑÕ"},
                                 {',', "cC", "çÇ"}};
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '[' && i + 3 < s.size() && s[i + 3] == ']') {
            std::string_view code = s.substr(i + 1, 2);
            std::string rep;
            if (code == "ae") rep = "æ";
            if (code == "AE") rep = "Æ";
            if (code == "oe") rep = "œ";
            if (code == "OE") rep = "Œ";
            for (const Code &c : codes) {
                if (code[0] != c.mark) continue;
                const char *p = std::strchr(c.base, code[1]);
                if (!p || code[1] == 0) continue;
                std::string_view acc(c.accented);
                size_t k = 0, idx = static_cast<size_t>(p - c.base);
                for (size_t n = 0; n < idx; ++n) utf8_next(acc, k);
                size_t start = k;
                utf8_next(acc, k);
                rep = std::string(acc.substr(start, k - start));
            }
            if (!rep.empty()) {
                out += rep;
                i += 3;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

}  // namespace

std::string gcide_plain(std::string_view entry) {
    std::string s = gcide_accents(entry), t;
    t.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {  // \pro*nun"ci*a`tion\ within one line
        if (s[i] == '\\') {
            size_t e = s.find_first_of("\\\n", i + 1);
            if (e != std::string::npos && s[e] == '\\') {
                i = e;
                continue;
            }
        }
        t.push_back(s[i]);
    }
    s.clear();
    int depth = 0;
    for (char c : t) {  // bracket groups, nested ones included
        if (c == '[')
            ++depth;
        else if (c == ']' && depth > 0)
            --depth;
        else if (depth == 0 && c != '{' && c != '}')
            s.push_back(c);
    }
    t.clear();
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '-' && i + 2 < s.size() && s[i + 1] == '-' && s[i + 2] >= 'A' &&
            s[i + 2] <= 'Z') {
            size_t e = s.find('\n', i);
            if (e == std::string::npos) e = s.size();
            t += "(" + s.substr(i + 2, e - i - 2) + ")";
            i = e - 1;
            continue;
        }
        t.push_back(s[i]);
    }
    std::string c = text_collapse_spaces(t), out;
    for (size_t i = 0; i < c.size(); ++i) {
        if (c[i] == ' ' && i + 1 < c.size() && std::strchr(",.;:", c[i + 1])) continue;
        out.push_back(c[i]);
    }
    return out;
}

namespace {

// One document per dictd entry, its text made by `plain` (empty: skip the entry).
Result<std::vector<Document>> dictd_documents(const std::string &source,
                                              const std::string &packages, const SourcePaths &paths,
                                              std::string (*plain)(std::string_view)) {
    auto files = source_paths(source, paths);
    EM_ASSIGN_OR_RETURN(auto entries, dictd_read(source, files[0], files[1], packages));
    std::vector<Document> docs;
    for (auto &e : entries) {
        std::string text = plain(utf8_repair(e.text));
        if (text.empty()) continue;
        Document d;
        d.id = e.headword;
        d.text = std::move(text);
        docs.push_back(std::move(d));
    }
    return docs;
}

}  // namespace

Result<std::vector<Document>> source_read_gcide(const SourcePaths &paths) {
    return dictd_documents("gcide", "deb:dict-gcide", paths, [](std::string_view e) {
        // Entries taken from WordNet 1.5 would leak the WordNet tasks' answers.
        return e.find("[WordNet 1.5") != std::string_view::npos ? std::string() : gcide_plain(e);
    });
}

Result<std::vector<Document>> source_read_devil(const SourcePaths &paths) {
    return dictd_documents("devil", "deb:dict-devil", paths, reflow);
}

Result<std::vector<Document>> source_read_jargon(const SourcePaths &paths) {
    const std::string path = source_paths("jargon", paths)[0];
    EM_ASSIGN_OR_RETURN(std::string raw, source_file("jargon", path, "deb:jargon-text"));
    raw = text_normalize(utf8_repair(raw));
    // Drop the box-drawn tables (revision history) line by line.
    std::string kept;
    for (std::string_view line : text_lines(raw)) {
        bool box = false;
        for (size_t i = 0; i < line.size();) {
            uint32_t cp = utf8_next(line, i);
            if (cp >= 0x2500 && cp <= 0x257F) box = true;
        }
        if (!box) kept.append(line).push_back('\n');
    }
    std::vector<Document> docs;
    auto start_doc = [&](const std::string &id) {
        Document d;
        d.id = id;
        docs.push_back(std::move(d));
    };
    for (std::string_view block : text_blocks(kept)) {
        bool heading = block[0] != ' ' && block.find('\n') == std::string_view::npos;
        std::string para = text_collapse_spaces(block);
        std::erase_if(para, [](char c) { return c == '{' || c == '}'; });
        size_t colon = para.find(':', 1);
        bool entry = para[0] == ':' && colon != std::string::npos && colon < 80;
        if (heading) {
            start_doc(para);
        } else if (entry) {
            start_doc(para.substr(1, colon - 1));
        } else {
            // Table-of-contents lines and the glossary's bare headword list are short blocks.
            size_t words = static_cast<size_t>(std::count(para.begin(), para.end(), ' ')) + 1;
            if (words < 6 || docs.empty()) continue;
        }
        Document &d = docs.back();
        d.text += (d.text.empty() ? "" : "\n") + para;
    }
    // A heading followed only by dropped blocks leaves a one-line document: not worth keeping.
    std::erase_if(docs, [](const Document &d) {
        return d.text.find('\n') == std::string::npos && d.text.size() < 40;
    });
    return docs;
}

}  // namespace em
