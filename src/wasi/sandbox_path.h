// Path resolution confined to a preopened directory. Every WASI path
// operation goes through here, so no guest path can name a host file
// outside the directory it was granted.
#pragma once
#include <string>
#include <string_view>
#include <sys/types.h>

namespace skiff::wasi::detail {

// Returned (instead of a host errno) when a path would leave its root.
constexpr int kEscapes = -1;

// Opens `path` relative to the directory `root`. Returns 0 and sets *out_fd,
// or a host errno / kEscapes. `follow_final` follows a symlink in the last
// component (inside the sandbox only). `force_walk` skips openat2.
int open_beneath(int root, std::string_view path, int flags, mode_t mode, bool follow_final,
                 bool force_walk, int* out_fd);

// For operations on a directory entry itself (unlink, mkdir, rename...):
// opens the parent directory of `path` beneath `root` and gives the last
// component's name ("." when the path names a directory like "a/.." or ".").
// A trailing slash is removed and reported in *trailing_slash.
int open_parent(int root, std::string_view path, bool force_walk, int* parent_fd, std::string* name,
                bool* trailing_slash);

}  // namespace skiff::wasi::detail
