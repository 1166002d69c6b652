// ipcverify/names.hpp: the names every channel gives its OS objects, which `ipcverify clean`
// must recognise, and the fixed array that carries them across fork.
#include "harness/hygiene.hpp"
#include "ipcverify/names.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <unistd.h>

namespace ipcv {
namespace {

TEST(ObjectName, HasTheFormCleanRecognisesWithThisProcessAsCreator) {
  auto n = object_name("/", "mq");
  ASSERT_TRUE(n) << n.status().describe();
  const std::string s(n->view());
  EXPECT_TRUE(std::regex_match(s, std::regex("/ipcv-mq-[0-9]+-[0-9a-f]{16}"))) << s;
  EXPECT_EQ(harness::creator_of(s.substr(1)), ::getpid()) << s;
  auto other = object_name("/", "mq");
  ASSERT_TRUE(other);
  EXPECT_NE(other->view(), n->view()) << "two names in a row must differ (random part)";
}

TEST(ObjectName, TakesTheRequestedNameAsGiven) {
  auto n = object_name("/tmp/", "sock", "/ipcv-squatted");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->view(), "/ipcv-squatted");
}

TEST(ObjectName, RefusesWhatDoesNotFitInsteadOfCuttingIt) {
  const std::string longest(ObjectName::kCapacity - 1, 'x');
  auto fits = object_name("/", "mq", longest);
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->view(), longest);
  auto too_long = object_name("/", "mq", longest + "x");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.status().err, ENAMETOOLONG);
  auto long_dir = object_name(std::string(100, 'd') + "/", "mq");
  ASSERT_FALSE(long_dir);
  EXPECT_EQ(long_dir.status().err, ENAMETOOLONG);
  ObjectName o;
  EXPECT_FALSE(o.assign(longest + "x"));
  EXPECT_TRUE(o.empty()) << "a refused assign copies nothing";
}

} // namespace
} // namespace ipcv
