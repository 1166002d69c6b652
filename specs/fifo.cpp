// `fifo`: a history satisfies it when each receiver gets each producer's messages in the order
// they were sent. "Sent before" is real-time order: send(a) returned before send(b) was called,
// so sends that overlap (or are pending) may arrive in either order. Each receiver's receives are
// taken in its own program order (by call time); a receiver that gets b and later a, where a was
// sent before b, fails. Receives of messages with no send are left to no-phantom.
#include "fifo.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace ipcv::spec {

Verdict check_fifo(const History &h, const Params &) {
  const MsgIndex index(h);
  // (receiver, call time, event) of every identified receive whose message has a send.
  struct Recv {
    std::uint32_t pid;
    std::int64_t call;
    std::size_t event;
    std::size_t send;
  };
  std::vector<Recv> recvs;
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (!is_identified_receive(e))
      continue;
    const MsgRecord *r = index.find(e.msg);
    if (r->send != kNone)
      recvs.push_back({e.pid, e.call, i, r->send});
  }
  std::sort(recvs.begin(), recvs.end(), [](const Recv &a, const Recv &b) {
    return a.pid != b.pid ? a.pid < b.pid : a.call != b.call ? a.call < b.call : a.event < b.event;
  });
  // Per producer, within one receiver: the received message whose send was called latest.
  struct Latest {
    std::int64_t send_call;
    std::size_t recv;
    std::size_t send;
  };
  std::unordered_map<std::uint32_t, Latest> latest;
  std::size_t bad = 0;
  std::vector<std::size_t> witnesses;
  std::string first;
  for (std::size_t k = 0; k < recvs.size(); ++k) {
    if (k == 0 || recvs[k].pid != recvs[k - 1].pid)
      latest.clear();
    const Recv &r = recvs[k];
    const Event &sent = h.events[r.send];
    auto [it, fresh] = latest.try_emplace(sent.msg.producer, Latest{sent.call, r.event, r.send});
    if (fresh)
      continue;
    Latest &l = it->second;
    if (sent.ret < l.send_call) { // sent before a message this receiver already got
      if (++bad <= kMaxWitnessedFailures) {
        if (first.empty())
          first = fmt::format("pid {} received {} after {}, but {} was sent first", r.pid,
                              to_string(sent.msg), to_string(h.events[l.send].msg),
                              to_string(sent.msg));
        witnesses.insert(witnesses.end(), {r.send, l.send, l.recv, r.event});
      }
    }
    if (sent.call > l.send_call)
      l = Latest{sent.call, r.event, r.send};
  }
  if (bad == 0)
    return Verdict::ok();
  return Verdict::failed(fmt::format("{} receives out of send order; first: {}", bad, first),
                         std::move(witnesses));
}

namespace {
const SpecRegistrar kRegisteredFifo{
    {"fifo", "each receiver gets each producer's messages in the order they were sent",
     &check_fifo}};
} // namespace

} // namespace ipcv::spec
