// Loading plugins (plugins.hpp). For each path: check the file (a regular, readable ELF shared
// object); probe it in a child of its own process group (dlopen, the entry point, the build
// facts, a registration whose entries are checked like the real one) that reports one line
// through a pipe within kProbeSeconds; then, only if the probe said ok, load and register it
// here. A plugin is never unloaded: its entries' std::function code lives in it.
#include "plugins.hpp"
#include "process.hpp"

#include "registry.hpp"

#include "ipcverify/plugin.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <exception>
#include <fcntl.h>
#include <fmt/format.h>
#include <iterator>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

namespace ipcv::harness {
namespace {

std::vector<LoadedPlugin> &loaded() {
  static std::vector<LoadedPlugin> v;
  return v;
}

/// `text` on one line: newlines become spaces.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

/// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Why the file at `path` cannot be a plugin (missing, not a regular file, unreadable, not an
/// ELF shared object), or "". Sets `digest` to the XXH3-64 of its bytes.
std::string check_file(const std::string &path, std::uint64_t &digest) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return errno == ENOENT ? std::string("no such file") : fmt::format("{}", std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return S_ISDIR(st.st_mode) ? "a directory, not a shared object"
                               : "not a regular file, so not a shared object";
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0)
    return fmt::format("cannot read it: {}", std::strerror(errno));
  Elf64_Ehdr eh{};
  const ssize_t n = ::pread(f.fd, &eh, sizeof eh, 0);
  if (n < 0)
    return fmt::format("cannot read it: {}", std::strerror(errno));
  if (n < EI_NIDENT || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return "not a shared object (not an ELF file)";
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || n != static_cast<ssize_t>(sizeof eh))
    return "not a shared object for this machine (not 64-bit ELF)";
  if (eh.e_type == ET_EXEC)
    return "not a shared object (an executable)";
  if (eh.e_type != ET_DYN)
    return "not a shared object (an ELF file of another type: an object file or a core dump?)";
  // A position-independent executable is ET_DYN too; it names a program interpreter.
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (::pread(f.fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * eh.e_phentsize)) !=
        static_cast<ssize_t>(sizeof ph))
      return "not a shared object (a truncated ELF file)";
    if (ph.p_type == PT_INTERP)
      return "not a shared object (an executable)";
  }
  XXH3_state_t *state = XXH3_createState();
  XXH3_64bits_reset(state);
  char buf[1 << 16];
  ssize_t got;
  off_t at = 0;
  while ((got = ::pread(f.fd, buf, sizeof buf, at)) > 0) {
    XXH3_64bits_update(state, buf, static_cast<std::size_t>(got));
    at += got;
  }
  digest = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  if (got < 0)
    return fmt::format("cannot read it: {}", std::strerror(errno));
  return "";
}

const char *sanitizer_name(Sanitizer s) {
  switch (s) {
  case Sanitizer::none:
    return "none";
  case Sanitizer::thread:
    return "thread";
  case Sanitizer::address:
    return "address";
  }
  return "unknown";
}

/// Which build fact of the plugin (`p`) differs from the host's (`h`), with both values, or "".
/// The contract comes first: with another contract even PluginInfo may be laid out otherwise
/// (BuildFacts stays its first member and `contract` the first of those, so it reads true).
std::string facts_mismatch(const BuildFacts &p, const BuildFacts &h) {
  if (p.contract != h.contract)
    return fmt::format("built against contract version {}, this ipcverify implements version {}",
                       p.contract, h.contract);
  if (p.cxx11_abi != h.cxx11_abi)
    return fmt::format("built with _GLIBCXX_USE_CXX11_ABI={}, this ipcverify with {}", p.cxx11_abi,
                       h.cxx11_abi);
  if (p.libstdcxx != h.libstdcxx)
    return fmt::format("built with the headers of libstdc++ {}, this ipcverify with those of {}",
                       p.libstdcxx, h.libstdcxx);
  if (p.sanitizer != h.sanitizer)
    return fmt::format("built with sanitizer '{}', this ipcverify with '{}'",
                       sanitizer_name(p.sanitizer), sanitizer_name(h.sanitizer));
  if (p.perturb != h.perturb)
    return fmt::format("built with perturbation points {}, this ipcverify with them {}",
                       p.perturb ? "on" : "off", h.perturb ? "on" : "off");
  return "";
}

/// Who registered channel `name` already: the reference channels or a plugin.
std::string owner_text(const std::string &name) {
  const std::string p = plugin_of(name);
  return p.empty() ? std::string("ipcverify's own channels") : "plugin " + p;
}

/// A CheckingRegistrar collects a plugin's entries, refusing the first that cannot join the
/// registry (harness::refusal) or repeats a name of this plugin; later entries are ignored.
class CheckingRegistrar final : public Registrar {
public:
  void add(ChannelEntry entry) override {
    if (!error.empty())
      return;
    for (const auto &e : entries)
      if (e.name == entry.name) {
        error = fmt::format("channel '{}' is registered twice by this plugin", entry.name);
        return;
      }
    if (find_channel(entry.name) != nullptr) {
      error = fmt::format("channel '{}' is already registered by {}", entry.name,
                          owner_text(entry.name));
      return;
    }
    if (std::string why = refusal(entry); !why.empty()) {
      error = why;
      return;
    }
    entries.push_back(std::move(entry));
  }

