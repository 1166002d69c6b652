// Every conformance check against every registered (non-faulty) channel, one test each:
// ChannelConformance/DeliversZeroLengthMessage/pipe, ... A newly registered channel is
// picked up without editing this file.
#include "harness/conformance.hpp"
#include "harness/process.hpp"
#include "harness/registry.hpp"

#include <gtest/gtest.h>

namespace ipcv::harness {
namespace {

struct Case {
  std::string channel;
  const ConformanceCheck *check;
};

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const auto &e : channels()) {
    if (e.faulty)
      continue;
    for (const auto &c : conformance_checks())
      out.push_back({e.name, &c});
  }
  return out;
}

void PrintTo(const Case &c, std::ostream *os) { *os << c.channel << ": " << c.check->name; }

class ChannelConformance : public ::testing::TestWithParam<Case> {};

TEST_P(ChannelConformance, Holds) {
  const Case &c = GetParam();
  const ChannelEntry *e = find_channel(c.channel);
  ASSERT_NE(e, nullptr);
  CheckOutcome out = c.check->run(*e);
  if (out.kind == Outcome::skip)
    GTEST_SKIP() << out.detail;
  EXPECT_EQ(out.kind, Outcome::pass) << c.check->claim << "\n  " << out.detail;
  EXPECT_TRUE(live_children().empty()) << "a child process was left behind";
}

std::string case_name(const ::testing::TestParamInfo<Case> &info) {
  std::string n = std::string(info.param.check->name) + "_" + info.param.channel;
  for (auto &ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Registered, ChannelConformance, ::testing::ValuesIn(all_cases()),
                         case_name);

} // namespace
} // namespace ipcv::harness
