// `ipcverify list`: every registered channel with its claims.
#include "channel_args.hpp"
#include "command.hpp"

#include <fmt/format.h>

namespace ipcv::cli {
namespace {

struct ListOptions {
  bool include_faulty = false;
};

void add(CLI::App &app, int &status) {
  auto opts = std::make_shared<ListOptions>();
  CLI::App *cmd = app.add_subcommand("list", "List registered channels and what each claims");
  cmd->add_flag("--include-faulty", opts->include_faulty,
                "Also list the deliberately broken fixtures (faulty-*)");
  cmd->callback([opts, &status] {
    for (const auto &e : channels()) {
      if (e.faulty && !opts->include_faulty) continue;
      const Claims &c = e.claims;
      std::string specs;
      for (const auto &s : c.specs) specs += (specs.empty() ? "" : " ") + s;
      fmt::print("{:<14} {}\n", e.name, limits_text(c));
      fmt::print("{:<14} claims: {}\n", "", specs.empty() ? "(none)" : specs);
      if (c.loss != LossPolicy::none)
        fmt::print("{:<14} loss policy: {}\n", "",
                   c.loss == LossPolicy::drop_oldest ? "drop-oldest" : "drop-newest");
      if (!c.notes.empty()) fmt::print("{:<14} {}\n", "", c.notes);
    }
    status = kExitOk;
  });
}

const CommandRegistrar reg{{"list", 10, add}};

} // namespace
} // namespace ipcv::cli
