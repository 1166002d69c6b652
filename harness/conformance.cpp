// Implementation of the conformance checks (conformance.hpp). Each check prepares its own
// instance, runs, destroys it, and then fails if any named object or child process remains.
// Each runs in a child process of its own (in_child): the checks call the channel's endpoints
// directly, so a channel that crashes, hangs or throws there takes down that child, and the
// check fails with what happened; ipcverify goes on with the next check.
#include "conformance.hpp"
#include "hygiene.hpp"
#include "process.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <sys/mman.h>
#include <vector>

namespace ipcv::harness {
namespace {

using std::chrono::milliseconds;

/// Byte i of the test payload of message `seq` from `producer`; bytes 0..11 carry the identity.
std::vector<std::byte> payload(std::uint32_t producer, std::uint64_t seq, std::size_t len) {
  std::vector<std::byte> b(len);
  for (std::size_t i = 0; i < len; ++i)
    b[i] = static_cast<std::byte>((seq * 131 + i * 7 + producer * 17) & 0xff);
  if (len >= 12) {
    std::memcpy(b.data(), &producer, 4);
    std::memcpy(b.data() + 4, &seq, 8);
  }
  return b;
}

bool same(std::span<const std::byte> got, const std::vector<std::byte> &want) {
  return got.size() == want.size() &&
         (want.empty() || std::memcmp(got.data(), want.data(), want.size()) == 0);
}

std::string res(const Status &s) { return s.describe(); }

/// A receive's size, checked before anything reads that many bytes of `buf`: "" or the failure.
std::string size_error(const RecvStatus &r, std::span<const std::byte> buf, std::size_t max) {
  if (r.ok() && r.size > buf.size())
    return fmt::format("recv returned ok with {} bytes into a buffer of {} bytes", r.size,
                       buf.size());
  if (r.ok() && r.size > max)
    return fmt::format("recv returned ok with {} bytes, more than the claimed maximum of {}",
                       r.size, max);
  return "";
}

/// In a check's child: where with_instance writes the named objects of its instance, so the
/// parent can remove them when the child dies before destroy.
char *g_named_sink = nullptr;
constexpr std::size_t kNamedSink = 2048;

/// Prepares an instance, runs `body`, destroys it, and checks nothing is left behind.
template <class Body>
CheckOutcome with_instance(const ChannelEntry &e, const Config &cfg, Body &&body) {
  const Snapshot before = Snapshot::take();
  auto inst = e.prepare(cfg);
  if (!inst)
    return CheckOutcome::failed("prepare: " + inst.status().describe());
  std::vector<NamedObject> named = (*inst)->named_objects();
  if (g_named_sink != nullptr) {
    std::string text;
    for (const auto &o : named)
      text += o.kind + " " + o.path + "\n";
    std::snprintf(g_named_sink, kNamedSink, "%s", text.c_str());
  }
  CheckOutcome out = body(**inst);
  (*inst)->destroy();
  for (const auto &o : named)
    if (object_exists(o) && out.kind != Outcome::fail)
      out = CheckOutcome::failed(fmt::format("{} {} still exists after destroy", o.kind, o.path));
  std::string left = before.leftovers(Snapshot::take());
  if (!left.empty() && out.kind != Outcome::fail)
    out = CheckOutcome::failed("left behind after destroy: " + left);
  if (auto kids = live_children(); !kids.empty() && out.kind != Outcome::fail)
    out = CheckOutcome::failed(fmt::format("{} child process(es) left unreaped", kids.size()));
  return out;
}

Config one_to_one() {
  Config c;
  c.senders = 1;
  c.receivers = 1;
  return c;
}

struct Pair {
  std::unique_ptr<AnySender> s;
  std::unique_ptr<AnyReceiver> r;
  std::string error;
};

Pair connect_pair(AnyInstance &inst) {
  Pair p;
  auto s = inst.connect_sender(0);
  if (!s) {
    p.error = "connect_sender: " + s.status().describe();
    return p;
  }
  auto r = inst.connect_receiver(0);
  if (!r) {
    p.error = "connect_receiver: " + r.status().describe();
    return p;
  }
  p.s = std::move(*s);
  p.r = std::move(*r);
  return p;
}

CheckOutcome round_trip(const ChannelEntry &e, std::size_t len) {
  return with_instance(e, one_to_one(), [&](AnyInstance &inst) {
    Pair p = connect_pair(inst);
    if (!p.error.empty())
      return CheckOutcome::failed(p.error);
    inst.detach();
    const auto msg = payload(1, 7, len);
    Status s = p.s->send(msg, after_ms(2000));
    if (!s.ok())
      return CheckOutcome::failed(fmt::format("send of {} bytes: {}", len, res(s)));
    std::vector<std::byte> buf(e.claims.max_message + 1);
    RecvStatus r = p.r->recv(buf, after_ms(2000));
    if (!r.ok())
      return CheckOutcome::failed(fmt::format("recv of {} bytes: {}", len, res(r)));
    if (auto bad = size_error(r, buf, e.claims.max_message); !bad.empty())
      return CheckOutcome::failed(bad);
    if (!same(std::span(buf).first(r.size), msg))
      return CheckOutcome::failed(
          fmt::format("sent {} bytes, received {} bytes that differ", len, r.size));
    return CheckOutcome::ok();
  });
}

CheckOutcome zero_byte(const ChannelEntry &e) { return round_trip(e, 0); }
CheckOutcome one_byte(const ChannelEntry &e) { return round_trip(e, 1); }
CheckOutcome max_size(const ChannelEntry &e) { return round_trip(e, e.claims.max_message); }

CheckOutcome oversized(const ChannelEntry &e) {
  return with_instance(e, one_to_one(), [&](AnyInstance &inst) {
    Pair p = connect_pair(inst);
    if (!p.error.empty())
      return CheckOutcome::failed(p.error);
    inst.detach();
    const auto big = payload(1, 1, e.claims.max_message + 1);
    Status s = p.s->send(big, after_ms(500));
    if (s.result != Result::too_large)
      return CheckOutcome::failed(
          fmt::format("send of max+1 = {} bytes returned {}, not too_large", big.size(), res(s)));
    s = p.s->try_send(big);
    if (s.result != Result::too_large)
      return CheckOutcome::failed("try_send of max+1 bytes returned " + res(s));
    std::vector<std::byte> buf(e.claims.max_message + 1);
    RecvStatus r = p.r->try_recv(buf);
    if (r.result != Result::empty)
      return CheckOutcome::failed("after a rejected send, try_recv returned " + res(r) +
                                  " instead of empty: something was delivered");
    return CheckOutcome::ok();
  });
}

CheckOutcome eof_after_close(const ChannelEntry &e) {
  if (is_register(e))
    return CheckOutcome::skipped("a register keeps its value: no end of stream");
  return with_instance(e, one_to_one(), [&](AnyInstance &inst) {
    Pair p = connect_pair(inst);
    if (!p.error.empty())
      return CheckOutcome::failed(p.error);
    inst.detach();
    for (std::uint64_t i = 0; i < 2; ++i) {
      Status s = p.s->send(payload(1, i, 16), after_ms(2000));
      if (!s.ok())
        return CheckOutcome::failed("send: " + res(s));
    }
    p.s->close();
    std::vector<std::byte> buf(e.claims.max_message + 1);
    for (int i = 0; i < 2; ++i) {
      RecvStatus r = p.r->recv(buf, after_ms(2000));
      if (!r.ok())
        return CheckOutcome::failed(fmt::format("recv {} after close returned {}: messages sent "
                                                "before close must still arrive",
                                                i, res(r)));
    }
    RecvStatus r = p.r->recv(buf, after_ms(3000));
    if (r.result != Result::eof)
      return CheckOutcome::failed("recv on a drained channel whose sender closed returned " +
                                  res(r) + ", not eof");
    return CheckOutcome::ok();
  });
}

CheckOutcome try_eof(const ChannelEntry &e) {
  if (is_register(e))
    return CheckOutcome::skipped("a register keeps its value: no end of stream");
  return with_instance(e, one_to_one(), [&](AnyInstance &inst) {
    Pair p = connect_pair(inst);
    if (!p.error.empty())
      return CheckOutcome::failed(p.error);
    inst.detach();
    std::vector<std::byte> buf(e.claims.max_message + 1);
    RecvStatus r = p.r->try_recv(buf);
    if (r.result != Result::empty)
      return CheckOutcome::failed("try_recv on an empty open channel returned " + res(r));
    if (Status s = p.s->try_send(payload(1, 0, 16)); !s.ok())
      return CheckOutcome::failed("try_send: " + res(s));
    p.s->close();
    // A poller must learn that the stream ended, or it polls forever: try_recv gives the
    // message, then eof (a channel that notices late may say empty for a while first).
    r = p.r->try_recv(buf);
    if (!r.ok())
      return CheckOutcome::failed("try_recv of a message sent before close: " + res(r));
    const Deadline give_up = after_ms(3000);
    do {
      r = p.r->try_recv(buf);
    } while ((r.result == Result::empty || r.result == Result::timeout) && Clock::now() < give_up);
    if (r.result != Result::eof)
      return CheckOutcome::failed("try_recv on a drained channel whose sender closed returned " +
                                  res(r) + " for 3 s, never eof");
    return CheckOutcome::ok();
  });
}

CheckOutcome timeout_prompt(const ChannelEntry &e) {
  return with_instance(e, one_to_one(), [&](AnyInstance &inst) {
    Pair p = connect_pair(inst);
    if (!p.error.empty())
      return CheckOutcome::failed(p.error);
    inst.detach();
    std::vector<std::byte> buf(e.claims.max_message + 1);
    const auto t0 = Clock::now();
    RecvStatus r = p.r->recv(buf, t0 + milliseconds(100));
    const auto took = Clock::now() - t0;
    if (r.result != Result::timeout)
      return CheckOutcome::failed("recv on an empty channel returned " + res(r) + ", not timeout");
    if (took < milliseconds(100))
      return CheckOutcome::failed(
          fmt::format("recv gave up after {} ms, before its 100 ms deadline",
                      std::chrono::duration_cast<milliseconds>(took).count()));
    if (took > milliseconds(2100))
      return CheckOutcome::failed(
          fmt::format("recv with a 100 ms deadline returned after {} ms",
                      std::chrono::duration_cast<milliseconds>(took).count()));
    const auto t1 = Clock::now();
    r = p.r->recv(buf, t1 - milliseconds(1));
    if (r.result != Result::timeout)
      return CheckOutcome::failed("recv with an expired deadline returned " + res(r));
    if (Clock::now() - t1 > milliseconds(1000))
      return CheckOutcome::failed("recv with an expired deadline blocked");
    return CheckOutcome::ok();
  });
}

/// try_send of maximum-size messages until full; returns the number accepted, or -1 with `why`.
long fill(AnySender &s, const ChannelEntry &e, std::string &why) {
  const long limit = static_cast<long>(e.claims.capacity) * 64 + 4096;
  for (long i = 0; i < limit; ++i) {
    Status st = s.try_send(payload(1, static_cast<std::uint64_t>(i), e.claims.max_message));
    if (st.result == Result::full)
      return i;
    if (!st.ok()) {
      why = fmt::format("try_send {} returned {}", i, res(st));
      return -1;
    }
  }
  why = fmt::format("try_send never reported full after {} messages (claimed capacity {})", limit,
                    e.claims.capacity);
  return -1;
}

CheckOutcome full_then_drains(const ChannelEntry &e) {
  if (is_register(e))
    return CheckOutcome::skipped("a register overwrites: never full");
  return with_instance(e, one_to_one(), [&](AnyInstance &inst) {
    Pair p = connect_pair(inst);
    if (!p.error.empty())
      return CheckOutcome::failed(p.error);
    inst.detach();
    std::string why;
    long n = fill(*p.s, e, why);
    if (n < 0)
      return CheckOutcome::failed(why);
    if (n == 0)
      return CheckOutcome::failed("an empty channel reported full at once");
    Status late = p.s->send(payload(1, 999999, e.claims.max_message), after_ms(100));
    if (late.result != Result::timeout)
      return CheckOutcome::failed("send on a full channel with a 100 ms deadline returned " +
                                  res(late) + ", not timeout");
    std::vector<std::byte> buf(e.claims.max_message + 1);
    for (long i = 0; i < n; ++i) {
      RecvStatus r = p.r->try_recv(buf);
      if (!r.ok())
        return CheckOutcome::failed(fmt::format("draining message {} of {}: {}", i, n, res(r)));
      if (auto bad = size_error(r, buf, e.claims.max_message); !bad.empty())
        return CheckOutcome::failed(bad);
      if (!same(std::span(buf).first(r.size),
                payload(1, static_cast<std::uint64_t>(i), e.claims.max_message)))
        return CheckOutcome::failed(
            fmt::format("message {} of {} came out wrong or out of order", i, n));
    }
    RecvStatus r = p.r->try_recv(buf);
    if (r.result != Result::empty)
      return CheckOutcome::failed(
          fmt::format("after draining {} messages try_recv returned {}", n, res(r)));
    return CheckOutcome::ok();
  });
}

CheckOutcome peer_gone(const ChannelEntry &e) {
  if (is_register(e))
    return CheckOutcome::skipped("a register never blocks its writer");
  return with_instance(e, one_to_one(), [&](AnyInstance &inst) {
    Pair p = connect_pair(inst);
    if (!p.error.empty())
      return CheckOutcome::failed(p.error);
    inst.detach();
    std::string why;
    if (fill(*p.s, e, why) < 0)
      return CheckOutcome::failed(why);
    p.r->close();
    const auto t0 = Clock::now();
    Status s = p.s->send(payload(1, 1, e.claims.max_message), t0 + milliseconds(3000));
    if (s.result != Result::peer_gone)
      return CheckOutcome::failed("send to a full channel whose only receiver closed returned " +
                                  res(s) + ", not peer_gone");
    return CheckOutcome::ok();
  });
}

/// Shared counters the children of the multi-process checks report through.
struct Shared {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> bad{0};
};

CheckOutcome multi_process(const ChannelEntry &e, unsigned senders, std::uint64_t per_sender) {
  Config cfg;
  cfg.senders = senders;
  cfg.receivers = 1;
  void *mem =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return CheckOutcome::failed("mmap of the shared counters failed");
  auto *shared = new (mem) Shared{};
  const bool reg = is_register(e);
  const std::size_t max = e.claims.max_message;
  CheckOutcome out = with_instance(e, cfg, [&](AnyInstance &inst) {
    std::vector<pid_t> pids;
    pid_t rx = spawn([&]() -> int {
      auto r = inst.connect_receiver(0);
      if (!r)
        return 3;
      inst.detach();
      std::vector<std::byte> buf(max + 1);
      std::vector<std::uint64_t> next(senders, 0);
      const Deadline give_up = after_ms(20000);
      for (;;) {
        RecvStatus st = (*r)->recv(buf, give_up);
        if (st.result == Result::eof)
          break;
        if (!st.ok())
          return 4;
        if (st.size < 12 || st.size > max)
          return 5;
        std::uint32_t producer;
        std::uint64_t seq;
        std::memcpy(&producer, buf.data(), 4);
        std::memcpy(&seq, buf.data() + 4, 8);
        if (producer >= senders ||
            !same(std::span(buf).first(st.size), payload(producer, seq, st.size))) {
          shared->bad.fetch_add(1);
          return 6;
        }
        if (reg ? seq < next[producer] : seq != next[producer]) {
          shared->bad.fetch_add(1);
          return 7; // lost, duplicated or reordered (a register may skip, never go back)
        }
        next[producer] = reg ? seq : seq + 1; // a register may return one version twice
        shared->received.fetch_add(1);
        if (reg && seq + 1 == per_sender)
          break;
      }
      return 0;
    });
    pids.push_back(rx);
    for (unsigned k = 0; k < senders; ++k) {
      pids.push_back(spawn([&, k]() -> int {
        auto s = inst.connect_sender(k);
        if (!s)
          return 3;
        inst.detach();
        for (std::uint64_t i = 0; i < per_sender; ++i) {
          std::size_t len = 12 + (i * 37 + k) % (max - 11);
          if (i % 97 == 0)
            len = max;
          Status st = (*s)->send(payload(k, i, len), after_ms(20000));
          if (!st.ok())
            return 4;
        }
        (*s)->close();
        return 0;
      }));
    }
    inst.detach();
    auto exits = reap(pids, after_ms(30000));
    std::string why;
    for (std::size_t i = 0; i < exits.size(); ++i)
      if (!exits[i].clean())
        why += fmt::format("{}{} {}: {}", why.empty() ? "" : "; ", i == 0 ? "receiver" : "sender",
                           exits[i].pid, exits[i].describe());
    if (!why.empty())
      return CheckOutcome::failed(why);
    const auto got = shared->received.load();
    if (!reg && got != senders * per_sender)
      return CheckOutcome::failed(
          fmt::format("received {} of {} messages", got, senders * per_sender));
    return CheckOutcome::ok();
  });
  ::munmap(mem, sizeof(Shared));
  return out;
}

CheckOutcome fork_round_trip(const ChannelEntry &e) { return multi_process(e, 1, 2000); }

CheckOutcome fork_fan_in(const ChannelEntry &e) {
  if (e.claims.max_senders < 2)
    return CheckOutcome::skipped("claims a single sender");
  return multi_process(e, 3, 700);
}

std::chrono::seconds g_check_limit{60};

/// Runs check F in a child process with a time limit: the channel's code may crash, hang or
/// throw there without taking ipcverify with it. Objects the child's instance listed and left
/// (it died before destroy) are removed here.
template <CheckOutcome (*F)(const ChannelEntry &)> CheckOutcome in_child(const ChannelEntry &e) {
  const auto limit = check_limit();
  struct Out {
    int kind = -1;
    char detail[2048] = {};
    char named[kNamedSink] = {};
  };
  SharedBlock<Out> out;
  const pid_t pid = spawn([&]() -> int {
    g_named_sink = out->named;
    std::string threw;
    CheckOutcome o;
    try {
      o = F(e);
    } catch (const std::exception &x) {
      o = CheckOutcome::failed(std::string("the channel threw: ") + x.what());
    }
    std::snprintf(out->detail, sizeof out->detail, "%s", o.detail.c_str());
    out->kind = static_cast<int>(o.kind);
    return 0;
  });
  if (pid < 0)
    return CheckOutcome::failed(std::string("fork failed: ") + std::strerror(errno));
  const ChildExit x = reap({pid}, Clock::now() + limit).front();
  std::string left;
  for (std::string_view named(out->named); !named.empty();) {
    const auto nl = named.find('\n');
    const std::string_view line = named.substr(0, nl);
    named = nl == std::string_view::npos ? std::string_view{} : named.substr(nl + 1);
    const auto sp = line.find(' ');
    const NamedObject o{std::string(line.substr(0, sp)), std::string(line.substr(sp + 1))};
    if (sp != std::string_view::npos && object_exists(o) && remove_object(o))
      left += fmt::format("; {} {} was left and removed by the harness", o.kind, o.path);
  }
  if (x.interrupted)
    return CheckOutcome::skipped("interrupted");
  if (x.timed_out)
    return CheckOutcome::failed(fmt::format("the check did not finish within {} s: the channel "
                                            "hung (its process was killed){}",
                                            limit.count(), left));
  if (!x.clean() || out->kind < 0)
    return CheckOutcome::failed(fmt::format("the check's process ended with {}: the channel "
                                            "crashed{}",
                                            x.describe(), left));
  CheckOutcome o{static_cast<Outcome>(out->kind), out->detail};
  if (!left.empty() && o.kind != Outcome::fail)
    o = CheckOutcome::failed(left.substr(2));
  return o;
}

constexpr ConformanceCheck kChecks[] = {
    {"DeliversZeroLengthMessage", "a 0-byte message arrives as 0 bytes", in_child<zero_byte>},
    {"DeliversOneByteMessage", "a 1-byte message arrives intact", in_child<one_byte>},
    {"DeliversMaximumSizeMessage", "a message of the claimed maximum arrives intact",
     in_child<max_size>},
    {"RejectsOversizedMessage", "max+1 bytes give too_large and nothing is delivered",
     in_child<oversized>},
    {"ReportsEofAfterSendersClose", "eof once every sender closed and the channel is drained",
     in_child<eof_after_close>},
    {"TryRecvReportsEofAfterSendersClose",
     "a polling receiver learns the stream ended: try_recv gives eof", in_child<try_eof>},
    {"TimesOutAtTheDeadline",
     "an empty recv returns timeout at its deadline, not before, not much after",
     in_child<timeout_prompt>},
    {"ReportsFullAndDrainsInOrder",
     "try_send reports full; a full send times out; try_recv drains in order",
     in_child<full_then_drains>},
    {"ReportsPeerGoneWhenReceiversClose",
     "a sender blocked on a full channel gets peer_gone when the receivers close",
     in_child<peer_gone>},
    {"RoundTripsAcrossFork",
     "2000 messages from a forked sender reach a forked receiver, each child exits 0",
     in_child<fork_round_trip>},
    {"FansInAcrossFork", "three forked senders reach one forked receiver in per-sender order",
     in_child<fork_fan_in>},
};

} // namespace

std::span<const ConformanceCheck> conformance_checks() { return kChecks; }

std::chrono::seconds check_limit() { return g_check_limit; }

void set_check_limit(std::chrono::seconds limit) { g_check_limit = limit; }

bool is_register(const ChannelEntry &e) { return e.claims.promises("register"); }

} // namespace ipcv::harness
