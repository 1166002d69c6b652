// Golden histories: specs/testdata/<spec>/<name>.jsonl checked against the catalog's spec of
// that name. The file name's suffix is the verdict it must get: -ok pass, -bad fail (with
// witnesses that render), -unknown unknown. A golden test is one line: EXPECT_GOLDEN(spec, name).
#pragma once

#include "specs/catalog.hpp"
#include "specs/history_io.hpp"
#include "specs/timeline.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ipcv::spec::testing {

/// The path of a file under specs/testdata/.
inline std::string testdata(const std::string &rel) {
  return std::string(IPCV_SOURCE_DIR) + "/specs/testdata/" + rel;
}

/// The verdict a golden file's name promises: pass (-ok), fail (-bad) or unknown (-unknown).
inline Verdict::Kind promised(const std::string &name) {
  auto ends = [&](std::string_view s) { return name.ends_with(s); };
  if (ends("-bad") || ends("-bad.jsonl"))
    return Verdict::fail;
  if (ends("-unknown") || ends("-unknown.jsonl"))
    return Verdict::unknown;
  return Verdict::pass;
}

inline std::string_view kind_name(Verdict::Kind k) {
  return k == Verdict::pass ? "pass" : k == Verdict::fail ? "fail" : "unknown";
}

/// Success when specs/testdata/<spec>/<name>.jsonl gets the verdict its name promises.
inline ::testing::AssertionResult golden(const std::string &spec, const std::string &name) {
  const std::string path = testdata(spec + "/" + name + (name.ends_with(".jsonl") ? "" : ".jsonl"));
  const ReadResult r = read_history(path);
  if (!r)
    return ::testing::AssertionFailure() << r.error->message;
  const Spec *s = find_spec(spec);
  if (!s)
    return ::testing::AssertionFailure() << "no spec \"" << spec << "\" in the catalog";
  if (!applies(*s, r.history))
    return ::testing::AssertionFailure() << path << ": the spec does not apply";
  const Verdict v = s->check(r.history, Params{});
  const std::string timeline = render_timeline(r.history, v.witnesses);
  const Verdict::Kind want = promised(name);
  if (v.kind != want)
    return ::testing::AssertionFailure()
           << path << ": " << kind_name(v.kind) << ", expected " << kind_name(want) << "\n"
           << v.explanation << "\n"
           << timeline;
  if (v.kind == Verdict::fail) {
    if (v.witnesses.empty() || v.explanation.empty() || timeline.empty())
      return ::testing::AssertionFailure() << path << ": a failure without witnesses or words";
    for (std::size_t w : v.witnesses)
      if (w >= r.history.events.size())
        return ::testing::AssertionFailure() << path << ": witness " << w << " out of range";
  }
  if (v.kind != Verdict::pass && v.explanation.empty())
    return ::testing::AssertionFailure() << path << ": an unknown verdict must say why";
  return ::testing::AssertionSuccess();
}

} // namespace ipcv::spec::testing

/// One golden test: the file's verdict is the one its name promises.
#define EXPECT_GOLDEN(spec_name, file) EXPECT_TRUE(::ipcv::spec::testing::golden(spec_name, file))
