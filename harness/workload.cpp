// Text form of a Workload (workload.hpp): printed in counterexamples, parsed by replays.
#include "workload.hpp"

#include <charconv>
#include <fmt/format.h>
#include <sstream>

namespace ipcv::harness {

std::string to_string(Mode m) { return m == Mode::process ? "process" : "thread"; }

std::string to_string(Placement p) {
  switch (p) {
  case Placement::any:
    return "any";
  case Placement::one_core:
    return "one";
  case Placement::spread:
    return "spread";
  }
  return "any";
}

std::string to_string(const Workload &w) {
  std::string sizes;
  for (auto z : w.sizes)
    sizes += (sizes.empty() ? "" : "/") + std::to_string(z);
  std::string crash = "-";
  if (w.crash_actor)
    crash = fmt::format("{}@{}{}", *w.crash_actor, w.crash_at,
                        w.crash_when == CrashAt::inside  ? "i"
                        : w.crash_when == CrashAt::after ? "a"
                                                         : "");
  std::string extra =
      w.short_deadlines == 0 ? "" : fmt::format(",dl={}:{}", w.short_deadlines, w.deadline_seed);
  if (w.stall_actor)
    extra += fmt::format(",stall={}@{}:{}", *w.stall_actor, w.stall_at, w.stall_ms);
  return fmt::format("s={},r={},m={},z={},try={},pace={},pt={}:{}{},cpu={},crash={}", w.senders,
                     w.receivers, w.messages, sizes.empty() ? "16" : sizes, w.try_ops ? 1 : 0,
                     w.pace_us, w.perturb, w.perturb_seed, extra, to_string(w.placement), crash);
}

namespace {
template <class T> bool number(std::string_view s, T &out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
} // namespace

std::optional<Workload> parse_workload(const std::string &text, std::string &error) {
  Workload w;
  std::istringstream in(text);
  std::string item;
  int seen = 0;
  while (std::getline(in, item, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos) {
      error = fmt::format("workload: '{}' is not key=value", item);
      return std::nullopt;
    }
    std::string_view key(item.data(), eq), val(item.data() + eq + 1, item.size() - eq - 1);
    bool ok = true;
    if (key == "s")
      ok = number(val, w.senders);
    else if (key == "r")
      ok = number(val, w.receivers);
    else if (key == "m")
      ok = number(val, w.messages);
    else if (key == "z") {
      w.sizes.clear();
      std::size_t pos = 0;
      while (ok && pos <= val.size()) {
        auto slash = val.find('/', pos);
        if (slash == std::string_view::npos)
          slash = val.size();
        std::uint32_t z = 0;
        ok = number(val.substr(pos, slash - pos), z);
        w.sizes.push_back(z);
        pos = slash + 1;
      }
    } else if (key == "try") {
      ok = val == "0" || val == "1";
      w.try_ops = val == "1";
    } else if (key == "pace")
      ok = number(val, w.pace_us);
    else if (key == "pt") {
      auto colon = val.find(':');
      unsigned level = 0;
      ok = colon != std::string_view::npos && number(val.substr(0, colon), level) && level <= 3 &&
           number(val.substr(colon + 1), w.perturb_seed);
      w.perturb = static_cast<std::uint8_t>(level);
    } else if (key == "dl") {
      auto colon = val.find(':');
      unsigned pct = 0;
      ok = colon != std::string_view::npos && number(val.substr(0, colon), pct) && pct <= 100 &&
           number(val.substr(colon + 1), w.deadline_seed);
      w.short_deadlines = static_cast<std::uint8_t>(pct);
    } else if (key == "stall") {
      const auto at = val.find('@'), colon = val.find(':');
      std::uint32_t actor = 0;
      ok = at != std::string_view::npos && colon != std::string_view::npos && at < colon &&
           number(val.substr(0, at), actor) &&
           number(val.substr(at + 1, colon - at - 1), w.stall_at) &&
           number(val.substr(colon + 1), w.stall_ms) && w.stall_ms <= 10'000;
      w.stall_actor = actor;
    } else if (key == "cpu") {
      if (val == "any")
        w.placement = Placement::any;
      else if (val == "one")
        w.placement = Placement::one_core;
      else if (val == "spread")
        w.placement = Placement::spread;
      else
        ok = false;
    } else if (key == "crash") {
      if (val != "-") {
        auto at = val.find('@');
        std::string_view tail = at == std::string_view::npos ? "" : val.substr(at + 1);
        w.crash_when = tail.ends_with('i')   ? CrashAt::inside
                       : tail.ends_with('a') ? CrashAt::after
                                             : CrashAt::before;
        if (w.crash_when != CrashAt::before)
          tail.remove_suffix(1);
        std::uint32_t actor = 0;
        ok = at != std::string_view::npos && number(val.substr(0, at), actor) &&
             number(tail, w.crash_at);
        w.crash_actor = actor;
      }
    } else {
      error = fmt::format("workload: unknown key '{}'", key);
      return std::nullopt;
    }
    if (!ok) {
      error = fmt::format("workload: bad value in '{}'", item);
      return std::nullopt;
    }
    ++seen;
  }
  if (seen == 0 || w.senders == 0 || w.receivers == 0) {
    error = "workload: needs at least s=1,r=1";
    return std::nullopt;
  }
  if (w.crash_actor && *w.crash_actor >= w.actors()) {
    error = "workload: crash actor out of range";
    return std::nullopt;
  }
  if (w.stall_actor && *w.stall_actor >= w.actors()) {
    error = "workload: stall actor out of range";
    return std::nullopt;
  }
  return w;
}

} // namespace ipcv::harness
