// wasi_snapshot_preview1 host functions. Guest memory is only touched
// through GuestMem, which checks every range in 64-bit arithmetic.
#include "skiff/wasi.hh"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/sandbox_path.h"

namespace skiff::wasi {

using namespace errno_value;

namespace {

// ---- preview 1 constants ------------------------------------------------------

namespace right {
constexpr uint64_t FdDatasync = 1ull << 0, FdRead = 1ull << 1, FdSeek = 1ull << 2,
                   FdFdstatSetFlags = 1ull << 3, FdSync = 1ull << 4, FdTell = 1ull << 5,
                   FdWrite = 1ull << 6, FdAdvise = 1ull << 7, FdAllocate = 1ull << 8,
                   PathCreateDirectory = 1ull << 9, PathCreateFile = 1ull << 10,
                   PathLinkSource = 1ull << 11, PathLinkTarget = 1ull << 12, PathOpen = 1ull << 13,
                   FdReaddir = 1ull << 14, PathReadlink = 1ull << 15, PathRenameSource = 1ull << 16,
                   PathRenameTarget = 1ull << 17, PathFilestatGet = 1ull << 18,
                   PathFilestatSetSize = 1ull << 19, PathFilestatSetTimes = 1ull << 20,
                   FdFilestatGet = 1ull << 21, FdFilestatSetSize = 1ull << 22,
                   FdFilestatSetTimes = 1ull << 23, PathSymlink = 1ull << 24,
                   PathRemoveDirectory = 1ull << 25, PathUnlinkFile = 1ull << 26,
                   PollFdReadwrite = 1ull << 27, SockShutdown = 1ull << 28, SockAccept = 1ull << 29;
constexpr uint64_t kFile = FdDatasync | FdRead | FdSeek | FdFdstatSetFlags | FdSync | FdTell | FdWrite |
                           FdAdvise | FdAllocate | FdFilestatGet | FdFilestatSetSize |
                           FdFilestatSetTimes | PollFdReadwrite;
constexpr uint64_t kDir = FdFdstatSetFlags | FdSync | FdAdvise | PathCreateDirectory | PathCreateFile |
                          PathLinkSource | PathLinkTarget | PathOpen | FdReaddir | PathReadlink |
                          PathRenameSource | PathRenameTarget | PathFilestatGet | PathFilestatSetSize |
                          PathFilestatSetTimes | FdFilestatGet | FdFilestatSetTimes | PathSymlink |
                          PathRemoveDirectory | PathUnlinkFile;
// Everything that changes the file system: withheld from read-only preopens.
constexpr uint64_t kWrites = FdDatasync | FdWrite | FdAllocate | FdFilestatSetSize | FdFilestatSetTimes |
                             PathCreateDirectory | PathCreateFile | PathLinkSource | PathLinkTarget |
                             PathRenameSource | PathRenameTarget | PathFilestatSetSize |
                             PathFilestatSetTimes | PathSymlink | PathRemoveDirectory | PathUnlinkFile;
constexpr uint64_t kAll = (1ull << 30) - 1;
}  // namespace right

enum FileType : uint8_t { kUnknown = 0, kBlock = 1, kChar = 2, kDirectory = 3, kRegular = 4,
                          kSockDgram = 5, kSockStream = 6, kSymlink = 7 };
constexpr uint16_t kFdAppend = 1, kFdDsync = 2, kFdNonblock = 4, kFdRsync = 8, kFdSync = 16;
constexpr uint16_t kOCreat = 1, kODirectory = 2, kOExcl = 4, kOTrunc = 8;
constexpr uint32_t kLookupFollow = 1;
constexpr uint16_t kAtim = 1, kAtimNow = 2, kMtim = 4, kMtimNow = 8;

uint16_t from_host_errno(int e) {
  switch (e) {
    case 0: return kSuccess;
    case detail::kEscapes: return kNotcapable;
    case E2BIG: return k2Big; case EACCES: return kAcces; case EAGAIN: return kAgain;
    case EBADF: return kBadf; case EBUSY: return kBusy; case EEXIST: return kExist;
    case EFAULT: return kFault; case EFBIG: return kFbig; case EILSEQ: return kIlseq;
    case EINTR: return kIntr; case EINVAL: return kInval; case EIO: return kIo;
    case EISDIR: return kIsdir; case ELOOP: return kLoop; case EMFILE: return kMfile;
    case EMLINK: return kMlink; case ENAMETOOLONG: return kNametoolong; case ENOENT: return kNoent;
    case ENOMEM: return kNomem; case ENOSPC: return kNospc; case ENOSYS: return kNosys;
    case ENOTDIR: return kNotdir; case ENOTEMPTY: return kNotempty; case ENOTSOCK: return kNotsock;
    case EOPNOTSUPP: return kNotsup; case ENOTTY: return kNotty; case ENXIO: return kNxio;
    case EOVERFLOW: return kOverflow; case EPERM: return kPerm; case EPIPE: return kPipe;
    case ERANGE: return kRange; case EROFS: return kRofs; case ESPIPE: return kSpipe;
    case EXDEV: return kXdev; case ENFILE: return 41; case ETXTBSY: return 74; case EDQUOT: return 19;
    default: return kIo;
  }
}
uint16_t last_errno() { return from_host_errno(errno); }

uint8_t filetype_of(mode_t m) {
  if (S_ISREG(m)) return kRegular;
  if (S_ISDIR(m)) return kDirectory;
  if (S_ISCHR(m)) return kChar;
  if (S_ISBLK(m)) return kBlock;
  if (S_ISLNK(m)) return kSymlink;
  if (S_ISSOCK(m)) return kSockStream;
  return kUnknown;
}

// ---- guest memory ---------------------------------------------------------------

struct GuestMem {
  uint8_t* base;
  uint64_t size;
  bool ok(uint64_t ptr, uint64_t len) const { return ptr <= size && len <= size - ptr; }
  uint8_t* at(uint64_t ptr) const { return base + ptr; }
  template <typename T> bool store(uint64_t ptr, T v) {
    if (!ok(ptr, sizeof(T))) return false;
    std::memcpy(base + ptr, &v, sizeof(T));  // wasm is little-endian, as is every host we build for
    return true;
  }
  template <typename T> bool load(uint64_t ptr, T* v) const {
    if (!ok(ptr, sizeof(T))) return false;
    std::memcpy(v, base + ptr, sizeof(T));
    return true;
  }
  bool string(uint64_t ptr, uint64_t len, std::string* out) const {
    if (!ok(ptr, len)) return false;
    out->assign(reinterpret_cast<const char*>(base + ptr), len);
    return true;
  }
};

}  // namespace

// ---- the context ------------------------------------------------------------------

struct FdEntry {
  enum class Kind : uint8_t { Host, BufferIn, BufferOut } kind = Kind::Host;
  int host = -1;
  bool owned = false;
  uint64_t rights_base = 0, rights_inheriting = 0;
  bool preopen = false;
  std::string preopen_name;
  std::string* out = nullptr;  // BufferOut
};

struct ContextState {
  std::vector<std::string> args, env;
  std::map<uint32_t, FdEntry> fds;
  std::string stdin_data, stdout_data, stderr_data;
  size_t stdin_pos = 0;
  bool force_walk = false;

