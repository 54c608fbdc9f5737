// WASI preview 1 through the public API: C programs from tests/wasi/ are
// compiled with clang --target=wasm32-wasi at test time (skipped when the
// toolchain is missing) and run with in-memory stdio.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>

#include "skiff/skiff.hh"
#include "skiff/wasi.hh"

namespace skiff {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = fs::path(__FILE__).parent_path().parent_path() / "wasi";

fs::path wasm_dir() {
  static const fs::path dir = fs::temp_directory_path() / ("skiff-wasi-wasm-" + std::to_string(getuid()));
  return dir;
}

// 0 = built, 77 = no toolchain, other = compile failure.
int build_programs() {
  static int status = [] {
    std::string cmd = "'" + (kSourceDir / "build.sh").string() + "' '" + wasm_dir().string() + "'";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
  }();
  return status;
}

#define REQUIRE_PROGRAMS()                                                     \
  do {                                                                         \
    int st = build_programs();                                                 \
    /* scripts/install-deps.sh installs the toolchain, so its absence fails */ \
    ASSERT_NE(st, 77) << "clang --target=wasm32-wasi is not available";      \
    ASSERT_EQ(st, 0) << "compiling tests/wasi/*.c failed";                     \
  } while (0)

struct RunResult {
  int exit_code = -1;
  std::string out, err, trap;
};

RunResult run_program(const std::string& name, wasi::Config config) {
  RunResult r;
  config.stdout_to_buffer().stderr_to_buffer();
  Engine engine;
  auto module = Module::from_file(engine, (wasm_dir() / (name + ".wasm")).string());
  if (!module) { r.trap = "load: " + module.error().to_string(); return r; }
  auto ctx = wasi::Context::create(config);
  if (!ctx) { r.trap = "context: " + ctx.error().to_string(); return r; }
  Store store(engine);
  Linker linker(engine);
  auto added = wasi::add_to_linker(linker, ctx.value());
  if (!added) { r.trap = "add_to_linker: " + added.error().to_string(); return r; }
  auto inst = linker.instantiate(store, *module);
  if (!inst) { r.trap = "instantiate: " + inst.error().to_string(); return r; }
  auto start = inst->func("_start");
  if (!start) { r.trap = "no _start"; return r; }
  auto res = start->call({});
  if (res.ok()) {
    r.exit_code = 0;
  } else if (res.error().kind == TrapKind::Exit) {
    r.exit_code = res.error().exit_code;
  } else {
    r.trap = res.error().to_string();
  }
  r.out = ctx.value()->stdout_contents();
  r.err = ctx.value()->stderr_contents();
  return r;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void write_file(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// A fresh host directory per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "skiff-wasi-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
};

TEST(Wasi, HelloWorldToBuffer) {
  REQUIRE_PROGRAMS();
  RunResult r = run_program("hello", wasi::Config().args({"hello.wasm"}));
  EXPECT_EQ(r.trap, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "hello, wasi\n");
}

TEST(Wasi, ArgsAndExactEnvironment) {
  REQUIRE_PROGRAMS();
  RunResult r = run_program("args_env",
                            wasi::Config().args({"prog", "one", "two words"}).env("HOME", "/home/guest").env("X", "a=b"));
  EXPECT_EQ(r.trap, "");
  EXPECT_EQ(r.out,
            "argc=3\nargv[0]=prog\nargv[1]=one\nargv[2]=two words\n"
            "env HOME=/home/guest\nenv X=a=b\nHOME=/home/guest\n");
}

TEST(Wasi, NoHostEnvironmentLeaks) {
  REQUIRE_PROGRAMS();
  RunResult r = run_program("args_env", wasi::Config().args({"prog"}));
  EXPECT_EQ(r.out, "argc=1\nargv[0]=prog\nHOME=(unset)\n");
}

TEST(Wasi, ProcExitCode) {
  REQUIRE_PROGRAMS();
  EXPECT_EQ(run_program("exit_code", wasi::Config().args({"e", "42"})).exit_code, 42);
  EXPECT_EQ(run_program("exit_code", wasi::Config().args({"e", "0"})).exit_code, 0);
  EXPECT_EQ(run_program("exit_code", wasi::Config().args({"e", "255"})).exit_code, 255);
}

TEST(Wasi, StdinFromBuffer) {
  REQUIRE_PROGRAMS();
  RunResult r = run_program("stdin_upper", wasi::Config().args({"u"}).stdin_from_buffer("piped in\nline 2\n"));
  EXPECT_EQ(r.trap, "");
  EXPECT_EQ(r.out, "PIPED IN\nLINE 2\n");
}

TEST(Wasi, PollOneoffSleepsAndRandomFills) {
  REQUIRE_PROGRAMS();
  RunResult r = run_program("poll_sleep", wasi::Config().args({"p"}));
  EXPECT_EQ(r.trap, "");
  EXPECT_EQ(r.out, "err=0 n=1 userdata=42 type=0 slept_enough=1\nrandom nonzero=1\n");
}

TEST(Wasi, BadPointersAreEfault) {
  REQUIRE_PROGRAMS();
  RunResult r = run_program("efault", wasi::Config().args({"f"}));
  EXPECT_EQ(r.trap, "");
  EXPECT_EQ(r.out,
            "fd_write bad buf: 21\nfd_write bad iovs: 21\nfd_write huge len: 21\nrandom_get: 21\n"
            "args_sizes_get: 21\nclock_time_get: 21\nfd_fdstat_get: 21\n");
}

class WasiFs : public ::testing::TestWithParam<bool> {};  // param: force the O_NOFOLLOW walk

TEST_P(WasiFs, FileOperationsInsidePreopen) {
  REQUIRE_PROGRAMS();
  TempDir tmp;
  write_file(tmp.path / "input.txt", "some input\n");
  RunResult r = run_program("files", wasi::Config()
                                         .args({"files"})
                                         .preopen_dir(tmp.path.string(), "/sandbox")
                                         .force_path_walk(GetParam()));
  EXPECT_EQ(r.trap, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "read: some input\nvia link: written by wasm\nreadlink: renamed.txt\nsize: 16\n"
            "list: input.txt link renamed.txt sub\ndone\n");
  EXPECT_EQ(read_file(tmp.path / "renamed.txt"), "written by wasm\n");
  EXPECT_FALSE(fs::exists(tmp.path / "out.txt"));
  EXPECT_FALSE(fs::exists(tmp.path / "sub"));
}

TEST_P(WasiFs, EscapeAttemptsFailAndLeaveHostUntouched) {
  REQUIRE_PROGRAMS();
  TempDir tmp;
  fs::path box = tmp.path / "sandbox";
  fs::create_directories(box / "a");
  write_file(tmp.path / "secret.txt", "top secret\n");
  fs::create_symlink("../secret.txt", box / "out_link");
  fs::create_directory_symlink("..", box / "out_dir");
  fs::create_symlink(tmp.path / "secret.txt", box / "abs_link");
  RunResult r = run_program("escape", wasi::Config()
                                          .args({"escape"})
                                          .preopen_dir(box.string(), "/sandbox")
                                          .force_path_walk(GetParam()));
  EXPECT_EQ(r.trap, "");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("all refused"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ESCAPED"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(tmp.path / "secret.txt"), "top secret\n");
  EXPECT_FALSE(fs::exists(tmp.path / "created.txt"));
  EXPECT_FALSE(fs::exists(tmp.path / "newdir"));
  EXPECT_FALSE(fs::exists(box / "stolen.txt"));
  EXPECT_FALSE(fs::exists(box / "hard"));
}

TEST_P(WasiFs, ReadOnlyPreopenRefusesWrites) {
  REQUIRE_PROGRAMS();
  TempDir tmp;
  write_file(tmp.path / "data.txt", "frozen\n");
  RunResult r = run_program("readonly", wasi::Config()
                                            .args({"ro"})
                                            .preopen_dir(tmp.path.string(), "/ro", true)
                                            .force_path_walk(GetParam()));
  EXPECT_EQ(r.trap, "");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "read: frozen\nread-only holds\n");
  EXPECT_EQ(read_file(tmp.path / "data.txt"), "frozen\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()), 1);
}

INSTANTIATE_TEST_SUITE_P(Resolver, WasiFs, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "walk" : "openat2"; });

TEST(Wasi, ContextsAreIndependent) {
  REQUIRE_PROGRAMS();
  Engine engine;
  auto module = Module::from_file(engine, (wasm_dir() / "args_env.wasm").string());
  ASSERT_TRUE(module.ok());
  auto a = wasi::Context::create(wasi::Config().args({"a"}).env("HOME", "/a").stdout_to_buffer());
  auto b = wasi::Context::create(wasi::Config().args({"b"}).stdout_to_buffer());
  ASSERT_TRUE(a.ok() && b.ok());
  Store sa(engine), sb(engine);
  Linker la(engine), lb(engine);
  ASSERT_TRUE(wasi::add_to_linker(la, a.value()).ok());
  ASSERT_TRUE(wasi::add_to_linker(lb, b.value()).ok());
  auto ia = la.instantiate(sa, *module);
  auto ib = lb.instantiate(sb, *module);
  ASSERT_TRUE(ia.ok() && ib.ok());
  ASSERT_TRUE(ib->func("_start")->call({}).ok());
  ASSERT_TRUE(ia->func("_start")->call({}).ok());
  EXPECT_EQ(a.value()->stdout_contents(), "argc=1\nargv[0]=a\nenv HOME=/a\nHOME=/a\n");
  EXPECT_EQ(b.value()->stdout_contents(), "argc=1\nargv[0]=b\nHOME=(unset)\n");
}

TEST(Wasi, MissingPreopenIsAnError) {
  auto ctx = wasi::Context::create(wasi::Config().preopen_dir("/nonexistent/skiff/dir", "/x"));
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, ErrorCode::IoError);
}

TEST(Wasi, DefinesAllPreview1Functions) {
  Engine engine;
  Linker linker(engine);
  auto ctx = wasi::Context::create(wasi::Config());
  ASSERT_TRUE(ctx.ok());
  EXPECT_TRUE(wasi::add_to_linker(linker, ctx.value()).ok());
  EXPECT_FALSE(wasi::add_to_linker(linker, nullptr).ok());
}

}  // namespace
}  // namespace skiff

