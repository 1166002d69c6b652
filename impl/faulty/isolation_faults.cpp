// Implementation of the isolation fixtures (isolation_faults.hpp). Each departs from the plain
// `mqueue` channel in one place, marked BUG; everything else is that channel's own code.
#include "isolation_faults.hpp"
#include "../os.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ipcv::faulty {
namespace {

Claims queue_claims(std::string_view what) {
  Claims c = MqueueChannel::claims();
  c.notes = "deliberately broken fixture (see impl/faulty/isolation_faults.hpp): ";
  c.notes += what;
  return c;
}

/// Opens the queue of `cfg` with `oflag` and `mode` (mode applied past the umask) and maps a
/// fresh control block: mqueue's own prepare, with the open flags and mode left to the caller.
Expected<MqueueChannel::Address> open_queue(const Config &cfg, int oflag, mode_t mode) {
  if (cfg.max_message > MqueueChannel::kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 8192"};
  if (cfg.senders > MqueueChannel::kMaxEndpoints || cfg.receivers > MqueueChannel::kMaxEndpoints)
    return Status{Result::error, EINVAL, "more than 64 endpoints on one side"};
  MqueueChannel::Address a;
  auto name = object_name("/", "mq", cfg.name);
  if (!name)
    return name.status();
  a.name = *name;
  a.max_message =
      static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : MqueueChannel::kMaxMessage);
  a.senders = cfg.senders;
  a.receivers = cfg.receivers;
  mq_attr at{};
  at.mq_maxmsg = static_cast<long>(cfg.capacity ? cfg.capacity : MqueueChannel::kCapacity);
  at.mq_msgsize = static_cast<long>(a.max_message == 0 ? 1 : a.max_message);
  mqd_t q = ::mq_open(a.name.c_str(), O_RDWR | O_CLOEXEC | oflag, mode, &at);
  if (q == static_cast<mqd_t>(-1))
    return Status::from_errno("mq_open");
  // Past the umask: mqd_t is a descriptor on Linux. Never done to a queue that was joined.
  const bool chmod_failed = (mode & 0077) != 0 && ::fchmod(q, mode) != 0;
  ::mq_close(q);
  void *p = chmod_failed ? MAP_FAILED
                         : ::mmap(nullptr, sizeof(MqueueChannel::Control), PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    Status s = Status::from_errno(chmod_failed ? "fchmod queue" : "mmap control block");
    ::mq_unlink(a.name.c_str());
    return s;
  }
  a.control = new (p) MqueueChannel::Control{};
  return a;
}

/// The queue faulty-crosstalk hands out while some instance of this process still uses it.
struct Pool {
  ObjectName name;
  pid_t owner = 0;
  unsigned users = 0;
};
Pool pool;

} // namespace

template <PrepareFault F> Claims QueueWith<F>::claims() {
  return queue_claims(F == PrepareFault::world_readable ? "queue created with mode 0666"
                      : F == PrepareFault::squat        ? "joins a queue that already has its name"
                                                        : "instances of one process share a queue");
}

template <PrepareFault F>
Expected<typename QueueWith<F>::Address> QueueWith<F>::prepare(const Config &cfg) {
  if constexpr (F == PrepareFault::world_readable) {
    // BUG: mode 0666 lets every user of the machine open, read and write the queue.
    return open_queue(cfg, O_CREAT | O_EXCL, 0666);
  } else if constexpr (F == PrepareFault::squat) {
    // BUG: no O_EXCL, so an existing queue of this name (anyone's) is opened and used.
    return open_queue(cfg, O_CREAT, 0600);
  } else {
    if (pool.users > 0 && pool.owner == ::getpid()) {
      // BUG: the cached queue is reused by an unrelated instance; only the control block is new.
      Config same = cfg;
      same.name = pool.name.view();
      auto a = open_queue(same, 0, 0600);
      if (a)
        ++pool.users;
      return a;
    }
    auto a = open_queue(cfg, O_CREAT | O_EXCL, 0600);
    if (a) {
      pool.name = a->name;
      pool.owner = ::getpid();
      pool.users = 1;
    }
    return a;
  }
}

template <PrepareFault F> void QueueWith<F>::destroy(const Address &a) noexcept {
  if constexpr (F == PrepareFault::crosstalk) {
    if (pool.users > 0 && pool.owner == ::getpid() && pool.name.view() == a.name.view() &&
        --pool.users > 0) {
      ::munmap(a.control, sizeof(MqueueChannel::Control)); // still used by another instance
      return;
    }
  }
  MqueueChannel::destroy(a);
}

template struct QueueWith<PrepareFault::world_readable>;
template struct QueueWith<PrepareFault::squat>;
template struct QueueWith<PrepareFault::crosstalk>;

// faulty-nocopy: each queue message is a tag byte and then either the bytes (kCopy) or the
// address and length of the sender's bytes (kByAddress).
namespace {

constexpr std::byte kCopy{0};
constexpr std::byte kByAddress{1};

struct Ref {
  std::uintptr_t at;
  std::uint64_t len;
};

bool in_shared(const NoCopy::Address &a, std::uintptr_t at, std::uint64_t len) {
  for (unsigned i = 0; i < a.ranges; ++i)
    if (at >= a.shared[i].begin && len <= a.shared[i].end - at)
      return true;
  return false;
}

} // namespace

Claims NoCopy::claims() {
  Claims c = queue_claims("passes buffers in shared memory by address instead of copying them");
  c.max_message = kMaxMessage;
  return c;
}

