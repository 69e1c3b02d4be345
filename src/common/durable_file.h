// Files that survive a crash at any moment: a reader sees the old content or the new, never a
// mix, and what was reported written is on disk. POSIX only (open/write/fsync/rename).
#pragma once

#include <string>
#include <string_view>

namespace fare {

// Replaces `path` by `data`: written to "<path>.tmp", fsynced, renamed over `path`, then the
// folder fsynced so that the rename itself is durable. On failure `path` is left as it was, the
// temporary file is removed, and a fare::Error says which step failed on which file and why.
void replace_file_durably(const std::string& path, std::string_view data);

// fsyncs the folder that holds `path`, so that a file just created or renamed there is still
// there after a power loss. Throws fare::Error naming the folder.
void sync_parent_folder(const std::string& path);

// Writes all of `data` to `fd`, retrying after EINTR and short writes. Returns 0, or the errno of
// the write that failed; `written` tells how many bytes went out before it.
int write_all(int fd, std::string_view data, size_t& written);

}  // namespace fare
