// `ipcverify`: the command line of the suite. Subcommands register themselves (command.hpp);
// this file parses, dispatches and maps every usage error to a one-line message and exit 2.
#include "command.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>

namespace ipcv::cli {

std::vector<Command> &commands() {
  static std::vector<Command> all;
  return all;
}

CommandRegistrar::CommandRegistrar(Command c) {
  auto &all = commands();
  all.insert(std::upper_bound(all.begin(), all.end(), c,
                              [](const Command &a, const Command &b) { return a.order < b.order; }),
             c);
}

} // namespace ipcv::cli

int main(int argc, char **argv) {
  using namespace ipcv::cli;
  CLI::App app{"ipcverify: checks inter-process communication channels against executable specs.\n"
               "Message passing through the kernel and shared memory, side by side.",
               "ipcverify"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ipcverify 0.1.0");
  app.footer("Exit status: 0 all claims hold, 1 a claim is broken, 2 bad usage or input.\n"
             "Run 'ipcverify SUBCOMMAND --help' for the options of one subcommand.");
  int status = kExitOk;
  for (const auto &c : commands())
    c.add(app, status);
  if (argc > 1 && argv[1][0] != '-' &&
      app.get_subcommands([&](CLI::App *s) { return s->get_name() == argv[1]; }).empty()) {
    std::fprintf(stderr, "ipcverify: unknown subcommand '%s' (see 'ipcverify --help')\n", argv[1]);
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::fprintf(stderr, "ipcverify: %s (see 'ipcverify --help')\n", e.what());
    return kExitUsage;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "ipcverify: %s\n", e.what());
    return kExitUsage;
  }
  return status;
}
