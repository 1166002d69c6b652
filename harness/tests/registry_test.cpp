// The registry refuses what it cannot honour: a claim that names no spec (a typo would
// otherwise turn a promise into "not claimed" without a word) and a name already taken.
#include "harness/registry.hpp"

#include "harness/judge.hpp"

#include "impl/kernel/pipe.hpp"

#include <gtest/gtest.h>

namespace ipcv::harness {
namespace {

ChannelEntry pipe_named(std::string name) {
  ChannelEntry e = entry_of<PipeChannel>();
  e.name = std::move(name);
  return e;
}

TEST(Registry, RefusesAClaimThatNamesNoSpec) {
  ChannelEntry e = pipe_named("my-pipe");
  e.claims.specs.push_back("no-los");
  const std::string why = refusal(e);
  EXPECT_NE(why.find("claims 'no-los', which is no spec"), std::string::npos) << why;
  EXPECT_NE(register_channel(e), "");
  EXPECT_EQ(find_channel("my-pipe"), nullptr);
}

TEST(Registry, RefusesANameAlreadyRegistered) {
  const std::string why = refusal(pipe_named("pipe"));
  EXPECT_NE(why.find("'pipe' is already registered"), std::string::npos) << why;
}

TEST(Registry, AcceptsEveryClaimTheEngineJudges) {
  ChannelEntry e = pipe_named("my-pipe");
  e.claims.specs = judgeable_specs();
  EXPECT_EQ(refusal(e), "");
}

TEST(Registry, ListsTheReferenceChannelsFirst) {
  ASSERT_GE(channels().size(), 6u);
  EXPECT_EQ(channels().front().name, "pipe");
  EXPECT_FALSE(channels().front().faulty);
  ASSERT_NE(find_channel("faulty-close-race"), nullptr);
  EXPECT_TRUE(find_channel("faulty-close-race")->faulty);
}

} // namespace
} // namespace ipcv::harness
