// Synthetic tasks that need skills small models acquire late, and the training documents that
// teach them (skills.jsonl). A seeded invented world: countries with capitals and people with
// birth countries, each fact stated in prose 100-200 times in varied sentence frames. Evaluation
// asks the same knowledge as a cloze ("The capital of X is" -> city; a frame never used in
// training), in the MMLU letter format (countries never asked in letter form in training), and
// composed (birth country -> its capital, for people whose composed fact never appears). Addition
// of 2- and 3-digit numbers is answered by generation; passages with letter choices teach the
// letter format. No evaluation item ever appears in the skill documents.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "common/fileio.h"
#include "tasks/suite_internal.h"

namespace em::suite {
namespace {

constexpr int64_t kFactItems = 500;       // countries (and people) asked about in evaluation
constexpr int64_t kTrainCountries = 300;  // countries also asked in letter form in training
constexpr int64_t kTrainPeople = 300;     // people whose composed fact is stated in training
const char *kLetters[] = {"A", "B", "C", "D"};
const char *kMmluHeader =
    "The following are multiple choice questions (with answers) about geography.";

std::string cap(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

std::string replace_all(std::string s, const std::string &from, const std::string &to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
        s.replace(p, from.size(), to);
    return s;
}

// Fills a frame's {C} (country), {K} (capital) and {P} (person).
std::string fill(const std::string &frame, const std::string &c, const std::string &k,
                 const std::string &p) {
    return replace_all(replace_all(replace_all(frame, "{C}", c), "{K}", k), "{P}", p);
}

// Pronounceable invented names that the training text never uses.
class NameMaker {
  public:
    NameMaker(const TrainingIndex &ix, Rng &rng) : ix_(ix), rng_(rng) {}
    std::string make(int syllables, const std::vector<std::string> &suffixes) {
        static const std::vector<std::string> onset = {
            "b", "d", "f",  "g",  "h",  "k",  "l",  "m",  "n",  "p",  "r",  "s",  "t",
            "v", "z", "br", "dr", "gr", "kr", "st", "tr", "th", "sh", "bl", "fl", "qu"};
        static const std::vector<std::string> vowel = {"a",  "e",  "i",  "o", "u",
                                                       "ai", "ei", "ou", "a", "o"};
        static const std::vector<std::string> coda = {"",  "",  "",  "n",  "r",
                                                      "l", "s", "m", "nd", "rk"};
        for (;;) {
            std::string w;
            for (int i = 0; i < syllables; ++i)
                w += onset[rng_.below(onset.size())] + vowel[rng_.below(vowel.size())] +
                     (i + 1 < syllables ? "" : coda[rng_.below(coda.size())]);
            w += suffixes[rng_.below(suffixes.size())];
            if (w.size() < 4 || w.size() > 11 || ix_.freq(w) > 0 || !used_.insert(w).second)
                continue;
            return cap(w);
        }
    }

  private:
    const TrainingIndex &ix_;
    Rng &rng_;
    std::unordered_set<std::string> used_;
};

struct World {
    std::vector<std::string> country, capital;  // country i has capital i
    std::vector<std::string> person;
    std::vector<size_t> birth;  // person i was born in country birth[i]
};

World world_make(const TrainingIndex &ix, Rng &rng) {
    World w;
    NameMaker names(ix, rng);
    const int64_t nc = kFactItems + kTrainCountries, np = kFactItems + kTrainPeople;
    for (int64_t i = 0; i < nc; ++i) {
        w.country.push_back(names.make(2, {"ia", "ora", "and", "esh", "ovia", "ene", "ar"}));
        w.capital.push_back(
            names.make(2 + static_cast<int>(rng.below(2)), {"", "", "port", "holm", "by"}));
    }
    for (int64_t i = 0; i < np; ++i) {
        w.person.push_back(names.make(2, {"", "a", "o"}) + " " +
                           names.make(2, {"", "el", "ov", "an"}));
        w.birth.push_back(rng.below(static_cast<uint64_t>(nc)));
    }
    return w;
}

// Sentence frames. The cloze's evaluation frame "The capital of {C} is {K}" is never among them.
const std::vector<std::string> kCapitalFrames = {
    "{K} is the capital of {C}.",
    "{C}'s capital city is {K}.",
    "The government of {C} sits in {K}.",
    "Travelers to {C} usually arrive first in its capital, {K}.",
    "{K}, the capital of {C}, is a busy city.",
    "Most of the ministries of {C} are in {K}, its capital.",
    "{C} is governed from {K}.",
    "In {C}, the capital is {K}.",
    "People in {C} call {K} their capital.",
    "{K} has long been the capital of {C}.",
};
const std::vector<std::string> kBirthFrames = {
    "{P} was born in {C}.",
    "{P} is a native of {C}.",
    "Born in {C}, {P} later moved abroad.",
    "{P}'s home country is {C}.",
    "The birthplace of {P} is {C}.",
    "{P} comes from {C}.",
    "Records show that {P} was born in {C}.",
};
// Composition, stated only for the training people; the first frame is the evaluation's.
const std::vector<std::string> kComposedFrames = {
    "The capital of the country where {P} was born is {K}.",
    "{P} was born in {C}, whose capital is {K}.",
    "{P} was born in {C}; the capital of that country is {K}.",
};

struct SkillWriter {
    std::string text;
    std::map<std::string, std::pair<int64_t, int64_t>> by_source;  // docs, bytes
    std::unordered_set<uint64_t> seen;
    void add(const std::string &source, const std::string &doc) {
        // The corpus deduplicates documents; an exact repeat would only be dropped there.
        if (!seen.insert(hash_fnv1a(doc.data(), doc.size())).second) return;
        text += nlohmann::json({{"text", doc}, {"source", source}}).dump() + "\n";
        by_source[source].first += 1;
        by_source[source].second += static_cast<int64_t>(doc.size());
    }
    int64_t bytes(const std::string &source) const {
        auto it = by_source.find(source);
        return it == by_source.end() ? 0 : it->second.second;
    }
};

// Four options (the answer among three others), formatted "A. x\nB. y ..." ; returns the gold.
size_t options_block(Rng &rng, const std::string &answer, std::vector<std::string> others,
                     std::string &block, std::vector<std::string> &options) {
    options = std::move(others);
    options.push_back(answer);
    shuffle(rng, options);
    block.clear();
    for (size_t i = 0; i < options.size(); ++i)
        block += "\n" + std::string(kLetters[i]) + ". " + options[i];
    return static_cast<size_t>(std::find(options.begin(), options.end(), answer) - options.begin());
}

// ---- passages whose answer is in the text ----
const std::vector<std::string> kNames = {
    "Anna", "Ben",  "Carl", "Dora", "Eli", "Fay",  "Gus", "Hana", "Ivan", "Jill", "Kurt", "Lena",
    "Max",  "Nora", "Otto", "Pia",  "Rex", "Sara", "Tom", "Una",  "Vic",  "Wes",  "Yara", "Zoe"};
const std::vector<std::string> kColors = {"red",   "blue",  "green",  "yellow", "black",
                                          "white", "brown", "orange", "purple", "gray"};
const std::vector<std::string> kObjects = {"kite", "hat",  "bag",  "cup",   "book",
                                           "lamp", "coat", "ball", "chair", "boat"};
const std::vector<std::string> kPlaces = {"kitchen", "garden", "attic",  "garage",
                                          "hall",    "cellar", "office", "shed"};
const std::vector<std::string> kNumbers = {"two", "three", "four",  "five",
                                           "six", "seven", "eight", "nine"};
const std::vector<std::string> kPlurals = {"apples", "pens",  "stamps", "shells",
                                           "coins",  "cards", "eggs",   "keys"};

struct Passage {
    std::string passage, question, answer;
    std::vector<std::string> others;  // three wrong options
};

std::string article(const std::string &w) {
    return std::string("aeiou").find(w[0]) != std::string::npos ? "an" : "a";
}

Passage passage_make(Rng &rng) {
    const size_t n = 2 + rng.below(3);  // people in the passage
    const std::vector<std::string> who = draw_distinct(rng, kNames, n, {});
    const size_t ask = rng.below(n);
    Passage p;
    std::vector<std::string> vals;                   // what the question asks, per person
    const std::vector<std::string> *pool = nullptr;  // where wrong answers come from
    std::string prefix;                              // "in the " for places
    const uint64_t kind = rng.below(4);
    if (kind == 0) {  // colour of someone's thing
        vals = draw_distinct(rng, kColors, n, {});
        pool = &kColors;
        std::vector<std::string> obj(n);
        for (size_t i = 0; i < n; ++i) {
            obj[i] = kObjects[rng.below(kObjects.size())];
            p.passage += (i ? " " : "") + who[i] + " has " + article(vals[i]) + " " + vals[i] +
                         " " + obj[i] + ".";
        }
        p.question = "What color is " + who[ask] + "'s " + obj[ask] + "?";
    } else if (kind == 1) {  // where someone put something
        vals = draw_distinct(rng, kPlaces, n, {});
        pool = &kPlaces;
        prefix = "in the ";
        std::vector<std::string> obj = draw_distinct(rng, kObjects, n, {});
        for (size_t i = 0; i < n; ++i)
            p.passage +=
                (i ? " " : "") + who[i] + " put the " + obj[i] + " in the " + vals[i] + ".";
        p.question = "Where did " + who[ask] + " put the " + obj[ask] + "?";
    } else if (kind == 2) {  // how many
        vals = draw_distinct(rng, kNumbers, n, {});
        pool = &kNumbers;
        std::vector<std::string> what = draw_distinct(rng, kPlurals, n, {});
        for (size_t i = 0; i < n; ++i)
            p.passage += (i ? " " : "") + who[i] + " bought " + vals[i] + " " + what[i] + ".";
        p.question = "How many " + what[ask] + " did " + who[ask] + " buy?";
    } else {  // who has it
        vals = who;
        pool = &kNames;
        std::vector<std::string> col = draw_distinct(rng, kColors, n, {});
        std::vector<std::string> obj = draw_distinct(rng, kObjects, n, {});
        for (size_t i = 0; i < n; ++i)
            p.passage += (i ? " " : "") + who[i] + " has the " + col[i] + " " + obj[i] + ".";
        p.question = "Who has the " + col[ask] + " " + obj[ask] + "?";
    }
    p.answer = prefix + vals[ask];
    // The passage's other values are wrong answers first, so the answer must be read, not guessed.
    for (size_t i = 0; i < n && p.others.size() < 3; ++i)
        if (i != ask) p.others.push_back(prefix + vals[i]);
    for (const auto &o : draw_distinct(rng, *pool, 3 - p.others.size(), vals))
        p.others.push_back(prefix + o);
    return p;
}

std::string passage_prompt(const Passage &p, const std::string &block) {
    return "Passage: " + p.passage + "\nQuestion: " + p.question + block + "\nAnswer:";
}

std::string letter_question(const std::string &question, const std::string &block) {
    return "Question: " + question + block + "\nAnswer:";
}

// ---- arithmetic ----
struct PairSet {
    std::set<std::pair<int, int>> pairs;
    bool has(int a, int b) const { return pairs.count({a, b}) || pairs.count({b, a}); }
};

PairSet eval_pairs(Rng &rng, int lo, int hi, int64_t n) {
    PairSet s;
    while (static_cast<int64_t>(s.pairs.size()) < n) {
        int a = lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1)));
        int b = lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1)));
        if (!s.has(a, b)) s.pairs.insert({a, b});
    }
    return s;
}

