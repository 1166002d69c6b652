// Guards for the calls a channel's code makes in ipcverify's own process. A channel may be
// untrusted code (a plugin): `prepare`, `named_objects`, `detach` and `destroy` run in the
// parent, where a crash, a hang or an exception would take the whole run down. Each such call
// runs under a guard: a fatal signal raised by the calling thread inside it (SIGSEGV, SIGBUS,
// SIGILL, SIGFPE, SIGABRT), or the call still running at its time limit, ends the call at once
// through siglongjmp, and an exception is caught. The channel is then unusable for the rest of
// the process: the harness makes no further call into it (its state, and perhaps a lock it held,
// is lost), and its campaign ends with a `run` failure that names the call and what happened.
//
// Why a guard in the parent and not only a probe in a child: a probe sees the first call,
// while a channel may crash on its fifth prepare or only in destroy after a real run; the guard
// sees every call at the cost of a few system calls each. What it cannot undo is what the
// interrupted call left half done (memory, a descriptor, a lock inside the channel's library):
// that is why the channel is never called again. The calls that run in children (connect_*,
// send, recv, close) need no guard: the reaper sees how a child ended.
#pragma once

#include "ipcverify/any_channel.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ipcv::harness {

/// How long a guarded parent-side call may take before it counts as hung.
inline constexpr std::chrono::milliseconds kParentCallLimit{10000};

/// Runs `f` under the guard. Returns nothing when it returned normally, else one line:
/// "prepare crashed with SIGSEGV", "prepare did not return within 10 s", "prepare threw
/// std::runtime_error: no broker". A trip also marks `channel` unusable (see unusable()).
/// What `f` had on its stack when a signal ended it is abandoned, never destroyed.
std::optional<std::string> guarded(const std::string &channel, std::string_view call,
                                   const std::function<void()> &f,
                                   std::chrono::milliseconds limit = kParentCallLimit);

/// Why `channel` may not be called again in this process (its first guarded failure), or
/// nothing while it behaved.
std::optional<std::string> unusable(const std::string &channel);

/// Marks `channel` unusable for `why` (the first reason stays).
void mark_unusable(const std::string &channel, const std::string &why);

/// `e` with every call its instances make in this process guarded (prepare, named_objects,
/// detach, destroy), for code that calls them itself (the isolation probes). Once the channel
/// is unusable its prepare answers `error` with the reason and calls nothing.
ChannelEntry guarded_entry(const ChannelEntry &e);

/// A copy of `text` that lives as long as the process, for Status::what (a static text).
const char *lasting_text(const std::string &text);

} // namespace ipcv::harness
