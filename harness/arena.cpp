// Implementation of the recording arena (arena.hpp).
#include "arena.hpp"

#include <algorithm>
#include <ctime>
#include <new>
#include <stdexcept>
#include <sys/mman.h>
#include <type_traits>

namespace ipcv::harness {

namespace {
constexpr std::size_t kCacheLine = 64;
} // namespace

struct Arena::Record {
  std::int64_t call;
  std::int64_t ret;
  std::int64_t deadline; // spec::kNever when none
  std::uint64_t seq;
  std::uint32_t producer;
  std::uint32_t len;
  std::uint8_t op;
  std::uint8_t res;
  std::uint8_t has_msg;
  std::uint8_t intact;
  std::atomic<std::uint32_t> done; // 1 once `end` filled ret/res
};

/// A Log is the header of one actor's log: a cache line of its own (so the actor's writes to
/// its records never share a line with the count the watchdog polls), followed in the mapping
/// by `capacity` Records, each its own object at a computed offset.
struct alignas(kCacheLine) Arena::Log {
  std::atomic<std::uint32_t> count{0};       ///< records begun; the release in begin publishes them
  std::atomic<std::uint32_t> overflow{0};    ///< 1 once begin found the log full
  std::atomic<std::int64_t> out_of_time{0};  ///< when the actor stopped for the case deadline
  std::atomic<std::uint32_t> sends_ok{0};    ///< sends of this actor that returned ok
  std::atomic<std::uint32_t> receives_ok{0}; ///< receives of this actor that returned ok

