// Tests of plugins as a user meets them: the real `ipcverify` (and `ipcbench`) with --plugin
// and IPCV_PLUGINS. Each bad fixture (testplugins/load_failures/) must be refused with exit
// status 2, exactly one line on stderr and nothing left running; the good fixture is listed,
// verified, run and measured. One test loads the good plugin into this process to show that
// its perturbation points reach the hook the engine installs.
#include "harness/perturb_plan.hpp"
#include "harness/plugins.hpp"
#include "harness/registry.hpp"
#include "ipcverify/plugin.hpp"

#include <algorithm>

#include "shell.hpp"
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>

#include <gtest/gtest.h>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

namespace {

using ipcv::testing_shell::Outcome;
using ipcv::testing_shell::shell;

Outcome ipcverify(const std::string &args, const std::string &env = "") {
  return shell(env + (env.empty() ? "" : " ") + IPCVERIFY_BIN + " " + args);
}

/// The canonical path of a fixture, as ipcverify names the plugin a channel came from.
std::string canonical(const char *path) {
  char buf[PATH_MAX];
  return ::realpath(path, buf) ? std::string(buf) : std::string(path);
}

/// True when this process has no child at all, running or not. This process is a subreaper
/// (see Environment), so whatever ipcverify left behind when it exited would be ours now.
bool no_children() {
  int st = 0;
  return ::waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD;
}

class Subreaper : public ::testing::Environment {
public:
  void SetUp() override { ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }
};
const auto *const kSubreaper = ::testing::AddGlobalTestEnvironment(new Subreaper);

/// A Refusal is a bad plugin and the one line ipcverify must refuse it with.
struct Refusal {
  const char *name;
  std::string args;     ///< after `ipcverify list`
  std::string expected; ///< the whole output
};

void PrintTo(const Refusal &r, std::ostream *os) { *os << r.args; }

std::string line(const char *path, const std::string &why) {
  return std::string("ipcverify: plugin ") + path + ": " + why + "\n";
}

std::vector<Refusal> refusals() {
  const std::string good = FIXTURE_PLUGIN_GOOD;
  return {
      {"Missing", "--plugin /nonexistent/libnope.so",
       line("/nonexistent/libnope.so", "no such file")},
      {"Directory", "--plugin /tmp", line("/tmp", "a directory, not a shared object")},
      {"TextFile", std::string("--plugin ") + IPCV_SOURCE_DIR + "/README.md",
       line(IPCV_SOURCE_DIR "/README.md", "not a shared object (not an ELF file)")},
      {"Executable", std::string("--plugin ") + IPCVERIFY_BIN,
       line(IPCVERIFY_BIN, "not a shared object (an executable)")},
      {"NoEntryPoint", std::string("--plugin ") + FIXTURE_PLUGIN_NO_ENTRY,
       line(FIXTURE_PLUGIN_NO_ENTRY, "not a plugin: it defines no ipcverify_plugin_entry() (see "
                                     "IPCV_PLUGIN in ipcverify/plugin.hpp)")},
      {"UnresolvedSymbol", std::string("--plugin ") + FIXTURE_PLUGIN_UNRESOLVED,
       line(FIXTURE_PLUGIN_UNRESOLVED, std::string("cannot load it: ") + FIXTURE_PLUGIN_UNRESOLVED +
                                           ": undefined symbol: fixture_symbol_defined_nowhere")},
      {"WrongContract", std::string("--plugin ") + FIXTURE_PLUGIN_WRONG_CONTRACT,
       line(FIXTURE_PLUGIN_WRONG_CONTRACT,
            "built against contract version " + std::to_string(ipcv::kContractVersion + 1) +
                ", this ipcverify implements version " + std::to_string(ipcv::kContractVersion))},
      {"WrongAbi", std::string("--plugin ") + FIXTURE_PLUGIN_WRONG_ABI,
       line(FIXTURE_PLUGIN_WRONG_ABI,
            _GLIBCXX_USE_CXX11_ABI ? "built with _GLIBCXX_USE_CXX11_ABI=0, this ipcverify with 1"
                                   : "built with _GLIBCXX_USE_CXX11_ABI=1, this ipcverify with 0")},
      {"DuplicateOfReference", std::string("--plugin ") + FIXTURE_PLUGIN_DUPLICATE_REFERENCE,
       line(FIXTURE_PLUGIN_DUPLICATE_REFERENCE,
            "channel 'pipe' is already registered by ipcverify's own channels")},
      {"DuplicateOfPlugin", "--plugin " + good + " --plugin " + FIXTURE_PLUGIN_DUPLICATE_PLUGIN,
       line(FIXTURE_PLUGIN_DUPLICATE_PLUGIN,
            "channel 'fixture-good-pipe' is already registered by plugin " +
                canonical(FIXTURE_PLUGIN_GOOD))},
      {"DuplicateInPlugin", std::string("--plugin ") + FIXTURE_PLUGIN_DUPLICATE_SELF,
       line(FIXTURE_PLUGIN_DUPLICATE_SELF,
            "channel 'fixture-twice' is registered twice by this plugin")},
      {"UnknownSpec", std::string("--plugin ") + FIXTURE_PLUGIN_UNKNOWN_SPEC,
       line(FIXTURE_PLUGIN_UNKNOWN_SPEC,
            "channel 'fixture-unknown-spec' claims 'fifo-ish', which is no spec (known: ")},
      {"Throws", std::string("--plugin ") + FIXTURE_PLUGIN_THROWS,
       line(FIXTURE_PLUGIN_THROWS, "registration threw: the library is not initialised")},
      {"Crashes", std::string("--plugin ") + FIXTURE_PLUGIN_CRASHES,
       line(FIXTURE_PLUGIN_CRASHES, "registration crashed with SIGSEGV")},
      {"Exits", std::string("--plugin ") + FIXTURE_PLUGIN_EXITS,
       line(FIXTURE_PLUGIN_EXITS,
            "registration ended the process (exit status 3) without returning")},
      {"Empty", std::string("--plugin ") + FIXTURE_PLUGIN_EMPTY,
       line(FIXTURE_PLUGIN_EMPTY, "it registers no channel (an empty IPCV_PLUGIN block?)")},
  };
}

class PluginRefused : public ::testing::TestWithParam<Refusal> {};

TEST_P(PluginRefused, OneLineStatusTwoNothingLeft) {
  const Refusal &r = GetParam();
  const Outcome o = ipcverify("list " + r.args);
  EXPECT_EQ(o.status, 2) << o.out;
  if (r.expected.find("(known: ") != std::string::npos) {
    // The list of known specs is the engine's business: the line starts so and is one line.
    EXPECT_EQ(o.out.rfind(r.expected.substr(0, r.expected.size() - 1), 0), 0u) << o.out;
    EXPECT_EQ(std::count(o.out.begin(), o.out.end(), '\n'), 1) << o.out;
  } else {
    EXPECT_EQ(o.out, r.expected);
  }
  EXPECT_TRUE(no_children());
}

INSTANTIATE_TEST_SUITE_P(Plugin, PluginRefused, ::testing::ValuesIn(refusals()),
                         [](const auto &info) { return std::string(info.param.name); });

TEST(Plugin, UnreadableFileIsRefused) {
  if (::geteuid() == 0) {
    // Root reads any file it may open; a process's own memory at address 0 cannot be read.
    const Outcome o = ipcverify("list --plugin /proc/self/mem");
    EXPECT_EQ(o.status, 2);
    EXPECT_EQ(o.out, line("/proc/self/mem", "cannot read it: Input/output error"));
    return;
  }
  const std::string path = ::testing::TempDir() + "ipcv-unreadable.so";
  { std::ofstream(path) << "x"; }
  ::chmod(path.c_str(), 0);
  const Outcome o = ipcverify("list --plugin " + path);
  ::unlink(path.c_str());
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(o.out, line(path.c_str(), "cannot read it: Permission denied"));
}

TEST(Plugin, HangingRegistrationIsKilledWithWhatItForked) {
  const std::string pidfile = ::testing::TempDir() + "ipcv-hang-pids";
  ::unlink(pidfile.c_str());
  const Outcome o = ipcverify(std::string("list --plugin ") + FIXTURE_PLUGIN_HANGS,
                              "IPCV_FIXTURE_PIDFILE=" + pidfile);
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(o.out, line(FIXTURE_PLUGIN_HANGS, "registration did not return within 10 s"));
  std::ifstream in(pidfile);
  int pid = 0, seen = 0;
  while (in >> pid) {
    ++seen;
    EXPECT_TRUE(::kill(pid, 0) != 0 && errno == ESRCH) << "process " << pid << " outlived the run";
  }
  ::unlink(pidfile.c_str());
  EXPECT_EQ(seen, 2) << "the fixture writes its own pid and its child's";
  EXPECT_TRUE(no_children());
}

/// The pids in `file`, one a line.
std::vector<int> pids_in(const std::string &file) {
  std::vector<int> out;
  std::ifstream in(file);
  for (int pid = 0; in >> pid;)
    out.push_back(pid);
  return out;
}

TEST(Plugin, InterruptDuringTheProbeLeavesNothing) {
  // Ctrl-C reaches ipcverify's process group, not the probe's: ipcverify must take the probe's
  // group down before it dies of the signal.
  const std::string pidfile = ::testing::TempDir() + "ipcv-hang-pids-int";
  ::unlink(pidfile.c_str());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("IPCV_FIXTURE_PIDFILE", pidfile.c_str(), 1);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(IPCVERIFY_BIN, IPCVERIFY_BIN, "list", "--plugin", FIXTURE_PLUGIN_HANGS, nullptr);
    ::_exit(127);
  }
  // Until the registration hangs (the fixture and its child wrote their pids), or ipcverify
  // gave up on it first.
  int st = 0;
  bool exited = false;
  while (pids_in(pidfile).size() < 2 && !exited) {
    exited = ::waitpid(pid, &st, WNOHANG) == pid;
    ::usleep(10000);
  }
  ASSERT_FALSE(exited) << "ipcverify ended before the registration hung";
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) << "status " << st;
  for (int p : pids_in(pidfile))
    EXPECT_TRUE(::kill(p, 0) != 0 && errno == ESRCH) << "process " << p << " outlived the run";
  ::unlink(pidfile.c_str());
  EXPECT_TRUE(no_children());
}

