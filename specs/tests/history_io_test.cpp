// History files: the format of docs/design.md ("History files") read and written, and every
// malformed line rejected with an error that names its line.
#include "specs/history_io.hpp"

#include "golden.hpp"

#include <gtest/gtest.h>

namespace ipcv::spec {
namespace {

constexpr std::string_view kDesignExample =
    R"({"pid":1,"op":"send","msg":[1,0],"len":64,"call":1000,"ret":1500,"res":"ok"}
{"pid":2,"op":"recv","msg":[1,0],"len":64,"call":1200,"ret":1700,"res":"ok","intact":true}
{"pid":2,"op":"recv","call":1800,"ret":1900,"res":"empty"}
{"pid":1,"op":"send","msg":[1,1],"len":64,"call":2000,"res":"pending"}
{"pid":3,"op":"write","val":[3,7],"call":100,"ret":200,"res":"ok"}
{"pid":4,"op":"read","val":[3,7],"call":150,"ret":260,"res":"ok","intact":true}
)";

std::string error_of(std::string_view text) {
  const ReadResult r = parse_history(text);
  return r ? std::string("(no error)") : r.error->message;
}

TEST(HistoryIo, ReadsTheDesignExample) {
  const ReadResult r = parse_history(kDesignExample);
  ASSERT_TRUE(r) << r.error->message;
  const auto &ev = r.history.events;
  ASSERT_EQ(ev.size(), 6U);
  EXPECT_EQ(ev[0].op, Op::send);
  EXPECT_EQ(ev[0].msg, (MsgId{1, 0}));
  EXPECT_EQ(ev[0].len, 64U);
  EXPECT_EQ(ev[0].ret, 1500);
  EXPECT_EQ(ev[1].line, 2U);
  EXPECT_FALSE(ev[2].has_msg);
  EXPECT_EQ(ev[2].res, Res::empty);
  EXPECT_TRUE(ev[3].pending());
  EXPECT_EQ(ev[3].ret, kNever);
  EXPECT_EQ(ev[4].op, Op::write);
  EXPECT_EQ(ev[5].msg, (MsgId{3, 7}));
  EXPECT_TRUE(ev[5].intact);
}

TEST(HistoryIo, NamesTheLineOfAMissingField) {
  std::string text;
  for (int i = 0; i < 6; ++i)
    text += R"({"pid":1,"op":"recv","call":1,"ret":2,"res":"empty"})"
            "\n";
  text += R"({"pid":1,"call":1,"ret":2,"res":"empty"})";
  EXPECT_EQ(error_of(text), R"(line 7: missing "op")");
  EXPECT_EQ(error_of(R"({"op":"recv","call":1,"ret":2,"res":"empty"})"),
            R"(line 1: missing "pid")");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","ret":2,"res":"empty"})"),
            R"(line 1: missing "call")");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1,"ret":2})"), R"(line 1: missing "res")");
}

TEST(HistoryIo, CountsBlankLinesInLineNumbers) {
  EXPECT_EQ(error_of("\n\n   \n{\"pid\":1}\n"), R"(line 4: missing "op")");
}

TEST(HistoryIo, RejectsMalformedLines) {
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1,"ret":2,"res":"empty")"),
            "line 1: not valid JSON");
  EXPECT_EQ(error_of("[1,2]"), "line 1: not a JSON object");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"peek","call":1,"ret":2,"res":"ok"})").substr(0, 14),
            R"(line 1: "op": )");
  EXPECT_EQ(error_of(R"({"pid":-1,"op":"recv","call":1,"ret":2,"res":"ok"})").substr(0, 15),
            R"(line 1: "pid": )");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"send","msg":[1],"call":1,"ret":2,"res":"ok"})"),
            R"(line 1: "msg": expected [producer, seq])");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":5,"ret":2,"res":"empty"})"),
            R"(line 1: "ret" is before "call")");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1,"ret":2,"res":"empty"} x)"),
            "line 1: not valid JSON");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1,"ret":2,"res":"empty"}})"),
            "line 1: trailing characters after the object");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1,"ret":2,"res":"empty","intact":tru})"),
            R"(line 1: "intact": expected true or false)");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"send","len":8,"call":1,"ret":2,"res":"ok"})"),
            R"(line 1: missing "msg" (len > 0))");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"write","call":1,"ret":2,"res":"ok"})"),
            R"(line 1: missing "val")");
}

