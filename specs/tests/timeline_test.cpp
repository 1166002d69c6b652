// Timelines of witness events: one lane per process, times relative to the first witness,
// within the terminal width.
#include "specs/timeline.hpp"

#include "specs/history_io.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace ipcv::spec {
namespace {

History history(std::string_view text) {
  ReadResult r = parse_history(text);
  EXPECT_TRUE(r) << r.error->message;
  return r.history;
}

std::vector<std::string> lines_of(const std::string &s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

TEST(Timeline, DrawsOneLanePerProcess) {
  const History h = history(
      R"({"pid":1,"op":"send","msg":[1,0],"len":64,"call":1000,"ret":1500,"res":"ok"}
{"pid":9,"op":"send","msg":[9,0],"len":64,"call":1100,"ret":1200,"res":"ok"}
{"pid":2,"op":"recv","msg":[1,0],"len":64,"call":1200,"ret":1700,"res":"ok","intact":false}
{"pid":2,"op":"recv","call":1800,"res":"pending"})");
  const std::string t = render_timeline(h, {0, 2, 3, 2});
  const auto lines = lines_of(t);
  ASSERT_EQ(lines.size(), 7U) << t; // header, 3 calls, 2 returns, 1 never returned
  EXPECT_NE(lines[0].find("pid 1"), std::string::npos);
  EXPECT_NE(lines[0].find("pid 2"), std::string::npos);
  EXPECT_EQ(lines[0].find("pid 9"), std::string::npos) << "not a witness";
  EXPECT_NE(lines[1].find("+0 ns"), std::string::npos) << t;
  EXPECT_NE(t.find("TORN"), std::string::npos);
  EXPECT_NE(t.find("never returned"), std::string::npos);
  EXPECT_NE(t.find("[L3]"), std::string::npos) << "names the file line";
  for (const auto &l : lines)
    EXPECT_LE(l.size(), 100U) << l;
}

TEST(Timeline, FallsBackToRowsWhenLanesDoNotFit) {
  std::string text;
  std::vector<std::size_t> all;
  for (int p = 1; p <= 12; ++p) {
    text += R"({"pid":)" + std::to_string(p) + R"(,"op":"recv","call":)" + std::to_string(p * 10) +
            R"(,"ret":)" + std::to_string(p * 10 + 5) + R"(,"res":"empty"})" + "\n";
    all.push_back(static_cast<std::size_t>(p - 1));
  }
  const auto lines = lines_of(render_timeline(history(text), all));
  ASSERT_EQ(lines.size(), 12U);
  for (const auto &l : lines)
    EXPECT_LE(l.size(), 100U) << l;
}

TEST(Timeline, IsEmptyWithoutWitnesses) { EXPECT_EQ(render_timeline(History{}, {}), ""); }

} // namespace
} // namespace ipcv::spec