  std::vector<ChannelEntry> entries;
  std::string error;
};

/// What a plugin's entry point gives, or why not (one line).
struct Opened {
  const PluginInfo *info = nullptr;
  std::string error;
};

/// dlopen()s `path` with `flags` and calls its entry point. `mark` is called before the
/// entry point runs (the probe's progress report).
template <class Mark> Opened open_plugin(const std::string &path, int flags, Mark mark) {
  Opened o;
  void *h = ::dlopen(path.c_str(), flags);
  if (h == nullptr) {
    const char *e = ::dlerror();
    o.error = "cannot load it: " + one_line(e ? e : "dlopen failed");
    return o;
  }
  void *sym = ::dlsym(h, kPluginEntryPoint);
  if (sym == nullptr) {
    o.error = fmt::format("not a plugin: it defines no {}() (see IPCV_PLUGIN in "
                          "ipcverify/plugin.hpp)",
                          kPluginEntryPoint);
    return o;
  }
  mark('E');
  o.info = reinterpret_cast<const PluginInfo *(*)()>(sym)();
  if (o.info == nullptr) {
    o.error = fmt::format("its {}() returned no PluginInfo", kPluginEntryPoint);
    return o;
  }
  if (std::string why = facts_mismatch(o.info->facts, this_build()); !why.empty()) {
    o.error = why;
    o.info = nullptr;
    return o;
  }
  if (o.info->register_channels == nullptr) {
    o.error = "its PluginInfo has no register_channels function";
    o.info = nullptr;
  }
  return o;
}

/// Calls the plugin's registration; "" with the entries in `r`, or why not.
template <class Mark>
std::string register_with(const PluginInfo &info, CheckingRegistrar &r, Mark mark) {
  mark('R');
  try {
    info.register_channels(r);
  } catch (const std::exception &e) {
    return "registration threw: " + one_line(e.what());
  } catch (...) {
    return "registration threw an exception that is not a std::exception";
  }
  if (!r.error.empty())
    return r.error;
  if (r.entries.empty())
    return "it registers no channel (an empty IPCV_PLUGIN block?)";
  return "";
}

void write_all(int fd, const std::string &s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    done += static_cast<std::size_t>(n);
  }
}

/// The signals of the terminal and of `kill`: while a probe runs they kill its process group
/// before they take effect here, since that group is not the terminal's.
constexpr int kRelayed[] = {SIGINT, SIGTERM, SIGHUP};
volatile std::sig_atomic_t probe_signal = 0;
extern "C" void on_probe_signal(int sig) { probe_signal = sig; }

/// The probe child: loads and registers the plugin, writes progress marks ('E': calling the
/// entry point, 'R': calling the registration) and then "=" and one line (ok or why not).
[[noreturn]] void probe_child(const std::string &path, int fd, pid_t parent) {
  ::setpgid(0, 0); // its group is killed as a whole, with anything the plugin forked
  // Dies with ipcverify even when that is killed outright; the terminal's signals do not reach
  // this group, ipcverify relays them (see probe).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent)
    ::_exit(1);
  for (int sig : kRelayed)
    ::signal(sig, SIG_DFL);
  const auto mark = [fd](char c) { write_all(fd, std::string(1, c)); };
  std::string result;
  Opened o = open_plugin(path, RTLD_NOW | RTLD_LOCAL, mark);
  if (o.info == nullptr) {
    result = o.error;
  } else {
    CheckingRegistrar r;
    result = register_with(*o.info, r, mark);
  }
  write_all(fd, "=" + (result.empty() ? std::string("ok") : result) + "\n");
  ::_exit(0);
}