  ~ContextState() {
    for (auto& [n, e] : fds)
      if (e.owned && e.host >= 0) close(e.host);
  }
  FdEntry* get(uint32_t fd) {
    auto it = fds.find(fd);
    return it == fds.end() ? nullptr : &it->second;
  }
  uint32_t insert(FdEntry e) {
    uint32_t n = 0;
    for (auto& [k, v] : fds) {  // lowest free number, as POSIX does
      if (k != n) break;
      ++n;
    }
    fds[n] = std::move(e);
    return n;
  }
};

Context::Context() : state_(std::make_unique<ContextState>()) {}
Context::~Context() = default;

std::string Context::stdout_contents() const { return state_->stdout_data; }
std::string Context::stderr_contents() const { return state_->stderr_data; }

namespace {

FdEntry stdio_entry(ContextState& st, const StdioSpec& spec, int stdno) {
  FdEntry e;
  if (spec.kind == StdioSpec::Kind::Buffer) {
    e.kind = stdno == 0 ? FdEntry::Kind::BufferIn : FdEntry::Kind::BufferOut;
    e.out = stdno == 1 ? &st.stdout_data : stdno == 2 ? &st.stderr_data : nullptr;
    if (stdno == 0) st.stdin_data = spec.input;
    e.rights_base = right::FdRead | right::FdWrite | right::FdFdstatSetFlags | right::FdFilestatGet |
                    right::PollFdReadwrite;
    return e;
  }
  e.host = spec.kind == StdioSpec::Kind::HostFd ? spec.host_fd : stdno;
  struct stat sb;
  bool seekable = fstat(e.host, &sb) == 0 && S_ISREG(sb.st_mode);
  e.rights_base = right::kFile & ~(seekable ? 0 : (right::FdSeek | right::FdTell));
  return e;
}

}  // namespace

Result<std::shared_ptr<Context>> Context::create(const Config& config) {
  std::shared_ptr<Context> ctx(new Context());
  ContextState& st = *ctx->state_;
  st.args = config.argv();
  st.env = config.environ();
  st.force_walk = config.path_walk_forced();
  st.fds[0] = stdio_entry(st, config.stdin_spec(), 0);
  st.fds[1] = stdio_entry(st, config.stdout_spec(), 1);
  st.fds[2] = stdio_entry(st, config.stderr_spec(), 2);
  uint32_t next = 3;
  for (const PreopenSpec& p : config.preopens()) {
    int fd = open(p.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return Error(ErrorCode::IoError, Error::kNoOffset,
                   "cannot open directory to preopen: " + p.host_path + ": " + std::strerror(errno));
    FdEntry e;
    e.host = fd;
    e.owned = true;
    e.preopen = true;
    e.preopen_name = p.guest_path;
    uint64_t mask = p.read_only ? ~right::kWrites : ~0ull;
    e.rights_base = right::kDir & mask;
    e.rights_inheriting = (right::kDir | right::kFile) & mask;
    st.fds[next++] = std::move(e);
  }
  return ctx;
}

// ---- host functions -------------------------------------------------------------

namespace {

struct Call {
  ContextState& st;
  GuestMem mem;
  const Val* a;
  uint32_t u32(int i) const { return static_cast<uint32_t>(a[i].of.i32); }
  uint64_t u64(int i) const { return static_cast<uint64_t>(a[i].of.i64); }
};

// Looks up an fd and checks it holds `need` rights.
uint16_t lookup(Call& c, uint32_t fd, uint64_t need, FdEntry** out) {
  FdEntry* e = c.st.get(fd);
  if (!e) return kBadf;
  if ((e->rights_base & need) != need) return kNotcapable;
  *out = e;
  return kSuccess;
}

// Reads the iovec array into host iovecs pointing into guest memory.
uint16_t gather_iovs(Call& c, uint32_t iovs, uint32_t count, std::vector<iovec>* out) {
  if (!c.mem.ok(iovs, uint64_t{count} * 8)) return kFault;
  if (count > 1024) return kInval;  // IOV_MAX
  out->clear();
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t ptr = 0, len = 0;
    c.mem.load(iovs + uint64_t{i} * 8, &ptr);
    c.mem.load(iovs + uint64_t{i} * 8 + 4, &len);
    if (!c.mem.ok(ptr, len)) return kFault;
    out->push_back({c.mem.at(ptr), len});
  }
  return kSuccess;
}

uint16_t string_list_sizes(Call& c, const std::vector<std::string>& list) {
  uint64_t bytes = 0;
  for (auto& s : list) bytes += s.size() + 1;
  if (!c.mem.ok(c.u32(0), 4) || !c.mem.ok(c.u32(1), 4)) return kFault;
  c.mem.store<uint32_t>(c.u32(0), static_cast<uint32_t>(list.size()));
  c.mem.store<uint32_t>(c.u32(1), static_cast<uint32_t>(bytes));
  return kSuccess;
}

uint16_t string_list_get(Call& c, const std::vector<std::string>& list) {
  uint64_t ptrs = c.u32(0), buf = c.u32(1), bytes = 0;
  for (auto& s : list) bytes += s.size() + 1;
  if (!c.mem.ok(ptrs, list.size() * 4) || !c.mem.ok(buf, bytes)) return kFault;
  for (size_t i = 0; i < list.size(); ++i) {
    c.mem.store<uint32_t>(ptrs + i * 4, static_cast<uint32_t>(buf));
    std::memcpy(c.mem.at(buf), list[i].c_str(), list[i].size() + 1);
    buf += list[i].size() + 1;
  }
  return kSuccess;
}

bool clock_of(uint32_t id, clockid_t* out) {
  static const clockid_t kClocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                      CLOCK_THREAD_CPUTIME_ID};
  if (id >= 4) return false;
  *out = kClocks[id];
  return true;
}
uint64_t to_ns(const timespec& ts) { return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec); }
uint64_t now_ns(clockid_t clk) {
  timespec ts{};
  clock_gettime(clk, &ts);
  return to_ns(ts);
}

