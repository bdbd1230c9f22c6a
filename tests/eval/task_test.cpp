// Task files: templates, few-shot contexts with lm-eval's delimiters, and malformed files (bad JSON
// line, gold index out of range, missing field, empty choices) failing with one line that names
// the file and line, through the library and through the `emergence` binary.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "eval/eval.h"
#include "eval/task.h"
#include "fixtures.h"

namespace em {
namespace {

using testing::write_file;

class TaskFiles : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::temp_dir("tasks"); }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string spec(const std::string &name, const std::string &body) {
        std::string p = dir_ + "/" + name + ".toml";
        write_file(p, body);
        return p;
    }
    std::string dir_;
};

const char *kMcSpec = R"(output_type = "multiple_choice"
docs = "mc.jsonl"
doc_to_text = "Question: {{question}}\nAnswer:"
doc_to_target = "{{answer}}"
doc_to_choice = "{{choices}}"
)";

TEST_F(TaskFiles, RendersMultipleChoiceWithLmEvalDefaults) {
    write_file(dir_ + "/mc.jsonl",
               "{\"question\": \"2+2?\", \"choices\": [\"3\", \"4\"], \"answer\": 1}\n"
               "\n"
               "{\"question\": \"capital?\", \"choices\": [\"Paris\", \"Rome\", \"Oslo\"], "
               "\"answer\": \"Oslo\"}\n");
    auto t = task_load(spec("mc", kMcSpec));
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    const Task &task = t.value();
    EXPECT_EQ(task.spec.name, "mc");
    EXPECT_EQ(task.spec.target_delimiter, " ");
    EXPECT_EQ(task.spec.fewshot_delimiter, "\n\n");
    ASSERT_EQ(task.instances.size(), 2u);
    EXPECT_EQ(task.instances[0].context, "Question: 2+2?\nAnswer:");
    EXPECT_EQ(task.instances[0].gold, 1);
    EXPECT_EQ(task.instances[1].gold, 2);  // given as the choice's text
    EXPECT_EQ(task.instances[1].line, 3);  // blank lines are skipped but counted
    EXPECT_EQ(task.spec.metrics, task_default_metrics(OutputType::multiple_choice));
}

TEST_F(TaskFiles, GenerationIsUnfilteredUnlessTheSpecSaysSo) {
    write_file(dir_ + "/gen.jsonl", "{\"a\": 2, \"b\": 3, \"sum\": \"5\"}\n");
    const std::string body =
        "output_type = \"generate_until\"\ndocs = \"gen.jsonl\"\n"
        "doc_to_text = \"{{a}} + {{b}} =\"\ndoc_to_target = \" {{sum}}\"\n";
    auto plain = task_load(spec("gen", body));
    ASSERT_TRUE(plain.is_ok()) << plain.status().message();
    EXPECT_EQ(plain.value().spec.gen_filter, GenFilter::none);  // lm-eval's take_first
    EXPECT_TRUE(generation_matches(GenFilter::none, " 5", plain.value().instances[0].target));
    EXPECT_FALSE(generation_matches(GenFilter::none, "5", plain.value().instances[0].target));
    auto stripped = task_load(spec("gen2", body + "generation_filter = \"strip\"\n"));
    ASSERT_TRUE(stripped.is_ok()) << stripped.status().message();
    EXPECT_EQ(stripped.value().spec.gen_filter, GenFilter::strip);
}

