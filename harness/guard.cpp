// Implementation of the guards (guard.hpp).
#include "guard.hpp"
#include "hygiene.hpp"
#include "process.hpp"

#include <array>
#include <csetjmp>
#include <csignal>
#include <cxxabi.h>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <sys/syscall.h>
#include <time.h>
#include <typeinfo>
#include <unistd.h>

namespace ipcv::harness {
namespace {

constexpr std::array kFatal = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr int kTimerSignal = SIGALRM;
constexpr std::size_t kAltStack = 64 * 1024;

/// Where a trip jumps to: set only while this thread runs a guarded call.
thread_local sigjmp_buf *tls_jump = nullptr;

extern "C" void on_guarded_signal(int sig) {
  if (sigjmp_buf *j = tls_jump; j != nullptr) {
    tls_jump = nullptr;
    siglongjmp(*j, sig);
  }
  if (sig != kTimerSignal) { // a fault outside a guarded call: what would have happened anyway
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

std::map<std::string, std::string> &unusable_table() {
  static std::map<std::string, std::string> t;
  return t;
}

std::string type_name(const std::type_info &t) {
  int st = 0;
  std::unique_ptr<char, void (*)(void *)> d(abi::__cxa_demangle(t.name(), nullptr, nullptr, &st),
                                            std::free);
  return st == 0 && d ? std::string(d.get()) : std::string(t.name());
}

/// The handlers, alternate stack and timer of one guarded call; restores what was there.
class Armed {
public:
  explicit Armed(std::chrono::milliseconds limit) {
    stack_.reset(new char[kAltStack]);
    stack_t ss{};
    ss.ss_sp = stack_.get();
    ss.ss_size = kAltStack;
    ::sigaltstack(&ss, &old_stack_); // a stack overflow still gets its handler
    struct sigaction sa {};
    sa.sa_handler = on_guarded_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    for (std::size_t i = 0; i < kFatal.size(); ++i)
      ::sigaction(kFatal[i], &sa, &old_[i]);
    ::sigaction(kTimerSignal, &sa, &old_timer_);
    sigevent ev{};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = kTimerSignal;
    ev._sigev_un._tid = static_cast<pid_t>(::syscall(SYS_gettid)); // this thread, not another
    if (::timer_create(CLOCK_MONOTONIC, &ev, &timer_) == 0) {
      have_timer_ = true;
      itimerspec when{};
      when.it_value.tv_sec = limit.count() / 1000;
      when.it_value.tv_nsec = (limit.count() % 1000) * 1'000'000 + 1; // never 0: 0 disarms
      ::timer_settime(timer_, 0, &when, nullptr);
    }
  }
  ~Armed() {
    if (have_timer_)
      ::timer_delete(timer_);
    ::sigaction(kTimerSignal, &old_timer_, nullptr);
    for (std::size_t i = 0; i < kFatal.size(); ++i)
      ::sigaction(kFatal[i], &old_[i], nullptr);
    ::sigaltstack(&old_stack_, nullptr);
  }
  Armed(const Armed &) = delete;
  Armed &operator=(const Armed &) = delete;

private:
  std::unique_ptr<char[]> stack_;
  stack_t old_stack_{};
  std::array<struct sigaction, kFatal.size()> old_{};
  struct sigaction old_timer_ {};
  timer_t timer_{};
  bool have_timer_ = false;
};

/// Runs `f`; the signal that ended it, or 0. Separate so that nothing of the caller's lives
/// between sigsetjmp and a siglongjmp.
int run_until_signal(const std::function<void()> &f, std::string &threw) {
  sigjmp_buf jump;
  if (const int sig = sigsetjmp(jump, 1); sig != 0)
    return sig;
  tls_jump = &jump;
  try {
    f();
  } catch (const std::exception &x) {
    threw = fmt::format("threw {}: {}", type_name(typeid(x)), x.what());
  } catch (...) {
    threw = "threw an exception that is not a std::exception";
  }
  tls_jump = nullptr;
  return 0;
}

} // namespace

std::optional<std::string> guarded(const std::string &channel, std::string_view call,
                                   const std::function<void()> &f,
                                   std::chrono::milliseconds limit) {
  std::string threw;
  int sig = 0;
  {
    Armed armed(limit);
    sig = run_until_signal(f, threw);
  }
  std::string why;
  if (sig == kTimerSignal)
    why = fmt::format("{} did not return within {:g} s", call,
                      static_cast<double>(limit.count()) / 1000);
  else if (sig != 0)
    why = fmt::format("{} crashed with {}", call, signal_name(sig));
  else if (!threw.empty())
    why = fmt::format("{} {}", call, threw);
  else
    return std::nullopt;
  mark_unusable(channel, why);
  return why;
}

std::optional<std::string> unusable(const std::string &channel) {
  const auto &t = unusable_table();
  if (auto it = t.find(channel); it != t.end())
    return it->second;
  return std::nullopt;
}

void mark_unusable(const std::string &channel, const std::string &why) {
  unusable_table().emplace(channel, why);
}

namespace {

/// An instance whose parent-side calls are guarded; after a trip it calls nothing. When it
/// goes, it removes what the instance listed and left (whoever called destroy has looked).
class GuardedInstance final : public AnyInstance {
public:
  GuardedInstance(std::string channel, std::unique_ptr<AnyInstance> inner)
      : channel_(std::move(channel)), inner_(std::move(inner)) {
    listed_ = named_objects();
  }
  ~GuardedInstance() override {
    if (unusable(channel_))
      (void)inner_.release(); // its state is lost with the call that tripped
    for (const NamedObject &o : listed_)
      if (object_exists(o))
        remove_object(o);
  }
  Expected<std::unique_ptr<AnySender>> connect_sender(unsigned index) override {
    return inner_->connect_sender(index);
  }
  Expected<std::unique_ptr<AnyReceiver>> connect_receiver(unsigned index) override {
    return inner_->connect_receiver(index);
  }
  void detach() noexcept override {
    call("detach", [&] { inner_->detach(); });
  }
  void destroy() noexcept override {
    call("destroy", [&] { inner_->destroy(); });
  }
  std::vector<NamedObject> named_objects() const override {
    std::vector<NamedObject> out;
    call("named_objects", [&] { out = inner_->named_objects(); });
    return out;
  }

private:
  void call(std::string_view what, const std::function<void()> &f) const noexcept {
    if (!unusable(channel_))
      (void)guarded(channel_, what, f);
  }
  std::string channel_;
  std::unique_ptr<AnyInstance> inner_;
  std::vector<NamedObject> listed_;
};

} // namespace

ChannelEntry guarded_entry(const ChannelEntry &e) {
  ChannelEntry g = e;
  g.prepare = [name = e.name,
               inner = e.prepare](const Config &cfg) -> Expected<std::unique_ptr<AnyInstance>> {
    if (auto why = unusable(name))
      return Status{Result::error, 0, lasting_text(*why)};
    std::optional<Expected<std::unique_ptr<AnyInstance>>> made;
    if (auto why = guarded(name, "prepare", [&] { made.emplace(inner(cfg)); }))
      return Status{Result::error, 0, lasting_text(*why)};
    if (!*made)
      return made->status();
    return std::unique_ptr<AnyInstance>(new GuardedInstance(name, std::move(**made)));
  };
  return g;
}

const char *lasting_text(const std::string &text) {
  static std::set<std::string> texts; // nodes never move: the pointers stay valid
  return texts.insert(text).first->c_str();
}

} // namespace ipcv::harness
