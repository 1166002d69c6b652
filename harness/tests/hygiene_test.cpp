// Tests of the hygiene helpers: the message queues of this IPC namespace are listed whether or
// not /dev/mqueue is mounted, and listing them leaves nothing behind (no mount, no process).
#include "harness/hygiene.hpp"
#include "harness/process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fcntl.h>
#include <fstream>
#include <mqueue.h>
#include <string>
#include <unistd.h>

namespace ipcv::harness {
namespace {

/// The mount points of the mqueue file system this process sees.
std::vector<std::string> mqueue_mounts() {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);)
    if (line.find(" - mqueue ") != std::string::npos)
      out.push_back(line);
  return out;
}

TEST(MqueueNames, ListsAQueueUntilItIsUnlinkedAndLeavesNothing) {
  if (::geteuid() != 0 && ::access("/dev/mqueue", R_OK) != 0)
    GTEST_SKIP() << "no /dev/mqueue, and a private mount needs root";
  const std::string name = "/ipcv-hygiene-test-" + std::to_string(::getpid());
  const auto mounts_before = mqueue_mounts();
  mq_attr attr{};
  attr.mq_maxmsg = 1;
  attr.mq_msgsize = 8;
  const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  ASSERT_NE(q, static_cast<mqd_t>(-1));
  const auto with = mqueue_names();
  ::mq_close(q);
  ::mq_unlink(name.c_str());
  const auto without = mqueue_names();
  ASSERT_TRUE(with.has_value());
  ASSERT_TRUE(without.has_value());
  const auto has = [&](const std::vector<std::string> &v) {
    return std::find(v.begin(), v.end(), name.substr(1)) != v.end();
  };
  EXPECT_TRUE(has(*with));
  EXPECT_FALSE(has(*without));
  EXPECT_EQ(mqueue_mounts(), mounts_before) << "a mount of the mqueue file system was left";
  EXPECT_TRUE(live_children().empty());
}

} // namespace
} // namespace ipcv::harness
