// The two Bible translations: the KJV through Debian's `bible` decoder (its data file uses a
// private compression), the World English Bible straight from its SWORD zText module. One
// document per chapter, one unit per verse; the held-out books are flagged in both.
#include <sys/wait.h>
#include <cstdio>
#include <cstring>
#include <map>

#include "common/fileio.h"
#include "data/inflate.h"
#include "data/sources.h"
#include "data/text.h"

namespace em {
namespace {

std::string shell_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out.push_back(c);
    }
    return out + "'";
}

// Groups verses into chapter documents, in the order given.
struct ChapterBuilder {
    std::vector<Document> docs;
    void add(const std::string &book, int32_t chapter, int32_t verse, std::string text) {
        std::string id = book + " " + std::to_string(chapter);
        if (docs.empty() || docs.back().id != id) {
            Document d;
            d.id = id;
            d.title = book;
            d.heldout = bible_book_heldout(book);
            docs.push_back(std::move(d));
        }
        Document &d = docs.back();
        if (!d.text.empty()) d.text.push_back('\n');
        d.text += text;
        d.units.push_back({chapter, verse, std::move(text), ""});
    }
};

const std::map<std::string, std::string> &osis_books() {
    static const std::map<std::string, std::string> m = {
        {"Gen", "Genesis"},
        {"Exod", "Exodus"},
        {"Lev", "Leviticus"},
        {"Num", "Numbers"},
        {"Deut", "Deuteronomy"},
        {"Josh", "Joshua"},
        {"Judg", "Judges"},
        {"Ruth", "Ruth"},
        {"1Sam", "1 Samuel"},
        {"2Sam", "2 Samuel"},
        {"1Kgs", "1 Kings"},
        {"2Kgs", "2 Kings"},
        {"1Chr", "1 Chronicles"},
        {"2Chr", "2 Chronicles"},
        {"Ezra", "Ezra"},
        {"Neh", "Nehemiah"},
        {"Esth", "Esther"},
        {"Job", "Job"},
        {"Ps", "Psalms"},
        {"Prov", "Proverbs"},
        {"Eccl", "Ecclesiastes"},
        {"Song", "Song of Solomon"},
        {"Isa", "Isaiah"},
        {"Jer", "Jeremiah"},
        {"Lam", "Lamentations"},
        {"Ezek", "Ezekiel"},
        {"Dan", "Daniel"},
        {"Hos", "Hosea"},
        {"Joel", "Joel"},
        {"Amos", "Amos"},
        {"Obad", "Obadiah"},
        {"Jonah", "Jonah"},
        {"Mic", "Micah"},
        {"Nah", "Nahum"},
        {"Hab", "Habakkuk"},
        {"Zeph", "Zephaniah"},
        {"Hag", "Haggai"},
        {"Zech", "Zechariah"},
        {"Mal", "Malachi"},
        {"Matt", "Matthew"},
        {"Mark", "Mark"},
        {"Luke", "Luke"},
        {"John", "John"},
        {"Acts", "Acts"},
        {"Rom", "Romans"},
        {"1Cor", "1 Corinthians"},
        {"2Cor", "2 Corinthians"},
        {"Gal", "Galatians"},
        {"Eph", "Ephesians"},
        {"Phil", "Philippians"},
        {"Col", "Colossians"},
        {"1Thess", "1 Thessalonians"},
        {"2Thess", "2 Thessalonians"},
        {"1Tim", "1 Timothy"},
        {"2Tim", "2 Timothy"},
        {"Titus", "Titus"},
        {"Phlm", "Philemon"},
        {"Heb", "Hebrews"},
        {"Jas", "James"},
        {"1Pet", "1 Peter"},
        {"2Pet", "2 Peter"},
        {"1John", "1 John"},
        {"2John", "2 John"},
        {"3John", "3 John"},
        {"Jude", "Jude"},
        {"Rev", "Revelation"},
        // Deuterocanon of the WEB edition. Greek Esther retells Esther, so it is held out too.
        {"Tob", "Tobit"},
        {"Jdt", "Judith"},
        {"EsthGr", "Esther (Greek)"},
        {"Wis", "Wisdom of Solomon"},
        {"Sir", "Sirach"},
        {"Bar", "Baruch"},
        {"DanGr", "Daniel (Greek)"},
        {"1Macc", "1 Maccabees"},
        {"2Macc", "2 Maccabees"},
        {"3Macc", "3 Maccabees"},
        {"4Macc", "4 Maccabees"},
        {"1Esd", "1 Esdras"},
        {"2Esd", "2 Esdras"},
        {"PrMan", "Prayer of Manasseh"},
        {"AddPs", "Psalm 151"}};
    return m;
}

