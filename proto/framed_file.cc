#include "proto/framed_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

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

// Checks the header `head` (the first min(size, 24) bytes of `path`, a file of `size` bytes)
// against the file size and `max_payload`, and returns the kind it claims and, in *length, the
// payload length. With `expected` non-null, a frame of another kind is rejected too. Reads nothing
// more.
FramedKind ValidateHeader(const std::string& path, const std::string& head, uint64_t size,
                          const FramedKind* expected, uint64_t max_payload, uint64_t* length) {
  auto bad = [&path](const std::string& problem) { return UsageError(path + ": " + problem); };
  auto truncated_header = [&] {
    return bad("truncated header (" + std::to_string(size) + " of " +
               std::to_string(kFramedHeaderBytes) + " bytes)");
  };
  if (size == 0) throw bad("empty file");

  // Decide on the magic first: a short text file is "wrong magic", a cut-off dpmlp file is not.
  const bool is_checkpoint = MatchesMagic(head, FramedKind::kCheckpoint);
  const bool is_model = MatchesMagic(head, FramedKind::kModel);
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

  const uint64_t version = ReadLittleEndian(head, kVersionOffset, 4);
  if (version != kFramedFormatVersion) {
    throw bad("unsupported format version " + std::to_string(version) + " (this dpmlp reads " +
              std::to_string(kFramedFormatVersion) + ")");
  }

  // Compared with what the file holds, never used to size an allocation before that.
  *length = ReadLittleEndian(head, kLengthOffset, 8);
  const uint64_t available = size - kFramedHeaderBytes;
  if (*length > kMaxPlausiblePayloadBytes) {
    throw bad("absurd payload length " + std::to_string(*length) + " (file has " +
              std::to_string(size) + " bytes)");
  }
  if (*length > available) {
    throw bad("truncated payload (header declares " + std::to_string(*length) +
              " bytes, file has " + std::to_string(available) + " after the header)");
  }
  if (*length < available) {
    throw bad("trailing bytes (" + std::to_string(available - *length) +
              " after the declared payload of " + std::to_string(*length) + ")");
  }
  if (*length > max_payload) {
    throw bad("payload of " + std::to_string(*length) + " bytes is more than " +
              std::to_string(max_payload) + " bytes, the most a " + NameOf(kind) +
              " here can hold (a huge or sparse file?)");
  }
  return kind;
}

// The physical memory of this machine: no payload larger than it can be read.
uint64_t MemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page)
                               : kMaxPlausiblePayloadBytes;
}

// pread()s up to `size` bytes at `offset` into `out`; returns the count (short only at the end of
// the file). Throws UsageError naming `path` on a read error.
size_t ReadAt(const std::string& path, int fd, char* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw UsageError(path + ": cannot read: " + std::system_category().message(errno));
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

// Opens `path` for reading without blocking on a FIFO; only a regular file is accepted.
int OpenRegular(const std::string& path, uint64_t* size) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw UsageError(path + ": cannot open: " + std::system_category().message(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw UsageError(path + (S_ISDIR(st.st_mode) ? ": is a directory"
                                                 : ": not a regular file (a FIFO or a device?)"));
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

// Reads and validates the frame of `path`: the header first, against the real file size, then
// the payload (into *payload, if non-null) and its CRC. Returns the kind.
FramedKind ReadFrame(const std::string& path, const FramedKind* expected, uint64_t max_payload,
                     std::string* payload) {
  uint64_t size = 0;
  const int fd = OpenRegular(path, &size);
  try {
    std::string head(kFramedHeaderBytes, '\0');
    head.resize(ReadAt(path, fd, head.data(), head.size(), 0));
    if (head.size() < kFramedHeaderBytes && head.size() < size) size = head.size();  // shrank
    uint64_t length = 0;
    const FramedKind kind =
        ValidateHeader(path, head, size, expected, std::min(max_payload, MemoryBytes()), &length);
    std::string bytes(static_cast<size_t>(length), '\0');
    if (ReadAt(path, fd, bytes.data(), bytes.size(), kFramedHeaderBytes) != bytes.size() ||
        ReadAt(path, fd, head.data(), 1, kFramedHeaderBytes + length) != 0) {
      throw UsageError(path + ": truncated payload (the file changed while it was read)");
    }
    const uint32_t stored_crc = static_cast<uint32_t>(ReadLittleEndian(head, kCrcOffset, 4));
    if (Crc32(bytes.data(), bytes.size()) != stored_crc) {
      throw UsageError(path + ": CRC mismatch (corrupt payload)");
    }
    ::close(fd);
    if (payload != nullptr) *payload = std::move(bytes);
    return kind;
  } catch (...) {
    ::close(fd);
    throw;
  }
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

std::string ReadFramedFile(const std::string& path, FramedKind expected, uint64_t max_payload) {
  std::string payload;
  ReadFrame(path, &expected, max_payload, &payload);
  return payload;
}

FramedKind ReadFramedFileOfAnyKind(const std::string& path, std::string* payload,
                                   uint64_t max_payload) {
  return ReadFrame(path, nullptr, max_payload, payload);
}

FramedKind PeekFramedKind(const std::string& path) {
  return ReadFrame(path, nullptr, kMaxPlausiblePayloadBytes, nullptr);
}

}  // namespace dpmlp
