// `ipcverify list`: every registered channel with its claims.
#include "channel_args.hpp"
#include "command.hpp"
#include "plugin_args.hpp"

#include "harness/plugins.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace ipcv::cli {
namespace {

struct ListOptions {
  bool include_faulty = false;
  std::vector<std::string> plugins;
};

void add_list_command(CLI::App &app, int &status) {
  auto opts = std::make_shared<ListOptions>();
  CLI::App *cmd = app.add_subcommand("list", "List registered channels and what each claims");
  cmd->add_flag("--include-faulty", opts->include_faulty,
                "Also list the deliberately broken fixtures (faulty-*)");
  add_plugin_option(cmd, opts->plugins);
  cmd->callback([opts, &status] {
    if (!load_plugins("ipcverify", opts->plugins)) {
      status = kExitUsage;
      return;
    }
    std::size_t w = 0; // the widest name shown
    for (const auto &e : channels())
      if (!e.faulty || opts->include_faulty)
        w = std::max(w, e.name.size());
    for (const auto &e : channels()) {
      if (e.faulty && !opts->include_faulty)
        continue;
      const Claims &c = e.claims;
      std::string specs;
      for (const auto &s : c.specs)
        specs += (specs.empty() ? "" : " ") + s;
      fmt::print("{:<{}} {}\n", e.name, w, limits_text(c));
      fmt::print("{:<{}} claims: {}\n", "", w, specs.empty() ? "(none)" : specs);
      if (c.loss != LossPolicy::none)
        fmt::print("{:<{}} loss policy: {}\n", "", w,
                   c.loss == LossPolicy::drop_oldest ? "drop-oldest" : "drop-newest");
      if (!c.notes.empty())
        fmt::print("{:<{}} {}\n", "", w, c.notes);
      if (const std::string from = harness::plugin_of(e.name); !from.empty())
        fmt::print("{:<{}} from plugin {}\n", "", w, from);
    }
    status = kExitOk;
  });
}

const CommandRegistrar registered_list{{"list", 10, add_list_command}};

} // namespace
} // namespace ipcv::cli