/// Probes the plugin at `path` in a child; "" when it loads and registers cleanly, else why.
std::string probe(const std::string &path) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    return fmt::format("cannot probe it: pipe: {}", std::strerror(errno));
  std::fflush(nullptr); // the child must not inherit unwritten output
  // While the probe runs, processes the plugin forks are re-parented to this one when the
  // child dies, so they can be reaped here and none outlives the probe.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction relay {
  }, old[std::size(kRelayed)];
  relay.sa_handler = on_probe_signal; // no SA_RESTART: poll and waitpid return EINTR
  sigemptyset(&relay.sa_mask);
  probe_signal = 0;
  for (std::size_t i = 0; i < std::size(kRelayed); ++i)
    ::sigaction(kRelayed[i], &relay, &old[i]);
  const auto restore = [&] {
    for (std::size_t i = 0; i < std::size(kRelayed); ++i)
      ::sigaction(kRelayed[i], &old[i], nullptr);
  };
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    restore();
    ::close(p[0]);
    ::close(p[1]);
    return fmt::format("cannot probe it: fork: {}", std::strerror(err));
  }
  if (pid == 0) {
    ::close(p[0]);
    probe_child(path, p[1], parent);
  }
  ::setpgid(pid, pid); // also here, so the group exists before the parent may kill it
  ::close(p[1]);
  Fd rd(p[0]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kProbeSeconds);
  const auto left_ms = [&] {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long>(0, left.count()));
  };
  std::string report;
  bool eof = false, late = false;
  while (!eof && !late && !probe_signal && report.find('\n') == std::string::npos) {
    pollfd pf{rd.fd, POLLIN, 0};
    const int ready = ::poll(&pf, 1, left_ms());
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0) {
      late = true;
      break;
    }
    char buf[512];
    const ssize_t n = ::read(rd.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      eof = true;
    else
      report.append(buf, static_cast<std::size_t>(n));
  }
  const std::size_t eq = report.find('=');
  const std::string marks = report.substr(0, eq);
  const std::string phase = marks.find('R') != std::string::npos   ? "registration"
                            : marks.find('E') != std::string::npos ? "its entry point"
                                                                   : "loading it";
  int status = 0;
  bool reaped = false;
  if (eq == std::string::npos && !late && !probe_signal) {
    // No report and the pipe closed: the child ended (or closed the pipe and lives on); wait
    // for its status until the deadline.
    for (;;) {
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        reaped = true;
        break;
      }
      if (left_ms() == 0 || probe_signal) {
        late = true;
        break;
      }
      ::usleep(5000);
    }
  }
  ::kill(-pid, SIGKILL); // the child if still there, and whatever the plugin forked
  if (!reaped)
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  // The rest of its group are now children of this process: reap each one.
  for (int ignored = 0; ::waitpid(-pid, &ignored, 0) > 0 || errno == EINTR;) {
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  restore();
  if (const int sig = probe_signal) {
    // Now that nothing of the probe is left, the signal does what it would have done.
    ::raise(sig);
    return fmt::format("interrupted by {} while probing it", signal_name(sig));
  }
  if (eq != std::string::npos) {
    std::string line = report.substr(eq + 1);
    if (!line.empty() && line.back() == '\n')
      line.pop_back();
    return line == "ok" ? "" : line;
  }
  if (late)
    return fmt::format("{} did not return within {} s", phase, kProbeSeconds);
  if (WIFSIGNALED(status))
    return fmt::format("{} crashed with {}", phase, signal_name(WTERMSIG(status)));
  return fmt::format("{} ended the process (exit status {}) without returning", phase,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/// Loads the plugin at canonical path `path`, already probed, into this process.
std::string load_here(const std::string &path, std::uint64_t digest) {
  const auto no_mark = [](char) {};
  Opened o = open_plugin(path, RTLD_NOW | RTLD_LOCAL, no_mark);
  if (o.info == nullptr)
    return o.error;
  // The plugin's perturbation points use the hook of perturb.hpp, an inline thread_local:
  // they reach the engine's hook only if this executable exports its copy (ENABLE_EXPORTS).
  if (::dlsym(RTLD_DEFAULT, "_ZN4ipcv7perturb8tls_hookE") == nullptr)
    return "this program does not export its symbols, so the plugin's perturbation points "
           "would not reach its hook (link it with ENABLE_EXPORTS)";
  CheckingRegistrar r;
  if (std::string why = register_with(*o.info, r, no_mark); !why.empty())
    return why;
  LoadedPlugin lp{path, o.info->name ? o.info->name : "", digest, {}};
  for (ChannelEntry &e : r.entries) {
    lp.channels.push_back(e.name);
    if (std::string why = register_channel(std::move(e)); !why.empty())
      return why;
  }
  loaded().push_back(std::move(lp));
  return "";
}

} // namespace

std::vector<std::string> plugin_paths(const std::vector<std::string> &flags) {
  std::vector<std::string> out;
  if (const char *env = std::getenv("IPCV_PLUGINS")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view item = rest.substr(0, colon);
      if (!item.empty())
        out.emplace_back(item);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  out.insert(out.end(), flags.begin(), flags.end());
  return out;
}

std::string load_plugins(const std::vector<std::string> &paths) {
  for (const std::string &path : paths) {
    std::uint64_t digest = 0;
    std::string why = check_file(path, digest);
    std::string canonical;
    if (why.empty()) {
      char buf[PATH_MAX];
      if (::realpath(path.c_str(), buf) == nullptr)
        why = fmt::format("cannot resolve its path: {}", std::strerror(errno));
      else
        canonical = buf;
    }
    if (why.empty() && std::any_of(loaded().begin(), loaded().end(),
                                   [&](const LoadedPlugin &p) { return p.path == canonical; }))
      continue; // named twice: loaded once
    if (why.empty())
      why = probe(canonical);
    if (why.empty())
      why = load_here(canonical, digest);
    if (!why.empty())
      return fmt::format("plugin {}: {}", path, why);
  }
  return "";
}

const std::vector<LoadedPlugin> &loaded_plugins() { return loaded(); }

std::string plugin_of(std::string_view name) {
  for (const LoadedPlugin &p : loaded())
    for (const std::string &c : p.channels)
      if (c == name)
        return p.path;
  return "";
}

std::string digest_text(std::uint64_t digest) { return fmt::format("{:016x}", digest); }

} // namespace ipcv::harness