bool write_filestat(GuestMem& mem, uint64_t ptr, const struct stat& sb) {
  if (!mem.ok(ptr, 64)) return false;
  std::memset(mem.at(ptr), 0, 64);
  mem.store<uint64_t>(ptr + 0, sb.st_dev);
  mem.store<uint64_t>(ptr + 8, sb.st_ino);
  mem.store<uint8_t>(ptr + 16, filetype_of(sb.st_mode));
  mem.store<uint64_t>(ptr + 24, sb.st_nlink);
  mem.store<uint64_t>(ptr + 32, static_cast<uint64_t>(sb.st_size));
  mem.store<uint64_t>(ptr + 40, to_ns(sb.st_atim));
  mem.store<uint64_t>(ptr + 48, to_ns(sb.st_mtim));
  mem.store<uint64_t>(ptr + 56, to_ns(sb.st_ctim));
  return true;
}

// atim/mtim/fstflags to the two timespecs of utimensat.
uint16_t times_of(uint64_t atim, uint64_t mtim, uint32_t flags, timespec ts[2]) {
  if ((flags & ~0xFu) || ((flags & kAtim) && (flags & kAtimNow)) || ((flags & kMtim) && (flags & kMtimNow)))
    return kInval;
  auto one = [](uint64_t v, bool set, bool now, timespec* t) {
    if (now) { t->tv_sec = 0; t->tv_nsec = UTIME_NOW; }
    else if (set) { t->tv_sec = static_cast<time_t>(v / 1000000000ull); t->tv_nsec = static_cast<long>(v % 1000000000ull); }
    else { t->tv_sec = 0; t->tv_nsec = UTIME_OMIT; }
  };
  one(atim, flags & kAtim, flags & kAtimNow, &ts[0]);
  one(mtim, flags & kMtim, flags & kMtimNow, &ts[1]);
  return kSuccess;
}

struct HostFd {  // closes on scope exit
  int fd = -1;
  ~HostFd() { if (fd >= 0) close(fd); }
};

// The directory fd plus guest path of a path_* call, with rights checked.
uint16_t dir_and_path(Call& c, uint32_t fd, uint32_t ptr, uint32_t len, uint64_t need, FdEntry** dir,
                      std::string* path) {
  FdEntry* e = c.st.get(fd);
  if (!e) return kBadf;
  if (!c.mem.string(ptr, len, path)) return kFault;
  if (e->kind != FdEntry::Kind::Host) return kNotdir;
  if ((e->rights_base & need) != need) return kNotcapable;
  struct stat sb;
  if (fstat(e->host, &sb) != 0) return last_errno();
  if (!S_ISDIR(sb.st_mode)) return kNotdir;
  *dir = e;
  return kSuccess;
}

// Opens the parent directory of a guest path; checks a trailing slash names a directory.
uint16_t parent_of(Call& c, FdEntry* dir, const std::string& path, HostFd* parent, std::string* name,
                   bool* trailing) {
  int err = detail::open_parent(dir->host, path, c.st.force_walk, &parent->fd, name, trailing);
  return from_host_errno(err);
}

