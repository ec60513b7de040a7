// Whole-file I/O with durable replacement: a reader of `path` sees either the old contents or the
// complete new contents, never a torn file, even after a crash or power loss.
#pragma once

#include <cstddef>
#include <string>

namespace dpmlp {

// Replaces `path` with `bytes`: writes `path + ".tmp"` (mode 0644 before umask), fsyncs it, renames
// it over `path` and fsyncs the containing directory. Short writes and EINTR are retried.
//
// Throws IoError naming `path` and the reason (e.g. "No space left on device", "Permission denied",
// "File too large") on failure. If the failure happens before the rename, the temp file is removed
// and any existing `path` is left untouched; only a failure to fsync the directory after the rename
// leaves the new contents in place (then without a durability guarantee) and still throws.
//
// Calls IgnoreFileSizeSignal() first, so exceeding RLIMIT_FSIZE is reported as an IoError instead
// of killing the process. Not safe for two writers of the same `path` at once (they share the
// temp name); in dpmlp only rank 0 writes files.
void WriteFileAtomic(const std::string& path, const void* data, size_t size);
void WriteFileAtomic(const std::string& path, const std::string& bytes);

// Makes SIGXFSZ ignored unless the process installed a handler of its own. By default that signal
// kills a process whose write crosses RLIMIT_FSIZE; ignored, the write fails with EFBIG instead.
// Idempotent and cheap; WriteFileAtomic calls it, so callers need not.
void IgnoreFileSizeSignal();

// fsyncs directory `dir` so that entries created, renamed or removed in it survive a crash.
// Throws IoError naming `dir` on failure. Filesystems that cannot sync directories (EINVAL) are
// accepted silently: there is nothing more a program can do on them.
void SyncDirectory(const std::string& dir);

// Returns the full contents of `path`. Throws UsageError naming the path and the reason when it
// cannot be opened or read (missing, a directory, unreadable): the file is an input, and a bad
// input is a usage error.
std::string ReadFileBytes(const std::string& path);

}  // namespace dpmlp
