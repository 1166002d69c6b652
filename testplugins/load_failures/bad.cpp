// The bad test plugins: one shared object per way a plugin fails to load, chosen by the
// compile definition FIXTURE_<MODE> (see CMakeLists.txt). Each is otherwise a working plugin
// around the good fixture's channel, so the load fails for that one reason only.
#include "good_pipe.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <sys/types.h>

namespace {

/// The channel under another name, or with other claims.
[[maybe_unused]] ipcv::ChannelEntry renamed(const char *name) {
  ipcv::ChannelEntry e = ipcv::entry_of<fixture::GoodPipe>();
  e.name = name;
  return e;
}

/// Appends this process's id to the file $IPCV_FIXTURE_PIDFILE (if set), so a test can check
/// that the process is gone once ipcverify has exited.
[[maybe_unused]] void note_pid() {
  if (const char *f = std::getenv("IPCV_FIXTURE_PIDFILE")) {
    if (std::FILE *out = std::fopen(f, "a")) {
      std::fprintf(out, "%d\n", static_cast<int>(::getpid()));
      std::fclose(out);
    }
  }
}

#if defined(FIXTURE_LOSSY)
/// A sender that drops every second message and says ok: it loads, then breaks no-loss.
class DropEveryOther final : public ipcv::AnySender {
public:
  explicit DropEveryOther(std::unique_ptr<ipcv::AnySender> s) : s_(std::move(s)) {}
  ipcv::Status send(std::span<const std::byte> m, ipcv::Deadline d) noexcept override {
    return n_++ % 2 ? ipcv::Status{} : s_->send(m, d);
  }
  ipcv::Status try_send(std::span<const std::byte> m) noexcept override {
    return n_++ % 2 ? ipcv::Status{} : s_->try_send(m);
  }
  void close() noexcept override { s_->close(); }

private:
  std::unique_ptr<ipcv::AnySender> s_;
  unsigned n_ = 0;
};

class LossyInstance final : public ipcv::AnyInstance {
public:
  explicit LossyInstance(std::unique_ptr<ipcv::AnyInstance> i) : i_(std::move(i)) {}
  ipcv::Expected<std::unique_ptr<ipcv::AnySender>> connect_sender(unsigned index) override {
    auto s = i_->connect_sender(index);
    if (!s)
      return s.status();
    return std::unique_ptr<ipcv::AnySender>(new DropEveryOther(std::move(*s)));
  }
  ipcv::Expected<std::unique_ptr<ipcv::AnyReceiver>> connect_receiver(unsigned index) override {
    return i_->connect_receiver(index);
  }
  void detach() noexcept override { i_->detach(); }
  void destroy() noexcept override { i_->destroy(); }
  std::vector<ipcv::NamedObject> named_objects() const override { return i_->named_objects(); }

private:
  std::unique_ptr<ipcv::AnyInstance> i_;
};

ipcv::ChannelEntry lossy() {
  ipcv::ChannelEntry e = renamed("fixture-lossy");
  e.prepare = [inner = std::move(e.prepare)](
                  const ipcv::Config &cfg) -> ipcv::Expected<std::unique_ptr<ipcv::AnyInstance>> {
    auto i = inner(cfg);
    if (!i)
      return i.status();
    return std::unique_ptr<ipcv::AnyInstance>(new LossyInstance(std::move(*i)));
  };
  return e;
}
#endif

} // namespace

#if defined(FIXTURE_WRONG_CONTRACT) || defined(FIXTURE_WRONG_ABI)
// Hand-written entry point: the facts of another build.
static void register_channels(ipcv::Registrar &r) { r.add(renamed("fixture-wrong-facts")); }
extern "C" __attribute__((visibility("default"))) const ipcv::PluginInfo *ipcverify_plugin_entry() {
  static const ipcv::PluginInfo info = [] {
    ipcv::BuildFacts f = ipcv::this_build();
#if defined(FIXTURE_WRONG_CONTRACT)
    f.contract = ipcv::kContractVersion + 1;
#else
    f.cxx11_abi = f.cxx11_abi ? 0 : 1;
#endif
    return ipcv::PluginInfo{f, "fixture-wrong-facts", &register_channels};
  }();
  return &info;
}
#elif defined(FIXTURE_NO_ENTRY)
// A shared object with code in it, but no IPCV_PLUGIN.
extern "C" __attribute__((visibility("default"))) int fixture_not_a_plugin() { return 42; }
#else
#if defined(FIXTURE_UNRESOLVED)
// Defined nowhere: with RTLD_NOW the load fails.
extern "C" void fixture_symbol_defined_nowhere();
#endif

IPCV_PLUGIN("fixture-bad", r) {
#if defined(FIXTURE_DUPLICATE_REFERENCE)
  r.add(renamed("pipe"));
#elif defined(FIXTURE_DUPLICATE_PLUGIN)
  r.add(renamed("fixture-good-pipe"));
#elif defined(FIXTURE_DUPLICATE_SELF)
  r.add(renamed("fixture-twice"));
  r.add(renamed("fixture-twice"));
#elif defined(FIXTURE_UNKNOWN_SPEC)
  ipcv::ChannelEntry e = renamed("fixture-unknown-spec");
  e.claims.specs.push_back("fifo-ish");
  r.add(std::move(e));
#elif defined(FIXTURE_THROWS)
  r.add(renamed("fixture-throws"));
  throw std::runtime_error("the library is not initialised");
#elif defined(FIXTURE_CRASHES)
  r.add(renamed("fixture-crashes"));
  std::raise(SIGSEGV);
#elif defined(FIXTURE_EXITS)
  r.add(renamed("fixture-exits"));
  std::_Exit(3);
#elif defined(FIXTURE_HANGS)
  // Hangs, and so does a process it forked: both must be gone once ipcverify exits.
  (void)r;
  if (::fork() == 0) {
    // Not holding the output ipcverify's caller reads, so a leak is seen and not waited for.
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    note_pid();
    for (;;)
      ::pause();
  }
  note_pid();
  for (;;)
    ::pause();
#elif defined(FIXTURE_EMPTY)
  (void)r;
#elif defined(FIXTURE_LOSSY)
  r.add(lossy());
#elif defined(FIXTURE_UNRESOLVED)
  fixture_symbol_defined_nowhere();
  r.add(renamed("fixture-unresolved"));
#else
#error "bad.cpp needs one FIXTURE_<MODE> definition"
#endif
}
#endif