uint16_t check_trailing_dir(int parent, const std::string& name, bool trailing) {
  if (!trailing) return kSuccess;
  struct stat sb;
  if (fstatat(parent, name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0) return last_errno();
  return S_ISDIR(sb.st_mode) ? kSuccess : kNotdir;
}

std::string proc_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// ---- fd_* -------------------------------------------------------------------------

uint16_t do_rw(Call& c, bool write, bool positional) {
  uint32_t fd = c.u32(0), iovs = c.u32(1), count = c.u32(2);
  uint64_t offset = positional ? c.u64(3) : 0;
  uint32_t result_ptr = c.u32(positional ? 4 : 3);
  uint64_t need = (write ? right::FdWrite : right::FdRead) | (positional ? right::FdSeek : 0);
  FdEntry* e = nullptr;
  if (uint16_t r = lookup(c, fd, need, &e)) return r;
  std::vector<iovec> v;
  if (uint16_t r = gather_iovs(c, iovs, count, &v)) return r;
  if (!c.mem.ok(result_ptr, 4)) return kFault;
  uint64_t done = 0;
  if (e->kind == FdEntry::Kind::BufferOut) {
    if (!write) return kBadf;
    for (auto& io : v) e->out->append(static_cast<const char*>(io.iov_base), io.iov_len), done += io.iov_len;
  } else if (e->kind == FdEntry::Kind::BufferIn) {
    if (write) return kBadf;
    for (auto& io : v) {
      size_t n = std::min(io.iov_len, c.st.stdin_data.size() - c.st.stdin_pos);
      std::memcpy(io.iov_base, c.st.stdin_data.data() + c.st.stdin_pos, n);
      c.st.stdin_pos += n;
      done += n;
    }
  } else {
    if (positional && offset > uint64_t(INT64_MAX)) return kInval;
    struct stat sb;
    if (fstat(e->host, &sb) == 0 && S_ISDIR(sb.st_mode)) return kIsdir;
    ssize_t n = write ? (positional ? pwritev(e->host, v.data(), int(v.size()), off_t(offset)) : writev(e->host, v.data(), int(v.size())))
                      : (positional ? preadv(e->host, v.data(), int(v.size()), off_t(offset)) : readv(e->host, v.data(), int(v.size())));
    if (n < 0) return last_errno();
    done = uint64_t(n);
  }
  c.mem.store<uint32_t>(result_ptr, static_cast<uint32_t>(done));
  return kSuccess;
}

uint16_t fd_seek_impl(Call& c, uint32_t fd, int64_t off, uint32_t whence, uint32_t out, uint64_t need) {
  FdEntry* e = nullptr;
  if (uint16_t r = lookup(c, fd, need, &e)) return r;
  if (whence > 2) return kInval;
  if (!c.mem.ok(out, 8)) return kFault;
  if (e->kind != FdEntry::Kind::Host) return kSpipe;
  static const int kWhence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
  off_t pos = lseek(e->host, off, kWhence[whence]);
  if (pos < 0) return last_errno();
  c.mem.store<uint64_t>(out, uint64_t(pos));
  return kSuccess;
}

uint16_t fd_fdstat_get(Call& c) {
  FdEntry* e = c.st.get(c.u32(0));
  if (!e) return kBadf;
  uint64_t out = c.u32(1);
  if (!c.mem.ok(out, 24)) return kFault;
  uint8_t type = kChar;
  uint16_t flags = 0;
  if (e->kind == FdEntry::Kind::Host) {
    struct stat sb;
    if (fstat(e->host, &sb) != 0) return last_errno();
    type = filetype_of(sb.st_mode);
    if (S_ISSOCK(sb.st_mode)) {
      int st = 0; socklen_t len = sizeof st;
      if (getsockopt(e->host, SOL_SOCKET, SO_TYPE, &st, &len) == 0 && st == SOCK_DGRAM) type = kSockDgram;
    }
    int fl = fcntl(e->host, F_GETFL);
    if (fl >= 0) {
      if (fl & O_APPEND) flags |= kFdAppend;
      if (fl & O_NONBLOCK) flags |= kFdNonblock;
      if ((fl & O_SYNC) == O_SYNC) flags |= kFdSync | kFdRsync;
      else if (fl & O_DSYNC) flags |= kFdDsync;
    }
  }
  std::memset(c.mem.at(out), 0, 24);
  c.mem.store<uint8_t>(out, type);
  c.mem.store<uint16_t>(out + 2, flags);
  c.mem.store<uint64_t>(out + 8, e->rights_base);
  c.mem.store<uint64_t>(out + 16, e->rights_inheriting);
  return kSuccess;
}

uint16_t fd_fdstat_set_flags(Call& c) {
  FdEntry* e = nullptr;
  if (uint16_t r = lookup(c, c.u32(0), right::FdFdstatSetFlags, &e)) return r;
  uint32_t f = c.u32(1) & 0xFFFF;
  if (f & ~0x1Fu) return kInval;
  if (e->kind != FdEntry::Kind::Host) return kSuccess;
  // Linux cannot change the sync flags of an open file; refuse rather than lie.
  if (f & (kFdDsync | kFdRsync | kFdSync)) return kNotsup;
  int fl = fcntl(e->host, F_GETFL);
  if (fl < 0) return last_errno();
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (f & kFdAppend) fl |= O_APPEND;
  if (f & kFdNonblock) fl |= O_NONBLOCK;
  if (fcntl(e->host, F_SETFL, fl) != 0) return last_errno();
  return kSuccess;
}

uint16_t fd_fdstat_set_rights(Call& c) {
  FdEntry* e = c.st.get(c.u32(0));
  if (!e) return kBadf;
  uint64_t base = c.u64(1), inh = c.u64(2);
  // Rights can only be dropped, never gained.
  if ((base & ~e->rights_base) || (inh & ~e->rights_inheriting)) return kNotcapable;
  e->rights_base = base;
  e->rights_inheriting = inh;
  return kSuccess;
}

uint16_t fd_filestat_get(Call& c) {
  FdEntry* e = nullptr;
  if (uint16_t r = lookup(c, c.u32(0), right::FdFilestatGet, &e)) return r;
  struct stat sb{};
  if (e->kind == FdEntry::Kind::Host) {
    if (fstat(e->host, &sb) != 0) return last_errno();
  } else {
    sb.st_mode = S_IFCHR;
  }
  return write_filestat(c.mem, c.u32(1), sb) ? kSuccess : kFault;
}

uint16_t host_only(Call& c, uint32_t fd, uint64_t need, FdEntry** e) {
  if (uint16_t r = lookup(c, fd, need, e)) return r;
  return (*e)->kind == FdEntry::Kind::Host ? kSuccess : kBadf;
}

uint16_t fd_filestat_set_size(Call& c) {
  FdEntry* e = nullptr;
  if (uint16_t r = host_only(c, c.u32(0), right::FdFilestatSetSize, &e)) return r;
  if (c.u64(1) > uint64_t(INT64_MAX)) return kInval;
  return ftruncate(e->host, off_t(c.u64(1))) == 0 ? kSuccess : last_errno();
}

uint16_t fd_filestat_set_times(Call& c) {
  FdEntry* e = nullptr;
  if (uint16_t r = host_only(c, c.u32(0), right::FdFilestatSetTimes, &e)) return r;
  timespec ts[2];
  if (uint16_t r = times_of(c.u64(1), c.u64(2), c.u32(3), ts)) return r;
  return futimens(e->host, ts) == 0 ? kSuccess : last_errno();
}

uint16_t fd_allocate(Call& c) {
  FdEntry* e = nullptr;
  if (uint16_t r = host_only(c, c.u32(0), right::FdAllocate, &e)) return r;
  uint64_t off = c.u64(1), len = c.u64(2);
  if (off > uint64_t(INT64_MAX) || len > uint64_t(INT64_MAX) - off) return kInval;
  struct stat sb;
  if (fstat(e->host, &sb) != 0) return last_errno();
  if (!S_ISREG(sb.st_mode)) return S_ISDIR(sb.st_mode) ? kBadf : kNotsup;
  int r = posix_fallocate(e->host, off_t(off), off_t(len));
  return from_host_errno(r);
}

uint16_t fd_advise(Call& c) {
  FdEntry* e = nullptr;
  if (uint16_t r = host_only(c, c.u32(0), right::FdAdvise, &e)) return r;
  uint32_t advice = c.u32(3);
  static const int kAdvice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  if (advice > 5) return kInval;
  uint64_t off = c.u64(1), len = c.u64(2);
  if (off > uint64_t(INT64_MAX) || len > uint64_t(INT64_MAX)) return kInval;
  struct stat sb;
  if (fstat(e->host, &sb) != 0) return last_errno();
  if (S_ISDIR(sb.st_mode)) return kBadf;
  return from_host_errno(posix_fadvise(e->host, off_t(off), off_t(len), kAdvice[advice]));
}

uint16_t fd_sync_impl(Call& c, bool data_only) {
  FdEntry* e = nullptr;
  if (uint16_t r = lookup(c, c.u32(0), data_only ? right::FdDatasync : right::FdSync, &e)) return r;
  if (e->kind != FdEntry::Kind::Host) return kInval;
  return (data_only ? fdatasync(e->host) : fsync(e->host)) == 0 ? kSuccess : last_errno();
}

uint16_t fd_close(Call& c) {
  auto it = c.st.fds.find(c.u32(0));
  if (it == c.st.fds.end()) return kBadf;
  if (it->second.owned && it->second.host >= 0) close(it->second.host);
  c.st.fds.erase(it);
  return kSuccess;
}

uint16_t fd_renumber(Call& c) {
  uint32_t from = c.u32(0), to = c.u32(1);
  auto fi = c.st.fds.find(from);
  auto ti = c.st.fds.find(to);
  if (fi == c.st.fds.end() || ti == c.st.fds.end()) return kBadf;
  if (from == to) return kSuccess;
  if (ti->second.owned && ti->second.host >= 0) close(ti->second.host);
  ti->second = std::move(fi->second);
  c.st.fds.erase(fi);
  return kSuccess;
}

uint16_t fd_prestat_get(Call& c) {
  FdEntry* e = c.st.get(c.u32(0));
  if (!e || !e->preopen) return kBadf;
  uint64_t out = c.u32(1);
  if (!c.mem.ok(out, 8)) return kFault;
  std::memset(c.mem.at(out), 0, 8);
  c.mem.store<uint32_t>(out + 4, static_cast<uint32_t>(e->preopen_name.size()));
  return kSuccess;
}

uint16_t fd_prestat_dir_name(Call& c) {
  FdEntry* e = c.st.get(c.u32(0));
  if (!e || !e->preopen) return kBadf;
  uint64_t ptr = c.u32(1), len = c.u32(2);
  if (len < e->preopen_name.size()) return kNametoolong;
  if (!c.mem.ok(ptr, e->preopen_name.size())) return kFault;
  std::memcpy(c.mem.at(ptr), e->preopen_name.data(), e->preopen_name.size());
  return kSuccess;
}

uint16_t fd_readdir(Call& c) {
  FdEntry* e = nullptr;
  if (uint16_t r = lookup(c, c.u32(0), right::FdReaddir, &e)) return r;
  uint64_t buf = c.u32(1), len = c.u32(2), cookie = c.u64(3), used_ptr = c.u32(4);
  if (!c.mem.ok(buf, len) || !c.mem.ok(used_ptr, 4)) return kFault;
  if (e->kind != FdEntry::Kind::Host) return kNotdir;
  // A fresh descriptor per call: the cookie is an entry index, so the shared
  // file position of the guest's fd is never disturbed.
  int dfd = openat(e->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return last_errno();
  DIR* d = fdopendir(dfd);
  if (!d) { close(dfd); return last_errno(); }
  uint64_t index = 0, used = 0;
  while (dirent* de = readdir(d)) {
    if (index++ < cookie) continue;
    if (used >= len) break;
    size_t namelen = std::strlen(de->d_name);
    uint8_t type = kUnknown;
    switch (de->d_type) {
      case DT_REG: type = kRegular; break;
      case DT_DIR: type = kDirectory; break;
      case DT_LNK: type = kSymlink; break;
      case DT_CHR: type = kChar; break;
      case DT_BLK: type = kBlock; break;
      case DT_SOCK: type = kSockStream; break;
      default: {
        struct stat sb;
        if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0) type = filetype_of(sb.st_mode);
      }
    }
    uint8_t head[24] = {};
    uint64_t next = index, ino = de->d_ino;
    uint32_t nl = static_cast<uint32_t>(namelen);
    std::memcpy(head, &next, 8);
    std::memcpy(head + 8, &ino, 8);
    std::memcpy(head + 16, &nl, 4);
    head[20] = type;
    // Entries that do not fit are truncated; the guest sees a full buffer and retries larger.
    uint64_t n = std::min<uint64_t>(24, len - used);
    std::memcpy(c.mem.at(buf + used), head, n);
    used += n;
    n = std::min<uint64_t>(namelen, len - used);
    std::memcpy(c.mem.at(buf + used), de->d_name, n);
    used += n;
  }
  closedir(d);
  c.mem.store<uint32_t>(used_ptr, static_cast<uint32_t>(used));
  return kSuccess;
}

// ---- path_* -----------------------------------------------------------------------

uint16_t path_open(Call& c) {
  uint32_t dirflags = c.u32(1), oflags = c.u32(4) & 0xFFFF, fdflags = c.u32(7) & 0xFFFF, out = c.u32(8);
  uint64_t base = c.u64(5), inh = c.u64(6);
  FdEntry* dir = nullptr;
  std::string path;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(2), c.u32(3), right::PathOpen, &dir, &path)) return r;
  if (!c.mem.ok(out, 4)) return kFault;
  if (oflags & ~0xFu) return kInval;
  if ((oflags & kOCreat) && !(dir->rights_base & right::PathCreateFile)) return kNotcapable;
  if ((oflags & kOTrunc) && !(dir->rights_base & right::PathFilestatSetSize)) return kNotcapable;
  if ((oflags & kODirectory) && (base & right::FdWrite)) return kIsdir;  // directories are never writable
  // Guests that ask for write access a read-only directory cannot give are
  // refused outright (wasi-libc masks its request itself; Rust std does not).
  if ((base & right::FdWrite) && !(dir->rights_inheriting & right::FdWrite)) return kNotcapable;
  base &= dir->rights_inheriting;
  inh &= dir->rights_inheriting;
  bool read = base & (right::FdRead | right::FdReaddir);
  bool write = base & (right::FdWrite | right::FdDatasync | right::FdAllocate | right::FdFilestatSetSize);
  if ((fdflags & kFdAppend) && (base & right::FdWrite)) write = true;
  if (oflags & kOTrunc) write = true;
  int flags = (oflags & kODirectory) ? (O_RDONLY | O_DIRECTORY) : write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
  if (oflags & kOCreat) flags |= O_CREAT;
  if (oflags & kOExcl) flags |= O_EXCL;
  if (oflags & kOTrunc) flags |= O_TRUNC;
  if (fdflags & kFdAppend) flags |= O_APPEND;
  if (fdflags & kFdDsync) flags |= O_DSYNC;
  if (fdflags & kFdNonblock) flags |= O_NONBLOCK;
  if (fdflags & kFdRsync) flags |= O_RSYNC;
  if (fdflags & kFdSync) flags |= O_SYNC;
  bool follow = dirflags & kLookupFollow;
  int fd = -1;
  int err = detail::open_beneath(dir->host, path, flags, 0666, follow, c.st.force_walk, &fd);
  if (err == EISDIR && !(oflags & kODirectory) && !(flags & O_CREAT)) {
    // A directory opened with file rights: open it as a directory, without write access.
    if (base & right::FdWrite) return kIsdir;
    err = detail::open_beneath(dir->host, path, O_RDONLY | O_DIRECTORY, 0, follow, c.st.force_walk, &fd);
  }
  if (err) return from_host_errno(err);
  struct stat sb;
  fstat(fd, &sb);
  FdEntry e;
  e.host = fd;
  e.owned = true;
  e.rights_base = base & (S_ISDIR(sb.st_mode) ? right::kDir : right::kFile | right::PollFdReadwrite);
  e.rights_inheriting = inh;
  c.mem.store<uint32_t>(out, c.st.insert(std::move(e)));
  return kSuccess;
}

