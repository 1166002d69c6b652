// Spellings of the History vocabulary (Op, Res) as they appear in history files.
#include "history.hpp"

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

} // namespace ipcv::spec