Built arithmetic_task(const std::string &name, int digits, const PairSet &pairs, Rng &rng) {
    Built b;
    b.name = name;
    for (const auto &[a, c] : pairs.pairs)
        b.docs.push_back({{"id", std::to_string(a) + "+" + std::to_string(c)},
                          {"a", a},
                          {"b", c},
                          {"sum", std::to_string(a + c)}});
    shuffle(rng, b.docs);
    b.stats["candidates"] = static_cast<int64_t>(b.docs.size());
    SpecInfo si;
    si.name = name;
    si.output_type = "generate_until";
    si.doc_to_text = "{{a}} + {{b}} =";
    si.doc_to_target = " {{sum}}";
    si.target_delimiter = "";
    si.until = {"\n"};
    si.max_gen_toks = digits + 4;
    si.title = std::to_string(digits) + "-digit addition, answered by greedy generation";
    si.source =
        "seeded generator: \"a + b =\" with a, b of " + std::to_string(digits) +
        " digits -> \" a+b\"; the generation stops at a line break and must equal the target "
        "exactly (lm-eval's exact_match, no filter)";
    si.licence = "generated";
    si.heldout =
        "these pairs (in either order) never appear in skills.jsonl, which holds many other "
        "sums in the same format";
    si.chance =
        "exact_match 0; token_edit_distance of an empty answer = the answer's length in "
        "tokens";
    b.spec = spec_toml(si, b.stats);
    return b;
}