uint16_t path_create_directory(Call& c) {
  FdEntry* dir = nullptr;
  std::string path, name;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(1), c.u32(2), right::PathCreateDirectory, &dir, &path)) return r;
  HostFd parent;
  bool trailing;
  if (uint16_t r = parent_of(c, dir, path, &parent, &name, &trailing)) return r;
  return mkdirat(parent.fd, name.c_str(), 0777) == 0 ? kSuccess : last_errno();
}

uint16_t path_remove_directory(Call& c) {
  FdEntry* dir = nullptr;
  std::string path, name;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(1), c.u32(2), right::PathRemoveDirectory, &dir, &path)) return r;
  HostFd parent;
  bool trailing;
  if (uint16_t r = parent_of(c, dir, path, &parent, &name, &trailing)) return r;
  return unlinkat(parent.fd, name.c_str(), AT_REMOVEDIR) == 0 ? kSuccess : last_errno();
}

uint16_t path_unlink_file(Call& c) {
  FdEntry* dir = nullptr;
  std::string path, name;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(1), c.u32(2), right::PathUnlinkFile, &dir, &path)) return r;
  HostFd parent;
  bool trailing;
  if (uint16_t r = parent_of(c, dir, path, &parent, &name, &trailing)) return r;
  if (uint16_t r = check_trailing_dir(parent.fd, name, trailing)) return r;
  return unlinkat(parent.fd, name.c_str(), 0) == 0 ? kSuccess : last_errno();
}