// ---- the official wasi-testsuite (../shared/wasi-testsuite) ------------------------

namespace skiff {
namespace {

// Just enough JSON for the testsuite's flat expectation files.
struct Json {
  enum Kind { Null, Str, Num, Arr, Obj } kind = Null;
  std::string str;
  double num = 0;
  std::vector<Json> arr;
  std::vector<std::pair<std::string, Json>> obj;
  const Json* get(const std::string& k) const {
    for (auto& [key, v] : obj)
      if (key == k) return &v;
    return nullptr;
  }
};

bool parse_json(const std::string& s, size_t& i, Json& out) {
  auto ws = [&] { while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i; };
  ws();
  if (i >= s.size()) return false;
  char c = s[i];
  if (c == '"') {
    out.kind = Json::Str;
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] != '\\') { out.str += s[i]; continue; }
      if (++i >= s.size()) return false;
      switch (s[i]) {
        case 'n': out.str += '\n'; break;
        case 't': out.str += '\t'; break;
        case 'r': out.str += '\r'; break;
        case 'u': out.str += static_cast<char>(std::stoi(s.substr(i + 1, 4), nullptr, 16)); i += 4; break;
        default: out.str += s[i];
      }
    }
    ++i;
    return true;
  }
  if (c == '[' || c == '{') {
    out.kind = c == '[' ? Json::Arr : Json::Obj;
    ++i;
    for (;;) {
      ws();
      if (i < s.size() && (s[i] == ']' || s[i] == '}')) { ++i; return true; }
      std::string key;
      if (out.kind == Json::Obj) {
        Json k;
        if (!parse_json(s, i, k)) return false;
        key = k.str;
        ws();
        if (i >= s.size() || s[i++] != ':') return false;
      }
      Json v;
      if (!parse_json(s, i, v)) return false;
      if (out.kind == Json::Arr) out.arr.push_back(std::move(v));
      else out.obj.emplace_back(key, std::move(v));
      ws();
      if (i < s.size() && s[i] == ',') ++i;
    }
  }
  if (s.compare(i, 4, "null") == 0) { i += 4; return true; }
  size_t used = 0;
  out.kind = Json::Num;
  out.num = std::stod(s.substr(i), &used);
  i += used;
  return true;
}

