// UTF-8 checks, the corpus normalization and the DEFLATE decoder.
#include <gtest/gtest.h>

#include <cstdio>

#include "data/inflate.h"
#include "data/text.h"
#include "fixtures.h"

namespace em {
namespace {

TEST(Utf8, ValidAndInvalidSequences) {
    EXPECT_TRUE(utf8_valid("plain ascii"));
    EXPECT_TRUE(utf8_valid("caf\xC3\xA9 \xE6\x98\xA5 \xF0\x9F\x98\x80"));
    EXPECT_FALSE(utf8_valid("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(utf8_valid("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(utf8_valid("\xF4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(utf8_valid("abc\xE6\x98"));       // truncated
    EXPECT_FALSE(utf8_valid("\x80"));              // lone continuation byte
}

TEST(Utf8, ErrorNamesFileLineAndColumn) {
    Utf8Error e;
    ASSERT_FALSE(
        utf8_valid("one\ntwo\nthr\xE9"
                   "e",
                   &e));
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 4);
    EXPECT_EQ(e.byte, 0xE9);
    Status st = utf8_check(
        "one\ntwo\nthr\xE9"
        "e",
        "notes.txt");
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find("notes.txt:3:4: invalid UTF-8 byte 0xE9"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("iconv"), std::string::npos);
}

TEST(Utf8, RepairReplacesEachBadByte) {
    int64_t n = 0;
    std::string r = utf8_repair(
        "a\xFF"
        "b\xC3",
        &n);
    EXPECT_EQ(r,
              "a\xEF\xBF\xBD"
              "b\xEF\xBF\xBD");
    EXPECT_EQ(n, 2);
    EXPECT_TRUE(utf8_valid(r));
}

TEST(Normalize, Rules) {
    EXPECT_EQ(text_normalize("a\r\nb\rc"), "a\nb\nc");
    EXPECT_EQ(text_normalize("\xEF\xBB\xBFhello"), "hello");    // BOM
    EXPECT_EQ(text_normalize("a\x01\x1b[31mb\x7f"), "a[31mb");  // controls removed
    EXPECT_EQ(text_normalize("tab\tkept"), "tab\tkept");
    EXPECT_EQ(text_normalize("x\xC2\xA0y"), "x y");  // NBSP
    EXPECT_EQ(text_normalize("x\xC2\x85y"), "xy");   // C1 control
    EXPECT_EQ(text_normalize("line  \t\nnext   "), "line\nnext");
    EXPECT_EQ(text_normalize("\n\n  \na\n\n\n\n b\n\n"), "a\n\n b");
    EXPECT_EQ(text_normalize("p\xE2\x80\xA8q"), "p\nq");  // U+2028
    EXPECT_EQ(text_normalize("   \n \t \n"), "");
}

TEST(Normalize, IsIdempotent) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
        std::string s = testing::english_text(seed, 5) + " \r\n\n\n\t" +
                        testing::chinese_text(seed, 2) + "\x01  \n\xC2\xA0";
        std::string once = text_normalize(s);
        EXPECT_EQ(text_normalize(once), once);
    }
}

TEST(Text, BlocksKeepIndentation) {
    auto b = text_blocks("  first line\nsecond\n\n \t\n    verse one\n    verse two\n\nlast");
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0], "  first line\nsecond");
    EXPECT_EQ(b[1], "    verse one\n    verse two");
    EXPECT_EQ(b[2], "last");
    EXPECT_TRUE(text_blocks("\n\n").empty());
}

TEST(Text, CollapseAnsiHan) {
    EXPECT_EQ(text_collapse_spaces("  a \n\t b  "), "a b");
    EXPECT_EQ(text_strip_ansi("\x1b[32m\xE3\x80\x8A"
                              "x\x1b[m"),
              "\xE3\x80\x8A"
              "x");
    EXPECT_DOUBLE_EQ(text_han_fraction("春风 ab"), 0.5);
    EXPECT_EQ(utf8_length("春a"), 2);
}

// Compresses with the system's gzip; empty when it is not installed.
std::string gzip_of(const std::string &data, const std::string &dir, const char *level) {
    std::string in = dir + "/in.bin", out = dir + "/in.bin.gz";
    testing::write_file(in, data);
    std::string cmd = std::string("gzip -n -f ") + level + " " + in + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) return {};
    return testing::read_file(out);
}

TEST(Inflate, MatchesGzipOnStoredFixedAndDynamicBlocks) {
    std::string dir = testing::temp_dir("inflate");
    Rng r(7);
    std::string random_bytes(70000, '\0');
    for (auto &c : random_bytes) c = static_cast<char>(r.below(256));  // stored blocks
    std::string text;
    for (int i = 0; i < 400; ++i) text += testing::english_text(i, 3) + "\n";  // dynamic
    for (const std::string &data :
         {std::string(), std::string("hello, hello, hello"), text, random_bytes}) {
        std::string gz = gzip_of(data, dir, "-9");
        if (gz.empty()) GTEST_SKIP() << "gzip not installed";
        auto out = gzip_decompress(gz, "test.gz");
        ASSERT_TRUE(out.is_ok()) << out.status().message();
        EXPECT_EQ(*out, data);
    }
    // Two members back to back decode as their concatenation.
    std::string a = gzip_of("first ", dir, "-1"), b = gzip_of("second", dir, "-1");
    auto two = gzip_decompress(a + b, "two.gz");
    ASSERT_TRUE(two.is_ok()) << two.status().message();
    EXPECT_EQ(*two, "first second");
}

TEST(Inflate, RejectsTruncatedAndCorruptData) {
    std::string dir = testing::temp_dir("inflate_bad");
    std::string text;
    for (int i = 0; i < 200; ++i) text += testing::english_text(i, 2) + "\n";
    std::string gz = gzip_of(text, dir, "-6");
    if (gz.empty()) GTEST_SKIP() << "gzip not installed";
    auto cut = gzip_decompress(gz.substr(0, gz.size() / 2), "cut.gz");
    ASSERT_FALSE(cut.is_ok());
    EXPECT_NE(cut.status().message().find("cut.gz"), std::string::npos);
    std::string bad = gz;
    bad[bad.size() - 6] ^= 0x55;  // CRC-32 field
    auto crc = gzip_decompress(bad, "bad.gz");
    ASSERT_FALSE(crc.is_ok());
    EXPECT_NE(crc.status().message().find("CRC-32"), std::string::npos);
    EXPECT_FALSE(gzip_decompress("not gzip at all, no", "plain.txt").is_ok());
}

TEST(Inflate, ZlibStream) {
    // zlib framing of a stored block: header 78 01, BFINAL+stored, LEN/NLEN, data, Adler-32.
    std::string data = "Wikipedia";
    std::string z = "\x78\x01";
    z += '\x01';
    z += static_cast<char>(data.size());
    z += '\0';
    z += static_cast<char>(~data.size() & 0xFF);
    z += '\xFF';
    z += data;
    z += std::string("\x11\xE6\x03\x98", 4);  // Adler-32 of "Wikipedia"
    auto out = zlib_decompress(z, "block");
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ(*out, data);
    z[z.size() - 1] ^= 1;
    EXPECT_FALSE(zlib_decompress(z, "block").is_ok());
}

TEST(Inflate, Crc32KnownValue) {
    EXPECT_EQ(crc32_update(0, "123456789", 9), 0xCBF43926u);
}

}  // namespace
}  // namespace em
