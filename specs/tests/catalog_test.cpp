// The catalog: every spec file is linked and registered, and every registered spec has golden
// histories, at least one of which it fails (a check that cannot fail proves nothing).
#include "specs/catalog.hpp"

#include "golden.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace ipcv::spec {
namespace {

namespace fs = std::filesystem;

TEST(Catalog, HoldsEveryQueueAndRegisterSpec) {
  for (std::string_view name : {"integrity", "no-phantom", "no-duplication", "no-loss", "fifo",
                                "linearizable", "bounded-wait", "end-of-stream", "register"}) {
    const Spec *s = find_spec(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_FALSE(s->definition.empty()) << name;
    EXPECT_NE(s->check, nullptr) << name;
  }
  EXPECT_EQ(find_spec("register")->domain, Domain::registers);
  EXPECT_EQ(find_spec("no-loss")->domain, Domain::queue);
  EXPECT_EQ(find_spec("no-such-spec"), nullptr);
}

TEST(Catalog, ListsSpecsInTheDesignOrder) {
  const auto &all = catalog();
  ASSERT_GE(all.size(), 7U);
  EXPECT_EQ(all.front().name, "integrity");
  auto pos = [&](std::string_view n) {
    return std::find_if(all.begin(), all.end(), [&](const Spec &s) { return s.name == n; });
  };
  EXPECT_LT(pos("no-loss"), pos("fifo"));
  EXPECT_LT(pos("fifo"), pos("register"));
}

TEST(Catalog, AppliesSpecsByDomain) {
  History queue, reg;
  queue.events.push_back(Event{.pid = 1, .op = Op::send, .has_msg = true});
  reg.events.push_back(Event{.pid = 1, .op = Op::write, .has_msg = true});
  EXPECT_TRUE(applies(*find_spec("no-loss"), queue));
  EXPECT_FALSE(applies(*find_spec("no-loss"), reg));
  EXPECT_TRUE(applies(*find_spec("register"), reg));
  EXPECT_FALSE(applies(*find_spec("register"), queue));
}

TEST(Catalog, EverySpecFailsSomeGoldenHistory) {
  for (const Spec &s : catalog()) {
    const fs::path dir = testing::testdata(std::string(s.name));
    ASSERT_TRUE(fs::is_directory(dir)) << s.name << " has no specs/testdata/" << s.name;
    std::size_t ok = 0, bad = 0;
    for (const auto &f : fs::directory_iterator(dir)) {
      const std::string stem = f.path().stem().string();
      ok += stem.ends_with("-ok");
      bad += stem.ends_with("-bad");
    }
    EXPECT_GE(ok, 2U) << s.name;
    EXPECT_GE(bad, 3U) << s.name;
  }
}

} // namespace
} // namespace ipcv::spec
