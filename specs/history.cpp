// Spellings of the History vocabulary (Op, Res) as they appear in history files.
#include "history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace ipcv::spec {
namespace {
constexpr std::array<std::string_view, 5> kOps = {"send", "recv", "close", "write", "read"};
constexpr std::array<std::string_view, 9> kRes = {
    "ok", "full", "empty", "timeout", "eof", "peer_gone", "too_large", "error", "pending"};
} // namespace

std::string_view to_string(Op op) noexcept { return kOps[static_cast<std::size_t>(op)]; }
std::string_view to_string(Res res) noexcept { return kRes[static_cast<std::size_t>(res)]; }

bool parse(std::string_view s, Op &out) noexcept {
  for (std::size_t i = 0; i < kOps.size(); ++i)
    if (kOps[i] == s) {
      out = static_cast<Op>(i);
      return true;
    }
  return false;
}

bool parse(std::string_view s, Res &out) noexcept {
  for (std::size_t i = 0; i < kRes.size(); ++i)
    if (kRes[i] == s) {
      out = static_cast<Res>(i);
      return true;
    }
  return false;
}

namespace {
void add_sorted(std::vector<std::uint32_t> &v, std::uint32_t pid) {
  auto it = std::lower_bound(v.begin(), v.end(), pid);
  if (it == v.end() || *it != pid)
    v.insert(it, pid);
}
bool has(const std::vector<std::uint32_t> &v, std::uint32_t pid) noexcept {
  return std::binary_search(v.begin(), v.end(), pid);
}
} // namespace

bool Roles::is_sender(std::uint32_t pid) const noexcept { return has(senders, pid); }
bool Roles::is_receiver(std::uint32_t pid) const noexcept { return has(receivers, pid); }

Roles roles_of(const History &h) {
  Roles r;
  for (std::uint32_t p : h.senders)
    add_sorted(r.senders, p);
  for (std::uint32_t p : h.receivers)
    add_sorted(r.receivers, p);
  for (const Event &e : h.events) {
    if (e.op == Op::send || e.op == Op::close || e.op == Op::write)
      add_sorted(r.senders, e.pid);
    else if (e.op == Op::recv || e.op == Op::read)
      add_sorted(r.receivers, e.pid);
  }
  return r;
}

bool receiver_crashed(const History &h, const Roles &r) {
  return std::any_of(h.crashed.begin(), h.crashed.end(),
                     [&](std::uint32_t pid) { return r.is_receiver(pid) || !r.is_sender(pid); });
}

std::int64_t end_of(const History &h) {
  if (auto it = h.meta_numbers.find("end_ns"); it != h.meta_numbers.end())
    return static_cast<std::int64_t>(it->second);
  std::int64_t end = 0;
  for (const Event &e : h.events)
    end = std::max({end, e.call, e.pending() ? e.call : e.ret});
  return end;
}

std::string ms_text(std::int64_t ns) {
  return fmt::format("{:.1f} ms", static_cast<double>(ns) / 1e6);
}

} // namespace ipcv::spec
