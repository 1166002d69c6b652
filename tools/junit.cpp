// Implementation of the JUnit XML reports (junit.hpp).
#include "junit.hpp"

#include <fmt/format.h>
#include <fstream>

namespace ipcv::cli::junit {
namespace {

/// The length of the valid UTF-8 sequence at the start of `s` and its code point, or 0.
std::size_t utf8_at(std::string_view s, char32_t &cp) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  std::size_t n = b0 < 0x80             ? 1
                  : (b0 & 0xe0) == 0xc0 ? 2
                  : (b0 & 0xf0) == 0xe0 ? 3
                  : (b0 & 0xf8) == 0xf0 ? 4
                                        : 0;
  if (n == 0 || n > s.size())
    return 0;
  cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1f) : n == 3 ? (b0 & 0x0f) : (b0 & 0x07);
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return 0;
  return n;
}

/// True for the code points XML 1.0 allows in a document.
bool xml_char(char32_t c) {
  return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
         (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

} // namespace

std::string escape(std::string_view s, bool attribute) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    char32_t cp = 0;
    const std::size_t n = utf8_at(s, cp);
    if (n == 0 || !xml_char(cp)) {
      out += "\xef\xbf\xbd"; // U+FFFD
      s.remove_prefix(n == 0 ? 1 : n);
      continue;
    }
    switch (cp) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    case '\t':
    case '\n':
    case '\r':
      if (attribute)
        out += fmt::format("&#{};", static_cast<int>(cp));
      else
        out += static_cast<char>(cp);
      break;
    default:
      out.append(s.substr(0, n));
    }
    s.remove_prefix(n);
  }
  return out;
}

std::string to_xml(std::string_view name, const std::vector<Suite> &suites) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  std::size_t tests = 0, failures = 0, skipped = 0;
  for (const auto &s : suites)
    for (const auto &c : s.cases) {
      ++tests;
      failures += c.kind == Case::failure;
      skipped += c.kind == Case::skipped;
    }
  out += fmt::format("<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
                     escape(name, true), tests, failures, skipped);
  for (const auto &s : suites) {
    std::size_t f = 0, k = 0;
    for (const auto &c : s.cases) {
      f += c.kind == Case::failure;
      k += c.kind == Case::skipped;
    }
    out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
                       "skipped=\"{}\" time=\"{:.3f}\">\n",
                       escape(s.name, true), s.cases.size(), f, k, s.seconds);
    for (const auto &c : s.cases) {
      out += fmt::format("    <testcase classname=\"{}\" name=\"{}\"", escape(s.name, true),
                         escape(c.name, true));
      if (c.kind == Case::pass) {
        out += "/>\n";
        continue;
      }
      const char *tag = c.kind == Case::failure ? "failure" : "skipped";
      out += fmt::format(">\n      <{} message=\"{}\"", tag, escape(c.message, true));
      if (c.text.empty())
        out += "/>\n";
      else
        out += fmt::format(">{}</{}>\n", escape(c.text, false), tag);
      out += "    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

std::vector<Suite> from_run(const std::vector<Row> &rows) {
  std::vector<Suite> out;
  for (const auto &row : rows) {
    Suite s{row.channel, row.result.seconds, {}};
    for (const auto &r : row.result.cells) {
      Case c{r.spec, Case::pass, "", ""};
      switch (r.kind) {
      case engine::SpecResult::pass:
        break;
      case engine::SpecResult::fail:
        c.kind = r.on_record.empty() ? Case::failure : Case::skipped;
        c.message = fmt::format("{}claim '{}' broken (seed {}, {} cases)",
                                r.on_record.empty() ? "" : "known finding, on record: ", r.spec,
                                r.seed, r.cases);
        if (r.counterexample)
          c.text =
              fmt::format("{}\n{}\n", r.counterexample->explanation, r.counterexample->timeline);
        if (!r.observed.empty())
          c.text += r.observed + "\n";
        if (!r.replay.empty())
          c.text += "replay: " + r.replay + "\n";
        break;
      case engine::SpecResult::not_claimed:
        c.kind = Case::skipped;
        c.message = "not claimed: " + r.observed;
        break;
      case engine::SpecResult::skip:
        c.kind = Case::skipped;
        c.message = "not judged: " + r.observed;
        break;
      case engine::SpecResult::interrupted:
        c.kind = Case::skipped;
        c.message = "interrupted: " + r.observed;
        break;
      }
      s.cases.push_back(std::move(c));
    }
    out.push_back(std::move(s));
  }
  return out;
}

void add_check(std::vector<Suite> &suites, std::string_view channel, std::string_view check,
               harness::Outcome kind, const std::string &detail) {
  if (suites.empty() || suites.back().name != channel)
    suites.push_back(Suite{std::string(channel), 0, {}});
  Case c{std::string(check), Case::pass, "", ""};
  if (kind == harness::Outcome::fail) {
    c.kind = Case::failure;
    c.message = detail.substr(0, detail.find('\n'));
    c.text = detail;
  } else if (kind == harness::Outcome::skip) {
    c.kind = Case::skipped;
    c.message = "not applicable: " + detail;
  }
  suites.back().cases.push_back(std::move(c));
}

bool write(const std::string &path, const std::string &xml) {
  std::ofstream f(path);
  f << xml;
  f.close();
  return static_cast<bool>(f);
}

} // namespace ipcv::cli::junit
