// Loading plugins (include/ipcverify/plugin.hpp): shared objects that add channels to the
// registry at run time, named by --plugin PATH and IPCV_PLUGINS. A plugin is untrusted code, so
// each is first loaded and registered in a throw-away child with a time limit (the probe); only
// a plugin whose probe reported success is loaded into this process and registered for real.
// See docs/plugins.md for every reason a plugin is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipcv::harness {

/// A LoadedPlugin is a plugin registered in this process.
struct LoadedPlugin {
  std::string path;                  ///< canonical (absolute, no symbolic links)
  std::string name;                  ///< PluginInfo::name
  std::uint64_t digest = 0;          ///< XXH3-64 of the file's bytes
  std::vector<std::string> channels; ///< the names it registered, in order
};

/// How long the probe child may take to load a plugin and register its channels.
inline constexpr int kProbeSeconds = 10;

/// The plugins to load for a command: those of IPCV_PLUGINS (colon-separated, empty entries
/// ignored), then `flags` (--plugin PATH...), in order.
std::vector<std::string> plugin_paths(const std::vector<std::string> &flags);

/// Loads the plugins at `paths` in order (a file named twice loads once). Returns "" when every
/// one loaded, else stops at the first that did not and returns one line: "plugin PATH: why".
std::string load_plugins(const std::vector<std::string> &paths);

/// Every plugin loaded into this process, in load order.
const std::vector<LoadedPlugin> &loaded_plugins();

/// The canonical path of the plugin that registered channel `name`, or "" for a channel of
/// this tree (or no channel).
std::string plugin_of(std::string_view name);

/// The hexadecimal text of a digest: 16 lower-case digits.
std::string digest_text(std::uint64_t digest);

} // namespace ipcv::harness
