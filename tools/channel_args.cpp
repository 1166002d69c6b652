// Implementation of the shared --channel handling (channel_args.hpp).
#include "channel_args.hpp"

#include <fmt/format.h>

namespace ipcv::cli {

bool resolve_channels(const std::vector<std::string> &names, bool include_faulty,
                      std::vector<const ChannelEntry *> &out, std::string &error) {
  out.clear();
  if (names.empty()) {
    for (const auto &e : channels())
      if (include_faulty || !e.faulty)
        out.push_back(&e);
    return true;
  }
  for (const auto &n : names) {
    const ChannelEntry *e = find_channel(n);
    if (e == nullptr) {
      std::string known;
      for (const auto &c : channels())
        if (!c.faulty)
          known += (known.empty() ? "" : ", ") + c.name;
      error = fmt::format("unknown channel '{}' (known: {}; see 'ipcverify list')", n, known);
      return false;
    }
    out.push_back(e);
  }
  return true;
}

std::string count_text(unsigned n) { return n == Claims::kMany ? "many" : std::to_string(n); }

std::string limits_text(const Claims &c) {
  return fmt::format("max {} B, capacity {}, senders {}, receivers {}", c.max_message, c.capacity,
                     count_text(c.max_senders), count_text(c.max_receivers));
}

} // namespace ipcv::cli
