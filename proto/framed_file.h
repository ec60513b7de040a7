// A checksummed frame around one serialized message, so that a truncated, corrupted or foreign file
// is rejected with a precise reason before protobuf ever parses it.
//
// Layout, all integers little-endian, 24-byte header:
//   offset  0  8 bytes  magic: "DPMLPCKP" (checkpoint) or "DPMLPMDL" (model)
//   offset  8  uint32   format version, currently 1
//   offset 12  uint64   payload length in bytes
//   offset 20  uint32   CRC-32 of the payload (zlib crc32, the IEEE 802.3 polynomial)
//   offset 24           payload
// The header carries no checksum of its own, but every header field is checked against the
// others and the file size, so a damaged header is still detected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dpmlp {

enum class FramedKind { kModel, kCheckpoint };

constexpr size_t kFramedHeaderBytes = 24;
constexpr uint32_t kFramedFormatVersion = 1;

// Returns header + payload.
std::string FrameBytes(FramedKind kind, const std::string& payload);

// Writes FrameBytes(kind, payload) to `path` with WriteFileAtomic: throws IoError naming the path
// on failure, and an existing `path` is then left as it was.
void WriteFramedFile(const std::string& path, FramedKind kind, const std::string& payload);

// Reads `path`, validates the whole frame and returns the payload. Throws UsageError whose message
// starts with "<path>: " and names the problem: "cannot open", "empty file", "truncated header",
// "wrong magic (not a dpmlp checkpoint file)" (or model file), "unsupported format version N",
// "absurd payload length N (file has M bytes)", "truncated payload", "trailing bytes",
// "CRC mismatch (corrupt payload)". Memory use is bounded by the real file size, whatever the
// header declares.
std::string ReadFramedFile(const std::string& path, FramedKind expected);

// The kind `path` claims to be by its magic, after validating the whole frame as ReadFramedFile
// does (same UsageErrors; a magic of neither kind is "wrong magic"). For `dpmlp info`.
FramedKind PeekFramedKind(const std::string& path);

}  // namespace dpmlp
