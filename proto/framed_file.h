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
// No dpmlp file comes near this. A larger declared length is a damaged length field, not a file
// cut short, and is reported as such.
constexpr uint64_t kMaxPlausiblePayloadBytes = uint64_t{1} << 40;

// Returns header + payload.
std::string FrameBytes(FramedKind kind, const std::string& payload);

// Writes FrameBytes(kind, payload) to `path` with WriteFileAtomic: throws IoError naming the path
// on failure, and an existing `path` is then left as it was.
void WriteFramedFile(const std::string& path, FramedKind kind, const std::string& payload);

// Reads `path`, validates the whole frame and returns the payload. Only a regular file is read (a
// FIFO is never waited on). The header is read and checked against the real file size first, so
// a huge or sparse file costs no memory: the payload is read only when its declared length matches
// the file and is at most `max_payload` (and the machine's memory). Throws UsageError whose message
// starts with "<path>: " and names the problem: "cannot open", "is a directory", "not a regular
// file", "empty file", "truncated header", "wrong magic (not a dpmlp checkpoint file)" (or model
// file), "unsupported format version N", "absurd payload length N (file has M bytes)", "truncated
// payload", "trailing bytes", "payload of N bytes is more than M", "CRC mismatch (corrupt
// payload)".
std::string ReadFramedFile(const std::string& path, FramedKind expected,
                           uint64_t max_payload = kMaxPlausiblePayloadBytes);
// The same read, of either kind: the payload into *payload, the kind the file is returned.
FramedKind ReadFramedFileOfAnyKind(const std::string& path, std::string* payload,
                                   uint64_t max_payload = kMaxPlausiblePayloadBytes);

// The kind `path` claims to be by its magic, after validating the whole frame as ReadFramedFile
// does (same UsageErrors; a magic of neither kind is "wrong magic"). For `dpmlp info`.
FramedKind PeekFramedKind(const std::string& path);

}  // namespace dpmlp