void arithmetic_skills(Rng &rng, const PairSet &two, const PairSet &three, int64_t budget,
                       SkillWriter &out) {
    const int64_t start = out.bytes("skills_arithmetic");
    while (out.bytes("skills_arithmetic") - start < budget) {
        std::string doc;
        const int lines = 20 + static_cast<int>(rng.below(21));
        for (int i = 0; i < lines; ++i) {
            // One sum in seven has 1 digit, three 2 digits, three 3 digits.
            const uint64_t kind = rng.below(7);
            const int lo = kind == 0   ? 0
                           : kind <= 3 ? 10
                                       : 100,
                      hi = kind == 0   ? 9
                           : kind <= 3 ? 99
                                       : 999;
            int a, b;
            do {
                a = lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1)));
                b = lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1)));
            } while ((kind >= 1 && kind <= 3 && two.has(a, b)) || (kind > 3 && three.has(a, b)));
            doc += (i ? "\n" : "") + std::to_string(a) + " + " + std::to_string(b) + " = " +
                   std::to_string(a + b);
        }
        out.add("skills_arithmetic", doc);
    }
}

}  // namespace

Result<std::vector<Built>> synthetic_tasks(const TrainingIndex &ix, uint64_t seed, int64_t items,
                                           int64_t skills_bytes, const std::string &skills_path,
                                           nlohmann::json &summary) {
    Rng rng(seed ^ 0x5E7E);
    const World w = world_make(ix, rng);
    const size_t nc = w.country.size(), np = w.person.size();
    const size_t E = static_cast<size_t>(kFactItems);  // countries/people [0, E) are evaluated
    std::vector<Built> out;
    SkillWriter skills;

    // Other capitals as wrong answers: never the gold (every invented name is distinct), and the
    // same three for cloze and letter forms of one country, so both forms ask exactly the same
    // question.
    const LengthIndex capital_len(w.capital);
    auto wrong_capitals = [&](size_t c) {
        return draw_near_length(rng, w.capital, capital_len, w.capital[c], 3);
    };
    const std::vector<std::string> letter_metrics = {"acc", "brier_score", "correct_choice_prob",
                                                     "nll", "bits_per_byte"};
    Built cloze, letter, compose;
    cloze.name = "facts_cloze";
    letter.name = "facts_letter";
    compose.name = "facts_compose";
    for (size_t c = 0; c < E; ++c) {
        std::vector<std::string> others = wrong_capitals(c);
        nlohmann::json d = mc_doc(rng, "country:" + std::to_string(c),
                                  "The capital of " + w.country[c] + " is", w.capital[c], others);
        d["country"] = w.country[c];
        cloze.docs.push_back(d);
        std::string block;
        std::vector<std::string> options;
        size_t gold = options_block(rng, w.capital[c], others, block, options);
        letter.docs.push_back(
            {{"id", "country:" + std::to_string(c)},
             {"country", w.country[c]},
             {"options", options},
             {"prompt", letter_question("What is the capital of " + w.country[c] + "?", block)},
             {"answer", gold}});
    }
    for (size_t p = 0; p < E; ++p) {
        const size_t c = w.birth[p];
        nlohmann::json d =
            mc_doc(rng, "person:" + std::to_string(p),
                   "The capital of the country where " + w.person[p] + " was born is", w.capital[c],
                   wrong_capitals(c));
        d["person"] = w.person[p];
        d["country"] = w.country[c];
        compose.docs.push_back(d);
    }
    for (Built *b : {&cloze, &letter, &compose})
        b->stats["candidates"] = static_cast<int64_t>(b->docs.size());
    const std::string world_note = "a seeded invented world of " + std::to_string(nc) +
                                   " countries and " + std::to_string(np) +
                                   " people; every capital and birth country is "
                                   "stated 100-200 times in the prose of skills.jsonl";
    SpecInfo si;
    si.name = cloze.name;
    si.title = "Invented capitals, cloze form";
    si.source = world_note +
                "; \"The capital of X is\" -> X's capital vs 3 other capitals of the "
                "nearest length";
    si.licence = "generated";
    si.heldout =
        "the frame \"The capital of X is\" never occurs in training (the facts do, in 10 "
        "other frames); the same 500 countries and options as facts_letter";
    si.chance = "0.25 (4 choices)";
    cloze.spec = spec_toml(si, cloze.stats);
    si = SpecInfo{};
    si.name = letter.name;
    si.description = std::string(kMmluHeader) + "\n\n";
    si.doc_to_choice_list = {"A", "B", "C", "D"};
    si.metrics = letter_metrics;  // acc_norm is acc when every choice is one letter
    si.title = "Invented capitals, MMLU letter form";
    si.source = world_note +
                "; \"Question: What is the capital of X?\\nA. ...\\nD. ...\\nAnswer:\" -> "
                "the gold option's letter (the options are facts_cloze's choices)";
    si.licence = "generated";
    si.heldout =
        "these countries are never asked in letter form in training; training has letter "
        "questions about " +
        std::to_string(kTrainCountries) +
        " other countries and many "
        "passages with letter choices";
    si.chance = "0.25 (4 letters)";
    letter.spec = spec_toml(si, letter.stats);
    si = SpecInfo{};
    si.name = compose.name;
    si.title = "Invented facts composed: a person's birth country's capital";
    si.source = world_note +
                "; \"The capital of the country where P was born is\" -> the capital "
                "of P's birth country vs 3 other capitals";
    si.licence = "generated";
    si.heldout =
        "for these people only the two single facts appear in training; the composed "
        "statement appears for " +
        std::to_string(kTrainPeople) + " other people";
    si.chance = "0.25 (4 choices)";
    compose.spec = spec_toml(si, compose.stats);

    // Passages with letter choices: evaluation items first, training passages never repeat them.
    Built passages;
    passages.name = "passage_letter";
    std::unordered_set<std::string> eval_passages;
    while (static_cast<int64_t>(passages.docs.size()) < items) {
        Passage p = passage_make(rng);
        if (!eval_passages.insert(p.passage + "|" + p.question).second) continue;
        std::string block;
        std::vector<std::string> options;
        size_t gold = options_block(rng, p.answer, p.others, block, options);
        passages.docs.push_back({{"id", "passage:" + std::to_string(passages.docs.size())},
                                 {"prompt", passage_prompt(p, block)},
                                 {"options", options},
                                 {"answer", gold}});
    }
    passages.stats["candidates"] = static_cast<int64_t>(passages.docs.size());
    si = SpecInfo{};
    si.name = passages.name;
    si.doc_to_choice_list = {"A", "B", "C", "D"};
    si.metrics = letter_metrics;
    si.title = "Passages with letter choices (the answer is in the passage)";
    si.source =
        "seeded generator: 2-4 sentences about people and things, a question, four options "
        "-> the gold option's letter";
    si.licence = "generated";
    si.heldout = "no (passage, question) pair of the evaluation appears in skills.jsonl";
    si.chance = "0.25 (4 letters)";
    passages.spec = spec_toml(si, passages.stats);

    // Arithmetic.
    const PairSet two = eval_pairs(rng, 10, 99, items), three = eval_pairs(rng, 100, 999, items);
    Built add2 = arithmetic_task("arith_add2", 2, two, rng);
    Built add3 = arithmetic_task("arith_add3", 3, three, rng);

    // ---- skills.jsonl ----
    // Facts in prose: every statement 100-200 times, shuffled into paragraphs of 3-8 sentences.
    std::vector<std::string> statements;
    for (size_t c = 0; c < nc; ++c)
        for (uint64_t r = 0, n = 100 + rng.below(101); r < n; ++r)
            statements.push_back(fill(kCapitalFrames[rng.below(kCapitalFrames.size())],
                                      w.country[c], w.capital[c], ""));
    for (size_t p = 0; p < np; ++p) {
        const size_t c = w.birth[p];
        for (uint64_t r = 0, n = 100 + rng.below(101); r < n; ++r)
            statements.push_back(
                fill(kBirthFrames[rng.below(kBirthFrames.size())], w.country[c], "", w.person[p]));
        if (p < E) continue;
        for (uint64_t r = 0, n = 40 + rng.below(41); r < n; ++r)
            statements.push_back(fill(kComposedFrames[rng.below(kComposedFrames.size())],
                                      w.country[c], w.capital[c], w.person[p]));
    }
    shuffle(rng, statements);
    for (size_t i = 0; i < statements.size();) {
        size_t n = std::min(statements.size() - i, static_cast<size_t>(3 + rng.below(6)));
        std::string doc;
        for (size_t k = 0; k < n; ++k) doc += (k ? " " : "") + statements[i + k];
        skills.add("skills_facts", doc);
        i += n;
    }
    // Letter-form questions about the training countries (each asked 8 times with fresh options)
    // and people, in MMLU-style documents of 2-5 answered questions.
    std::vector<std::string> questions;
    for (size_t c = E; c < nc; ++c)
        for (int r = 0; r < 8; ++r) {
            std::string block;
            std::vector<std::string> options;
            size_t g = options_block(rng, w.capital[c], wrong_capitals(c), block, options);
            questions.push_back(
                letter_question("What is the capital of " + w.country[c] + "?", block) + " " +
                kLetters[g]);
        }
    for (size_t p = E; p < np; ++p)
        for (int r = 0; r < 4; ++r) {
            std::string block;
            std::vector<std::string> options;
            const size_t c = w.birth[p];
            size_t g =
                options_block(rng, w.country[c], draw_distinct(rng, w.country, 3, {w.country[c]}),
                              block, options);
            questions.push_back(
                letter_question("In which country was " + w.person[p] + " born?", block) + " " +
                kLetters[g]);
        }
    shuffle(rng, questions);
    for (size_t i = 0; i < questions.size();) {
        size_t n = std::min(questions.size() - i, static_cast<size_t>(2 + rng.below(4)));
        std::string doc = kMmluHeader;
        for (size_t k = 0; k < n; ++k) doc += "\n\n" + questions[i + k];
        skills.add("skills_letters", doc);
        i += n;
    }
    // The remaining budget: 40% passages with letter choices, 60% arithmetic.
    const int64_t used = skills.bytes("skills_facts") + skills.bytes("skills_letters");
    if (skills_bytes < used + 1'000'000)
        return Status::error("the skills need at least " + std::to_string(used / 1'000'000 + 2) +
                             " MB (the facts alone take " + std::to_string(used / 1'000'000) +
                             " MB at 100-200 statements each); raise --skills-mb");
    const int64_t rest = skills_bytes - used;
    const int64_t passage_goal = skills.bytes("skills_letters") + rest * 2 / 5;
    while (skills.bytes("skills_letters") < passage_goal) {
        std::string doc;
        const uint64_t n = 1 + rng.below(3);
        for (uint64_t k = 0; k < n; ++k) {
            Passage p = passage_make(rng);
            if (eval_passages.count(p.passage + "|" + p.question)) continue;
            std::string block;
            std::vector<std::string> options;
            size_t g = options_block(rng, p.answer, p.others, block, options);
            doc += (doc.empty() ? "" : "\n\n") + passage_prompt(p, block) + " " + kLetters[g];
        }
        if (!doc.empty()) skills.add("skills_letters", doc);
    }
    arithmetic_skills(rng, two, three, rest - rest * 2 / 5, skills);
    EM_TRY(file_write_atomic(skills_path, skills.text));

    summary = nlohmann::json::object();
    int64_t total = 0;
    for (const auto &[src, v] : skills.by_source) {
        summary[src] = {{"documents", v.first}, {"bytes", v.second}};
        total += v.second;
    }
    summary["bytes"] = total;
    summary["countries"] = nc;
    summary["people"] = np;
    for (Built *b : {&cloze, &letter, &compose, &passages, &add2, &add3})
        out.push_back(std::move(*b));
    return out;
}

}  // namespace em::suite
