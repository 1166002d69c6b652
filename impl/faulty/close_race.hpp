// `faulty-close-race`: the `mqueue` channel with the peer-table race it once had. Its
// survivors look at a peer's closed flag and then at its pid, and call the peer dead when the
// pid is gone, without reading the flag again (CloseCheck::once, see peers.hpp): a sender that
// closes and exits between the two looks is taken for a dead one, and its receiver answers
// `peer_gone` where `eof` is due. Everything else is mqueue's own code. Registered with
// `faulty = true`: listed and run only with --include-faulty.
#pragma once

#include "../kernel/mqueue.hpp"

namespace ipcv::faulty {

/// CloseRace is mqueue whose receivers may mistake a clean close for a death.
struct CloseRace {
  static constexpr std::string_view kName = "faulty-close-race";
  using Address = MqueueChannel::Address;
  using Sender = MqueueChannel::Sender;
  using Receiver = MqueueChannel::Receiver;

  static Claims claims() {
    Claims c = MqueueChannel::claims();
    c.notes = "deliberately broken fixture (see impl/faulty/close_race.hpp): a sender that "
              "closes and exits between two looks at the peer table counts as dead";
    return c;
  }
  static Expected<Address> prepare(const Config &cfg) {
    auto a = MqueueChannel::prepare(cfg);
    if (a)
      a->close_check = CloseCheck::once; // BUG: the closed flag is not read again
    return a;
  }
  static Expected<Sender> connect_sender(const Address &a) {
    return MqueueChannel::connect_sender(a);
  }
  static Expected<Receiver> connect_receiver(const Address &a) {
    return MqueueChannel::connect_receiver(a);
  }
  static void detach(const Address &a) noexcept { MqueueChannel::detach(a); }
  static void destroy(const Address &a) noexcept { MqueueChannel::destroy(a); }
  static std::vector<NamedObject> named_objects(const Address &a) {
    return MqueueChannel::named_objects(a);
  }
};

static_assert(Channel<CloseRace>, "faulty-close-race satisfies the Channel contract");

} // namespace ipcv::faulty
