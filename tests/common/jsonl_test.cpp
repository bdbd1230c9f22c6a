// The JSON-lines reader: blank lines skipped, line numbers and text kept, and every complaint one
// line of the form "<file>:<line>: <what is wrong> (<fix>)", streamed or from memory alike.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/jsonl.h"

namespace em {
namespace {

const char *kFix = "one {\"text\": ...} object per line";

struct Read {
    std::vector<int64_t> lines;
    std::vector<std::string> texts;
    std::vector<nlohmann::json> records;
    Status status;
};

Read read_all(JsonlReader &r) {
    Read out;
    nlohmann::json j;
    for (;;) {
        Result<bool> more = r.next(j);
        if (!more.is_ok()) {
            out.status = more.status();
            return out;
        }
        if (!*more) return out;
        out.lines.push_back(r.line());
        out.texts.emplace_back(r.line_text());
        out.records.push_back(j);
    }
}

// Reads `text` both ways: from memory and streamed from a file named like `name`.
std::vector<Read> read_both(const std::string &name, const std::string &text) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("emergence_jsonl_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / name).string();
    std::ofstream(path, std::ios::binary) << text;
    std::vector<Read> out;
    JsonlReader mem;
    mem.open_text(path, text, kFix);
    out.push_back(read_all(mem));
    JsonlReader file;
    EXPECT_TRUE(file.open(path, kFix).is_ok());
    out.push_back(read_all(file));
    std::filesystem::remove_all(dir);
    return out;
}

TEST(Jsonl, SkipsBlankLinesAndKeepsLineNumbersAndText) {
    for (const Read &r : read_both(
             "a.jsonl", "{\"text\": \"one\"}\n\n  \t\r\n{\"text\": \"two\", \"n\": 2}\r\n{}")) {
        ASSERT_TRUE(r.status.is_ok()) << r.status.message();
        EXPECT_EQ(r.lines, (std::vector<int64_t>{1, 4, 5}));
        ASSERT_EQ(r.records.size(), 3u);
        EXPECT_EQ(r.records[1]["text"], "two");
        EXPECT_EQ(r.records[1]["n"], 2);
        EXPECT_EQ(r.texts[0], "{\"text\": \"one\"}");
        EXPECT_EQ(r.texts[1], "{\"text\": \"two\", \"n\": 2}\r");
    }
    for (const Read &r : read_both("empty.jsonl", "")) {
        EXPECT_TRUE(r.status.is_ok());
        EXPECT_TRUE(r.records.empty());
    }
}

TEST(Jsonl, MalformedLinesNameFileLineAndFix) {
    const struct {
        const char *text, *want;
    } cases[] = {
        {"{\"text\": \"a\"}\n{oops\n", "b.jsonl:2: invalid JSON at column 2: "},
        {"\n[1, 2]\n", "b.jsonl:2: expected a JSON object ("},
        {"{\"text\": \"a\"}\n\n\"just text\"\n", "b.jsonl:3: expected a JSON object ("},
    };
    for (const auto &c : cases)
        for (const Read &r : read_both("b.jsonl", c.text)) {
            ASSERT_FALSE(r.status.is_ok()) << c.want;
            const std::string &m = r.status.message();
            EXPECT_NE(m.find(c.want), std::string::npos) << m;
            EXPECT_EQ(m.substr(m.size() - std::string(kFix).size() - 2),
                      std::string("(") + kFix + ")")
                << m;
            EXPECT_EQ(m.find('\n'), std::string::npos) << m;
        }
}

TEST(Jsonl, ErrorsAboutARecordUseTheSameForm) {
    JsonlReader r;
    r.open_text("c.jsonl", "\n{\"txt\": 1}\n", kFix);
    nlohmann::json j;
    ASSERT_TRUE(r.next(j).value());
    EXPECT_EQ(r.where(), "c.jsonl:2");
    EXPECT_EQ(r.error("no string \"text\" field").message(),
              std::string("c.jsonl:2: no string \"text\" field (") + kFix + ")");
    EXPECT_EQ(r.error("bad", "do this").message(), "c.jsonl:2: bad (do this)");
    EXPECT_FALSE(r.next(j).value());
}

TEST(Jsonl, AMissingFileNamesItselfAndTheFix) {
    JsonlReader r;
    Status st = r.open("/nonexistent/d.jsonl", "build it first");
    ASSERT_FALSE(st.is_ok());
    EXPECT_EQ(st.message().rfind("/nonexistent/d.jsonl: cannot open", 0), 0u) << st.message();
    EXPECT_NE(st.message().find("(build it first)"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace em