TEST(Plugin, FlagAfterEnvAndEachOnce) {
  // The good plugin twice (by flag, by env, by another spelling of its path) loads once; a
  // refused one after it still names itself.
  const std::string good = FIXTURE_PLUGIN_GOOD;
  const std::size_t slash = good.rfind('/');
  const Outcome o = ipcverify("list --plugin " + good + " --plugin " + good.substr(0, slash) +
                                  "/." + good.substr(slash),
                              "IPCV_PLUGINS=::" + good + ":");
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_EQ(o.out.find("fixture-good-pipe"), o.out.rfind("fixture-good-pipe ")) << o.out;
  EXPECT_NE(o.out.find("from plugin " + canonical(FIXTURE_PLUGIN_GOOD)), std::string::npos)
      << o.out;
  const Outcome bad = ipcverify("list --plugin " + good + " --plugin " + FIXTURE_PLUGIN_EMPTY,
                                std::string("IPCV_PLUGINS=") + FIXTURE_PLUGIN_THROWS);
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.out,
            line(FIXTURE_PLUGIN_THROWS, "registration threw: the library is not initialised"))
      << "env plugins load before flag plugins";
}

TEST(Plugin, GoodPluginIsListedVerifiedAndRun) {
  const std::string flag = std::string("--plugin ") + FIXTURE_PLUGIN_GOOD;
  const Outcome l = ipcverify("list " + flag);
  EXPECT_EQ(l.status, 0) << l.out;
  EXPECT_NE(l.out.find("fixture-good-pipe"), std::string::npos) << l.out;

  const Outcome v = ipcverify("verify --channel fixture-good-pipe " + flag);
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_NE(v.out.find("fixture-good-pipe"), std::string::npos) << v.out;

  const std::string json = ::testing::TempDir() + "ipcv-plugin-run.json";
  const Outcome r = ipcverify("run --channel fixture-good-pipe --cases 50 --seed 7 --json " + json +
                                  " --time-budget 120",
                              std::string("IPCV_PLUGINS=") + FIXTURE_PLUGIN_GOOD);
  EXPECT_EQ(r.status, 0) << r.out;
  std::ifstream in(json);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  ::unlink(json.c_str());
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j["plugins"].size(), 1u) << j.dump();
  EXPECT_EQ(j["plugins"][0]["path"], canonical(FIXTURE_PLUGIN_GOOD));
  std::ifstream so(FIXTURE_PLUGIN_GOOD, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(so)), std::istreambuf_iterator<char>());
  EXPECT_EQ(j["plugins"][0]["xxh3_64"],
            ipcv::harness::digest_text(XXH3_64bits(bytes.data(), bytes.size())));
  EXPECT_EQ(j["plugins"][0]["channels"][0], "fixture-good-pipe");
}

