// Implementation of the shared --plugin handling (plugin_args.hpp).
#include "plugin_args.hpp"

#include "harness/plugins.hpp"

#include <cstdio>

namespace ipcv::cli {

void add_plugin_option(CLI::App *cmd, std::vector<std::string> &paths) {
  cmd->add_option("--plugin", paths,
                  "Load channels from this plugin, a shared object built with "
                  "ipcverify_add_plugin() (repeatable; after those of IPCV_PLUGINS, a "
                  "colon-separated list; see docs/plugins.md)");
}

bool load_plugins(const char *program, const std::vector<std::string> &paths) {
  const std::string why = harness::load_plugins(harness::plugin_paths(paths));
  if (why.empty())
    return true;
  std::fprintf(stderr, "%s: %s\n", program, why.c_str());
  return false;
}

} // namespace ipcv::cli
