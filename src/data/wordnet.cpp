// WordNet data-file parser; see wordnet.h. Line format (wndb(5)): offset lex_filenum ss_type
// w_cnt(hex) [word lex_id(hex)]... p_cnt [symbol offset pos source/target(hex)]... [frames] | gloss
#include "data/wordnet.h"

#include <sstream>

#include "common/fileio.h"
#include "data/text.h"

namespace em {
namespace {

std::string latin1_to_utf8(std::string_view s) {
    std::string out;
    for (unsigned char c : s) utf8_append(out, c);
    return out;
}

// The definition is the gloss up to the first quoted example; examples are the quoted parts.
void gloss_split(const std::string &gloss, Synset &s) {
    size_t q = gloss.find('"');
    std::string def = gloss.substr(0, q);
    while (!def.empty() && (def.back() == ' ' || def.back() == ';')) def.pop_back();
    s.definition = def;
    while (q != std::string::npos) {
        size_t e = gloss.find('"', q + 1);
        if (e == std::string::npos) break;
        s.examples.push_back(gloss.substr(q + 1, e - q - 1));
        q = gloss.find('"', e + 1);
    }
}

Status parse_line(const std::string &line, const std::string &where, Synset &s) {
    size_t bar = line.find(" | ");
    std::istringstream in(line.substr(0, bar));
    std::string offset, lex, type, wcnt_hex;
    auto bad = [&](const std::string &what) {
        return Status::error(where + ": malformed synset (" + what +
                             "): reinstall the Debian package wordnet-base");
    };
    if (!(in >> offset >> lex >> type >> wcnt_hex) || offset.size() != 8 || type.size() != 1)
        return bad("header");
    s.pos = type[0] == 's' ? 'a' : type[0];
    s.satellite = type[0] == 's';
    s.lex_file = std::atoi(lex.c_str());
    s.id = offset + "-" + s.pos;
    int wcnt = static_cast<int>(std::strtol(wcnt_hex.c_str(), nullptr, 16));
    for (int i = 0; i < wcnt; ++i) {
        std::string w, lexid;
        if (!(in >> w >> lexid)) return bad("words");
        if (size_t p = w.find('('); p != std::string::npos && w.back() == ')') w.erase(p);
        for (char &c : w)
            if (c == '_') c = ' ';
        s.words.push_back(w);
    }
    int pcnt = 0;
    if (!(in >> pcnt)) return bad("pointer count");
    for (int i = 0; i < pcnt; ++i) {
        std::string sym, off, pos, st;
        if (!(in >> sym >> off >> pos >> st) || st.size() != 4) return bad("pointers");
        WordNetPointer p;
        p.symbol = sym;
        p.target = off + "-" + (pos == "s" ? std::string("a") : pos);
        p.source_word = static_cast<int>(std::strtol(st.substr(0, 2).c_str(), nullptr, 16));
        p.target_word = static_cast<int>(std::strtol(st.substr(2, 2).c_str(), nullptr, 16));
        s.pointers.push_back(std::move(p));
    }
    if (bar != std::string::npos) {
        std::string gloss = line.substr(bar + 3);
        while (!gloss.empty() && (gloss.back() == ' ' || gloss.back() == '\n')) gloss.pop_back();
        gloss_split(gloss, s);
    }
    return Status::ok();
}

}  // namespace

const Synset *WordNet::find(const std::string &id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &synsets[it->second];
}

void WordNet::index_build() {
    by_id_.clear();
    for (size_t i = 0; i < synsets.size(); ++i) by_id_[synsets[i].id] = i;
}

std::vector<std::string> WordNet::hypernyms(const Synset &s) const {
    std::vector<std::string> out;
    for (const auto &p : s.pointers)
        if (p.symbol == "@" || p.symbol == "@i") out.push_back(p.target);
    return out;
}

std::vector<std::pair<std::string, std::string>> WordNet::antonyms(const Synset &s) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto &p : s.pointers) {
        if (p.symbol != "!" || p.source_word == 0 || p.target_word == 0) continue;
        const Synset *t = find(p.target);
        if (!t || p.source_word > static_cast<int>(s.words.size()) ||
            p.target_word > static_cast<int>(t->words.size()))
            continue;
        out.push_back({s.words[p.source_word - 1], t->words[p.target_word - 1]});
    }
    return out;
}

Result<WordNet> wordnet_read(const std::string &dir) {
    WordNet wn;
    for (const char *pos : {"noun", "verb", "adj", "adv"}) {
        std::string path = dir + "/data." + pos;
        EM_ASSIGN_OR_RETURN(std::string raw, source_file("wordnet", path, "deb:wordnet-base"));
        if (!utf8_valid(raw)) raw = latin1_to_utf8(raw);
        int64_t lineno = 0;
        for (std::string_view line : text_lines(raw)) {
            ++lineno;
            if (line.empty() || line[0] == ' ') continue;  // licence header lines start with spaces
            Synset s;
            EM_TRY(parse_line(std::string(line), path + ":" + std::to_string(lineno), s));
            wn.synsets.push_back(std::move(s));
        }
    }
    wn.index_build();
    return wn;
}

Result<WordNet> wordnet_read(const SourcePaths &paths) {
    return wordnet_read(source_paths("wordnet", paths)[0]);
}

}  // namespace em
