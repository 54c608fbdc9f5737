#include "wasi/sandbox_path.h"

#include <atomic>
#include <cerrno>
#include <deque>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace skiff::wasi::detail {
namespace {

constexpr int kMaxSymlinks = 40;
std::atomic<bool> g_openat2_missing{false};

void split_into(std::string_view path, std::deque<std::string>& out, bool at_front) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  if (at_front) {
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) out.push_front(*it);
  } else {
    for (auto& p : parts) out.push_back(std::move(p));
  }
}

// Reads the target of `name` in `dir` if it is a symlink; false otherwise.
bool read_symlink(int dir, const std::string& name, std::string* target) {
  char buf[4096];
  ssize_t n = readlinkat(dir, name.c_str(), buf, sizeof buf);
  if (n < 0) return false;
  target->assign(buf, static_cast<size_t>(n));
  return true;
}

// The portable resolver: one component at a time, never letting the kernel
// follow a symlink, tracking the real directory chain for "..".
int walk(int root, std::string_view path, int flags, mode_t mode, bool follow_final, int* out_fd) {
  if (path.empty()) return ENOENT;
  if (path.front() == '/') return kEscapes;
  std::deque<std::string> comps;
  split_into(path, comps, false);
  bool trailing_slash = path.back() == '/';
  if (comps.empty()) comps.push_back(".");  // unreachable for non-absolute, kept for safety
  std::vector<int> chain;  // directories opened below root, innermost last
  auto cur = [&] { return chain.empty() ? root : chain.back(); };
  auto cleanup = [&] {
    for (int fd : chain) close(fd);
    chain.clear();
  };
  int links = 0;
  while (!comps.empty()) {
    std::string c = std::move(comps.front());
    comps.pop_front();
    bool last = comps.empty();
    if (c == "." || c == "..") {
      if (c == "..") {
        if (chain.empty()) { cleanup(); return kEscapes; }
        close(chain.back());
        chain.pop_back();
      }
      if (last) {
        int fd = openat(cur(), ".", (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_CLOEXEC);
        int err = fd < 0 ? errno : 0;
        cleanup();
        if (err) return err;
        *out_fd = fd;
        return 0;
      }
      continue;
    }
    if (!last || trailing_slash || follow_final) {
      std::string target;
      if (read_symlink(cur(), c, &target)) {
        if (++links > kMaxSymlinks) { cleanup(); return ELOOP; }
        if (target.empty()) { cleanup(); return ENOENT; }
        if (target.front() == '/') { cleanup(); return kEscapes; }
        if (last && trailing_slash) target += "/";
        trailing_slash = trailing_slash || (last && target.back() == '/');
        split_into(target, comps, true);
        if (comps.empty()) comps.push_back(".");
        continue;
      }
    }
    if (!last) {
      int fd = openat(cur(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) { int err = errno; cleanup(); return err; }
      chain.push_back(fd);
      continue;
    }
    int f = flags | O_NOFOLLOW | O_CLOEXEC;
    if (trailing_slash && !(flags & O_CREAT)) f |= O_DIRECTORY;
    int fd = openat(cur(), c.c_str(), f, mode);
    int err = fd < 0 ? errno : 0;
    cleanup();
    if (err) return err;
    *out_fd = fd;
    return 0;
  }
  cleanup();
  return ENOENT;
}

}  // namespace

int open_beneath(int root, std::string_view path, int flags, mode_t mode, bool follow_final,
                 bool force_walk, int* out_fd) {
  if (path.empty()) return ENOENT;
  if (path.find('\0') != std::string_view::npos) return EINVAL;
  if (!force_walk && !g_openat2_missing.load(std::memory_order_relaxed)) {
    std::string p(path);
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | (follow_final ? 0 : O_NOFOLLOW));
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0; attempt < 8; ++attempt) {
      long fd = syscall(SYS_openat2, root, p.c_str(), &how, sizeof how);
      if (fd >= 0) {
        *out_fd = static_cast<int>(fd);
        return 0;
      }
      int err = errno;
      if (err == EAGAIN || err == EINTR) continue;  // a concurrent rename: retry
      if (err == ENOSYS) {
        g_openat2_missing.store(true, std::memory_order_relaxed);
        break;
      }
      if (err == EXDEV) return kEscapes;
      return err;
    }
    if (!g_openat2_missing.load(std::memory_order_relaxed)) return EAGAIN;
  }
  return walk(root, path, flags, mode, follow_final, out_fd);
}

int open_parent(int root, std::string_view path, bool force_walk, int* parent_fd, std::string* name,
                bool* trailing_slash) {
  if (path.empty()) return ENOENT;
  if (path.find('\0') != std::string_view::npos) return EINVAL;
  std::string_view p = path;
  *trailing_slash = false;
  while (p.size() > 1 && p.back() == '/') {
    p.remove_suffix(1);
    *trailing_slash = true;
  }
  if (p.front() == '/') return kEscapes;
  size_t slash = p.rfind('/');
  std::string_view base = slash == std::string_view::npos ? p : p.substr(slash + 1);
  std::string_view dir = slash == std::string_view::npos ? std::string_view(".") : p.substr(0, slash + 1);
  if (base == "." || base == "..") {
    // The path names a directory through "." or "..": operate on it as ".".
    name->assign(1, '.');  // assign(const char*) trips a GCC 12 -Wrestrict false positive
    return open_beneath(root, p, O_PATH | O_DIRECTORY, 0, true, force_walk, parent_fd);
  }
  *name = std::string(base);
  return open_beneath(root, dir, O_PATH | O_DIRECTORY, 0, true, force_walk, parent_fd);
}

}  // namespace skiff::wasi::detail