const fs::path kWasiSuite = kSourceDir.parent_path().parent_path().parent_path() / "shared" / "wasi-testsuite";

// Tests that do not pass yet, with the reason.
const std::map<std::string, std::string> kKnownFailures = {
};

TEST(WasiTestsuite, Preview1) {
  ASSERT_TRUE(fs::exists(kWasiSuite / "tests")) << "no " << kWasiSuite;
  int passed = 0, failed = 0, skipped = 0;
  std::vector<fs::path> cases;
  for (auto& entry : fs::recursive_directory_iterator(kWasiSuite / "tests"))
    if (entry.path().extension() == ".wasm" && entry.path().parent_path().filename() == "wasm32-wasip1")
      cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  for (const fs::path& wasm : cases) {
    std::string id = wasm.parent_path().parent_path().parent_path().filename().string() + "/" + wasm.stem().string();
    Json spec;
    fs::path json = wasm;
    json.replace_extension(".json");
    if (fs::exists(json)) {
      std::string text = read_file(json);
      size_t pos = 0;
      ASSERT_TRUE(parse_json(text, pos, spec)) << json;
    }
    wasi::Config config;
    config.arg(wasm.filename().string()).stdin_from_buffer("");
    if (const Json* args = spec.get("args"))
      for (auto& a : args->arr) config.arg(a.str);
    if (const Json* env = spec.get("env"))
      for (auto& [k, v] : env->obj) config.env(k, v.str);
    // The Rust tests accept any reasonable errno unless told to expect Linux's.
    if (std::getenv("SKIFF_WASI_STRICT_ERRNO") && id.starts_with("rust/")) config.env("ERRNO_MODE_UNIX", "1");
    config.force_path_walk(std::getenv("SKIFF_WASI_FORCE_WALK") != nullptr);
    TempDir tmp;
    if (const Json* root = spec.get("root"); root && root->kind == Json::Str) {
      fs::copy(wasm.parent_path() / root->str, tmp.path / "root",
               fs::copy_options::recursive | fs::copy_options::copy_symlinks);
      config.preopen_dir((tmp.path / "root").string(), "/");
    }
    int want_exit = 0;
    if (const Json* e = spec.get("exit_code")) want_exit = static_cast<int>(e->num);
    // run_program looks in wasm_dir(); link the case there under a unique name.
    fs::create_directories(wasm_dir());
    std::string name = "suite-" + std::to_string(std::hash<std::string>()(id));
    fs::path link = wasm_dir() / (name + ".wasm");
    std::error_code ec;
    fs::remove(link, ec);
    fs::create_symlink(wasm, link);
    RunResult r = run_program(name, config);
    fs::remove(link, ec);
    std::string why;
    if (!r.trap.empty()) why = "trap: " + r.trap;
    else if (r.exit_code != want_exit) why = "exit " + std::to_string(r.exit_code) + ", want " + std::to_string(want_exit);
    else if (const Json* out = spec.get("stdout"); out && r.out.compare(0, out->str.size(), out->str) != 0)
      why = "stdout " + r.out;
    bool known = kKnownFailures.count(id) > 0;
    if (why.empty()) {
      ++passed;
      EXPECT_FALSE(known) << id << " passes now: drop it from kKnownFailures";
    } else if (known) {
      ++skipped;
    } else {
      ++failed;
      ADD_FAILURE() << id << ": " << why << "\n" << r.out.substr(0, 2000) << r.err.substr(0, 2000);
    }
  }
  std::printf("wasi-testsuite: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
}

}  // namespace
}  // namespace skiff
