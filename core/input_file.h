// Reading an input file (a CSV, a config file) whole, with the checks that keep a wrong path from
// hanging or exhausting memory: a directory is refused, and a file that is not a regular file (a
// FIFO from `<(zcat x.gz)`, a character device, a socket) is read as a stream only up to a cap.
#pragma once

#include <cstddef>
#include <string>

namespace dpmlp {

// The most bytes read from a file that is not a regular file (1 GiB): more fails with exit 2.
// A regular file has no cap (its size is known before anything is read).
inline constexpr size_t kStreamInputCap = size_t{1} << 30;

// What `path` is, for messages: "a directory", "a FIFO", "a character device", "a block device",
// "a socket", "a regular file", with " (through a symbolic link)" when path is one. Empty when
// path does not exist.
std::string DescribeFileKind(const std::string& path);

// The whole content of `path`. Throws UsageError naming the path when it cannot be opened, is a
// directory, fails to read, or is not a regular file and holds more than `cap` bytes.
std::string ReadInputFile(const std::string& path, size_t cap = kStreamInputCap);

// What messages call standard input (read where an input option is "-").
inline constexpr char kStdinName[] = "<stdin>";

// All of standard input, read once to its end (a pipe or terminal up to `cap` bytes, as
// ReadInputFile reads a stream). Throws UsageError naming kStdinName on a read error.
std::string ReadStandardInput(size_t cap = kStreamInputCap);

// Drops a UTF-8 byte-order mark (EF BB BF) from the start of text; true if there was one.
bool StripUtf8Bom(std::string* text);

}  // namespace dpmlp
