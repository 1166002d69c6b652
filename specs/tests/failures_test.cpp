// Tests of Failures (msg_index.hpp): built with the history, a spec's explanation leads with the
// failure whose witnesses happened first, whatever order the events are listed in, and its
// witnesses are those of the earliest failures; built without it, the first added leads.
#include "specs/msg_index.hpp"

#include "golden.hpp"

#include <gtest/gtest.h>

namespace ipcv::spec {
namespace {

/// A history of `n` events, event i called at `calls[i]`.
History called_at(std::initializer_list<std::int64_t> calls) {
  History h;
  for (std::int64_t c : calls) {
    Event e;
    e.call = c;
    e.ret = c + 1;
    h.events.push_back(e);
  }
  return h;
}

TEST(Failures, WithoutHistoryLeadsWithTheFirstAdded) {
  Failures f;
  f.add("late", {1});
  f.add("early", {0});
  EXPECT_EQ(f.count, 2u);
  EXPECT_EQ(f.first, "late");
  EXPECT_EQ(f.witnesses, (std::vector<std::size_t>{1, 0}));
}

TEST(Failures, WithHistoryLeadsWithTheEarliestWitness) {
  const History h = called_at({500, 100, 300});
  Failures f(h);
  f.add("late", {0});
  f.add("early", {2, 1}); // its earliest witness, event 1, was called first of all
  EXPECT_EQ(f.count, 2u);
  EXPECT_EQ(f.first, "early");
  EXPECT_EQ(f.witnesses, (std::vector<std::size_t>{2, 1, 0}));
}

TEST(Failures, KeepsTheWitnessesOfTheEarliestFailures) {
  const History h = called_at({50, 40, 30, 20, 10});
  Failures f(h);
  for (std::size_t i = 0; i < 5; ++i)
    f.add("failure " + std::to_string(i), {i});
  EXPECT_EQ(f.count, 5u);
  EXPECT_EQ(f.first, "failure 4");
  EXPECT_EQ(f.witnesses, (std::vector<std::size_t>{4, 3, 2}));
}

TEST(Failures, BreaksTiesByAdditionAndPutsFailuresWithoutWitnessesLast) {
  const History h = called_at({100, 100});
  Failures f(h);
  f.add("no witness", {kNone});
  f.add("first of the tie", {1});
  f.add("second of the tie", {0});
  EXPECT_EQ(f.first, "first of the tie");
  EXPECT_EQ(f.witnesses, (std::vector<std::size_t>{1, 0}));
}

/// The explanation the spec of folder `spec` gives of the golden history `name`.
std::string explain(const std::string &spec, const std::string &name) {
  const ReadResult r = read_history(testing::testdata(spec + "/" + name + ".jsonl"));
  EXPECT_TRUE(r) << r.error->message;
  const Spec *s = find_spec(spec);
  EXPECT_NE(s, nullptr) << spec;
  if (!r || s == nullptr)
    return "";
  const Verdict v = s->check(r.history, Params{});
  EXPECT_EQ(v.kind, Verdict::fail) << v.explanation;
  return v.explanation;
}

// In each history the actor listed last failed first: its failure is the one explained.
TEST(Failures, ExplanationNamesTheEarlierTornReceive) {
  const std::string why = explain("integrity", "later-receiver-listed-first-bad");
  EXPECT_NE(why.find("first: pid 3 recv (1,0) [line 4]"), std::string::npos) << why;
}

TEST(Failures, ExplanationNamesTheEarlierTornRead) {
  const std::string why = explain("register", "later-torn-read-listed-first-bad");
  EXPECT_NE(why.find("first: pid 3 read (1,1) [line 4] is torn"), std::string::npos) << why;
}

TEST(Failures, ExplanationNamesTheEarlierLongWait) {
  const std::string why = explain("bounded-wait", "later-wait-listed-first-bad");
  EXPECT_NE(why.find("first: pid 3 recv (1,0) [line 5]"), std::string::npos) << why;
}

} // namespace
} // namespace ipcv::spec
