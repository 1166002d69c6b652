// The registry of channels by name: the reference channels and the faulty fixtures, then
// whatever adapters and plugins register at run time. Registration checks what an entry claims:
// a spec name the engine cannot judge (a typo) is refused, never silently read as "not claimed".
// Every instance an entry prepares is registered for the emergency exit (interrupt.hpp) until
// it is destroyed, so a run interrupted twice still removes its named objects.
#pragma once

#include "ipcverify/any_channel.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ipcv::harness {

/// Every registered channel, reference channels first, in registration order.
const std::vector<ChannelEntry> &channels();

/// The entry called `name`, or nullptr.
const ChannelEntry *find_channel(std::string_view name);

/// Adds a channel at run time (adapters, plugins). Returns "" when registered, else one line
/// saying why not: a name already registered, a claim naming a spec the engine cannot judge.
std::string register_channel(ChannelEntry entry);

/// Why `entry` cannot be registered as it is (see register_channel), or "".
std::string refusal(const ChannelEntry &entry);

} // namespace ipcv::harness
