// Shared by subcommands that take --plugin PATH (and IPCV_PLUGINS): the option, and loading
// the plugins once the command line is parsed and before any channel name is resolved.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ipcv::cli {

/// Adds the repeatable --plugin PATH option to `cmd`, storing the paths in `paths`.
void add_plugin_option(CLI::App *cmd, std::vector<std::string> &paths);

/// Loads the plugins of IPCV_PLUGINS, then those of `paths`. False after printing one line,
/// "PROGRAM: plugin PATH: why", on stderr; the caller then exits with status 2.
bool load_plugins(const char *program, const std::vector<std::string> &paths);

} // namespace ipcv::cli