uint16_t path_filestat_get(Call& c) {
  FdEntry* dir = nullptr;
  std::string path;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(2), c.u32(3), right::PathFilestatGet, &dir, &path)) return r;
  HostFd fd;
  int err = detail::open_beneath(dir->host, path, O_PATH, 0, c.u32(1) & kLookupFollow, c.st.force_walk, &fd.fd);
  if (err) return from_host_errno(err);
  struct stat sb;
  if (fstat(fd.fd, &sb) != 0) return last_errno();
  return write_filestat(c.mem, c.u32(4), sb) ? kSuccess : kFault;
}

uint16_t path_filestat_set_times(Call& c) {
  FdEntry* dir = nullptr;
  std::string path;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(2), c.u32(3), right::PathFilestatSetTimes, &dir, &path)) return r;
  timespec ts[2];
  if (uint16_t r = times_of(c.u64(4), c.u64(5), c.u32(6), ts)) return r;
  bool follow = c.u32(1) & kLookupFollow;
  HostFd fd;
  int err = detail::open_beneath(dir->host, path, O_PATH, 0, follow, c.st.force_walk, &fd.fd);
  if (err) return from_host_errno(err);
  struct stat sb;
  if (fstat(fd.fd, &sb) != 0) return last_errno();
  if (S_ISLNK(sb.st_mode)) {
    // The link itself: through its parent, never following it.
    HostFd parent;
    std::string name;
    bool trailing;
    if (uint16_t r = parent_of(c, dir, path, &parent, &name, &trailing)) return r;
    return utimensat(parent.fd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0 ? kSuccess : last_errno();
  }
  // The already-resolved inode, via its O_PATH descriptor.
  return utimensat(AT_FDCWD, proc_path(fd.fd).c_str(), ts, 0) == 0 ? kSuccess : last_errno();
}

uint16_t path_readlink(Call& c) {
  FdEntry* dir = nullptr;
  std::string path, name;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(1), c.u32(2), right::PathReadlink, &dir, &path)) return r;
  uint64_t buf = c.u32(3), len = c.u32(4), used = c.u32(5);
  if (!c.mem.ok(buf, len) || !c.mem.ok(used, 4)) return kFault;
  HostFd parent;
  bool trailing;
  if (uint16_t r = parent_of(c, dir, path, &parent, &name, &trailing)) return r;
  std::vector<char> tmp(4096);
  ssize_t n = readlinkat(parent.fd, name.c_str(), tmp.data(), tmp.size());
  if (n < 0) return last_errno();
  uint64_t copy = std::min<uint64_t>(uint64_t(n), len);
  std::memcpy(c.mem.at(buf), tmp.data(), copy);
  c.mem.store<uint32_t>(used, static_cast<uint32_t>(copy));
  return kSuccess;
}

uint16_t path_symlink(Call& c) {
  std::string target;
  if (!c.mem.string(c.u32(0), c.u32(1), &target)) return kFault;
  FdEntry* dir = nullptr;
  std::string path, name;
  if (uint16_t r = dir_and_path(c, c.u32(2), c.u32(3), c.u32(4), right::PathSymlink, &dir, &path)) return r;
  if (target.find('\0') != std::string::npos) return kInval;
  // An absolute link would point host programs outside the sandbox.
  if (!target.empty() && target.front() == '/') return kNotcapable;
  HostFd parent;
  bool trailing;
  if (uint16_t r = parent_of(c, dir, path, &parent, &name, &trailing)) return r;
  if (trailing) {
    struct stat sb;
    // "name/" names a directory: an existing one is EEXIST, a file ENOTDIR (as Linux does).
    if (fstatat(parent.fd, name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0) return S_ISDIR(sb.st_mode) ? kExist : kNotdir;
    return kNoent;
  }
  return symlinkat(target.c_str(), parent.fd, name.c_str()) == 0 ? kSuccess : last_errno();
}

uint16_t path_rename(Call& c) {
  FdEntry *odir = nullptr, *ndir = nullptr;
  std::string opath, npath, oname, nname;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(1), c.u32(2), right::PathRenameSource, &odir, &opath)) return r;
  if (uint16_t r = dir_and_path(c, c.u32(3), c.u32(4), c.u32(5), right::PathRenameTarget, &ndir, &npath)) return r;
  HostFd op, np;
  bool otrail, ntrail;
  if (uint16_t r = parent_of(c, odir, opath, &op, &oname, &otrail)) return r;
  if (uint16_t r = parent_of(c, ndir, npath, &np, &nname, &ntrail)) return r;
  if (otrail || ntrail) {
    struct stat sb;
    if (fstatat(op.fd, oname.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0) return last_errno();
    if (!S_ISDIR(sb.st_mode)) return kNotdir;
  }
  return renameat(op.fd, oname.c_str(), np.fd, nname.c_str()) == 0 ? kSuccess : last_errno();
}

