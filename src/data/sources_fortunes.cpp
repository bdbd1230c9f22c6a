// fortune(6) cookie files: English fortunes, the cleaned Chinese file, and the Tang/Song poem
// files that are kept for evaluation. Records are separated by lines holding a single "%".
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "data/sources.h"
#include "data/text.h"

namespace em {
namespace {

// The records of one cookie file, colour codes removed, surrounding blank lines trimmed.
Result<std::vector<std::string>> fortune_records(const std::string &source, const std::string &path,
                                                 const std::string &packages) {
    EM_ASSIGN_OR_RETURN(std::string raw, source_file(source, path, packages));
    std::string text = text_normalize(text_strip_ansi(utf8_repair(raw)));
    std::vector<std::string> out;
    std::string cur;
    auto flush = [&] {
        std::string n = text_normalize(cur);
        if (!n.empty()) out.push_back(std::move(n));
        cur.clear();
    };
    for (std::string_view line : text_lines(text)) {
        if (line == "%") {
            flush();
            continue;
        }
        cur.append(line).push_back('\n');
    }
    flush();
    return out;
}

bool has_box_drawing(std::string_view line) {
    for (size_t i = 0; i < line.size();) {
        uint32_t cp = utf8_next(line, i);
        if (cp >= 0x2500 && cp <= 0x257F) return true;
    }
    return false;
}

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
}

std::string strip_prefix(std::string s, std::initializer_list<const char *> prefixes) {
    for (const char *p : prefixes)
        if (s.rfind(p, 0) == 0) return trim(s.substr(std::strlen(p)));
    return s;
}

}  // namespace

Result<std::vector<Document>> source_read_fortunes(const SourcePaths &paths) {
    const std::string dir = source_paths("fortunes", paths)[0];
    const std::string packages = "deb:fortunes deb:fortunes-min";
    EM_TRY(source_require("fortunes", dir + "/fortunes", packages));
    std::vector<std::string> files;
    for (const auto &e : std::filesystem::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (!e.is_regular_file() || e.is_symlink()) continue;  // the .u8 names are symlinks
        if (name.find('.') != std::string::npos) continue;     // .dat indexes
        // Pictures, and the Chinese files (their own sources) stay out.
        if (name == "art" || name == "ascii-art" || name == "chinese" || name == "tang300" ||
            name == "song100")
            continue;
        files.push_back(name);
    }
    std::sort(files.begin(), files.end());
    std::vector<Document> docs;
    for (const auto &name : files) {
        EM_ASSIGN_OR_RETURN(auto recs, fortune_records("fortunes", dir + "/" + name, packages));
        for (size_t i = 0; i < recs.size(); ++i) {
            Document d;
            d.id = name + ":" + std::to_string(i + 1);
            d.title = name;
            d.text = std::move(recs[i]);
            docs.push_back(std::move(d));
        }
    }
    return docs;
}

Result<std::vector<Document>> source_read_fortunes_zh(const SourcePaths &paths) {
    const std::string path = source_paths("fortunes_zh", paths)[0];
    EM_ASSIGN_OR_RETURN(auto recs, fortune_records("fortunes_zh", path, "deb:fortunes-zh"));
    std::vector<Document> docs;
    for (size_t i = 0; i < recs.size(); ++i) {
        std::string body;
        for (std::string_view line : text_lines(recs[i])) {
            std::string t = trim(line);
            // Box-drawn tables are layout, not text.
            if (t.empty() || has_box_drawing(t)) continue;
            body += (body.empty() ? "" : "\n") + t;
        }
        // Records that are mostly Latin script are translated Debian command listings.
        if (body.empty() || text_han_fraction(body) < 0.3) continue;
        Document d;
        d.id = "chinese:" + std::to_string(i + 1);
        d.text = std::move(body);
        docs.push_back(std::move(d));
    }
    return docs;
}

Result<std::vector<Document>> source_read_zh_poems(const SourcePaths &paths) {
    std::vector<Document> docs;
    for (const std::string &path : source_paths("zh_poems", paths)) {
        std::string file = std::filesystem::path(path).filename().string();
        EM_ASSIGN_OR_RETURN(auto recs, fortune_records("zh_poems", path, "deb:fortunes-zh"));
        for (size_t i = 0; i < recs.size(); ++i) {
            std::vector<std::string> lines;
            for (std::string_view l : text_lines(recs[i]))
                if (std::string t = trim(l); !t.empty()) lines.push_back(t);
            if (lines.size() < 3) continue;
            Document d;
            d.id = file + ":" + std::to_string(i + 1);
            d.title = strip_prefix(lines[0], {"题目:", "题目："});
            if (d.title.rfind("《", 0) == 0) d.title = d.title.substr(std::strlen("《"));
            if (size_t e = d.title.find("》"); e != std::string::npos)
                d.title = d.title.substr(0, e) + d.title.substr(e + std::strlen("》"));
            d.author = strip_prefix(lines[1], {"作者:", "作者："});
            d.heldout = true;
            d.text = d.title + "\n" + d.author;
            // Units are the poem's lines, cut after each sentence-ending or comma mark.
            int32_t n = 0;
            for (size_t k = 2; k < lines.size(); ++k) {
                d.text += "\n" + lines[k];
                std::string_view s = lines[k];
                size_t start = 0;
                for (size_t p = 0; p < s.size();) {
                    uint32_t cp = utf8_next(s, p);
                    if (cp == 0xFF0C || cp == 0x3002 || cp == 0xFF1F || cp == 0xFF01 ||
                        cp == 0xFF1B || p == s.size()) {
                        std::string seg = trim(s.substr(start, p - start));
                        if (!seg.empty()) d.units.push_back({0, ++n, seg, ""});
                        start = p;
                    }
                }
            }
            if (d.units.size() > 1) docs.push_back(std::move(d));
        }
    }
    return docs;
}

}  // namespace em
