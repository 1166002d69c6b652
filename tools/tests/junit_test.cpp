// Tests of the JUnit XML reports (tools/junit.hpp): whatever text a channel's failure carries,
// the document is well-formed XML that a real parser (expat) reads back to the same text, and
// `ipcverify run --junit` / `ipcverify verify --junit` write one testcase per verdict cell /
// conformance check, with the broken claims as failures.
#include "shell.hpp"
#include "tools/junit.hpp"

#include <array>
#include <cstdio>
#include <expat.h>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using ipcv::cli::junit::Case;
using ipcv::cli::junit::Suite;

/// What a parse of a JUnit document found: every element with its attributes and text.
struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text;
};

struct Parsed {
  bool ok = false;
  std::string error; ///< expat's message and line, when not ok
  std::vector<Element> elements;
  std::vector<std::size_t> open; ///< indices of the elements still open

  std::vector<const Element *> named(const std::string &n) const {
    std::vector<const Element *> out;
    for (const auto &e : elements)
      if (e.name == n)
        out.push_back(&e);
    return out;
  }
};

Parsed parse(const std::string &xml) {
  Parsed p;
  XML_Parser x = XML_ParserCreate("UTF-8");
  XML_SetUserData(x, &p);
  XML_SetElementHandler(
      x,
      [](void *u, const XML_Char *name, const XML_Char **attrs) {
        auto &q = *static_cast<Parsed *>(u);
        Element e{name, {}, ""};
        for (int i = 0; attrs[i] != nullptr; i += 2)
          e.attrs[attrs[i]] = attrs[i + 1];
        q.open.push_back(q.elements.size());
        q.elements.push_back(std::move(e));
      },
      [](void *u, const XML_Char *) { static_cast<Parsed *>(u)->open.pop_back(); });
  XML_SetCharacterDataHandler(x, [](void *u, const XML_Char *s, int n) {
    auto &q = *static_cast<Parsed *>(u);
    if (!q.open.empty())
      q.elements[q.open.back()].text.append(s, static_cast<std::size_t>(n));
  });
  p.ok = XML_Parse(x, xml.data(), static_cast<int>(xml.size()), 1) == XML_STATUS_OK;
  if (!p.ok)
    p.error = std::string(XML_ErrorString(XML_GetErrorCode(x))) + " at line " +
              std::to_string(XML_GetCurrentLineNumber(x));
  XML_ParserFree(x);
  return p;
}

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Text a failure may carry: markup characters, quotes of both kinds, a CDATA terminator,
// newlines and tabs (kept), multi-byte UTF-8 (kept).
const std::string kNasty = "a < b && c > \"d\" 'e' ]]> </failure><x>\n\ttab é ×";

TEST(JUnit, MarkupInTextAndAttributesReadsBackUnchanged) {
  std::vector<Suite> suites{{"ch<&>\"'",
                             1.5,
                             {{"fifo", Case::pass, "", ""},
                              {"no-loss & \"more\"", Case::failure, kNasty, kNasty},
                              {"race-free", Case::skipped, "not judged: <thread mode>", ""}}}};
  const std::string xml = ipcv::cli::junit::to_xml("ipcverify <run>", suites);
  const Parsed p = parse(xml);
  ASSERT_TRUE(p.ok) << p.error << "\n" << xml;
  ASSERT_EQ(p.named("testsuites").size(), 1u);
  EXPECT_EQ(p.named("testsuites")[0]->attrs.at("name"), "ipcverify <run>");
  const auto cases = p.named("testcase");
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(cases[1]->attrs.at("classname"), "ch<&>\"'");
  EXPECT_EQ(cases[1]->attrs.at("name"), "no-loss & \"more\"");
  const auto failures = p.named("failure");
  ASSERT_EQ(failures.size(), 1u);
  // In an attribute, newline and tab survive only as character references: the parser gives
  // them back as they were, not folded into spaces.
  EXPECT_EQ(failures[0]->attrs.at("message"), kNasty);
  EXPECT_EQ(failures[0]->text, kNasty);
  ASSERT_EQ(p.named("skipped").size(), 1u);
  EXPECT_EQ(p.named("skipped")[0]->attrs.at("message"), "not judged: <thread mode>");
  const auto suite = p.named("testsuite");
  ASSERT_EQ(suite.size(), 1u);
  EXPECT_EQ(suite[0]->attrs.at("tests"), "3");
  EXPECT_EQ(suite[0]->attrs.at("failures"), "1");
  EXPECT_EQ(suite[0]->attrs.at("skipped"), "1");
}