  /// The address of record `i` of `actor` in the mapping of `a`.
  static std::byte *record_at(const Arena &a, std::uint32_t actor, std::uint32_t i) noexcept {
    return a.base_ + a.log_bytes_ * actor + sizeof(Log) + std::size_t{i} * sizeof(Record);
  }
  /// Record `i` of `actor`, made by the constructor of `a`.
  static Record &record(const Arena &a, std::uint32_t actor, std::uint32_t i) noexcept {
    return *std::launder(reinterpret_cast<Record *>(record_at(a, actor, i)));
  }
};

std::int64_t Arena::now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Arena::Arena(std::uint32_t actors, std::uint32_t capacity) : actors_(actors), capacity_(capacity) {
  static_assert(sizeof(Log) == kCacheLine, "the records start on the line after the header");
  static_assert(kCacheLine % alignof(Record) == 0 && sizeof(Record) % alignof(Record) == 0,
                "every record of every log must be aligned");
  static_assert(std::is_trivially_destructible_v<Record> && std::is_trivially_destructible_v<Log>,
                "munmap ends the objects of the arena: they must need no destructor");
  log_bytes_ = sizeof(Log) + sizeof(Record) * capacity;
  log_bytes_ = (log_bytes_ + kCacheLine - 1) / kCacheLine * kCacheLine;
  bytes_ = log_bytes_ * actors;
  void *p = ::mmap(nullptr, bytes_ ? bytes_ : kCacheLine, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("arena: mmap failed");
  base_ = static_cast<std::byte *>(p);
  // Every header begins its life here, before any actor is forked or started: the parent and
  // each child (whose copy of the mapping is the same memory) then hold the same objects, which
  // log() reaches through std::launder. A record begins its life in begin(), in the actor that
  // writes it, before the release of `count` publishes it; the pages of a large log that a
  // short case never reaches are never touched.
  for (std::uint32_t a = 0; a < actors_; ++a)
    new (base_ + log_bytes_ * a) Log{};
}

Arena::~Arena() { ::munmap(base_, bytes_ ? bytes_ : kCacheLine); }

Arena::Log *Arena::log(std::uint32_t actor) const noexcept {
  return std::launder(reinterpret_cast<Log *>(base_ + log_bytes_ * actor));
}

Arena::Slot Arena::begin(std::uint32_t actor, spec::Op op, const spec::MsgId *msg,
                         std::uint32_t len, std::int64_t deadline) noexcept {
  Log *l = log(actor);
  // Relaxed is enough since this actor is the only writer of its log's count.
  const std::uint32_t i = l->count.load(std::memory_order_relaxed);
  if (i >= capacity_) {
    // Relaxed is enough since overflow is read only once the actor has exited or been joined.
    l->overflow.store(1, std::memory_order_relaxed);
    return -1;
  }
  Record &r = *new (Log::record_at(*this, actor, i)) Record{};
  r.deadline = deadline;
  r.op = static_cast<std::uint8_t>(op);
  r.has_msg = msg != nullptr;
  r.producer = msg ? msg->producer : 0;
  r.seq = msg ? msg->seq : 0;
  r.len = len;
  r.res = static_cast<std::uint8_t>(spec::Res::pending);
  r.intact = 1;
  // Relaxed is enough since the release of count below publishes it with the other fields.
  r.done.store(0, std::memory_order_relaxed);
  r.call = now_ns();
  // SYNC POINT WRITE: arena record — the parent reads `count` after the child died or exited;
  // publishing before the fields are written would show a half-filled record.
  l->count.store(i + 1, std::memory_order_release);
  return i;
}

void Arena::end(std::uint32_t actor, Slot slot, spec::Res res, const spec::MsgId *msg,
                std::uint32_t len, bool intact) noexcept {
  if (slot < 0)
    return;
  Record &r = Log::record(*this, actor, static_cast<std::uint32_t>(slot));
  r.ret = now_ns();
  r.res = static_cast<std::uint8_t>(res);
  if (msg != nullptr) {
    r.has_msg = 1;
    r.producer = msg->producer;
    r.seq = msg->seq;
  }
  if (msg != nullptr || r.op != static_cast<std::uint8_t>(spec::Op::send))
    r.len = len;
  r.intact = intact;
  // Relaxed is enough since the counts are a watchdog's estimate (arena.hpp), each bumped
  // only by this actor once the return time above is written.
  Log *l = log(actor);
  if (res == spec::Res::ok && r.op == static_cast<std::uint8_t>(spec::Op::send))
    l->sends_ok.fetch_add(1, std::memory_order_relaxed);
  else if (res == spec::Res::ok && r.op == static_cast<std::uint8_t>(spec::Op::recv))
    l->receives_ok.fetch_add(1, std::memory_order_relaxed);
  // SYNC POINT WRITE: arena completion — without release, a reader could see done=1 with the
  // return time or result of the call still unwritten.
  r.done.store(1, std::memory_order_release);
}

void Arena::forget_id(std::uint32_t actor, Slot slot) noexcept {
  if (slot >= 0)
    Log::record(*this, actor, static_cast<std::uint32_t>(slot)).has_msg = 0;
}

void Arena::cancel(std::uint32_t actor, Slot slot) noexcept {
  Log *l = log(actor);
  // Relaxed is enough since the actor cancelling is the only writer of its log's count.
  if (slot >= 0 && static_cast<std::uint32_t>(slot) + 1 == l->count.load(std::memory_order_relaxed))
    l->count.store(static_cast<std::uint32_t>(slot), std::memory_order_release);
}

std::optional<Arena::LastCall> Arena::last_call(std::uint32_t actor) const noexcept {
  const Log *l = log(actor);
  // SYNC POINT READ: arena record (pairs with the release in begin)
  const std::uint32_t n = std::min(l->count.load(std::memory_order_acquire), capacity_);
  if (n == 0)
    return std::nullopt;
  const Record &r = Log::record(*this, actor, n - 1);
  LastCall c{static_cast<spec::Op>(r.op), true, spec::Res::pending, r.call, 0};
  // SYNC POINT READ: arena completion (pairs with the release in end)
  if (r.done.load(std::memory_order_acquire) != 0) {
    c.pending = false;
    c.res = static_cast<spec::Res>(r.res);
    c.ret = r.ret;
  }
  return c;
}

std::uint64_t Arena::sends_ok() const noexcept {
  std::uint64_t n = 0;
  for (std::uint32_t a = 0; a < actors_; ++a)
    n += log(a)->sends_ok.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t Arena::receives_ok() const noexcept {
  std::uint64_t n = 0;
  for (std::uint32_t a = 0; a < actors_; ++a)
    n += log(a)->receives_ok.load(std::memory_order_relaxed);
  return n;
}

void Arena::ran_out_of_time(std::uint32_t actor) noexcept {
  std::int64_t none = 0;
  // Relaxed is enough since it is read only once the actor has exited or been joined.
  log(actor)->out_of_time.compare_exchange_strong(none, now_ns(), std::memory_order_relaxed);
}

std::optional<std::int64_t> Arena::out_of_time() const noexcept {
  std::optional<std::int64_t> first;
  // Relaxed is enough since the actors have exited or been joined (waitpid or join orders it).
  for (std::uint32_t a = 0; a < actors_; ++a)
    if (const std::int64_t t = log(a)->out_of_time.load(std::memory_order_relaxed); t != 0)
      first = first ? std::min(*first, t) : t;
  return first;
}

bool Arena::overflowed() const noexcept {
  // Relaxed is enough since the actors have exited or been joined (waitpid or join orders it).
  for (std::uint32_t a = 0; a < actors_; ++a)
    if (log(a)->overflow.load(std::memory_order_relaxed))
      return true;
  return false;
}

std::string Arena::overflow_text() const {
  std::string s;
  // Relaxed is enough since the actors have exited or been joined (waitpid or join orders it).
  for (std::uint32_t a = 0; a < actors_; ++a)
    if (log(a)->overflow.load(std::memory_order_relaxed))
      s += (s.empty() ? "" : "; ") + std::string("actor ") + std::to_string(a + 1) +
           " recorded more than " + std::to_string(capacity_) + " events";
  return s;
}

spec::History Arena::history() const {
  spec::History h;
  for (std::uint32_t a = 0; a < actors_; ++a) {
    const Log *l = log(a);
    // SYNC POINT READ: arena record (pairs with the release in begin)
    const std::uint32_t n = l->count.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < n && i < capacity_; ++i) {
      const Record &r = Log::record(*this, a, i);
      spec::Event e;
      e.pid = a + 1;
      e.op = static_cast<spec::Op>(r.op);
      e.call = r.call;
      e.has_msg = r.has_msg != 0;
      e.msg = {r.producer, r.seq};
      e.len = r.len;
      e.deadline = r.deadline;
      // SYNC POINT READ: arena completion (pairs with the release in end)
      if (r.done.load(std::memory_order_acquire)) {
        e.res = static_cast<spec::Res>(r.res);
        e.ret = r.ret;
        e.intact = r.intact != 0;
      } else {
        e.res = spec::Res::pending;
        e.ret = spec::kNever;
      }
      h.events.push_back(e);
    }
  }
  return h;
}

} // namespace ipcv::harness
