// The misbehaving plugin (testplugins/misbehaving/) through the real command line: for each
// fixture, `ipcverify run --plugin <path> --include-faulty --channel misbehave-X --cases 20`
// exits 1 (never a crash of its own, never a hang), its matrix shows the `run` cell FAIL, the
// JSON report carries the reason, and no process and no named object of the run is left.
//
// This test process is a child subreaper, so any descendant of a run that outlived it would be
// handed to this process and show up among its children. Without the plugin loader (no
// `--plugin` in `ipcverify run --help`) the tests skip and say so.
#include "harness/hygiene.hpp"
#include "harness/process.hpp"

#include "shell.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ipcv::harness {
namespace {

using testing_shell::Outcome;

/// Runs `ipcverify <args>` through the shell, stdout and stderr together.
Outcome ipcverify(const std::string &args) {
  return testing_shell::shell(std::string(IPCVERIFY_BIN) + " " + args);
}

/// The names under /dev/shm that look like the fixtures' objects.
std::vector<std::string> misbehave_objects() {
  std::vector<std::string> out;
  for (const auto &e : Snapshot::take().entries)
    if (e.find("ipcv-misbehave-") != std::string::npos)
      out.push_back(e);
  return out;
}

/// A fixture channel, the reason its `run` cell must give, and arguments of its run beyond
/// the common ones.
struct Misbehaviour {
  const char *channel;
  const char *reason;
  const char *extra = "";
};

class MisbehavingPlugin : public ::testing::TestWithParam<Misbehaviour> {
protected:
  void SetUp() override { ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }
};

TEST_P(MisbehavingPlugin, IsTheChannelsRunFailureAndLeavesNothing) {
  const auto [channel, reason, extra] = GetParam();
  const std::vector<std::string> objects_before = misbehave_objects();
  const std::string json =
      ::testing::TempDir() + "/misbehaving-" + std::to_string(::getpid()) + ".json";
  const Outcome o =
      ipcverify(fmt::format("run --plugin {} --include-faulty --channel {} --cases 20 "
                            "--case-budget-ms 1500 --seed 1 --json {} {}",
                            IPCV_MISBEHAVING_PLUGIN, channel, json, extra));
  EXPECT_EQ(o.status, 1) << o.out; // 1: a broken claim; not 2, not a signal, not a hang
  EXPECT_NE(o.out.find(fmt::format("FAIL {} × run", channel)), std::string::npos) << o.out;
  std::ifstream in(json);
  ASSERT_TRUE(in) << "no JSON report: " << o.out;
  const nlohmann::json report = nlohmann::json::parse(in);
  bool found = false;
  for (const auto &r : report["results"])
    if (r["channel"] == channel && r["spec"] == "run") {
      found = true;
      EXPECT_EQ(r["verdict"], "fail");
      ASSERT_TRUE(r["counterexample"].is_string()) << r.dump();
      EXPECT_NE(r["counterexample"].get<std::string>().find(reason), std::string::npos) << r.dump();
    }
  EXPECT_TRUE(found) << report.dump();
  std::remove(json.c_str());
  EXPECT_TRUE(live_children().empty()) << "a process of the run outlived it";
  EXPECT_EQ(misbehave_objects(), objects_before) << "a named object of the run was left";
}

INSTANTIATE_TEST_SUITE_P(
    EachMisbehaviour, MisbehavingPlugin,
    ::testing::Values(
        Misbehaviour{"misbehave-crash-prepare", "prepare crashed with SIGSEGV"},
        Misbehaviour{"misbehave-crash-destroy", "destroy crashed with SIGSEGV"},
        Misbehaviour{"misbehave-hang-prepare", "prepare did not return within 10 s"},
        Misbehaviour{"misbehave-throw-prepare",
                     "prepare threw std::runtime_error: misbehave: no broker to connect to"},
        Misbehaviour{"misbehave-crash-send", "killed by SIGSEGV"},
        // With every spec, the isolation probes meet the hang first: their child outlives
        // every deadline it was given (the case budget, three times). The cases run on (each
        // hangs until the watchdog), so a short budget.
        Misbehaviour{"misbehave-hang-send",
                     "in the isolation probe no-cross-talk, sender A was still in the channel "
                     "4.5 s after it started, though each of its calls has a deadline of 1.5 s",
                     "--time-budget 10"},
        // The probes alone: `run` is judged with them, since a hang there breaks it.
        Misbehaviour{"misbehave-hang-send",
                     "in the isolation probe no-cross-talk, sender A was still in the channel",
                     "--spec isolation --time-budget 10"},
        // Without the probes, the cases meet it: the watchdog kills the actor at the case
        // deadline. A shorter budget, since every shrink candidate hangs as long.
        Misbehaviour{"misbehave-hang-send", "the watchdog killed", "--spec run --time-budget 20"},
        // Without the probes too, whose children wait out their deadlines for a receiver that
        // never connected (20 s); in the cases, the receiver abandons the start barrier.
        Misbehaviour{"misbehave-throw-connect",
                     "connect_receiver threw std::runtime_error: misbehave: the receiver could "
                     "not connect",
                     "--spec run"},
        Misbehaviour{"misbehave-throw-send",
                     "threw std::runtime_error: misbehave: the send threw out of a noexcept call"},
        Misbehaviour{"misbehave-garbage-size", "returned ok with"},
        Misbehaviour{"misbehave-leak", "destroy left shm /dev/shm/ipcv-misbehave-"},
        Misbehaviour{"misbehave-leak-fd", "destroy left 1 descriptor(s) open in ipcverify"}),
    [](const auto &info) {
      const std::string_view extra = info.param.extra;
      const char *suffix = extra.find("--spec run") != std::string_view::npos ? "_without_probes"
                           : extra.find("--spec isolation") != std::string_view::npos
                               ? "_probes_alone"
                               : "";
      std::string n = std::string(info.param.channel).substr(10) + suffix;
      for (char &c : n)
        if (c == '-')
          c = '_';
      return n;
    });

// verify's --check-limit bounds each check: the send that never returns fails the checks that
// send three messages within 2 s each, named as a hang, and nothing of the check is left.
TEST(MisbehavingVerify, AHangingCheckFailsAtTheCheckLimit) {
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  const std::vector<std::string> objects_before = misbehave_objects();
  const Outcome o = ipcverify(fmt::format("verify --plugin {} --include-faulty --channel "
                                          "misbehave-hang-send --check-limit 2",
                                          IPCV_MISBEHAVING_PLUGIN));
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_NE(o.out.find("the check did not finish within 2 s: the channel hung"), std::string::npos)
      << o.out;
  // The processes of a killed check end by their parent-death signal and come here, this test
  // being their subreaper, as zombies: reaped for up to 2 s, none may still be running.
  for (int i = 0; i < 200 && !live_children().empty(); ++i) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ::usleep(10'000);
  }
  EXPECT_TRUE(live_children().empty()) << "a process of the check outlived it";
  EXPECT_EQ(misbehave_objects(), objects_before) << "a named object of the check was left";
}

} // namespace
} // namespace ipcv::harness
