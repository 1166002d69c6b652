// The message-identity index of the queue specs, and how explanations name events.
#include "msg_index.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>

namespace ipcv::spec {
namespace {
constexpr std::uint64_t hash(MsgId id) noexcept {
  std::uint64_t x = id.seq * 0x9e3779b97f4a7c15ULL ^ (std::uint64_t{id.producer} << 1);
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  return x ^ (x >> 32);
}
} // namespace

MsgIndex::MsgIndex(const History &h) {
  std::size_t named = 0;
  for (const Event &e : h.events)
    if (e.has_msg && (e.op == Op::send || e.op == Op::recv))
      ++named;
  const std::size_t cap = std::bit_ceil(2 * named + 2);
  table_.assign(cap, 0);
  mask_ = cap - 1;
  records_.reserve(named);
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op == Op::recv && e.pending())
      ++pending_recvs;
    if (e.op == Op::send && !e.has_msg) {
      if (e.res == Res::ok) {
        ++anon_sent_ok;
        anon_sends.push_back(i);
      }
      anon_sent_pending += e.pending();
      continue;
    }
    if (e.op == Op::recv && e.res == Res::ok && !e.has_msg) {
      ++anon_received;
      anon_receives.push_back(i);
      continue;
    }
    if (!(e.op == Op::send || is_identified_receive(e)))
      continue;
    std::size_t s = slot_of(e.msg);
    if (table_[s] == 0) {
      records_.push_back(MsgRecord{e.msg});
      table_[s] = static_cast<std::uint32_t>(records_.size());
    }
    MsgRecord &r = records_[table_[s] - 1];
    if (e.op == Op::send) {
      if (r.send == kNone)
        r.send = i;
      ++r.sends;
    } else {
      if (r.recv == kNone)
        r.recv = i;
      else if (r.recv2 == kNone)
        r.recv2 = i;
      ++r.recvs;
    }
  }
}

std::size_t MsgIndex::slot_of(MsgId id) const noexcept {
  std::size_t s = hash(id) & mask_;
  while (table_[s] != 0 && records_[table_[s] - 1].id != id)
    s = (s + 1) & mask_;
  return s;
}

const MsgRecord *MsgIndex::find(MsgId id) const noexcept {
  const std::size_t s = slot_of(id);
  return table_[s] == 0 ? nullptr : &records_[table_[s] - 1];
}

void Failures::add(std::string why, std::initializer_list<std::size_t> w) {
  if (history_ == nullptr) { // first added, first kept
    if (++count > kMaxWitnessedFailures)
      return;
    if (first.empty())
      first = std::move(why);
    for (std::size_t x : w)
      if (x != kNone)
        witnesses.push_back(x);
    return;
  }
  ++count;
  const std::int64_t at = time_of(w);
  if (kept_.size() == kMaxWitnessedFailures && at >= kept_.back().at)
    return; // no earlier than any kept: ties go to the one added first
  Kept k{at, std::move(why), {}};
  for (std::size_t x : w)
    if (x != kNone)
      k.events.push_back(x);
  const auto later = std::upper_bound(kept_.begin(), kept_.end(), at,
                                      [](std::int64_t t, const Kept &o) { return t < o.at; });
  kept_.insert(later, std::move(k));
  if (kept_.size() > kMaxWitnessedFailures)
    kept_.pop_back();
  first = kept_.front().why;
  witnesses.clear();
  for (const Kept &f : kept_)
    witnesses.insert(witnesses.end(), f.events.begin(), f.events.end());
}

std::int64_t Failures::time_of(std::initializer_list<std::size_t> w) const noexcept {
  std::int64_t at = kNever;
  for (std::size_t x : w)
    if (x != kNone && x < history_->events.size())
      at = std::min(at, history_->events[x].call);
  return at;
}

std::string to_string(MsgId id) { return fmt::format("({},{})", id.producer, id.seq); }

std::string describe(const Event &e) {
  std::string s = fmt::format("pid {} {}", e.pid, to_string(e.op));
  if (e.has_msg)
    s += " " + to_string(e.msg);
  if (e.res != Res::ok)
    s += fmt::format(" -> {}", to_string(e.res));
  if (e.line != 0)
    s += fmt::format(" [line {}]", e.line);
  return s;
}

} // namespace ipcv::spec
