#include "proto/framed_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace dpmlp {
namespace {

constexpr size_t kMagicBytes = 8;
constexpr size_t kVersionOffset = 8;
constexpr size_t kLengthOffset = 12;
constexpr size_t kCrcOffset = 20;
static_assert(kCrcOffset + 4 == kFramedHeaderBytes, "header layout");

// No dpmlp file comes near this. A larger declared length is a damaged length field, not a file
// cut short, and is reported as such.
constexpr uint64_t kMaxPlausiblePayloadBytes = uint64_t{1} << 40;

const char* MagicOf(FramedKind kind) {
  return kind == FramedKind::kCheckpoint ? "DPMLPCKP" : "DPMLPMDL";
}

const char* NameOf(FramedKind kind) {
  return kind == FramedKind::kCheckpoint ? "checkpoint" : "model";
}

void AppendLittleEndian(std::string* out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t ReadLittleEndian(const std::string& in, size_t offset, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) {
    value |= uint64_t{static_cast<unsigned char>(in[offset + i])} << (8 * i);
  }
  return value;
}

uint32_t Crc32(const char* data, size_t size) {
  // crc32_z takes a size_t length, so payloads over 4 GiB need no chunking.
  return static_cast<uint32_t>(
      crc32_z(crc32_z(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(data), size));
}

// True if the first min(bytes.size(), 8) bytes agree with the magic of `kind`.
bool MatchesMagic(const std::string& bytes, FramedKind kind) {
  const size_t n = std::min(bytes.size(), kMagicBytes);
  return std::memcmp(bytes.data(), MagicOf(kind), n) == 0;
}

// Checks the whole frame in `bytes` (the contents of `path`) and returns the kind it claims. With
// `expected` non-null, a frame of another kind is rejected too.
FramedKind ValidateFrame(const std::string& path, const std::string& bytes,
                         const FramedKind* expected) {
  auto bad = [&path](const std::string& problem) { return UsageError(path + ": " + problem); };
  const size_t size = bytes.size();
  auto truncated_header = [&] {
    return bad("truncated header (" + std::to_string(size) + " of " +
               std::to_string(kFramedHeaderBytes) + " bytes)");
  };
  if (size == 0) throw bad("empty file");

  // Decide on the magic first: a short text file is "wrong magic", a cut-off dpmlp file is not.
  const bool is_checkpoint = MatchesMagic(bytes, FramedKind::kCheckpoint);
  const bool is_model = MatchesMagic(bytes, FramedKind::kModel);
  if (!is_checkpoint && !is_model) {
    throw bad(expected ? std::string("wrong magic (not a dpmlp ") + NameOf(*expected) + " file)"
                       : std::string("wrong magic (not a dpmlp checkpoint or model file)"));
  }
  if (size < kMagicBytes) throw truncated_header();
  const FramedKind kind = is_checkpoint ? FramedKind::kCheckpoint : FramedKind::kModel;
  if (expected && kind != *expected) {
    throw bad(std::string("wrong magic (not a dpmlp ") + NameOf(*expected) +
              " file): it is a dpmlp " + NameOf(kind) + " file");
  }
  if (size < kFramedHeaderBytes) throw truncated_header();

  const uint64_t version = ReadLittleEndian(bytes, kVersionOffset, 4);
  if (version != kFramedFormatVersion) {
    throw bad("unsupported format version " + std::to_string(version) + " (this dpmlp reads " +
              std::to_string(kFramedFormatVersion) + ")");
  }

  // Compared with what the file holds, never used to size an allocation.
  const uint64_t length = ReadLittleEndian(bytes, kLengthOffset, 8);
  const uint64_t available = size - kFramedHeaderBytes;
  if (length > kMaxPlausiblePayloadBytes) {
    throw bad("absurd payload length " + std::to_string(length) + " (file has " +
              std::to_string(size) + " bytes)");
  }
  if (length > available) {
    throw bad("truncated payload (header declares " + std::to_string(length) + " bytes, file has " +
              std::to_string(available) + " after the header)");
  }
  if (length < available) {
    throw bad("trailing bytes (" + std::to_string(available - length) +
              " after the declared payload of " + std::to_string(length) + ")");
  }

  const uint32_t stored_crc = static_cast<uint32_t>(ReadLittleEndian(bytes, kCrcOffset, 4));
  if (Crc32(bytes.data() + kFramedHeaderBytes, available) != stored_crc) {
    throw bad("CRC mismatch (corrupt payload)");
  }
  return kind;
}

}  // namespace

std::string FrameBytes(FramedKind kind, const std::string& payload) {
  std::string out;
  out.reserve(kFramedHeaderBytes + payload.size());
  out.append(MagicOf(kind), kMagicBytes);
  AppendLittleEndian(&out, kFramedFormatVersion, 4);
  AppendLittleEndian(&out, payload.size(), 8);
  AppendLittleEndian(&out, Crc32(payload.data(), payload.size()), 4);
  out += payload;
  return out;
}

void WriteFramedFile(const std::string& path, FramedKind kind, const std::string& payload) {
  WriteFileAtomic(path, FrameBytes(kind, payload));
}

std::string ReadFramedFile(const std::string& path, FramedKind expected) {
  std::string bytes = ReadFileBytes(path);
  ValidateFrame(path, bytes, &expected);
  bytes.erase(0, kFramedHeaderBytes);  // In place: no second copy of a large payload.
  return bytes;
}

FramedKind PeekFramedKind(const std::string& path) {
  return ValidateFrame(path, ReadFileBytes(path), nullptr);
}

}  // namespace dpmlp
