// The probes of what a channel shares in memory. `copy-semantics`: a message is a copy, so the
// sender's later writes to its buffer (heap or shared) and the receiver's scribbles on what it
// got never change a message; it fails only on a message that arrives as exactly what the
// sender wrote after send returned, or on a sender's buffer that changed, and any other damage
// leaves its case inconclusive. `nothing-else-shared`: a process of the channel maps nothing
// shared beyond the channel's region(s) and the harness's own mappings.
#include "isolation_internal.hpp"

#include "conformance.hpp"
#include "specs/message.hpp"

#include <algorithm>
#include <atomic>

namespace ipcv::harness::isolation_detail {
namespace {

/// The buffers a copy-semantics sender sends from, and what it does to each once send returned.
enum class Source : std::uint8_t { heap, shared, big_heap, shared_small };
constexpr Source kSources[] = {Source::heap, Source::shared, Source::big_heap,
                               Source::shared_small};
constexpr std::uint32_t kCopyProducer = 3003;

const char *describe(Source s) {
  switch (s) {
  case Source::heap:
    return "a heap buffer the sender then overwrote and freed";
  case Source::shared:
    return "a shared-memory buffer the sender then overwrote with another message";
  case Source::big_heap:
    return "a 256 KiB heap block the sender then overwrote and freed (unmapped)";
  case Source::shared_small:
    return "a shared-memory buffer the sender then scribbled over";
  }
  return "";
}

struct CopyNotes {
  Note leak;        ///< first message that arrived as what the sender wrote after send returned
  Note sender_side; ///< what changed on the sender's side, if anything
  Note odd;         ///< first message that did not arrive as sent, for any other reason
  std::atomic<int> intact{0};
  std::atomic<int> odd_count{0};
};

/// A CopyRun is what the two children of copy-semantics share: the largest message, whether
/// the channel is a latest-value register, the sender's shared buffer, the notes they write and
/// the barriers they meet at.
struct CopyRun {
  std::size_t max;
  bool reg;
  std::byte *shared_buf;
  CopyNotes &notes;
  Barrier &sent, &taken;

