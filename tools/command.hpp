// Subcommands of the `ipcverify` command line. Each lives in its own cmd_*.cpp and registers
// itself with a static CommandRegistrar, so adding a subcommand is adding a file.
#pragma once

#include <CLI/CLI.hpp>

namespace ipcv::cli {

/// Exit statuses shared by every subcommand.
inline constexpr int kExitOk = 0;     ///< every claim held / every spec passed
inline constexpr int kExitFailed = 1; ///< a claim was broken / a spec failed
inline constexpr int kExitUsage = 2;  ///< bad usage or bad input

/// A Command adds one subcommand to the app; its callback stores the exit status in `status`.
struct Command {
  const char *name;
  int order; ///< position in --help
  void (*add)(CLI::App &app, int &status);
};

/// Registers a Command at static-initialisation time.
struct CommandRegistrar {
  explicit CommandRegistrar(Command c);
};

/// Every registered command, sorted by order.
std::vector<Command> &commands();

} // namespace ipcv::cli