TEST(Plugin, ReplayCommandCarriesThePlugin) {
  const std::string flag = std::string("--plugin ") + FIXTURE_PLUGIN_LOSSY;
  const Outcome r = ipcverify("run --channel fixture-lossy --spec no-loss --cases 30 --seed 3 " +
                              flag + " --time-budget 120");
  EXPECT_EQ(r.status, 1) << r.out;
  const std::string want = "replay: ipcverify run --plugin '" + canonical(FIXTURE_PLUGIN_LOSSY) +
                           "' --channel fixture-lossy --spec no-loss";
  const auto at = r.out.find(want);
  ASSERT_NE(at, std::string::npos) << r.out;
  // The replay command, run as printed, loads the plugin and breaks the claim again.
  const std::string cmd = r.out.substr(at + 8, r.out.find('\n', at) - at - 8);
  const Outcome again = ipcverify(cmd.substr(std::string("ipcverify ").size()) + " --attempts 3");
  EXPECT_EQ(again.status, 1) << again.out;
}

TEST(Plugin, IpcbenchMeasuresAPluginChannel) {
  const Outcome o = shell(std::string(IPCBENCH_BIN) + " --plugin " + FIXTURE_PLUGIN_GOOD +
                          " --channel fixture-good-pipe --quick --pattern pingpong --wait block");
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_NE(o.out.find("fixture-good-pipe"), std::string::npos) << o.out;
  const Outcome bad = shell(std::string(IPCBENCH_BIN) + " --plugin " + FIXTURE_PLUGIN_THROWS);
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.out, std::string("ipcbench: plugin ") + FIXTURE_PLUGIN_THROWS +
                         ": registration threw: the library is not initialised\n");
}