Expected<NoCopy::Address> NoCopy::prepare(const Config &cfg) {
  if (cfg.max_message > kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 8191"};
  Address a;
  a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
  Config inner = cfg;
  inner.max_message = std::max<std::size_t>(a.max_message + 1, 1 + sizeof(Ref));
  auto q = MqueueChannel::prepare(inner);
  if (!q)
    return q.status();
  a.q = *q;
  // Shared mappings held now are inherited by every forked endpoint at the same address.
  if (FILE *maps = std::fopen("/proc/self/maps", "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, maps) != nullptr && a.ranges < kMaxRanges) {
      unsigned long lo = 0, hi = 0;
      char perms[8] = {};
      if (std::sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[3] == 's')
        a.shared[a.ranges++] = Range{lo, hi};
    }
    std::fclose(maps);
  }
  return a;
}

Expected<NoCopy::Sender> NoCopy::connect_sender(const Address &a) {
  auto s = MqueueChannel::connect_sender(a.q);
  if (!s)
    return s.status();
  return Sender(std::move(*s), a);
}

Expected<NoCopy::Receiver> NoCopy::connect_receiver(const Address &a) {
  auto r = MqueueChannel::connect_receiver(a.q);
  if (!r)
    return r.status();
  return Receiver(std::move(*r), a);
}

Status NoCopy::Sender::send(std::span<const std::byte> msg, Deadline d) noexcept {
  if (msg.size() > a_.max_message)
    return Result::too_large;
  const auto at = reinterpret_cast<std::uintptr_t>(msg.data());
  std::size_t n = 1;
  if (!msg.empty() && in_shared(a_, at, msg.size())) {
    // BUG: "the receiver can see these bytes anyway": only their address goes out, and send
    // returns while the caller is free to reuse the buffer the receiver has yet to read.
    frame_[0] = kByAddress;
    const Ref ref{at, msg.size()};
    std::memcpy(frame_.data() + 1, &ref, sizeof ref);
    n += sizeof ref;
  } else {
    frame_[0] = kCopy;
    if (!msg.empty())
      std::memcpy(frame_.data() + 1, msg.data(), msg.size());
    n += msg.size();
  }
  const std::span<const std::byte> frame(frame_.data(), n);
  return d == Deadline{} ? s_.try_send(frame) : s_.send(frame, d);
}

RecvStatus NoCopy::Receiver::recv(std::span<std::byte> buf, Deadline d) noexcept {
  RecvStatus r = d == Deadline{} ? r_.try_recv(frame_) : r_.recv(frame_, d);
  if (!r.ok())
    return r;
  if (r.size == 0)
    return Status{Result::error, EPROTO, "faulty-nocopy: frame without a tag"};
  if (frame_[0] == kByAddress) {
    Ref ref{};
    std::memcpy(&ref, frame_.data() + 1, sizeof ref);
    if (!in_shared(a_, ref.at, ref.len))
      return Status{Result::error, EPROTO, "faulty-nocopy: address outside the shared ranges"};
    if (ref.len > buf.size())
      return Status{Result::too_large};
    std::memcpy(buf.data(), reinterpret_cast<const void *>(ref.at), ref.len);
    return {Status{Result::ok}, static_cast<std::size_t>(ref.len)};
  }
  const std::size_t len = r.size - 1;
  if (len > buf.size())
    return Status{Result::too_large};
  if (len > 0)
    std::memcpy(buf.data(), frame_.data() + 1, len);
  return {Status{Result::ok}, len};
}

// faulty-overshare
namespace {

constexpr std::size_t kStatsBytes = 4096;

std::atomic<std::uint64_t> *map_stats(const char *name) {
  // BUG: one page for every instance of the preparing process, opened without O_EXCL.
  int fd = ::shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return nullptr;
  void *p = ::ftruncate(fd, kStatsBytes) == 0
                ? ::mmap(nullptr, kStatsBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                : MAP_FAILED;
  os::close_fd(fd);
  return p == MAP_FAILED ? nullptr : static_cast<std::atomic<std::uint64_t> *>(p);
}

template <class E, class Connect>
Expected<Overshare::Endpoint<E>> connect_counted(const Overshare::Address &a, Connect connect) {
  auto e = connect(a.q);
  if (!e)
    return e.status();
  std::atomic<std::uint64_t> *stats = map_stats(a.stats);
  if (stats == nullptr)
    return Status::from_errno("map statistics page");
  stats->fetch_add(1, std::memory_order_relaxed); // endpoints connected, all instances together
  return Overshare::Endpoint<E>(std::move(*e), stats);
}

} // namespace

template <class E> void Overshare::Endpoint<E>::close() noexcept {
  if (stats_ != nullptr)
    ::munmap(std::exchange(stats_, nullptr), kStatsBytes);
  E::close();
}

Claims Overshare::claims() { return queue_claims("endpoints map a page shared by all instances"); }

Expected<Overshare::Address> Overshare::prepare(const Config &cfg) {
  auto q = MqueueChannel::prepare(cfg);
  if (!q)
    return q.status();
  Address a;
  a.q = *q;
  std::snprintf(a.stats, sizeof a.stats, "/ipcv-faulty-stats-%d", static_cast<int>(::getpid()));
  return a;
}

Expected<Overshare::Sender> Overshare::connect_sender(const Address &a) {
  return connect_counted<MqueueChannel::Sender>(
      a, [](const MqueueChannel::Address &q) { return MqueueChannel::connect_sender(q); });
}

Expected<Overshare::Receiver> Overshare::connect_receiver(const Address &a) {
  return connect_counted<MqueueChannel::Receiver>(
      a, [](const MqueueChannel::Address &q) { return MqueueChannel::connect_receiver(q); });
}

void Overshare::destroy(const Address &a) noexcept {
  ::shm_unlink(a.stats);
  MqueueChannel::destroy(a.q);
}

template class Overshare::Endpoint<MqueueChannel::Sender>;
template class Overshare::Endpoint<MqueueChannel::Receiver>;

} // namespace ipcv::faulty
