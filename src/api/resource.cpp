// Helpers for resource control from a command line or config file: byte
// sizes, durations, and the epoch ticker that turns time into epochs.
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "skiff/skiff.hh"

namespace skiff {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Error usage(std::string what) { return Error(ErrorCode::UsageError, Error::kNoOffset, std::move(what)); }

}  // namespace

Result<uint64_t> parse_byte_size(std::string_view text) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  uint64_t number = 0;
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || ptr == begin)
    return usage("not a byte size: \"" + std::string(text) + "\" (expected e.g. 4096, 64K, 16M, 2G)");
  std::string suffix = lower(std::string_view(ptr, static_cast<size_t>(end - ptr)));
  unsigned shift = 0;
  if (suffix.empty() || suffix == "b") shift = 0;
  else if (suffix == "k" || suffix == "kb" || suffix == "kib") shift = 10;
  else if (suffix == "m" || suffix == "mb" || suffix == "mib") shift = 20;
  else if (suffix == "g" || suffix == "gb" || suffix == "gib") shift = 30;
  else if (suffix == "t" || suffix == "tb" || suffix == "tib") shift = 40;
  else return usage("unknown size suffix in \"" + std::string(text) + "\" (use K, M or G)");
  if (shift > 0 && number > (UINT64_MAX >> shift)) return usage("byte size too large: \"" + std::string(text) + "\"");
  return number << shift;
}

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  double number = 0;
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || ptr == begin || !(number >= 0))
    return usage("not a duration: \"" + std::string(text) + "\" (expected e.g. 2s, 500ms)");
  std::string suffix = lower(std::string_view(ptr, static_cast<size_t>(end - ptr)));
  double ns_per_unit;
  if (suffix.empty() || suffix == "s") ns_per_unit = 1e9;
  else if (suffix == "ms") ns_per_unit = 1e6;
  else if (suffix == "us") ns_per_unit = 1e3;
  else if (suffix == "ns") ns_per_unit = 1;
  else if (suffix == "m" || suffix == "min") ns_per_unit = 60e9;
  else if (suffix == "h") ns_per_unit = 3600e9;
  else return usage("unknown duration unit in \"" + std::string(text) + "\" (use ms, s, m or h)");
  double ns = number * ns_per_unit;
  if (ns > 9e18) return usage("duration too long: \"" + std::string(text) + "\"");
  return std::chrono::nanoseconds(static_cast<int64_t>(ns));
}

struct EpochTicker::Impl {
  Engine engine;  // a copy shares the engine's epoch counter and keeps it alive
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  std::thread thread;
  explicit Impl(const Engine& e) : engine(e) {}
};

EpochTicker::EpochTicker(const Engine& engine, std::chrono::microseconds period)
    : impl_(std::make_unique<Impl>(engine)), period_(period.count() > 0 ? period : std::chrono::microseconds(1)) {
  Impl* impl = impl_.get();
  auto step = period_;
  impl->thread = std::thread([impl, step] {
    std::unique_lock<std::mutex> lock(impl->mutex);
    while (!impl->wake.wait_for(lock, step, [impl] { return impl->stop; })) impl->engine.increment_epoch();
  });
}

EpochTicker::~EpochTicker() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

uint64_t EpochTicker::ticks_for(std::chrono::nanoseconds timeout) const {
  auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(period_).count();
  auto t = timeout.count();
  if (t <= 0) return 1;
  uint64_t ticks = static_cast<uint64_t>((t + period - 1) / period);
  return ticks == 0 ? 1 : ticks;
}

}  // namespace skiff
