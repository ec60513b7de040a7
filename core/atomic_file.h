// Whole-file I/O with durable replacement: a reader of `path` sees either the old contents or the
// complete new contents, never a torn file, even after a crash or power loss.
#pragma once

#include <cstddef>
#include <string>

namespace dpmlp {

// What an output path names once symbolic links are followed.
enum class OutputFileKind {
  kNew,      // nothing there yet
  kRegular,  // a regular file: replaced atomically
  kInPlace,  // a character device (/dev/null) or a FIFO: written where it is, never replaced
};
struct OutputTarget {
  std::string path;  // `path` with every symbolic link followed (relative links from their folder)
  OutputFileKind kind = OutputFileKind::kNew;
};

// Follows the symbolic links of `path` (at most 40) and classifies what is at the end. Throws
// IoError naming `path` for a directory, a block device, a socket, a link loop or an lstat error.
OutputTarget ResolveOutput(const std::string& path);

// Start-up check of an output file given by `option`, so that a bad one fails before any work:
// throws UsageError "<option> <path>: <reason>" when ResolveOutput refuses it, when its folder does
// not exist or is not writable, or, with `append` (or for a device or FIFO), when the existing file
// is not writable.
void CheckOutputPath(const std::string& option, const std::string& path, bool append);

// Replaces `path` with `bytes`, never replacing a file dpmlp does not own. A symbolic link is
// followed and its target replaced (the link stays). A regular file or a new path is written as
// target + ".tmp" (created with O_EXCL, mode 0644 before umask; a stale regular .tmp file is
// removed first, anything else there is refused), fsynced, renamed over the target, and the
// containing directory fsynced. A character device or a FIFO is written in place (no temp file,
// no rename, no fsync); a FIFO with no reader fails instead of waiting. A directory, a block device
// or a socket is refused. Short writes and EINTR are retried.
//
// Throws IoError naming `path` and the reason (e.g. "No space left on device", "Permission denied",
// "File too large", "it is a directory") on failure. If the failure happens before the rename, the
// temp file is removed and any existing `path` is left untouched; only a failure to fsync the
// directory after the rename leaves the new contents in place (then without a durability
// guarantee) and still throws.
//
// Calls IgnoreFileSizeSignal() first, so exceeding RLIMIT_FSIZE is reported as an IoError instead
// of killing the process. Not safe for two writers of the same `path` at once (they share the
// temp name); in dpmlp only rank 0 writes files, and a checkpoint directory is locked.
void WriteFileAtomic(const std::string& path, const void* data, size_t size);
void WriteFileAtomic(const std::string& path, const std::string& bytes);

// Writes `bytes` to standard output (an output given as "-"), after anything stdio buffered there;
// short writes and EINTR are retried. Throws IoError naming standard output on a write error
// (a full disk, /dev/full). A closed pipe ends the process by SIGPIPE, as it does any filter.
void WriteStandardOutput(const std::string& bytes);

// Appends `record` (one whole line, say) to `path`, creating it (mode 0644 before umask) if
// missing. The record goes in one write(2) with O_APPEND; if that write is cut short (RLIMIT_FSIZE,
// a full disk) and the rest cannot be written either, a regular file is truncated back to its
// size before the call, so no partial record is left. A symbolic link is followed; a device or
// FIFO is appended to in place. Throws IoError naming `path` and the reason.
void AppendRecord(const std::string& path, const std::string& record);

// For a line-oriented regular file: if it does not end in '\n', removes the partial last line (an
// interrupted append) and returns how many bytes went; 0 when the file ends in a newline, is
// empty, missing or not a regular file. Throws IoError naming `path` if it cannot be repaired.
uint64_t DropPartialLastLine(const std::string& path);

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
