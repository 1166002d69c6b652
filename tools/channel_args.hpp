// Shared by subcommands that take --channel NAME...: resolves names against the registry with
// a one-line error for an unknown name.
#pragma once

#include "harness/registry.hpp"

#include <string>
#include <vector>

namespace ipcv::cli {

using harness::channels;
using harness::find_channel;

/// The entries named in `names` (all non-faulty ones when empty; faulty ones too when
/// `include_faulty`). On an unknown name returns false and sets `error` to a one-line message.
bool resolve_channels(const std::vector<std::string> &names, bool include_faulty,
                      std::vector<const ChannelEntry *> &out, std::string &error);

/// "many" or the number.
std::string count_text(unsigned n);

/// The claims of a channel in one line: "max 4092 B, capacity 16, senders many, receivers 1".
std::string limits_text(const Claims &c);

} // namespace ipcv::cli
