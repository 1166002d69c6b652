// Implementation of race reports as evidence (races.hpp).
#include "races.hpp"

#include <atomic>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IPCV_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define IPCV_TSAN 1
#endif

#if defined(IPCV_TSAN)
#include <sanitizer/common_interface_defs.h>
#endif

namespace ipcv::harness {

bool race_checking() noexcept {
#if defined(IPCV_TSAN)
  return true;
#else
  return false;
#endif
}

std::string race_report_base() {
  if (!race_checking())
    return "";
  static std::atomic<unsigned> n{0};
  const char *tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ipcv-tsan-" +
         std::to_string(::getpid()) + "-" + std::to_string(n++);
}

void report_races_to([[maybe_unused]] const std::string &base) noexcept {
#if defined(IPCV_TSAN)
  if (!base.empty())
    __sanitizer_set_report_path(base.c_str());
#endif
}

namespace {

/// A report cut to what a reader needs: the warning, each access with the stack frames down to
/// the first of the harness (the channel's caller), the location, and the summary; build ids
/// and module offsets are dropped, and the stacks of thread creation left out.
std::string trimmed(const std::string &report) {
  std::istringstream in(report);
  std::string line, out;
  bool in_stack = false, keep_frames = false;
  while (std::getline(in, line)) {
    if (const auto b = line.find(" (BuildId:"); b != std::string::npos)
      line.erase(b);
    if (const auto m = line.rfind(" (ipcverify+"); m != std::string::npos)
      line.erase(m);
    const bool frame = line.rfind("    #", 0) == 0;
    if (frame) {
      if (in_stack && keep_frames) {
        out += line + "\n";
        if (line.find("/harness/") != std::string::npos)
          keep_frames = false; // the channel's caller: what follows is the harness
      }
      continue;
    }
    in_stack = false;
    if (line.find("Thread T") != std::string::npos && line.find("created by") != std::string::npos)
      continue; // thread creation: the harness's own
    if (line.rfind("  Read of", 0) == 0 || line.rfind("  Write of", 0) == 0 ||
        line.rfind("  Previous", 0) == 0 || line.rfind("  Atomic", 0) == 0) {
      in_stack = keep_frames = true;
      out += line + "\n";
    } else if (line.find("Location is") != std::string::npos) {
      // TSan knows no object in a shared mapping: say it is one, at which offset.
      if (const auto z = line.find("(zero (deleted)+"); z != std::string::npos)
        line = "  Location: an anonymous shared mapping, at offset " +
               line.substr(z + 16, line.find(')', z + 16) - z - 16) + " from its start";
      out += line + "\n";
    } else if (line.rfind("WARNING:", 0) == 0 || line.rfind("SUMMARY:", 0) == 0) {
      out += line + "\n";
    }
  }
  return out;
}

} // namespace

std::string uninstrumented_module(const std::string &report) {
  std::istringstream in(report);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("    #", 0) != 0 || line.find(" <null> <null> (") == std::string::npos)
      continue;
    const std::size_t open = line.rfind(" ("), plus = line.find("+0x", open);
    if (open == std::string::npos || plus == std::string::npos)
      continue;
    std::string module = line.substr(open + 2, plus - open - 2);
    if (const auto slash = module.rfind('/'); slash != std::string::npos)
      module.erase(0, slash + 1);
    if (module != "ipcverify" && !module.empty())
      return module;
  }
  return "";
}

std::string collect_race_reports(const std::string &base) {
  if (base.empty())
    return "";
  const std::size_t slash = base.rfind('/');
  const std::string dir = base.substr(0, slash), stem = base.substr(slash + 1) + ".";
  std::string first;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *e = ::readdir(d)) {
      if (std::string(e->d_name).rfind(stem, 0) != 0)
        continue;
      const std::string path = dir + "/" + e->d_name;
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      const std::string all = text.str();
      ::unlink(path.c_str());
      const std::size_t from = all.find("WARNING: ThreadSanitizer");
      if (!first.empty() || from == std::string::npos)
        continue;
      const std::size_t summary = all.find("SUMMARY:", from);
      const std::size_t to = summary == std::string::npos ? all.size() : all.find('\n', summary);
      first = trimmed(all.substr(from, to == std::string::npos ? std::string::npos : to - from));
    }
    ::closedir(d);
  }
  return first;
}

} // namespace ipcv::harness