uint16_t path_link(Call& c) {
  FdEntry *odir = nullptr, *ndir = nullptr;
  std::string opath, npath, nname;
  if (uint16_t r = dir_and_path(c, c.u32(0), c.u32(2), c.u32(3), right::PathLinkSource, &odir, &opath)) return r;
  if (uint16_t r = dir_and_path(c, c.u32(4), c.u32(5), c.u32(6), right::PathLinkTarget, &ndir, &npath)) return r;
  bool follow = c.u32(1) & kLookupFollow;
  HostFd src;
  int err = detail::open_beneath(odir->host, opath, O_PATH, 0, follow, c.st.force_walk, &src.fd);
  if (err) return from_host_errno(err);
  struct stat sb;
  if (fstat(src.fd, &sb) != 0) return last_errno();
  if (S_ISDIR(sb.st_mode)) return kPerm;
  HostFd np;
  bool ntrail;
  if (uint16_t r = parent_of(c, ndir, npath, &np, &nname, &ntrail)) return r;
  if (ntrail) return fstatat(np.fd, nname.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0 ? kExist : kNoent;
  // Link the inode already resolved inside the sandbox (a symlink stays a symlink).
  if (linkat(src.fd, "", np.fd, nname.c_str(), AT_EMPTY_PATH) == 0) return kSuccess;
  if (errno != ENOENT && errno != EPERM) return last_errno();
  // Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH fails; /proc names the same inode.
  if (S_ISLNK(sb.st_mode)) {
    HostFd op;
    std::string oname;
    bool otrail;
    if (uint16_t r = parent_of(c, odir, opath, &op, &oname, &otrail)) return r;
    return linkat(op.fd, oname.c_str(), np.fd, nname.c_str(), 0) == 0 ? kSuccess : last_errno();
  }
  return linkat(AT_FDCWD, proc_path(src.fd).c_str(), np.fd, nname.c_str(), AT_SYMLINK_FOLLOW) == 0
             ? kSuccess : last_errno();
}

// ---- poll, random, sockets ----------------------------------------------------------

bool ioctl_avail(int fd, int* n) { return ioctl(fd, FIONREAD, n) == 0; }

uint16_t poll_oneoff(Call& c) {
  uint64_t in = c.u32(0), out = c.u32(1), n = c.u32(2), nevents_ptr = c.u32(3);
  if (n == 0) return kInval;
  if (!c.mem.ok(in, n * 48) || !c.mem.ok(out, n * 32) || !c.mem.ok(nevents_ptr, 4)) return kFault;
  struct Event { uint64_t userdata; uint16_t error; uint8_t type; uint64_t nbytes; uint16_t flags; };
  std::vector<Event> ready;
  std::vector<pollfd> pfds;
  std::vector<uint64_t> pfd_sub;  // (userdata, event type) per pollfd
  int64_t timeout_ns = -1;
  std::vector<std::pair<uint64_t, uint64_t>> clocks;  // (sub index, deadline in CLOCK_MONOTONIC ns)
  uint64_t mono_now = now_ns(CLOCK_MONOTONIC);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t s = in + i * 48, userdata = 0;
    uint8_t tag = 0;
    c.mem.load(s, &userdata);
    c.mem.load(s + 8, &tag);
    if (tag == 0) {
      uint32_t id = 0;
      uint64_t timeout = 0;
      uint16_t flags = 0;
      c.mem.load(s + 16, &id);
      c.mem.load(s + 24, &timeout);
      c.mem.load(s + 40, &flags);
      clockid_t clk;
      if (!clock_of(id, &clk)) { ready.push_back({userdata, kInval, 0, 0, 0}); continue; }
      uint64_t rel = timeout;
      if (flags & 1) {  // absolute time on that clock
        uint64_t now = now_ns(clk);
        rel = timeout > now ? timeout - now : 0;
      }
      uint64_t deadline = mono_now + std::min<uint64_t>(rel, uint64_t(INT64_MAX) / 2);
      clocks.push_back({userdata, deadline});
      int64_t r = int64_t(std::min<uint64_t>(rel, uint64_t(INT64_MAX) / 2));
      if (timeout_ns < 0 || r < timeout_ns) timeout_ns = r;
    } else if (tag == 1 || tag == 2) {
      uint32_t fd = 0;
      c.mem.load(s + 16, &fd);
      FdEntry* e = c.st.get(fd);
      if (!e) { ready.push_back({userdata, kBadf, tag, 0, 0}); continue; }
      if (!(e->rights_base & right::PollFdReadwrite) && e->kind == FdEntry::Kind::Host) {
        ready.push_back({userdata, kNotcapable, tag, 0, 0});
        continue;
      }
      if (e->kind != FdEntry::Kind::Host) {
        uint64_t avail = e->kind == FdEntry::Kind::BufferIn ? c.st.stdin_data.size() - c.st.stdin_pos : 0;
        ready.push_back({userdata, kSuccess, tag, avail, 0});
        continue;
      }
      pfds.push_back({e->host, short(tag == 1 ? POLLIN : POLLOUT), 0});
      pfd_sub.push_back(userdata);
      pfd_sub.push_back(tag);
    } else {
      ready.push_back({userdata, kInval, tag, 0, 0});
    }
  }
  if (!ready.empty()) timeout_ns = 0;
  timespec ts{}, *tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1000000000;
    ts.tv_nsec = timeout_ns % 1000000000;
    tsp = &ts;
  }
  if (pfds.empty() && !tsp) return kInval;  // nothing could ever wake us
  int r = ppoll(pfds.data(), pfds.size(), tsp, nullptr);
  if (r < 0 && errno != EINTR) return last_errno();
  for (size_t i = 0; i < pfds.size(); ++i) {
    short rev = pfds[i].revents;
    if (!rev) continue;
    Event ev{pfd_sub[i * 2], kSuccess, uint8_t(pfd_sub[i * 2 + 1]), 0, 0};
    if (rev & POLLNVAL) ev.error = kBadf;
    else if (rev & POLLERR) ev.error = kIo;
    if (rev & POLLHUP) ev.flags = 1;
    if (ev.type == 1 && !ev.error) {
      int avail = 0;
      struct stat sb;
      if (fstat(pfds[i].fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        off_t pos = lseek(pfds[i].fd, 0, SEEK_CUR);
        ev.nbytes = pos >= 0 && sb.st_size > pos ? uint64_t(sb.st_size - pos) : 0;
      } else if (ioctl_avail(pfds[i].fd, &avail)) {
        ev.nbytes = uint64_t(avail);
      }
    }
    ready.push_back(ev);
  }
  if (ready.empty()) {
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    for (auto& [userdata, deadline] : clocks)
      if (deadline <= now) ready.push_back({userdata, kSuccess, 0, 0, 0});
    if (ready.empty() && !clocks.empty()) {
      // Woken early by a signal: report the nearest clock anyway rather than none.
      ready.push_back({clocks.front().first, kSuccess, 0, 0, 0});
    }
  }
  for (size_t i = 0; i < ready.size() && i < n; ++i) {
    uint64_t o = out + i * 32;
    std::memset(c.mem.at(o), 0, 32);
    c.mem.store<uint64_t>(o, ready[i].userdata);
    c.mem.store<uint16_t>(o + 8, ready[i].error);
    c.mem.store<uint8_t>(o + 10, ready[i].type);
    c.mem.store<uint64_t>(o + 16, ready[i].nbytes);
    c.mem.store<uint16_t>(o + 24, ready[i].flags);
  }
  c.mem.store<uint32_t>(nevents_ptr, static_cast<uint32_t>(std::min<uint64_t>(ready.size(), n)));
  return kSuccess;
}

