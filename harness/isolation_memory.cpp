// The probes of what a channel shares in memory. `copy-semantics`: a message is a copy, so the
// sender's later writes to its buffer (heap or shared) and the receiver's scribbles on what it
// got never change a message. `nothing-else-shared`: a process of the channel maps nothing shared
// beyond the channel's region(s) and the harness's own mappings.
#include "isolation_internal.hpp"

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
  Note bad;         ///< first message that did not arrive as sent
  Note sender_side; ///< what changed on the sender's side, if anything
  std::atomic<int> intact{0};
};

/// A CopyRun is what the two children of copy-semantics share: the largest message, the
/// sender's shared buffer, the notes they write and the barriers they meet at.
struct CopyRun {
  std::size_t max;
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

/// Sends message `i` of `len` bytes from a heap block (heap or big_heap), then overwrites and
/// frees the block. Nothing when malloc failed.
std::optional<Status> send_from_heap(AnySender &s, Source src, std::uint64_t i, std::size_t len) {
  // At least 256 KiB, so that malloc maps it and free unmaps it.
  const std::size_t bytes = src == Source::big_heap ? std::max(std::size_t{256} << 10, len) : len;
  auto *p = static_cast<std::byte *>(std::malloc(bytes));
  if (p == nullptr)
    return std::nullopt;
  spec::encode(kCopyProducer, i, len, std::span(p, bytes));
  const Status st = s.send(std::span<const std::byte>(p, len), after_ms(10000));
  std::memset(p, 0x5a, bytes);
  std::free(p);
  return st;
}

/// Sends message `i` of `len` bytes from the shared buffer of `src`, then rewrites the buffer
/// (shared: another message; shared_small: a scribble) and keeps what it now holds in `mine`.
Status send_from_shared(const CopyRun &run, AnySender &s, Source src, std::uint64_t i,
                        std::size_t len, std::vector<std::byte> &mine) {
  std::byte *p = run.buffer_of(src);
  spec::encode(kCopyProducer, i, len, std::span(p, len));
  const Status st = s.send(std::span<const std::byte>(p, len), after_ms(10000));
  if (src == Source::shared)
    spec::encode(kCopyProducer + 1, 1000 + i, len, std::span(p, len));
  else
    std::memset(p, 0xa5, len);
  std::memcpy(mine.data(), p, len);
  return st;
}

/// The sender child: sends one message from each source and, once the receiver scribbled over
/// its copy, checks that its own shared buffer still holds what it left there. Its exit code.
int send_from_each_source(const CopyRun &run, AnyInstance &inst) {
  auto s = inst.connect_sender();
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
      run.notes.bad.set(fmt::format("send of message {} returned {}", i, st->describe()));
      return 4;
    }
    if (!run.sent.arrive_and_wait(after_ms(10000)))
      return 5;
    if (!run.taken.arrive_and_wait(after_ms(10000)))
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

/// The receiver child: takes each message once it is sent, counts those that arrived exactly
/// as sent, notes the first that did not, then scribbles over its copy. Its exit code.
int receive_each(const CopyRun &run, AnyInstance &inst) {
  auto r = inst.connect_receiver();
  if (!r)
    return 3;
  inst.detach();
  std::vector<std::byte> buf(run.max + 1);
  for (std::uint64_t i = 0; i < std::size(kSources); ++i) {
    if (!run.sent.arrive_and_wait(after_ms(10000)))
      return 5;
    RecvStatus st = (*r)->recv(buf, after_ms(10000));
    if (!st.ok()) {
      run.notes.bad.set(fmt::format("recv of message {} ({}) returned {}", i, describe(kSources[i]),
                                    st.describe()));
      return 4;
    }
    const spec::MsgCheck c = spec::verify(std::span<const std::byte>(buf).first(st.size),
                                          spec::Expectation{kCopyProducer, i});
    if (c.status == spec::MsgStatus::ok) {
      run.notes.intact.fetch_add(1);
    } else if (run.notes.bad.get().empty()) {
      run.notes.bad.set(fmt::format(
          "message {} sent from {} arrived {}{}: the receiver saw a write made after send "
          "returned",
          i, describe(kSources[i]), spec::to_string(c.status),
          c.id ? fmt::format(" as ({}, {})", c.id->producer, c.id->seq) : ""));
    }
    std::memset(buf.data(), 0xc3, buf.size()); // the receiver's own scribble
    if (!run.taken.arrive_and_wait(after_ms(10000)))
      return 5;
  }
  return 0;
}

/// The verdict of copy-semantics from what the children noted, how they exited (`exits`, from
/// exits_text) and what destroy left (`left`).
ProbeResult copy_verdict(const CopyNotes &notes, const std::string &exits,
                         const std::string &left) {
  constexpr Probe kP = Probe::copy_semantics;
  const int n = static_cast<int>(std::size(kSources));
  if (!notes.bad.get().empty() || !notes.sender_side.get().empty() || !exits.empty() ||
      !left.empty()) {
    std::string text = notes.bad.get();
    for (const std::string &more : {notes.sender_side.get(), exits, left})
      if (!more.empty())
        text += (text.empty() ? "" : "; ") + more;
    return result(kP, Outcome::fail, text);
  }
  return result(kP, notes.intact.load() == n ? Outcome::pass : Outcome::fail,
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
  const CopyRun run{max, static_cast<std::byte *>(pool), *notes, sent, taken};
  ProbeResult out;
  {
    Instance inst(e, probe_config());
    if (!inst) {
      ::munmap(pool, shared_bytes);
      return result(kP, Outcome::fail, "prepare failed: " + inst.status().describe());
    }
    const pid_t tx = spawn([&] { return send_from_each_source(run, *inst); });
    const pid_t rx = spawn([&] { return receive_each(run, *inst); });
    inst->detach();
    const auto exits = reap({tx, rx}, after_ms(30000));
    const std::string left = inst.destroy();
    const char *roles[] = {"sender", "receiver"};
    out = copy_verdict(*notes, exits_text(exits, roles), left);
  }
  ::munmap(pool, shared_bytes);
  return out;
}

namespace {

struct ShareNotes {
  Note role[2];
  std::atomic<int> extra{0};
  std::atomic<int> channel_maps[2] = {0, 0};
};

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
      auto x = inst->connect_sender();
      if (!x)
        return 3;
      s = std::move(*x);
    } else {
      auto x = inst->connect_receiver();
      if (!x)
        return 3;
      r = std::move(*x);
    }
    inst->detach();
    if (!connected.arrive_and_wait(after_ms(10000)))
      return 5;
    // One message each way of the endpoint's life, so lazily made mappings exist too.
    std::vector<std::byte> buf(std::max<std::size_t>(max, 1) + 1);
    if (s) {
      const std::size_t n = max >= spec::kMinMessageSize
                                ? spec::encode(kCopyProducer, 0, spec::kMinMessageSize, buf)
                                : 0;
      if (!s->send(std::span(buf).first(n), after_ms(10000)).ok())
        return 4;
    } else if (!r->recv(buf, after_ms(10000)).ok()) {
      return 4;
    }
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
    const char *who = role == 0 ? "sender" : "receiver";
    if (!extra.empty()) {
      notes->extra.fetch_add(1);
      notes->role[role].set(fmt::format("the {} shares {}, which is neither the channel's region "
                                        "nor the harness's",
                                        who, extra));
    } else {
      notes->role[role].set(
          fmt::format("{}: {} of the harness, {} of the channel", who, harness_n, mine));
    }
    if (!done.arrive_and_wait(after_ms(10000)))
      return 5;
    return 0;
  };
  const pid_t tx = spawn([&] { return child(0); });
  const pid_t rx = spawn([&] { return child(1); });
  inst->detach();
  const auto exits = reap({tx, rx}, after_ms(30000));
  const std::string left = inst.destroy();
  const char *roles[] = {"sender", "receiver"};
  bool bad = notes->extra.load() > 0;
  std::string text = bad ? "" : "shared mappings after connect and one message: ";
  for (int k = 0; k < 2; ++k)
    if (std::string t = notes->role[k].get(); !t.empty())
      text += (text.empty() || text.back() == ' ' ? "" : "; ") + t;
  if (!bad)
    text += "; nothing else";
  return conclude(kP, bad, std::move(text), exits_text(exits, roles), left);
}

} // namespace ipcv::harness::isolation_detail
