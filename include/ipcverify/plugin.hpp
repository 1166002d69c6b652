// The plugin interface: how a shared object built outside this tree adds channels to
// ipcverify. A plugin is one C++ file (or more) with channel types that satisfy the Channel
// concept and one IPCV_PLUGIN block that registers them:
//
//   #include <ipcverify/plugin.hpp>
//   struct MyQueue { ... };                       // satisfies ipcv::Channel
//   IPCV_PLUGIN("my-channels", registrar) { registrar.add<MyQueue>(); }
//
// built with ipcverify_add_plugin() (the installed CMake package) and loaded with
// `ipcverify ... --plugin ./libmy_channels.so` or IPCV_PLUGINS. See docs/adding-an-adapter.md;
// how a plugin is loaded, and every reason it can be refused: docs/plugins.md.
//
// What crosses the boundary is C++ (a ChannelEntry holds std::string, std::vector and
// std::function), so ipcverify and the plugin must agree on more than the contract: the plugin
// records the facts of its build (PluginInfo::facts) and ipcverify refuses a plugin whose facts
// differ from its own, with one line saying which.
#pragma once

#include "any_channel.hpp"

#include <cstdint>

namespace ipcv {

/// The version of the contract (channel.hpp, any_channel.hpp, perturb.hpp and this file).
/// Raised whenever a change breaks a plugin built against the previous headers.
inline constexpr std::uint32_t kContractVersion = 2;

/// A sanitizer a build was compiled with. A plugin must match its host: a TSan ipcverify with an
/// uninstrumented plugin would not see the plugin's races, an ASan plugin cannot even load into
/// a host without the ASan runtime.
enum class Sanitizer : std::uint32_t { none = 0, thread = 1, address = 2 };

/// The facts of a build that must agree between ipcverify and a plugin.
struct BuildFacts {
  std::uint32_t contract = 0;  ///< kContractVersion of the headers built against
  std::uint32_t cxx11_abi = 0; ///< _GLIBCXX_USE_CXX11_ABI (std::string's layout)
  std::uint32_t libstdcxx = 0; ///< _GLIBCXX_RELEASE (major version of libstdc++'s headers)
  Sanitizer sanitizer = Sanitizer::none;
  std::uint32_t perturb = 0; ///< 1 when IPCV_PERTURB_POINT is compiled in

  friend constexpr bool operator==(const BuildFacts &, const BuildFacts &) = default;
};

/// The facts of the translation unit that evaluates this: the host's when ipcverify calls it,
/// the plugin's inside IPCV_PLUGIN.
constexpr BuildFacts this_build() noexcept {
  BuildFacts f;
  f.contract = kContractVersion;
#if defined(_GLIBCXX_USE_CXX11_ABI)
  f.cxx11_abi = _GLIBCXX_USE_CXX11_ABI;
#endif
#if defined(_GLIBCXX_RELEASE)
  f.libstdcxx = _GLIBCXX_RELEASE;
#endif
#if defined(__SANITIZE_THREAD__)
  f.sanitizer = Sanitizer::thread;
#elif defined(__SANITIZE_ADDRESS__)
  f.sanitizer = Sanitizer::address;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  f.sanitizer = Sanitizer::thread;
#elif __has_feature(address_sanitizer)
  f.sanitizer = Sanitizer::address;
#endif
#endif
#if defined(IPCV_PERTURB) && IPCV_PERTURB
  f.perturb = 1;
#endif
  return f;
}

/// A Registrar takes the channels of a plugin. An entry ipcverify refuses (a name already
/// registered, a claim naming no spec) makes the whole plugin fail to load, with one line.
class Registrar {
public:
  virtual ~Registrar() = default;
  /// Adds one channel entry (see entry_of in any_channel.hpp).
  virtual void add(ChannelEntry entry) = 0;
  /// Adds the Channel type C.
  template <Channel C> void add() { add(entry_of<C>()); }
};

/// What a plugin's entry point returns: the facts of its build, its name, and the function that
/// registers its channels. ipcverify calls `register_channels` once per process that loads it
/// (first in a throw-away child, so a registration that crashes or hangs is reported as the
/// plugin's failure and never takes ipcverify down).
struct PluginInfo {
  BuildFacts facts;
  const char *name;
  void (*register_channels)(Registrar &);
};

/// The symbol ipcverify looks up in a plugin (extern "C", so it has this name in the object).
inline constexpr const char *kPluginEntryPoint = "ipcverify_plugin_entry";

} // namespace ipcv

/// Defines the plugin's entry point; the block that follows registers its channels:
///   IPCV_PLUGIN("my-channels", r) { r.add<MyQueue>(); }
#define IPCV_PLUGIN(NAME, REGISTRAR)                                                               \
  static void ipcv_plugin_register_channels_(::ipcv::Registrar &);                                 \
  extern "C" __attribute__((visibility("default"))) const ::ipcv::PluginInfo *                     \
  ipcverify_plugin_entry() {                                                                       \
    static const ::ipcv::PluginInfo info{::ipcv::this_build(), NAME,                               \
                                         &ipcv_plugin_register_channels_};                         \
    return &info;                                                                                  \
  }                                                                                                \
  static void ipcv_plugin_register_channels_(::ipcv::Registrar &REGISTRAR)