std::string xml_unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out.push_back(s[i]);
            continue;
        }
        size_t semi = s.find(';', i);
        if (semi == std::string_view::npos || semi - i > 10) {
            out.push_back('&');
            continue;
        }
        std::string_view ent = s.substr(i + 1, semi - i - 1);
        if (ent == "amp")
            out += '&';
        else if (ent == "lt")
            out += '<';
        else if (ent == "gt")
            out += '>';
        else if (ent == "quot")
            out += '"';
        else if (ent == "apos")
            out += '\'';
        else if (!ent.empty() && ent[0] == '#') {
            uint32_t cp = static_cast<uint32_t>(
                ent.size() > 1 && ent[1] == 'x'
                    ? std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16)
                    : std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10));
            if (cp > 0 && cp <= 0x10FFFF) utf8_append(out, cp);
        } else {
            out.append(s.substr(i, semi - i + 1));
        }
        i = semi;
    }
    return out;
}

// Value of attribute `name` inside one tag, or "".
std::string attr(std::string_view tag, const std::string &name) {
    std::string key = name + "=\"";
    for (size_t p = tag.find(key); p != std::string_view::npos; p = tag.find(key, p + 1)) {
        if (p > 0 && tag[p - 1] != ' ') continue;
        size_t b = p + key.size(), e = tag.find('"', b);
        if (e == std::string_view::npos) return "";
        return std::string(tag.substr(b, e - b));
    }
    return "";
}

// OSIS verse markup -> plain text: footnotes and headings dropped, word-level tags removed,
// structural tags (line groups, paragraphs, milestones) turned into spaces.
std::string osis_plain(std::string_view t) {
    std::string out;
    out.reserve(t.size() / 3);
    size_t i = 0;
    auto skip_element = [&](std::string_view name) {
        // Skips from the open tag at i to the end of its closing tag (these do not nest).
        std::string close = "</" + std::string(name) + ">";
        size_t e = t.find(close, i);
        i = e == std::string_view::npos ? t.size() : e + close.size();
    };
    while (i < t.size()) {
        if (t[i] != '<') {
            size_t lt = t.find('<', i);
            if (lt == std::string_view::npos) lt = t.size();
            out += xml_unescape(t.substr(i, lt - i));
            i = lt;
            continue;
        }
        size_t gt = t.find('>', i);
        if (gt == std::string_view::npos) break;
        std::string_view tag = t.substr(i, gt - i + 1);
        size_t ne = 1;
        if (ne < tag.size() && tag[ne] == '/') ++ne;
        size_t ns = ne;
        while (ne < tag.size() && tag[ne] != ' ' && tag[ne] != '>' && tag[ne] != '/') ++ne;
        std::string_view name = tag.substr(ns, ne - ns);
        bool self_closing = tag.size() >= 2 && tag[tag.size() - 2] == '/';
        bool opening = tag[1] != '/';
        if ((name == "note" || name == "title") && opening && !self_closing) {
            skip_element(name);
            out.push_back(' ');
            continue;
        }
        i = gt + 1;
        if (name == "w" || name == "transChange" || name == "hi" || name == "divineName" ||
            name == "foreign" || name == "seg" || name == "q")
            continue;
        out.push_back(' ');
    }
    std::string s = text_collapse_spaces(out);
    // Markup removal leaves spaces before closing punctuation ("Christ ," -> "Christ,").
    std::string fixed;
    fixed.reserve(s.size());
    for (size_t k = 0; k < s.size(); ++k) {
        if (s[k] == ' ' && k + 1 < s.size()) {
            std::string_view rest(s.data() + k + 1, s.size() - k - 1);
            bool closing = std::strchr(",.;:!?)", rest[0]) != nullptr ||
                           rest.rfind("\u2019", 0) == 0 || rest.rfind("\u201d", 0) == 0;
            if (closing) continue;
        }
        fixed.push_back(s[k]);
    }
    return fixed;
}

}  // namespace

Result<std::vector<Document>> source_read_kjv(const SourcePaths &paths) {
    const std::string packages = "deb:bible-kjv deb:bible-kjv-text";
    std::string data = paths.root + "/usr/lib/bible.data";
    EM_TRY(source_require("kjv", data, packages));
    std::string dir = paths.root + "/usr/lib";
    std::string cmd =
        paths.bible_program + " -l100000 -p " + shell_quote(dir) + " 'gen1:1-rev22:21' 2>/dev/null";
    FILE *f = ::popen(cmd.c_str(), "r");
    if (!f) return Status::error("kjv: cannot run `" + paths.bible_program + "`");
    std::string out;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    int rc = ::pclose(f);
    if (rc != 0 || out.empty()) {
        bool missing = WIFEXITED(rc) && WEXITSTATUS(rc) == 127;
        return Status::error(
            "kjv: `" + paths.bible_program + "` " +
            (missing ? std::string("not found: install the Debian package bible-kjv (`apt-get "
                                   "install bible-kjv` as root, or scripts/install-deps.sh)")
                     : "failed to decode " + data + " (reinstall bible-kjv-text)"));
    }
    EM_TRY(utf8_check(out, "kjv: output of `bible`"));
    ChapterBuilder cb;
    std::string book;
    int32_t chapter = 0;
    int64_t lineno = 0;
    for (std::string_view line : text_lines(out)) {
        ++lineno;
        if (line.empty()) continue;
        if (line[0] != ' ') {  // "Song of Solomon 3": book name, then the chapter number
            size_t sp = line.rfind(' ');
            if (sp == std::string_view::npos)
                return Status::error("kjv: unexpected heading on line " + std::to_string(lineno) +
                                     " of the `bible` output: " + std::string(line));
            book = std::string(line.substr(0, sp));
            chapter = std::atoi(std::string(line.substr(sp + 1)).c_str());
            continue;
        }
        size_t p = line.find_first_not_of(' ');
        size_t sp = line.find(' ', p);
        if (p == std::string_view::npos || sp == std::string_view::npos || book.empty()) continue;
        int32_t verse = std::atoi(std::string(line.substr(p, sp - p)).c_str());
        cb.add(book, chapter, verse, std::string(line.substr(sp + 1)));
    }
    return std::move(cb.docs);
}