/// Counts the points the calling thread reaches through the plugin's IPCV_PERTURB_POINT: the
/// plan (harness/perturb_plan.cpp) counts what reaches its hook, which lives in this binary.
TEST(Plugin, PerturbationPointsReachTheHostsHook) {
  ASSERT_EQ(ipcv::harness::load_plugins({FIXTURE_PLUGIN_GOOD}), "");
  const ipcv::ChannelEntry *e = ipcv::harness::find_channel("fixture-good-pipe");
  ASSERT_NE(e, nullptr);
  auto inst = e->prepare(ipcv::Config{});
  ASSERT_TRUE(inst);
  auto s = (*inst)->connect_sender(0);
  auto r = (*inst)->connect_receiver(0);
  ASSERT_TRUE(s && r);
  ipcv::harness::install_perturbation(1, 42, 0);
  const std::uint64_t before = ipcv::harness::points_reached();
  const std::byte msg[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE((*s)->send(msg, ipcv::after_ms(1000)).ok());
  const std::uint64_t reached = ipcv::harness::points_reached() - before;
  ipcv::harness::remove_perturbation();
  EXPECT_EQ(reached, 5u) << "the plugin's points did not reach this binary's hook";
  (*s)->close();
  (*r)->close();
  (*inst)->destroy();
}

} // namespace