  /// Where in the shared buffer a message from `src` (shared or shared_small) is sent from.
  std::byte *buffer_of(Source src) const {
    return shared_buf + (src == Source::shared ? 0 : max + 64);
  }
};

/// The length of the message sent from `src`.
std::size_t length_of(Source src, std::size_t max) {
  return src == Source::heap           ? std::min<std::size_t>(max, 200)
         : src == Source::shared_small ? spec::kMinMessageSize
                                       : max;
}

/// The byte the sender fills a heap block with once send returned.
constexpr std::byte kHeapOverwrite{0x5a};
/// The byte the sender scribbles over its small shared buffer with once send returned.
constexpr std::byte kSharedScribble{0xa5};
/// Bytes at the front of a freed heap block the allocator may reuse for its own bookkeeping.
constexpr std::size_t kAllocatorBytes = 16;

/// Rewrites the `len` bytes at `p`, the shared buffer message `i` was sent from, as the sender
/// does once send returned: another valid message (shared), or a scribble (shared_small). No
/// message with that identity is ever sent, so it cannot arrive through the channel.
void overwrite_shared(Source src, std::uint64_t i, std::byte *p, std::size_t len) {
  if (src == Source::shared)
    spec::encode(kCopyProducer + 1, 1000 + i, len, std::span(p, len));
  else
    std::memset(p, static_cast<int>(kSharedScribble), len);
}

/// True when `got` is what the sender wrote over the `len` bytes of message `i` from `src` once
/// send returned (for a freed heap block: but for the bytes the allocator may have reused).
bool is_overwrite(Source src, std::uint64_t i, std::size_t len, std::span<const std::byte> got) {
  if (got.size() != len)
    return false;
  if (src == Source::heap || src == Source::big_heap)
    return len > kAllocatorBytes && std::all_of(got.begin() + kAllocatorBytes, got.end(),
                                                [](std::byte b) { return b == kHeapOverwrite; });
  std::vector<std::byte> planted(len);
  overwrite_shared(src, i, planted.data(), len);
  return std::equal(got.begin(), got.end(), planted.begin());
}

/// Sends message `i` of `len` bytes from a heap block (heap or big_heap), then overwrites and
/// frees the block. Nothing when malloc failed.
std::optional<Status> send_from_heap(AnySender &s, Source src, std::uint64_t i, std::size_t len) {
  // At least 256 KiB, so that malloc maps it and free unmaps it.
  const std::size_t bytes = src == Source::big_heap ? std::max(std::size_t{256} << 10, len) : len;
  auto *p = static_cast<std::byte *>(std::malloc(bytes));
  if (p == nullptr)
    return std::nullopt;
  spec::encode(kCopyProducer, i, len, std::span(p, bytes));
  const Status st = s.send(std::span<const std::byte>(p, len), call_deadline());
  std::memset(p, static_cast<int>(kHeapOverwrite), bytes);
  std::free(p);
  return st;
}

/// Sends message `i` of `len` bytes from the shared buffer of `src`, then overwrites the buffer
/// and keeps what it now holds in `mine`.
Status send_from_shared(const CopyRun &run, AnySender &s, Source src, std::uint64_t i,
                        std::size_t len, std::vector<std::byte> &mine) {
  std::byte *p = run.buffer_of(src);
  spec::encode(kCopyProducer, i, len, std::span(p, len));
  const Status st = s.send(std::span<const std::byte>(p, len), call_deadline());
  overwrite_shared(src, i, p, len);
  std::memcpy(mine.data(), p, len);
  return st;
}

/// Notes, once, the first reason a message did not arrive as sent that is not a leak.
void note_odd(CopyNotes &notes, const std::string &why) {
  if (notes.odd_count.fetch_add(1) == 0)
    notes.odd.set(why);
}

/// The sender child: sends one message from each source and, once the receiver scribbled over
/// its copy, checks that its own shared buffer still holds what it left there. Its exit code.
int send_from_each_source(const CopyRun &run, AnyInstance &inst) {
  auto s = inst.connect_sender(0);
  if (!s)
    return 3;
  inst.detach();
  std::vector<std::byte> expect_mine(run.max); // what the sender's shared buffer must still hold
  for (std::uint64_t i = 0; i < std::size(kSources); ++i) {
    const Source src = kSources[i];
    const std::size_t len = length_of(src, run.max);
    const bool shared = src == Source::shared || src == Source::shared_small;
    const std::optional<Status> st = shared ? send_from_shared(run, **s, src, i, len, expect_mine)
                                            : send_from_heap(**s, src, i, len);
    if (!st)
      return 6;
    if (!st->ok()) {
      note_odd(run.notes, fmt::format("send of message {} returned {}", i, st->describe()));
      return 4;
    }
    if (!run.sent.arrive_and_wait(call_deadline()))
      return 5;
    if (!run.taken.arrive_and_wait(call_deadline()))
      return 5;
    if (shared && std::memcmp(run.buffer_of(src), expect_mine.data(), len) != 0 &&
        run.notes.sender_side.get().empty())
      run.notes.sender_side.set(fmt::format(
          "the sender's buffer of message {} changed after the receiver scribbled over its own",
          i));
  }
  (*s)->close();
  return 0;
}

/// Judges message `i` as received (`got`): intact, the sender's overwrite (a leak), or
/// anything else, which is noted as the reason the probe's case is inconclusive.
void judge_copy(const CopyRun &run, std::uint64_t i, std::span<const std::byte> got) {
  const Source src = kSources[i];
  const spec::MsgCheck c = spec::verify(got, spec::Expectation{kCopyProducer, i});
  if (c.status == spec::MsgStatus::ok) {
    run.notes.intact.fetch_add(1);
  } else if (is_overwrite(src, i, length_of(src, run.max), got)) {
    if (run.notes.leak.get().empty())
      run.notes.leak.set(fmt::format("message {} sent from {} arrived as what the sender wrote "
                                     "into its buffer after send returned",
                                     i, describe(src)));
  } else if (run.reg && c.id && c.id->producer == kCopyProducer && c.id->seq > i &&
             c.status == spec::MsgStatus::misdelivered) {
    note_odd(run.notes, fmt::format("message {} was read as the later write {} (the register "
                                    "working), so its own copy was not seen",
                                    i, c.id->seq));
  } else {
    note_odd(run.notes, fmt::format("message {} sent from {} arrived {}{}", i, describe(src),
                                    spec::to_string(c.status),
                                    c.id ? fmt::format(" as ({}, {})", c.id->producer, c.id->seq)
                                         : fmt::format(" ({} bytes)", got.size())));
  }
}

/// The receiver child: takes each message once it is sent and judges it, then scribbles over
/// its copy. Its exit code.
int receive_each(const CopyRun &run, AnyInstance &inst) {
  auto r = inst.connect_receiver(0);
  if (!r)
    return 3;
  inst.detach();
  std::vector<std::byte> buf(run.max + 1);
  for (std::uint64_t i = 0; i < std::size(kSources); ++i) {
    if (!run.sent.arrive_and_wait(call_deadline()))
      return 5;
    RecvStatus st = (*r)->recv(buf, call_deadline());
    if (st.ok())
      judge_copy(run, i, std::span<const std::byte>(buf).first(st.size));
    else
      note_odd(run.notes, fmt::format("recv of message {} ({}) returned {}", i,
                                      describe(kSources[i]), st.describe()));
    std::memset(buf.data(), 0xc3, buf.size()); // the receiver's own scribble
    if (!run.taken.arrive_and_wait(call_deadline()))
      return 5;
  }
  return 0;
}

/// The verdict of copy-semantics from what the children noted, how they exited (`exits`, from
/// exits_text) and what destroy left (`left`): fail on a leak either way (or objects left after
/// destroy), inconclusive when a message did not arrive as sent for another reason or a child
/// did not exit cleanly, else pass.
ProbeResult copy_verdict(const CopyNotes &notes, const std::string &exits,
                         const std::string &left) {
  constexpr Probe kP = Probe::copy_semantics;
  const int n = static_cast<int>(std::size(kSources));
  std::string leak = notes.leak.get();
  if (!notes.sender_side.get().empty())
    leak += (leak.empty() ? "" : "; ") + notes.sender_side.get();
  const bool leaked = !leak.empty();
  if (leaked || !left.empty())
    return conclude(kP, leaked, leaked ? std::move(leak) : "no write after send reached a message",
                    exits, left);
  std::string odd = notes.odd.get();
  if (notes.odd_count.load() > 1)
    odd += fmt::format(" (and {} more)", notes.odd_count.load() - 1);
  if (!exits.empty())
    odd += (odd.empty() ? "" : "; ") + exits;
  if (!odd.empty() || notes.intact.load() != n)
    return inconclusive(kP, fmt::format("{}; {} of {} messages arrived exactly as sent, none as "
                                        "what the sender wrote after send returned",
                                        odd.empty() ? "not every message was judged" : odd,
                                        notes.intact.load(), n));
  return result(kP, Outcome::pass,
                fmt::format("{} of {} messages arrived exactly as sent although the sender "
                            "overwrote (and freed) each buffer once send returned: heap, "
                            "shared memory, 256 KiB heap, shared memory; the receiver's "
                            "scribbles changed neither later messages nor the sender's buffers",
                            notes.intact.load(), n));
}

} // namespace

ProbeResult copy_semantics(const ChannelEntry &e) {
  constexpr Probe kP = Probe::copy_semantics;
  const std::size_t max = e.claims.max_message;
  if (auto na = too_small_for_identity(kP, max))
    return *na;
  // The sender's shared buffer exists before the channel does, like a buffer pool: any
  // process forked afterwards (the receiver too) maps it at the same address.
  const std::size_t shared_bytes = 2 * max + 4096;
  void *pool =
      ::mmap(nullptr, shared_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (pool == MAP_FAILED)
    return result(kP, Outcome::skip, "mmap of the shared buffer failed");
  SharedBlock<CopyNotes> notes;
  Barrier sent(2), taken(2);
  const CopyRun run{max, is_register(e), static_cast<std::byte *>(pool), *notes, sent, taken};
  ProbeResult out;
  {
    Instance inst(e, probe_config());
    if (!inst) {
      ::munmap(pool, shared_bytes);
      return inconclusive(kP, "prepare failed: " + inst.status().describe());
    }
    const pid_t tx = spawn([&] { return send_from_each_source(run, *inst); });
    const pid_t rx = spawn([&] { return receive_each(run, *inst); });
    inst->detach();
    const char *roles[] = {"sender", "receiver"};
    const auto exits = reap_channel_children({tx, rx}, roles, 3);
    const std::string left = inst.destroy();
    out = copy_verdict(*notes, exits_text(exits, roles), left);
  }
  ::munmap(pool, shared_bytes);
  return out;
}

namespace {

struct ShareNotes {
  Note role[2];
  Note exchange; ///< the send or recv that did not return ok, if any
  std::atomic<int> extra{0};
  std::atomic<int> channel_maps[2] = {0, 0};
};

/// The verdict of nothing-else-shared from what the children noted, how they exited (`exits`,
/// from exits_text) and what destroy left (`left`): fail on a mapping that is neither the
/// channel's nor the harness's (or objects left after destroy), inconclusive when the one
/// message did not go through or a child did not exit cleanly, else pass.
ProbeResult share_verdict(const ShareNotes &notes, const std::string &exits,
                          const std::string &left) {
  constexpr Probe kP = Probe::nothing_else_shared;
  const bool bad = notes.extra.load() > 0;
  std::string text = bad ? "" : "shared mappings after connect and one message: ";
  for (int k = 0; k < 2; ++k)
    if (std::string t = notes.role[k].get(); !t.empty())
      text += (text.empty() || text.back() == ' ' ? "" : "; ") + t;
  if (!bad)
    text += "; nothing else";
  if (bad || !left.empty())
    return conclude(kP, bad, std::move(text), exits, left);
  std::string off = notes.exchange.get();
  if (!exits.empty())
    off += (off.empty() ? "" : "; ") + exits;
  if (!off.empty())
    return inconclusive(kP, off + "; " + text);
  return result(kP, Outcome::pass, std::move(text));
}

} // namespace

ProbeResult nothing_else_shared(const ChannelEntry &e) {
  constexpr Probe kP = Probe::nothing_else_shared;
  const std::size_t max = e.claims.max_message;
  // The harness's own shared mappings: everything this process maps before prepare, the result
  // page and the barrier included (a run's recording arena is mapped at the same point).
  SharedBlock<ShareNotes> notes;
  Barrier connected(2), done(2);
  const std::set<std::string> harness = keys_of(shared_maps());
  Instance inst(e, probe_config());
  if (!inst)
    return result(kP, Outcome::fail, "prepare failed: " + inst.status().describe());
  // The channel's own: what prepare mapped, and any mapping of its named shm objects.
  std::set<std::string> channel;
  for (const auto &m : shared_maps())
    if (!harness.count(m.key))
      channel.insert(m.key);
  std::set<std::string> channel_paths;
  for (const auto &o : inst.named())
    if (o.kind == "shm")
      channel_paths.insert("/dev/shm" + o.path);
  auto child = [&](int role) -> int {
    const std::set<std::string> baseline = keys_of(shared_maps());
    std::unique_ptr<AnySender> s;
    std::unique_ptr<AnyReceiver> r;
    if (role == 0) {
      auto x = inst->connect_sender(0);
      if (!x)
        return 3;
      s = std::move(*x);
    } else {
      auto x = inst->connect_receiver(0);
      if (!x)
        return 3;
      r = std::move(*x);
    }
    inst->detach();
    if (!connected.arrive_and_wait(call_deadline()))
      return 5;
    // One message each way of the endpoint's life, so lazily made mappings exist too.
    const char *who = role == 0 ? "sender" : "receiver";
    std::vector<std::byte> buf(std::max<std::size_t>(max, 1) + 1);
    const std::size_t n = max >= spec::kMinMessageSize
                              ? spec::encode(kCopyProducer, 0, spec::kMinMessageSize, buf)
                              : 0;
    const Status st = s ? s->send(std::span(buf).first(n), call_deadline())
                        : Status(r->recv(buf, call_deadline()));
    if (!st.ok()) // a queue's fault, not evidence of sharing: the mappings are still listed
      notes->exchange.set(
          fmt::format("the {}'s {} returned {}", who, s ? "send" : "recv", st.describe()));
    std::string extra;
    int mine = 0, harness_n = 0;
    for (const auto &m : shared_maps()) {
      if (harness.count(m.key)) {
        ++harness_n;
      } else if (channel.count(m.key) || channel_paths.count(m.path)) {
        ++mine;
      } else {
        extra += fmt::format(
            "{}{} ({}{})", extra.empty() ? "" : ", ", m.path.empty() ? "[anonymous]" : m.path,
            m.writable ? "read-write" : "read-only",
            baseline.count(m.key) ? ", held before connect" : ", mapped by connect");
      }
    }
    notes->channel_maps[role].store(mine);
    if (!extra.empty()) {
      notes->extra.fetch_add(1);
      notes->role[role].set(fmt::format("the {} shares {}, which is neither the channel's region "
                                        "nor the harness's",
                                        who, extra));
    } else {
      notes->role[role].set(
          fmt::format("{}: {} of the harness, {} of the channel", who, harness_n, mine));
    }
    // Long enough for a peer whose send or recv waited its whole deadline.
    if (!done.arrive_and_wait(call_deadline(2)))
      return 5;
    return 0;
  };
  const pid_t tx = spawn([&] { return child(0); });
  const pid_t rx = spawn([&] { return child(1); });
  inst->detach();
  const char *roles[] = {"sender", "receiver"};
  const auto exits = reap_channel_children({tx, rx}, roles, 3);
  const std::string left = inst.destroy();
  return share_verdict(*notes, exits_text(exits, roles), left);
}

} // namespace ipcv::harness::isolation_detail