Result<std::vector<Document>> source_read_web(const SourcePaths &paths) {
    const std::string packages = "deb:sword-text-web";
    const std::string dir = source_paths("web", paths)[0];
    ChapterBuilder cb;
    for (const char *testament : {"ot", "nt"}) {
        std::string base = dir + "/" + testament;
        EM_ASSIGN_OR_RETURN(std::string bzs, source_file("web", base + ".bzs", packages));
        EM_ASSIGN_OR_RETURN(std::string bzv, source_file("web", base + ".bzv", packages));
        EM_ASSIGN_OR_RETURN(std::string bzz, source_file("web", base + ".bzz", packages));
        auto u32 = [](const std::string &s, size_t off) {
            uint32_t v;
            std::memcpy(&v, s.data() + off, 4);
            return v;
        };
        // Index: .bzv has one 10-byte slot per verse (block, offset, size); .bzs one 12-byte entry
        // per zlib block (offset, compressed size, size) in .bzz. Per book one introduction slot,
        // per chapter a heading slot holding <chapter sID>, then the verses in order.
        int64_t cached_block = -1;
        std::string block;
        std::string book;
        int32_t chapter = 0;
        size_t chapter_slot = 0;
        bool done = false;
        for (size_t k = 0; k * 10 + 10 <= bzv.size() && !done; ++k) {
            uint32_t b = u32(bzv, k * 10), off = u32(bzv, k * 10 + 4);
            uint16_t size;
            std::memcpy(&size, bzv.data() + k * 10 + 8, 2);
            if (size == 0) continue;
            if (static_cast<int64_t>(b) != cached_block) {
                if ((b + 1) * 12 > bzs.size())
                    return Status::error("web: " + base + ".bzs: block " + std::to_string(b) +
                                         " out of range (reinstall sword-text-web)");
                uint32_t zoff = u32(bzs, b * 12), zlen = u32(bzs, b * 12 + 4);
                if (static_cast<size_t>(zoff) + zlen > bzz.size())
                    return Status::error("web: " + base +
                                         ".bzz is truncated (reinstall sword-text-web)");
                EM_ASSIGN_OR_RETURN(block, zlib_decompress(std::string_view(bzz).substr(zoff, zlen),
                                                           base + ".bzz"));
                cached_block = b;
            }
            if (static_cast<size_t>(off) + size > block.size())
                return Status::error("web: " + base + ".bzv: slot " + std::to_string(k) +
                                     " points past its block (reinstall sword-text-web)");
            std::string_view t(block.data() + off, size);
            if (size_t g = t.find("type=\"glossary\""); g != std::string_view::npos) {
                t = t.substr(0, t.rfind('<', g));
                done = true;  // the back-matter glossary ends the text
            }
            // A book's opening slot is its introduction, not a verse of the previous chapter.
            for (size_t dpos = t.find("<div "); dpos != std::string_view::npos;
                 dpos = t.find("<div ", dpos + 1)) {
                std::string_view tag = t.substr(dpos, t.find('>', dpos) - dpos + 1);
                if (attr(tag, "type") == "book" && !attr(tag, "sID").empty()) chapter = 0;
            }
            size_t cpos = t.find("<chapter ");
            while (cpos != std::string_view::npos) {
                std::string_view tag = t.substr(cpos, t.find('>', cpos) - cpos + 1);
                std::string osis = attr(tag, "osisID");
                if (!attr(tag, "sID").empty() && osis.find('.') != std::string::npos) {
                    std::string code = osis.substr(0, osis.find('.'));
                    auto it = osis_books().find(code);
                    book = it != osis_books().end() ? it->second : code;
                    chapter = std::atoi(osis.c_str() + osis.find('.') + 1);
                    chapter_slot = k;
                }
                cpos = t.find("<chapter ", cpos + 1);
            }
            if (chapter_slot == k || chapter == 0) continue;  // heading slot or introduction
            if (t.find("type=\"front\"") != std::string_view::npos ||
                t.find("type=\"introduction\"") != std::string_view::npos)
                continue;
            std::string verse = osis_plain(t);
            if (verse.empty()) continue;
            EM_TRY(utf8_check(verse, "web: " + base + ".bzz"));
            cb.add(book, chapter, static_cast<int32_t>(k - chapter_slot), std::move(verse));
        }
    }
    return std::move(cb.docs);
}

}  // namespace em
