// Exhaustive FIFO-queue linearizability check (Wing and Gong's search with porcupine-style
// memoisation): tries every order of the queue operations that respects real-time order, runs it
// against a sequential queue, and remembers each (linearized set, queue contents) already
// explored so that no state is searched twice.
#include "wing_gong.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

namespace ipcv::spec {
namespace {

constexpr MsgId kAnonymous{~std::uint32_t{0}, ~std::uint64_t{0}};

/// A QOp is one queue operation that may have taken effect.
struct QOp {
  enum Kind : std::uint8_t { enq, deq, empty, any_deq } kind;
  MsgId msg;
  std::int64_t call, ret;
  bool optional; ///< pending: may be left out
  std::size_t event;
};

class Search {
public:
  explicit Search(std::vector<QOp> ops) : ops_(std::move(ops)), pred_(ops_.size(), 0) {
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (!ops_[i].optional)
        required_ |= bit(i);
      for (std::size_t j = 0; j < ops_.size(); ++j)
        if (ops_[j].ret < ops_[i].call)
          pred_[i] |= bit(j);
    }
  }

  bool run() { return dfs(0); }

private:
  static std::uint64_t bit(std::size_t i) { return std::uint64_t{1} << i; }

  bool dfs(std::uint64_t done) {
    if ((done & required_) == required_)
      return true;
    std::string key(reinterpret_cast<const char *>(&done), sizeof done);
    for (std::size_t i = head_; i < queue_.size(); ++i)
      key.push_back(static_cast<char>(queue_[i]));
    if (!seen_.insert(std::move(key)).second)
      return false;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if ((done & bit(i)) || (pred_[i] & ~done))
        continue;
      const QOp &op = ops_[i];
      const std::size_t size = queue_.size() - head_;
      bool ok = false;
      switch (op.kind) {
      case QOp::enq:
        queue_.push_back(static_cast<std::uint8_t>(i));
        ok = dfs(done | bit(i));
        queue_.pop_back();
        break;
      case QOp::deq:
      case QOp::any_deq:
        if (size > 0 && (op.kind == QOp::any_deq || ops_[queue_[head_]].msg == op.msg)) {
          ++head_;
          ok = dfs(done | bit(i));
          --head_;
        } else if (size == 0 && op.kind == QOp::any_deq) {
          ok = dfs(done | bit(i));
        }
        break;
      case QOp::empty:
        ok = size == 0 && dfs(done | bit(i));
        break;
      }
      if (ok)
        return true;
    }
    return false;
  }

  std::vector<QOp> ops_;
  std::vector<std::uint64_t> pred_; ///< pred_[i]: operations that returned before i was called
  std::uint64_t required_ = 0;
  std::vector<std::uint8_t> queue_; ///< enqueue operations, front at head_
  std::size_t head_ = 0;
  std::unordered_set<std::string> seen_;
};

} // namespace

Verdict check_wing_gong(const History &h, std::size_t max_ops) {
  max_ops = std::min<std::size_t>(max_ops, 64);
  std::vector<QOp> ops;
  std::vector<std::size_t> witnesses;
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op != Op::send && e.op != Op::recv)
      continue;
    const bool pending = e.res == Res::pending;
    if (!pending && e.ret < e.call)
      return Verdict::undecided(fmt::format("event {} is not a well-formed queue operation.", i));
    const std::int64_t ret = pending ? kNever : e.ret;
    // Zero-length messages carry no id: they are all the same value to the search.
    const MsgId msg = e.has_msg ? e.msg : kAnonymous;
    if (e.op == Op::send && (e.res == Res::ok || pending))
      ops.push_back({QOp::enq, msg, e.call, ret, pending, i});
    else if (e.op == Op::recv && e.res == Res::ok)
      ops.push_back({QOp::deq, msg, e.call, ret, false, i});
    else if (e.op == Op::recv && e.res == Res::empty)
      ops.push_back({QOp::empty, {}, e.call, ret, false, i});
    else if (e.op == Op::recv && pending)
      ops.push_back({QOp::any_deq, {}, e.call, ret, true, i});
    else
      continue;
    witnesses.push_back(i);
  }
  if (ops.size() > max_ops)
    return Verdict::undecided(fmt::format("{} queue operations; the exhaustive search stops at {}.",
                                          ops.size(), max_ops));
  if (Search(std::move(ops)).run())
    return Verdict::ok();
  return Verdict::failed(
      fmt::format("no order of the {} queue operations respects real time and FIFO semantics.",
                  witnesses.size()),
      std::move(witnesses));
}

} // namespace ipcv::spec
