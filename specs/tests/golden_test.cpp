// Every golden history in specs/testdata/<spec>/<name>.jsonl is one test, generated from the
// files themselves: adding a file adds a test, and the file name's suffix (-ok, -bad,
// -unknown) is the verdict the spec of its folder must give. A folder that names no spec of
// the catalog is a failing test, never a silent skip.
#include "golden.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace ipcv::spec {
namespace {

namespace fs = std::filesystem;

/// A GoldenFile is one golden history: the spec (its folder) and the file's stem.
struct GoldenFile {
  std::string spec;
  std::string name;
};

void PrintTo(const GoldenFile &g, std::ostream *os) { *os << g.spec << "/" << g.name; }

std::vector<GoldenFile> golden_files() {
  std::vector<GoldenFile> out;
  for (const auto &dir : fs::directory_iterator(testing::testdata(""))) {
    if (!dir.is_directory())
      continue;
    for (const auto &f : fs::directory_iterator(dir.path()))
      if (f.path().extension() == ".jsonl")
        out.push_back({dir.path().filename().string(), f.path().stem().string()});
  }
  std::sort(out.begin(), out.end(), [](const GoldenFile &a, const GoldenFile &b) {
    return std::tie(a.spec, a.name) < std::tie(b.spec, b.name);
  });
  return out;
}

/// "no-loss", "two-senders-ok" -> "NoLoss_TwoSendersOk": a test name GoogleTest accepts.
std::string test_name(const GoldenFile &g) {
  auto camel = [](const std::string &s) {
    std::string out;
    bool up = true;
    for (char c : s) {
      if (!std::isalnum(static_cast<unsigned char>(c))) {
        up = true;
        continue;
      }
      out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      up = false;
    }
    return out;
  };
  return camel(g.spec) + "_" + camel(g.name);
}

class GoldenHistory : public ::testing::TestWithParam<GoldenFile> {};

TEST_P(GoldenHistory, GetsTheVerdictItsNamePromises) {
  const GoldenFile &g = GetParam();
  ASSERT_NE(find_spec(g.spec), nullptr)
      << "specs/testdata/" << g.spec << "/ names no spec of the catalog (a typo, or a spec "
      << "file that is not linked)";
  EXPECT_GOLDEN(g.spec, g.name);
}

INSTANTIATE_TEST_SUITE_P(Specs, GoldenHistory, ::testing::ValuesIn(golden_files()),
                         [](const ::testing::TestParamInfo<GoldenFile> &i) {
                           return test_name(i.param);
                         });

} // namespace
} // namespace ipcv::spec
