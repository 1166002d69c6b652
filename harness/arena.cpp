// Implementation of the recording arena (arena.hpp).
#include "arena.hpp"

#include <algorithm>
#include <ctime>
#include <new>
#include <stdexcept>
#include <sys/mman.h>

namespace ipcv::harness {

struct Arena::Record {
  std::int64_t call;
  std::int64_t ret;
  std::uint64_t seq;
  std::uint32_t producer;
  std::uint32_t len;
  std::uint8_t op;
  std::uint8_t res;
  std::uint8_t has_msg;
  std::uint8_t intact;
  std::atomic<std::uint32_t> done; // 1 once `end` filled ret/res
};

struct Arena::Log {
  std::atomic<std::uint32_t> count;
  std::atomic<std::uint32_t> overflow;
  std::uint32_t pad[14]; // keep the records of one actor off the header's cache line
  Record records[1];
};

std::int64_t Arena::now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Arena::Arena(std::uint32_t actors, std::uint32_t capacity) : actors_(actors), capacity_(capacity) {
  log_bytes_ = offsetof(Log, records) + sizeof(Record) * capacity;
  log_bytes_ = (log_bytes_ + 63) / 64 * 64;
  bytes_ = log_bytes_ * actors;
  void *p = ::mmap(nullptr, bytes_ ? bytes_ : 64, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("arena: mmap failed");
  base_ = static_cast<std::byte *>(p); // zero-filled: every count and flag starts at 0
}

Arena::~Arena() { ::munmap(base_, bytes_ ? bytes_ : 64); }

Arena::Log *Arena::log(std::uint32_t actor) const noexcept {
  return reinterpret_cast<Log *>(base_ + log_bytes_ * actor);
}

Arena::Slot Arena::begin(std::uint32_t actor, spec::Op op, const spec::MsgId *msg,
                         std::uint32_t len) noexcept {
  Log *l = log(actor);
  const std::uint32_t i = l->count.load(std::memory_order_relaxed); // one writer per log
  if (i >= capacity_) {
    l->overflow.store(1, std::memory_order_relaxed);
    return -1;
  }
  Record &r = l->records[i];
  r.op = static_cast<std::uint8_t>(op);
  r.has_msg = msg != nullptr;
  r.producer = msg ? msg->producer : 0;
  r.seq = msg ? msg->seq : 0;
  r.len = len;
  r.res = static_cast<std::uint8_t>(spec::Res::pending);
  r.intact = 1;
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
  Record &r = log(actor)->records[slot];
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
  // SYNC POINT WRITE: arena completion — without release, a reader could see done=1 with the
  // return time or result of the call still unwritten.
  r.done.store(1, std::memory_order_release);
}

void Arena::cancel(std::uint32_t actor, Slot slot) noexcept {
  Log *l = log(actor);
  if (slot >= 0 && static_cast<std::uint32_t>(slot) + 1 == l->count.load(std::memory_order_relaxed))
    l->count.store(static_cast<std::uint32_t>(slot), std::memory_order_release);
}

std::optional<Arena::LastCall> Arena::last_call(std::uint32_t actor) const noexcept {
  const Log *l = log(actor);
  // SYNC POINT READ: arena record (pairs with the release in begin)
  const std::uint32_t n = std::min(l->count.load(std::memory_order_acquire), capacity_);
  if (n == 0)
    return std::nullopt;
  const Record &r = l->records[n - 1];
  LastCall c{static_cast<spec::Op>(r.op), true, spec::Res::pending, r.call, 0};
  // SYNC POINT READ: arena completion (pairs with the release in end)
  if (r.done.load(std::memory_order_acquire) != 0) {
    c.pending = false;
    c.res = static_cast<spec::Res>(r.res);
    c.ret = r.ret;
  }
  return c;
}

bool Arena::overflowed() const noexcept {
  for (std::uint32_t a = 0; a < actors_; ++a)
    if (log(a)->overflow.load(std::memory_order_relaxed))
      return true;
  return false;
}

std::string Arena::overflow_text() const {
  std::string s;
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
      const Record &r = l->records[i];
      spec::Event e;
      e.pid = a + 1;
      e.op = static_cast<spec::Op>(r.op);
      e.call = r.call;
      e.has_msg = r.has_msg != 0;
      e.msg = {r.producer, r.seq};
      e.len = r.len;
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
