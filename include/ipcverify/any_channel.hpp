// Channels behind one interface: the Channel concept's types erased into AnySender,
// AnyReceiver and AnyInstance, and a ChannelEntry (a name, claims and a factory) for any
// Channel type, so the harness, the engine and the command line handle every channel
// (reference, adapter or plugin) alike. The table of entries by name is harness/registry.hpp.
#pragma once

#include "channel.hpp"

#include <functional>
#include <memory>

namespace ipcv {

/// An AnySender is a connected sending endpoint of some channel, behind a virtual interface.
class AnySender {
public:
  virtual ~AnySender() = default;
  virtual Status send(std::span<const std::byte> msg, Deadline d) noexcept = 0;
  virtual Status try_send(std::span<const std::byte> msg) noexcept = 0;
  virtual void close() noexcept = 0;
};

/// An AnyReceiver is a connected receiving endpoint of some channel.
class AnyReceiver {
public:
  virtual ~AnyReceiver() = default;
  virtual RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept = 0;
  virtual RecvStatus try_recv(std::span<std::byte> buf) noexcept = 0;
  virtual void close() noexcept = 0;
};

/// An AnyInstance is one prepared channel instance: its Address plus the operations on it.
/// It is a plain heap object, so it survives fork and each child can connect from its copy.
class AnyInstance {
public:
  virtual ~AnyInstance() = default;
  /// Connects sender number `index` (0 .. Config::senders - 1; each index once per instance).
  virtual Expected<std::unique_ptr<AnySender>> connect_sender(unsigned index) = 0;
  /// Connects receiver number `index` (0 .. Config::receivers - 1; each index once per instance).
  virtual Expected<std::unique_ptr<AnyReceiver>> connect_receiver(unsigned index) = 0;
  /// Drops this process's copies of the address (once; later calls do nothing).
  virtual void detach() noexcept = 0;
  /// Detaches if not yet done, then removes every OS object of the instance.
  virtual void destroy() noexcept = 0;
  virtual std::vector<NamedObject> named_objects() const = 0;
};

/// A ChannelEntry is one registered channel: its name, its claims and a factory.
struct ChannelEntry {
  std::string name;
  Claims claims;
  bool faulty = false; ///< a deliberately broken fixture, listed only on request
  std::function<Expected<std::unique_ptr<AnyInstance>>(const Config &)> prepare;
};

namespace detail {
template <Channel C> class SenderOf final : public AnySender {
public:
  explicit SenderOf(typename C::Sender s) : s_(std::move(s)) {}
  Status send(std::span<const std::byte> m, Deadline d) noexcept override { return s_.send(m, d); }
  Status try_send(std::span<const std::byte> m) noexcept override { return s_.try_send(m); }
  void close() noexcept override { s_.close(); }

private:
  typename C::Sender s_;
};

template <Channel C> class ReceiverOf final : public AnyReceiver {
public:
  explicit ReceiverOf(typename C::Receiver r) : r_(std::move(r)) {}
  RecvStatus recv(std::span<std::byte> b, Deadline d) noexcept override { return r_.recv(b, d); }
  RecvStatus try_recv(std::span<std::byte> b) noexcept override { return r_.try_recv(b); }
  void close() noexcept override { r_.close(); }

private:
  typename C::Receiver r_;
};

template <Channel C> class InstanceOf final : public AnyInstance {
public:
  explicit InstanceOf(typename C::Address a) : a_(a) {}
  Expected<std::unique_ptr<AnySender>> connect_sender(unsigned index) override {
    auto s = connect_sender_of<C>(a_, index);
    if (!s)
      return s.status();
    return std::unique_ptr<AnySender>(new SenderOf<C>(std::move(*s)));
  }
  Expected<std::unique_ptr<AnyReceiver>> connect_receiver(unsigned index) override {
    auto r = connect_receiver_of<C>(a_, index);
    if (!r)
      return r.status();
    return std::unique_ptr<AnyReceiver>(new ReceiverOf<C>(std::move(*r)));
  }
  void detach() noexcept override {
    if (!std::exchange(detached_, true))
      C::detach(a_);
  }
  void destroy() noexcept override {
    detach();
    C::destroy(a_);
  }
  std::vector<NamedObject> named_objects() const override { return C::named_objects(a_); }

private:
  typename C::Address a_;
  bool detached_ = false;
};
} // namespace detail

/// The registry entry of a Channel type.
template <Channel C> ChannelEntry entry_of(bool faulty = false) {
  return ChannelEntry{std::string(C::kName), C::claims(), faulty,
                      [](const Config &cfg) -> Expected<std::unique_ptr<AnyInstance>> {
                        auto a = C::prepare(cfg);
                        if (!a)
                          return a.status();
                        return std::unique_ptr<AnyInstance>(new detail::InstanceOf<C>(*a));
                      }};
}

} // namespace ipcv
