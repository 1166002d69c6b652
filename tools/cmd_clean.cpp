// `ipcverify clean [--dry-run]`: removes the named OS objects that runs killed outright left
// behind. A run that is interrupted removes its own objects, and its children die with it
// (PR_SET_PDEATHSIG); but a run killed with SIGKILL (a CI timeout, the OOM killer) runs no
// code at all, and message queues, /dev/shm objects and socket files outlive every process.
// Every such object is named "ipcv-<kind>-<creator pid>-...": clean removes those whose
// creator no longer runs and touches nothing else. Exit status 0, or 1 when an object could
// not be removed.
#include "command.hpp"

#include "harness/hygiene.hpp"

#include <cstdlib>
#include <fmt/format.h>

namespace ipcv::cli {
namespace {

struct CleanOptions {
  bool dry_run = false;
};

int run(const CleanOptions &o) {
  std::vector<std::string> dirs{"/tmp"};
  if (const char *t = std::getenv("TMPDIR"); t != nullptr && *t != '\0' && std::string(t) != "/tmp")
    dirs.emplace_back(t);
  const auto orphans = harness::find_orphans(dirs, !o.dry_run);
  int failed = 0;
  for (const auto &x : orphans) {
    const char *what = o.dry_run ? "would remove" : x.removed ? "removed" : "cannot remove";
    fmt::print("{} {} {}: its creator (pid {}) is gone{}\n", what, x.object.kind, x.object.path,
               x.creator, x.error.empty() ? "" : ": " + x.error);
    failed += !o.dry_run && !x.removed;
  }
  if (orphans.empty())
    fmt::print("nothing to clean: no ipcverify object outlived its creator\n");
  return failed ? kExitFailed : kExitOk;
}

void add_clean_command(CLI::App &app, int &status) {
  auto opts = std::make_shared<CleanOptions>();
  CLI::App *cmd = app.add_subcommand(
      "clean", "Remove the message queues, shm objects and socket files of ipcverify runs that "
               "were killed outright (their creator is gone)");
  cmd->add_flag("--dry-run", opts->dry_run, "Only list what would be removed");
  cmd->callback([opts, &status] { status = run(*opts); });
}

const CommandRegistrar registered_clean{{"clean", 40, add_clean_command}};

} // namespace
} // namespace ipcv::cli