TEST(HistoryIo, ReadsEveryShapeOfALineAlike) {
  // The canonical shape, spaced, escaped, reordered and pretty variants of one event.
  const ReadResult r = parse_history(
      R"({"pid":2,"op":"recv","msg":[1,9],"len":64,"call":-5,"ret":7,"res":"ok","intact":false})"
      "\n"
      R"({"pid": 2, "op": "recv", "msg": [1, 9], "len": 64, "call": -5, "ret": 7, "res": "ok", "intact": false})"
      "\n"
      R"({"pid":2,"op":"re\u0063v","msg":[1,9],"len":64,"call":-5,"ret":7,"res":"ok","intact":false})"
      "\n"
      R"({ "intact" : false , "res":"ok","ret":7,"call":-5,"len":64,"msg":[ 1 , 9 ],"op":"recv","pid":2 })"
      "\n");
  ASSERT_TRUE(r) << r.error->message;
  ASSERT_EQ(r.history.events.size(), 4U);
  for (const Event &e : r.history.events) {
    EXPECT_EQ(std::tie(e.pid, e.op, e.res, e.has_msg, e.msg, e.len, e.call, e.ret, e.intact),
              std::make_tuple(2U, Op::recv, Res::ok, true, MsgId{1, 9}, 64U, std::int64_t{-5},
                              std::int64_t{7}, false))
        << "line " << e.line;
  }
  EXPECT_EQ(error_of(R"({"pid":01,"op":"recv","call":1,"ret":2,"res":"empty"})").substr(0, 7),
            "line 1:");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1.5,"ret":2,"res":"empty"})"),
            R"(line 1: "call": expected an integer (ns))");
}

TEST(HistoryIo, PendingCallsHaveNoRet) {
  EXPECT_TRUE(parse_history(R"({"pid":1,"op":"recv","call":1,"res":"pending"})"));
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1,"ret":3,"res":"pending"})"),
            R"(line 1: a pending call has no "ret")");
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1,"res":"timeout"})"),
            R"(line 1: missing "ret" (only a pending call has none))");
}

TEST(HistoryIo, IgnoresUnknownFields) {
  const ReadResult r = parse_history(
      R"({"pid":1,"note":"retry","op":"send","msg":[1,0],"extra":{"a":[1,2,{"b":null}]},"len":64,"call":1,"ret":2,"res":"ok","tid":9})");
  ASSERT_TRUE(r) << r.error->message;
  ASSERT_EQ(r.history.events.size(), 1U);
  EXPECT_EQ(r.history.events[0].msg, (MsgId{1, 0}));
}

TEST(HistoryIo, ReadsTheMetaLine) {
  const ReadResult r = parse_history(
      R"({"meta":{"bound_ns":5000000,"capacity":8,"channel":"pipe","claims":["fifo","no-loss"]}})"
      "\n"
      R"({"pid":1,"op":"recv","call":1,"ret":2,"res":"empty"})");
  ASSERT_TRUE(r) << r.error->message;
  EXPECT_EQ(r.history.events.size(), 1U);
  EXPECT_EQ(r.history.events[0].line, 2U);
  EXPECT_EQ(r.history.meta_numbers.at("bound_ns"), 5e6);
  EXPECT_EQ(r.history.meta_numbers.at("capacity"), 8);
  EXPECT_EQ(r.history.meta_numbers.count("channel"), 0U);
  EXPECT_EQ(r.history.claims, (std::vector<std::string>{"fifo", "no-loss"}));
  EXPECT_EQ(error_of(R"({"pid":1,"op":"recv","call":1,"ret":2,"res":"empty"})"
                     "\n"
                     R"({"meta":{"bound_ns":5}})"),
            R"(line 2: "meta" is allowed on the first line only)");
}

TEST(HistoryIo, RoundTripsThroughTheWriter) {
  ReadResult r = parse_history(kDesignExample);
  ASSERT_TRUE(r);
  r.history.meta_numbers["bound_ns"] = 1000;
  r.history.meta_numbers["ratio"] = 0.25;
  r.history.claims = {"fifo"};
  const ReadResult back = parse_history(to_jsonl(r.history));
  ASSERT_TRUE(back) << back.error->message;
  ASSERT_EQ(back.history.events.size(), r.history.events.size());
  for (std::size_t i = 0; i < r.history.events.size(); ++i) {
    const Event &a = r.history.events[i], &b = back.history.events[i];
    EXPECT_EQ(std::tie(a.pid, a.op, a.res, a.has_msg, a.msg, a.len, a.call, a.ret, a.intact),
              std::tie(b.pid, b.op, b.res, b.has_msg, b.msg, b.len, b.call, b.ret, b.intact))
        << "event " << i;
  }
  EXPECT_EQ(back.history.meta_numbers, r.history.meta_numbers);
  EXPECT_EQ(back.history.claims, r.history.claims);
}

TEST(HistoryIo, ReportsAnUnreadableFile) {
  const ReadResult r = read_history("/nonexistent/history.jsonl");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error->message.find("/nonexistent/history.jsonl"), std::string::npos);
}

TEST(HistoryIo, ReadsAGoldenFileFromDisk) {
  const ReadResult r = read_history(testing::testdata("no-loss/two-senders-ok.jsonl"));
  ASSERT_TRUE(r) << r.error->message;
  EXPECT_GT(r.history.events.size(), 5U);
}

} // namespace
} // namespace ipcv::spec
