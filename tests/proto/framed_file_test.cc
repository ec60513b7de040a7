// The frame around checkpoint and model payloads, against real files: every kind of damage is
// rejected with a UsageError that starts with the path and names the problem.
#include "proto/framed_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tests/temp_dir.h"

namespace dpmlp {
namespace {

using testing_util::TempDir;

// The message of the UsageError that ReadFramedFile (or PeekFramedKind, without `kind`) throws.
std::string Rejection(const std::string& path, const FramedKind* kind) {
  try {
    if (kind != nullptr) {
      ReadFramedFile(path, *kind);
    } else {
      PeekFramedKind(path);
    }
  } catch (const Error& e) {
    if (e.code() != kExitUsage) return "exit code " + std::to_string(e.code()) + ": " + e.what();
    return e.what();
  }
  return "accepted";
}

// Writes `bytes` raw to `path`, expects reading it as a checkpoint and peeking at it to fail with a
// message that starts with the path and contains `fragment`.
void ExpectRejected(const std::string& path, const std::string& bytes,
                    const std::string& fragment) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;  // Fast: no fsync per case.
  const FramedKind kind = FramedKind::kCheckpoint;
  for (const std::string& msg : {Rejection(path, &kind), Rejection(path, nullptr)}) {
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << "expected '" << fragment << "' in: " << msg;
  }
}

std::string SamplePayload() {
  std::string payload(300, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + 3);
  return payload;
}

TEST(FramedFileTest, HeaderLayoutIsLittleEndian) {
  const std::string framed = FrameBytes(FramedKind::kCheckpoint, "hello");
  const std::string expected = std::string("DPMLPCKP") +                             // magic
                               std::string("\x01\x00\x00\x00", 4) +                  // version 1
                               std::string("\x05\x00\x00\x00\x00\x00\x00\x00", 8) +  // length
                               std::string("\x86\xa6\x10\x36", 4) +  // crc32("hello") = 0x3610a686
                               "hello";
  EXPECT_EQ(framed, expected);
  EXPECT_EQ(FrameBytes(FramedKind::kModel, "").substr(0, 8), "DPMLPMDL");
  EXPECT_EQ(FrameBytes(FramedKind::kModel, "").size(), kFramedHeaderBytes);
}

TEST(FramedFileTest, RoundTripsBothKinds) {
  TempDir dir;
  for (const std::string& payload : {std::string(), std::string("a\0b", 3), SamplePayload()}) {
    WriteFramedFile(dir.File("c"), FramedKind::kCheckpoint, payload);
    WriteFramedFile(dir.File("m"), FramedKind::kModel, payload);
    EXPECT_EQ(ReadFramedFile(dir.File("c"), FramedKind::kCheckpoint), payload);
    EXPECT_EQ(ReadFramedFile(dir.File("m"), FramedKind::kModel), payload);
    EXPECT_EQ(PeekFramedKind(dir.File("c")), FramedKind::kCheckpoint);
    EXPECT_EQ(PeekFramedKind(dir.File("m")), FramedKind::kModel);
  }
}

TEST(FramedFileTest, RejectsOtherKindByMagic) {
  TempDir dir;
  WriteFramedFile(dir.File("model"), FramedKind::kModel, "m");
  const FramedKind checkpoint = FramedKind::kCheckpoint;
  const std::string msg = Rejection(dir.File("model"), &checkpoint);
  EXPECT_EQ(msg.rfind(dir.File("model") + ": wrong magic (not a dpmlp checkpoint file)", 0), 0u)
      << msg;
  EXPECT_NE(msg.find("it is a dpmlp model file"), std::string::npos) << msg;

  WriteFramedFile(dir.File("ckpt"), FramedKind::kCheckpoint, "c");
  const FramedKind model = FramedKind::kModel;
  EXPECT_EQ(Rejection(dir.File("ckpt"), &model).find("wrong magic (not a dpmlp model file)"),
            dir.File("ckpt").size() + 2);
}

TEST(FramedFileTest, RejectsForeignFiles) {
  TempDir dir;
  ExpectRejected(dir.File("empty"), "", "empty file");
  ExpectRejected(dir.File("text"), "hi\n", "wrong magic (not a dpmlp checkpoint");
  ExpectRejected(dir.File("long_text"), std::string(100, 'x'), "wrong magic (not a dpmlp");
  EXPECT_NE(Rejection(dir.File("text"), nullptr).find("not a dpmlp checkpoint or model file"),
            std::string::npos);
}

TEST(FramedFileTest, MissingFileIsUsageErrorNamingPath) {
  TempDir dir;
  const FramedKind kind = FramedKind::kCheckpoint;
  const std::string msg = Rejection(dir.File("missing"), &kind);
  EXPECT_EQ(msg.rfind(dir.File("missing") + ": cannot open", 0), 0u) << msg;
}

TEST(FramedFileTest, RejectsTruncationAtEveryLength) {
  TempDir dir;
  const std::string good = FrameBytes(FramedKind::kCheckpoint, SamplePayload());
  for (size_t size = 1; size < good.size(); ++size) {
    SCOPED_TRACE("size " + std::to_string(size));
    ExpectRejected(dir.File("cut"), good.substr(0, size),
                   size < kFramedHeaderBytes ? "truncated header" : "truncated payload");
  }
}

TEST(FramedFileTest, RejectsEveryFlippedHeaderByte) {
  TempDir dir;
  const std::string good = FrameBytes(FramedKind::kCheckpoint, SamplePayload());
  for (size_t offset = 0; offset < kFramedHeaderBytes; ++offset) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    std::string bad = good;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x80);
    const char* fragment = offset < 8    ? "wrong magic (not a dpmlp checkpoint"
                           : offset < 12 ? "unsupported format version"
                           : offset < 17 ? "truncated payload"  // length grew by < 2^40
                           : offset < 20 ? "absurd payload length"
                                         : "CRC mismatch (corrupt payload)";
    ExpectRejected(dir.File("flip"), bad, fragment);
  }
}

TEST(FramedFileTest, RejectsEveryFlippedPayloadByte) {
  TempDir dir;
  const std::string good = FrameBytes(FramedKind::kCheckpoint, SamplePayload());
  for (size_t offset = kFramedHeaderBytes; offset < good.size(); ++offset) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    std::string bad = good;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x01);
    ExpectRejected(dir.File("flip"), bad, "CRC mismatch (corrupt payload)");
  }
}

TEST(FramedFileTest, RejectsBadLengthsAndVersion) {
  TempDir dir;
  const std::string good = FrameBytes(FramedKind::kCheckpoint, "hello");

  std::string absurd = good;
  absurd.replace(12, 8, std::string("\x00\x00\x00\x00\x00\x00\x00\x80", 8));
  ExpectRejected(dir.File("absurd"), absurd,
                 "absurd payload length 9223372036854775808 (file has 29 bytes)");

  std::string shorter = good;
  shorter[12] = 4;  // The file holds one byte more than declared.
  ExpectRejected(dir.File("short_length"), shorter, "trailing bytes");
  ExpectRejected(dir.File("appended"), good + "x", "trailing bytes");

  std::string version = good;
  version[8] = 2;
  ExpectRejected(dir.File("version"), version, "unsupported format version 2");
}

TEST(FramedFileTest, WriteFailureIsIoError) {
  TempDir dir;
  WriteFileAtomic(dir.File("file"), "x");
  try {
    WriteFramedFile(dir.File("file/ckpt"), FramedKind::kCheckpoint, "p");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitIo);
    EXPECT_NE(std::string(e.what()).find(dir.File("file/ckpt")), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dpmlp