// Bytes no XML document may hold (control characters, NUL, invalid UTF-8, a surrogate) become
// U+FFFD instead of making the whole report unreadable.
TEST(JUnit, CharactersXmlForbidsAreReplaced) {
  static const char raw[] = "nul\0 bell\x07 esc\x1b bad\xff\xfe lone\xc3 sur\xed\xa0\x80 end";
  const std::string bad(raw, sizeof raw - 1);
  std::vector<Suite> suites{{"ch", 0, {{"x", Case::failure, bad, bad}}}};
  const Parsed p = parse(ipcv::cli::junit::to_xml("t", suites));
  ASSERT_TRUE(p.ok) << p.error;
  const std::string text = p.named("failure").at(0)->text;
  EXPECT_EQ(text.rfind("nul", 0), 0u);
  EXPECT_NE(text.find("end"), std::string::npos);
  for (char c : text)
    EXPECT_FALSE(c == 0 || c == 7 || c == 0x1b) << int(c);
  EXPECT_NE(text.find("\xef\xbf\xbd"), std::string::npos);
}

/// The exit status of `ipcverify ARGS` (its output is not looked at).
int exit_status_of(const std::string &args) {
  return ipcv::testing_shell::shell(std::string(IPCVERIFY_BIN) + " " + args).status;
}

// A broken claim is a failure of the testcase named after the spec, under the channel's suite,
// carrying the replay command; the claim that held is a passing testcase.
TEST(JUnit, RunWritesOneTestcasePerCellAndTheBrokenClaimAsFailure) {
  const std::string path = ::testing::TempDir() + "/run-junit.xml";
  std::remove(path.c_str());
  EXPECT_EQ(exit_status_of("run --channel faulty-drop --channel pipe --spec no-loss --spec fifo --cases 30 "
                "--seed 7 --time-budget 60 --no-crash --include-faulty --junit " +
                path),
            1);
  const Parsed p = parse(slurp(path));
  ASSERT_TRUE(p.ok) << p.error;
  const auto cases = p.named("testcase");
  ASSERT_EQ(cases.size(), 4u);
  EXPECT_EQ(cases[0]->attrs.at("classname"), "faulty-drop");
  EXPECT_EQ(cases[0]->attrs.at("name"), "no-loss");
  const auto failures = p.named("failure");
  ASSERT_GE(failures.size(), 1u);
  EXPECT_NE(failures[0]->text.find("replay: "), std::string::npos) << failures[0]->text;
  EXPECT_EQ(p.named("testsuite").at(1)->attrs.at("name"), "pipe");
  EXPECT_EQ(p.named("testsuite").at(1)->attrs.at("failures"), "0");
}

TEST(JUnit, VerifyWritesOneTestcasePerConformanceCheck) {
  const std::string path = ::testing::TempDir() + "/verify-junit.xml";
  std::remove(path.c_str());
  EXPECT_EQ(exit_status_of("verify --channel pipe --junit " + path), 0);
  const Parsed p = parse(slurp(path));
  ASSERT_TRUE(p.ok) << p.error;
  ASSERT_EQ(p.named("testsuite").size(), 1u);
  EXPECT_EQ(p.named("testsuite")[0]->attrs.at("name"), "pipe");
  EXPECT_GT(p.named("testcase").size(), 5u);
  EXPECT_TRUE(p.named("failure").empty());
}

TEST(JUnit, AnUnwritablePathIsOneLineAndStatus2) {
  EXPECT_EQ(exit_status_of("verify --channel pipe --junit /nonexistent-dir/x.xml"), 2);
  EXPECT_EQ(exit_status_of("run --channel pipe --cases 1 --junit /nonexistent-dir/x.xml"), 2);
}

} // namespace