uint16_t random_get(Call& c) {
  uint64_t buf = c.u32(0), len = c.u32(1);
  if (!c.mem.ok(buf, len)) return kFault;
  uint64_t done = 0;
  while (done < len) {
    ssize_t r = getrandom(c.mem.at(buf + done), len - done, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    done += uint64_t(r);
  }
  return kSuccess;
}

uint16_t sock_check(Call& c) {
  FdEntry* e = c.st.get(c.u32(0));
  if (!e) return kBadf;
  if (e->kind != FdEntry::Kind::Host) return kNotsock;
  struct stat sb;
  if (fstat(e->host, &sb) != 0) return last_errno();
  if (!S_ISSOCK(sb.st_mode)) return kNotsock;
  return kNotsup;  // sockets are never granted yet
}

}  // namespace

// ---- registration -------------------------------------------------------------------

namespace {

using Impl = uint16_t (*)(Call&);
constexpr ValType I = ValType::I32, L = ValType::I64;

struct Def {
  const char* name;
  std::vector<ValType> params;
  Impl impl;
};

}  // namespace

Result<void> add_to_linker(Linker& linker, std::shared_ptr<Context> ctx) {
  if (!ctx) return Error(ErrorCode::UsageError, Error::kNoOffset, "add_to_linker: no WASI context");
  const std::vector<Def> defs = {
      {"args_get", {I, I}, [](Call& c) { return string_list_get(c, c.st.args); }},
      {"args_sizes_get", {I, I}, [](Call& c) { return string_list_sizes(c, c.st.args); }},
      {"environ_get", {I, I}, [](Call& c) { return string_list_get(c, c.st.env); }},
      {"environ_sizes_get", {I, I}, [](Call& c) { return string_list_sizes(c, c.st.env); }},
      {"clock_res_get", {I, I}, [](Call& c) -> uint16_t {
         clockid_t clk;
         if (!clock_of(c.u32(0), &clk)) return kInval;
         timespec ts{};
         if (clock_getres(clk, &ts) != 0) return last_errno();
         return c.mem.store<uint64_t>(c.u32(1), to_ns(ts)) ? kSuccess : kFault;
       }},
      {"clock_time_get", {I, L, I}, [](Call& c) -> uint16_t {
         clockid_t clk;
         if (!clock_of(c.u32(0), &clk)) return kInval;
         return c.mem.store<uint64_t>(c.u32(2), now_ns(clk)) ? kSuccess : kFault;
       }},
      {"fd_advise", {I, L, L, I}, fd_advise},
      {"fd_allocate", {I, L, L}, fd_allocate},
      {"fd_close", {I}, fd_close},
      {"fd_datasync", {I}, [](Call& c) { return fd_sync_impl(c, true); }},
      {"fd_fdstat_get", {I, I}, fd_fdstat_get},
      {"fd_fdstat_set_flags", {I, I}, fd_fdstat_set_flags},
      {"fd_fdstat_set_rights", {I, L, L}, fd_fdstat_set_rights},
      {"fd_filestat_get", {I, I}, fd_filestat_get},
      {"fd_filestat_set_size", {I, L}, fd_filestat_set_size},
      {"fd_filestat_set_times", {I, L, L, I}, fd_filestat_set_times},
      {"fd_pread", {I, I, I, L, I}, [](Call& c) { return do_rw(c, false, true); }},
      {"fd_prestat_get", {I, I}, fd_prestat_get},
      {"fd_prestat_dir_name", {I, I, I}, fd_prestat_dir_name},
      {"fd_pwrite", {I, I, I, L, I}, [](Call& c) { return do_rw(c, true, true); }},
      {"fd_read", {I, I, I, I}, [](Call& c) { return do_rw(c, false, false); }},
      {"fd_readdir", {I, I, I, L, I}, fd_readdir},
      {"fd_renumber", {I, I}, fd_renumber},
      {"fd_seek", {I, L, I, I}, [](Call& c) {
         int64_t off = static_cast<int64_t>(c.u64(1));
         // Moving is a seek; asking where we are needs only the tell right.
         uint64_t need = (off == 0 && c.u32(2) == 1) ? right::FdTell : right::FdSeek;
         return fd_seek_impl(c, c.u32(0), off, c.u32(2), c.u32(3), need);
       }},
      {"fd_sync", {I}, [](Call& c) { return fd_sync_impl(c, false); }},
      {"fd_tell", {I, I}, [](Call& c) { return fd_seek_impl(c, c.u32(0), 0, 1, c.u32(1), right::FdTell); }},
      {"fd_write", {I, I, I, I}, [](Call& c) { return do_rw(c, true, false); }},
      {"path_create_directory", {I, I, I}, path_create_directory},
      {"path_filestat_get", {I, I, I, I, I}, path_filestat_get},
      {"path_filestat_set_times", {I, I, I, I, L, L, I}, path_filestat_set_times},
      {"path_link", {I, I, I, I, I, I, I}, path_link},
      {"path_open", {I, I, I, I, I, L, L, I, I}, path_open},
      {"path_readlink", {I, I, I, I, I, I}, path_readlink},
      {"path_remove_directory", {I, I, I}, path_remove_directory},
      {"path_rename", {I, I, I, I, I, I}, path_rename},
      {"path_symlink", {I, I, I, I, I}, path_symlink},
      {"path_unlink_file", {I, I, I}, path_unlink_file},
      {"poll_oneoff", {I, I, I, I}, poll_oneoff},
      {"proc_raise", {I}, [](Call&) { return kNosys; }},
      {"sched_yield", {}, [](Call&) -> uint16_t { sched_yield(); return kSuccess; }},
      {"random_get", {I, I}, random_get},
      {"sock_accept", {I, I, I}, sock_check},
      {"sock_recv", {I, I, I, I, I, I}, sock_check},
      {"sock_send", {I, I, I, I, I}, sock_check},
      {"sock_shutdown", {I, I}, sock_check},
  };
  for (const Def& d : defs) {
    Impl impl = d.impl;
    linker.func("wasi_snapshot_preview1", d.name, FuncType{d.params, {ValType::I32}},
                [ctx, impl](Caller& caller, const Val* args, Val* results) -> std::optional<Trap> {
                  Call c{ctx->state(), GuestMem{caller.memory_data(), caller.memory_size()}, args};
                  results[0] = Val::make_i32(impl(c));
                  return std::nullopt;
                });
  }
  // proc_exit has no result: it ends the guest with a Trap of kind Exit.
  linker.func("wasi_snapshot_preview1", "proc_exit", FuncType{{I}, {}},
              [](Caller&, const Val* args, Val*) -> std::optional<Trap> {
                Trap t(TrapKind::Exit, "exit with code " + std::to_string(args[0].of.i32));
                t.exit_code = args[0].of.i32;
                return t;
              });
  return {};
}

}  // namespace skiff::wasi