TEST_F(TaskFiles, FewShotContextIsDescriptionExamplesThenDocument) {
    std::string docs;
    for (int i = 0; i < 6; ++i)
        docs += "{\"a\": " + std::to_string(i) + ", \"b\": " + std::to_string(10 * i) +
                ", \"sum\": \"" + std::to_string(11 * i) + "\"}\n";
    write_file(dir_ + "/add.jsonl", docs);
    write_file(dir_ + "/add_train.jsonl",
               "{\"a\": 1, \"b\": 1, \"sum\": \"2\"}\n"
               "{\"a\": 2, \"b\": 2, \"sum\": \"4\"}\n");
    auto t = task_load(spec("add", R"(output_type = "generate_until"
docs = "add.jsonl"
fewshot_docs = "add_train.jsonl"
num_fewshot = 2
description = "Add.\n\n"
doc_to_text = "{{a}}+{{b}}="
doc_to_target = "{{sum}}"
target_delimiter = ""
until = ["\n"]
)"));
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    const std::string ctx = t.value().instances[3].context;
    // Both examples, in a seeded order, each "text + target_delimiter + target", joined and
    // closed by the few-shot delimiter.
    EXPECT_TRUE(ctx == "Add.\n\n1+1=2\n\n2+2=4\n\n3+30=" ||
                ctx == "Add.\n\n2+2=4\n\n1+1=2\n\n3+30=")
        << ctx;
    EXPECT_EQ(t.value().instances[3].target, "33");
    // Deterministic: loading again gives the same contexts.
    auto again = task_load(dir_ + "/add.toml");
    for (size_t i = 0; i < 6; ++i)
        EXPECT_EQ(again.value().instances[i].context, t.value().instances[i].context);
    // From the evaluated split itself, a document is never its own example.
    auto self = task_load(spec("self", R"(output_type = "generate_until"
docs = "add.jsonl"
num_fewshot = 5
doc_to_text = "{{a}}+{{b}}="
doc_to_target = "{{sum}}"
)"));
    ASSERT_TRUE(self.is_ok()) << self.status().message();
    for (const auto &in : self.value().instances) {
        std::string own = std::to_string(in.doc_id) + "+" + std::to_string(10 * in.doc_id) + "=";
        EXPECT_EQ(in.context.find(own), in.context.size() - own.size());  // only at the end
    }
}

// As lm-eval: a rendered target of digits is the gold index even when a choice has that text; the
// description is a template; a few-shot example with an empty target adds only its text.
TEST_F(TaskFiles, GoldDescriptionAndEmptyTargetsAsLmEval) {
    write_file(dir_ + "/num.jsonl",
               "{\"q\": \"which?\", \"topic\": \"numbers\", \"choices\": [\"2\", \"0\", "
               "\"1\"], \"answer\": \"1\"}\n");
    auto t = task_load(spec("num", R"(output_type = "multiple_choice"
docs = "num.jsonl"
description = "About {{topic}}.\n"
doc_to_text = "{{q}}"
doc_to_target = "{{answer}}"
doc_to_choice = "{{choices}}"
)"));
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    EXPECT_EQ(t->instances[0].gold, 1);  // index 1 ("0"), not the choice "1" (index 2)
    EXPECT_EQ(t->instances[0].context, "About numbers.\nwhich?");

    write_file(dir_ + "/gen.jsonl",
               "{\"p\": \"A\", \"t\": \"\"}\n{\"p\": \"B\", \"t\": \"\"}\n"
               "{\"p\": \"C\", \"t\": \"c\"}\n");
    auto g = task_load(spec("gen", R"(output_type = "generate_until"
docs = "gen.jsonl"
num_fewshot = 2
doc_to_text = "{{p}}"
doc_to_target = "{{t}}"
)"));
    ASSERT_TRUE(g.is_ok()) << g.status().message();
    const std::string ctx = g->instances[2].context;  // its examples are A and B, targets empty
    EXPECT_TRUE(ctx == "ABC" || ctx == "BAC") << ctx;
}

TEST_F(TaskFiles, MinimalPairsAsTemplatedChoices) {
    write_file(dir_ + "/pairs.jsonl", "{\"good\": \"He is here.\", \"bad\": \"He are here.\"}\n");
    auto t = task_load(spec("pairs", R"(output_type = "multiple_choice"
docs = "pairs.jsonl"
doc_to_text = ""
doc_to_target = "0"
doc_to_choice = ["{{good}}", "{{bad}}"]
target_delimiter = ""
)"));
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    EXPECT_EQ(t.value().instances[0].choices,
              (std::vector<std::string>{"He is here.", "He are here."}));
    EXPECT_EQ(t.value().instances[0].gold, 0);
}

struct BadCase {
    const char *name, *docs, *want1, *want2;
};

TEST_F(TaskFiles, MalformedFilesGiveOneLineNamingFileAndLine) {
    const BadCase cases[] = {
        {"bad_json", "{\"question\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 0}\n{oops\n",
         "mc.jsonl:2", "invalid JSON"},
        {"gold_range",
         "{\"question\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 0}\n"
         "{\"question\": \"b\", \"choices\": [\"x\", \"y\"], \"answer\": 2}\n",
         "mc.jsonl:2", "gold index 2 is out of range for 2 choices"},
        {"missing_field", "{\"choices\": [\"x\", \"y\"], \"answer\": 0}\n", "mc.jsonl:1",
         "field 'question' is missing"},
        {"empty_choices", "{\"question\": \"a\", \"choices\": [], \"answer\": 0}\n", "mc.jsonl:1",
         "the list of choices is empty"},
        {"empty_choice", "{\"question\": \"a\", \"choices\": [\"x\", \"\"], \"answer\": 0}\n",
         "mc.jsonl:1", "choice 1 is empty"},
        {"not_object", "[1, 2]\n", "mc.jsonl:1", "expected a JSON object"},
        {"bad_target", "{\"question\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": \"z\"}\n",
         "mc.jsonl:1", "is not one of the choices"},
    };
    for (const auto &c : cases) {
        write_file(dir_ + "/mc.jsonl", c.docs);
        auto t = task_load(spec("mc", kMcSpec));
        ASSERT_FALSE(t.is_ok()) << c.name;
        const std::string msg = t.status().message();
        EXPECT_NE(msg.find(c.want1), std::string::npos) << c.name << ": " << msg;
        EXPECT_NE(msg.find(c.want2), std::string::npos) << c.name << ": " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name << ": one line";
    }
}

TEST_F(TaskFiles, MalformedSpecsAreRejected) {
    write_file(dir_ + "/mc.jsonl",
               "{\"question\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 0}\n");
    struct {
        const char *body, *want;
    } cases[] = {
        {"output_type = \"mc\"\ndocs = \"mc.jsonl\"\n", "output_type \"mc\" is not one of"},
        {"output_type = \"multiple_choice\"\n", "key 'docs' is missing"},
        {"output_type = \"multiple_choice\"\ndocs = \"mc.jsonl\"\ndoc_to_text = \"x\"\n"
         "doc_to_target = \"0\"\n",
         "key 'doc_to_choice' is missing"},
        {"output_type = \"generate_until\"\ndocs = \"mc.jsonl\"\ndoc_to_text = \"x\"\n"
         "doc_to_target = \"y\"\nmetrics = [\"acc\"]\n",
         "metric 'acc' is not available for generate_until"},
        {"output_type = \"multiple_choice\"\ndocs = \"nope.jsonl\"\ndoc_to_text = \"x\"\n"
         "doc_to_target = \"0\"\ndoc_to_choice = \"{{c}}\"\n",
         "nope.jsonl not found"},
        {"output_type = \"multiple_choice\"\ndocs = \"mc.jsonl\"\ncolour = 1\n",
         "unknown key 'colour'"},
    };
    for (const auto &c : cases) {
        auto t = task_load(spec("s", c.body));
        ASSERT_FALSE(t.is_ok()) << c.body;
        EXPECT_NE(t.status().message().find(c.want), std::string::npos) << t.status().message();
        EXPECT_NE(t.status().message().find("s.toml"), std::string::npos) << t.status().message();
    }
}

std::pair<int, std::string> run(const std::string &cmd) {
    std::string out;
    FILE *p = ::popen((cmd + " 2>&1").c_str(), "r");
    std::array<char, 4096> buf;
    while (p && std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    int rc = p ? ::pclose(p) : -1;
    return {rc, out};
}

TEST_F(TaskFiles, CliReportsTheFileAndLine) {
    write_file(dir_ + "/mc.jsonl",
               "{\"question\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 0}\n"
               "{\"question\": \"b\", \"choices\": [\"x\", \"y\"], \"answer\": 5}\n");
    std::string s = spec("mc", kMcSpec);
    auto [rc, out] = run(std::string(EM_BINARY) + " tasks check " + s);
    EXPECT_NE(rc, 0);
    EXPECT_EQ(out, "emergence: error: " + dir_ +
                       "/mc.jsonl:2: gold index 5 is out of range for 2 "
                       "choices (use 0..1)\n");
    // eval reads the tasks before the model, so the same line comes first.
    auto [rc2, out2] = run(std::string(EM_BINARY) +
                           " eval --checkpoint none.safetensors "
                           "--tokenizer none.model --tasks " +
                           dir_);
    EXPECT_NE(rc2, 0);
    EXPECT_EQ(out2, out);
    write_file(dir_ + "/mc.jsonl",
               "{\"question\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 0}\n");
    auto [rc3, out3] = run(std::string(EM_BINARY) + " tasks check " + dir_);
    EXPECT_EQ(rc3, 0) << out3;
    EXPECT_NE(out3.find("mc"), std::string::npos);
}

}  // namespace
}  // namespace em
