// The file layer under injected faults: a failed or short write, a full disk, a failed fsync or
// rename each give one error naming the file, and never leave a file under its final name that
// is not complete (the old content stays, or there is none); the fault seam picks its call by
// operation, path pattern and count.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/fileio.h"
#include "tests/common/testing.h"

namespace em {
namespace {

using testing::TempDir;

// Every file in `dir` (recursively), by name.
std::vector<std::string> files_in(const std::string &dir) {
    std::vector<std::string> out;
    for (const auto &e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(FileFaults, EachOperationFailsCleanlyAndKeepsTheOldContent) {
    TempDir tmp("fileio_faults");
    const std::string path = tmp / "a.json";
    ASSERT_TRUE(file_write_atomic(path, "old\n").is_ok());
    const std::string big(300000, 'x');  // more than one write(2) may take
    struct Case {
        IoFault fault;
        const char *want;  // part of the message
    };
    const Case cases[] = {
        {{IoOp::open, "*", 1, 1, EACCES, false}, "a.json.tmp: cannot create: Permission denied"},
        {{IoOp::write, "*", 1, 1, ENOSPC, false},
         "a.json.tmp: write failed: No space left on device (free disk space and run again)"},
        {{IoOp::write, "*", 1, 1, ENOSPC, true}, "write failed: No space left on device"},
        {{IoOp::write, "*", 1, 1, EIO, true}, "write failed: Input/output error"},
        {{IoOp::fsync, "*", 1, 1, EIO, false}, "a.json.tmp: fsync failed: Input/output error"},
        {{IoOp::rename, "*", 1, 1, EXDEV, false}, "a.json: rename failed: Invalid cross-device"},
    };
    for (const Case &c : cases) {
        IoFaultScope scope(c.fault);
        Status s = file_write_atomic(path, big);
        ASSERT_FALSE(s.is_ok()) << c.want;
        EXPECT_EQ(io_fault_fired(), 1);
        EXPECT_NE(s.message().find(c.want), std::string::npos) << s.message();
        EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
        EXPECT_EQ(testing::read_file(path), "old\n") << c.want;
        EXPECT_EQ(files_in(tmp.path), std::vector<std::string>{"a.json"}) << c.want;
    }
    // Without a fault the same write goes through.
    ASSERT_TRUE(file_write_atomic(path, big).is_ok());
    EXPECT_EQ(testing::read_file(path), big);
}

TEST(FileFaults, StreamedFileFailingMidwayLeavesNothing) {
    TempDir tmp("fileio_stream");
    IoFaultScope scope({IoOp::write, "*/big.bin", 3, 1, ENOSPC, true});
    {
        AtomicFile f;
        ASSERT_TRUE(f.open(tmp / "big.bin").is_ok());
        const std::string chunk(1000, 'y');
        ASSERT_TRUE(f.write(chunk.data(), chunk.size()).is_ok());
        ASSERT_TRUE(f.write(chunk.data(), chunk.size()).is_ok());
        Status s = f.write(chunk.data(), chunk.size());
        ASSERT_FALSE(s.is_ok());
        EXPECT_NE(s.message().find("big.bin.tmp: write failed"), std::string::npos) << s.message();
    }  // abandoned without commit
    EXPECT_TRUE(files_in(tmp.path).empty());
}

TEST(FileFaults, PatternAndCountPickTheCall) {
    TempDir tmp("fileio_pick");
    // The second write to a state file fails; other files and the first state write do not.
    IoFaultScope scope({IoOp::write, "*/ckpt/state_*", 2, 1, ENOSPC, false});
    ASSERT_TRUE(dir_create(tmp / "ckpt").is_ok());
    EXPECT_TRUE(file_write_atomic(tmp / "ckpt/state_1.safetensors", "s").is_ok());
    EXPECT_TRUE(file_write_atomic(tmp / "ckpt/step_2.safetensors", "w").is_ok());
    EXPECT_FALSE(file_write_atomic(tmp / "ckpt/state_2.safetensors", "s").is_ok());
    EXPECT_TRUE(file_write_atomic(tmp / "ckpt/state_3.safetensors", "s").is_ok());  // times = 1
    EXPECT_EQ(io_fault_matches(), 3);
    EXPECT_EQ(io_fault_fired(), 1);
    EXPECT_FALSE(file_exists(tmp / "ckpt/state_2.safetensors"));

    // times = -1: a disk that stays full.
    io_fault_set({IoOp::write, "*.log", 1, -1, ENOSPC, false});
    EXPECT_FALSE(file_append_line(tmp / "x.log", "a").is_ok());
    EXPECT_FALSE(file_append_line(tmp / "x.log", "b").is_ok());
    EXPECT_EQ(io_fault_fired(), 2);
    io_fault_clear();
    EXPECT_TRUE(file_append_line(tmp / "x.log", "c").is_ok());
    EXPECT_EQ(testing::read_file(tmp / "x.log"), "c\n");
}

TEST(FileFaults, ShortAppendLeavesATornLastLineOnly) {
    TempDir tmp("fileio_append");
    const std::string log = tmp / "metrics.jsonl";
    ASSERT_TRUE(file_append_line(log, "{\"step\":1}").is_ok());
    {
        IoFaultScope scope({IoOp::write, "*/metrics.jsonl", 1, 1, ENOSPC, true});
        Status s = file_append_line(log, "{\"step\":2}");
        ASSERT_FALSE(s.is_ok());
        EXPECT_NE(s.message().find("metrics.jsonl: write failed: No space left on device"),
                  std::string::npos)
            << s.message();
    }
    // The complete line stays; what follows is a torn line without its newline, which a reader
    // of JSON lines recognises as the end of the log.
    const std::string text = testing::read_file(log);
    EXPECT_EQ(text.rfind("{\"step\":1}\n", 0), 0u) << text;
    EXPECT_NE(text.back(), '\n') << text;
}

}  // namespace
}  // namespace em
