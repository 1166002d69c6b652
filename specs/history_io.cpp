// JSON Lines reading (simdjson on-demand, one line at a time) and writing (hand-rolled) of
// histories; see history_io.hpp for the rules beyond JSON.
#include "history_io.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <sys/stat.h>

namespace ipcv::spec {
namespace {

namespace od = simdjson::ondemand;

/// The error of the line being parsed, prefixed with its number when returned.
struct LineError {
  std::string what;
};

std::optional<LineError> parse_id(od::value v, std::string_view field, MsgId &out) {
  od::array arr;
  if (v.get_array().get(arr))
    return LineError{"\"" + std::string(field) + "\": expected [producer, seq]"};
  std::size_t n = 0;
  for (auto el : arr) {
    std::uint64_t x = 0;
    if (el.get_uint64().get(x) || (n == 0 && x > UINT32_MAX) || n >= 2)
      return LineError{"\"" + std::string(field) + "\": expected [producer, seq]"};
    if (n == 0)
      out.producer = static_cast<std::uint32_t>(x);
    else
      out.seq = x;
    ++n;
  }
  if (n != 2)
    return LineError{"\"" + std::string(field) + "\": expected [producer, seq]"};
  return std::nullopt;
}

/// The pid list a meta key names ("crashed", "senders", "receivers"), or nullptr.
std::vector<std::uint32_t> *pid_list(History &h, std::string_view key) {
  if (key == "crashed")
    return &h.crashed;
  if (key == "senders")
    return &h.senders;
  if (key == "receivers")
    return &h.receivers;
  return nullptr;
}

std::optional<LineError> parse_meta(od::value v, History &h) {
  od::object obj;
  if (v.get_object().get(obj))
    return LineError{"\"meta\": expected an object"};
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return LineError{"\"meta\": bad key"};
    std::string k(key);
    od::value val;
    if (field.value().get(val))
      return LineError{"\"meta\": bad value"};
    od::json_type t;
    if (val.type().get(t))
      return LineError{"\"meta\": bad value for \"" + k + "\""};
    if (t == od::json_type::number) {
      double d = 0;
      if (val.get_double().get(d))
        return LineError{"\"meta\": bad number for \"" + k + "\""};
      h.meta_numbers[k] = d;
    } else if (k == "claims" && t == od::json_type::array) {
      for (auto el : val.get_array()) {
        std::string_view s;
        if (el.get_string().get(s))
          return LineError{"\"meta\": \"claims\" must be names"};
        h.claims.emplace_back(s);
      }
    } else if (k == "crashed_ns" && t == od::json_type::array) {
      for (auto el : val.get_array()) {
        std::int64_t ns = 0;
        if (el.get_int64().get(ns))
          return LineError{"\"meta\": \"crashed_ns\" must be a list of times (ns)"};
        h.crashed_ns.push_back(ns);
      }
    } else if (auto *pids = pid_list(h, k); pids && t == od::json_type::array) {
      for (auto el : val.get_array()) {
        std::uint64_t pid = 0;
        if (el.get_uint64().get(pid) || pid > UINT32_MAX)
          return LineError{"\"meta\": \"" + k + "\" must be a list of pids"};
        pids->push_back(static_cast<std::uint32_t>(pid));
      }
    }
  }
  return std::nullopt;
}

/// The fields a line named (the rest of the event is in the Event itself).
struct Seen {
  bool pid = false, op = false, call = false, res = false, ret = false;
};

/// The rules beyond JSON, once a line's fields are read.
std::optional<LineError> finish(const Seen &seen, Event &e) {
  if (!seen.pid)
    return LineError{"missing \"pid\""};
  if (!seen.op)
    return LineError{"missing \"op\""};
  if (!seen.call)
    return LineError{"missing \"call\""};
  if (!seen.res)
    return LineError{"missing \"res\""};
  if (e.pending()) {
    if (seen.ret)
      return LineError{"a pending call has no \"ret\""};
    e.ret = kNever;
  } else {
    if (!seen.ret)
      return LineError{"missing \"ret\" (only a pending call has none)"};
    if (e.ret < e.call)
      return LineError{"\"ret\" is before \"call\""};
  }
  // A send that did not take effect may leave its identity out (an attempt repeated later).
  const bool took_effect = e.res == Res::ok || e.pending();
  if (!e.has_msg && ((e.op == Op::send && e.len > 0 && took_effect) || e.op == Op::write))
    return LineError{e.op == Op::write ? "missing \"val\"" : "missing \"msg\" (len > 0)"};
  return std::nullopt;
}

/// A strict scanner for the common shape of an event line (what to_jsonl writes: plain keys,
/// integers, plain strings, [a,b] pairs, booleans, optional spaces after ':' and ','). It reads
/// the fields into `e`, or returns false for anything else (escapes, unknown keys, a meta line,
/// floats, malformed text), and simdjson then parses the line and names any error. Both read a
/// line the same way; the scanner only spares simdjson's per-document cost on a million lines.
class FastLine {
public:
  FastLine(const char *p, const char *end) : p_(p), end_(end) {}

  bool read(Event &e, Seen &seen) {
    if (!eat('{'))
      return false;
    if (eat('}'))
      return p_ == end_;
    for (;;) {
      std::string_view key;
      if (!string(key) || !eat(':'))
        return false;
      skip_spaces();
      if (key == "pid") {
        std::uint64_t x;
        if (!uint(x) || x > UINT32_MAX)
          return false;
        e.pid = static_cast<std::uint32_t>(x);
        seen.pid = true;
      } else if (key == "op") {
        std::string_view v;
        if (!string(v) || !parse(v, e.op))
          return false;
        seen.op = true;
      } else if (key == "res") {
        std::string_view v;
        if (!string(v) || !parse(v, e.res))
          return false;
        seen.res = true;
      } else if (key == "msg" || key == "val") {
        std::uint64_t a, b;
        if (!eat('[') || !uint(a) || a > UINT32_MAX || !eat(',') || (skip_spaces(), !uint(b)) ||
            !eat(']'))
          return false;
        e.msg = {static_cast<std::uint32_t>(a), b};
        e.has_msg = true;
      } else if (key == "len") {
        std::uint64_t x;
        if (!uint(x) || x > UINT32_MAX)
          return false;
        e.len = static_cast<std::uint32_t>(x);
      } else if (key == "call") {
        if (!int64(e.call))
          return false;
        seen.call = true;
      } else if (key == "ret") {
        if (!int64(e.ret))
          return false;
        seen.ret = true;
      } else if (key == "deadline") {
        if (!int64(e.deadline))
          return false;
      } else if (key == "intact") {
        if (word("true"))
          e.intact = true;
        else if (word("false"))
          e.intact = false;
        else
          return false;
      } else {
        return false;
      }
      if (eat('}'))
        return p_ == end_;
      if (!eat(','))
        return false;
      skip_spaces();
    }
  }

private:
  bool eat(char c) {
    if (p_ == end_ || *p_ != c)
      return false;
    ++p_;
    return true;
  }
  void skip_spaces() {
    while (p_ != end_ && *p_ == ' ')
      ++p_;
  }
  bool word(std::string_view w) {
    if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w)
      return false;
    p_ += w.size();
    return true;
  }
  bool string(std::string_view &out) {
    if (!eat('"'))
      return false;
    const char *b = p_;
    while (p_ != end_ && *p_ != '"') {
      if (*p_ == '\\' || static_cast<unsigned char>(*p_) < 0x20)
        return false;
      ++p_;
    }
    if (p_ == end_)
      return false;
    out = std::string_view(b, static_cast<std::size_t>(p_ - b));
    ++p_;
    return true;
  }
  bool uint(std::uint64_t &out) {
    const char *b = p_;
    std::uint64_t x = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9' && p_ - b < 19)
      x = x * 10 + static_cast<std::uint64_t>(*p_++ - '0');
    const std::size_t n = static_cast<std::size_t>(p_ - b);
    if (n == 0 || (n > 1 && *b == '0'))
      return false; // no digits, or a leading zero
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E' || (*p_ >= '0' && *p_ <= '9')))
      return false; // not an integer of at most 19 digits: simdjson decides
    out = x;
    return true;
  }
  bool int64(std::int64_t &out) {
    const bool neg = eat('-');
    std::uint64_t x;
    if (!uint(x))
      return false; // 19 digits always fit an int64
    out = neg ? -static_cast<std::int64_t>(x) : static_cast<std::int64_t>(x);
    return true;
  }

  const char *p_;
  const char *end_;
};

/// Parses one non-blank line into `e`, or, for a meta line, into `h` and sets `meta`.
std::optional<LineError> parse_line(od::parser &parser, const char *p, std::size_t len,
                                    std::size_t capacity, bool first, Event &e, History &h,
                                    bool &meta) {
  od::document doc;
  if (parser.iterate(p, len, capacity).get(doc))
    return LineError{"not valid JSON"};
  od::object obj;
  if (auto err = doc.get_object().get(obj))
    return LineError{err == simdjson::INCORRECT_TYPE ? "not a JSON object" : "not valid JSON"};
  Seen seen;
  meta = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return LineError{"not valid JSON"};
    od::value v;
    if (field.value().get(v))
      return LineError{"not valid JSON"};
    if (key == "pid") {
      std::uint64_t x = 0;
      if (v.get_uint64().get(x) || x > UINT32_MAX)
        return LineError{"\"pid\": expected an unsigned 32-bit integer"};
      e.pid = static_cast<std::uint32_t>(x);
      seen.pid = true;
    } else if (key == "op") {
      std::string_view s;
      if (v.get_string().get(s) || !parse(s, e.op))
        return LineError{"\"op\": expected send, recv, close, write or read"};
      seen.op = true;
    } else if (key == "res") {
      std::string_view s;
      if (v.get_string().get(s) || !parse(s, e.res))
        return LineError{"\"res\": expected ok, full, empty, timeout, eof, peer_gone, too_large, "
                         "error or pending"};
      seen.res = true;
    } else if (key == "msg" || key == "val") {
      if (auto err = parse_id(v, key, e.msg))
        return err;
      e.has_msg = true;
    } else if (key == "len") {
      std::uint64_t x = 0;
      if (v.get_uint64().get(x) || x > UINT32_MAX)
        return LineError{"\"len\": expected an unsigned 32-bit integer"};
      e.len = static_cast<std::uint32_t>(x);
    } else if (key == "call") {
      if (v.get_int64().get(e.call))
        return LineError{"\"call\": expected an integer (ns)"};
      seen.call = true;
    } else if (key == "ret") {
      if (v.get_int64().get(e.ret))
        return LineError{"\"ret\": expected an integer (ns)"};
      seen.ret = true;
    } else if (key == "deadline") {
      if (v.get_int64().get(e.deadline))
        return LineError{"\"deadline\": expected an integer (ns)"};
    } else if (key == "intact") {
      if (v.get_bool().get(e.intact))
        return LineError{"\"intact\": expected true or false"};
    } else if (key == "meta") {
      if (!first)
        return LineError{"\"meta\" is allowed on the first line only"};
      if (auto err = parse_meta(v, h))
        return err;
      meta = true;
    }
  }
  if (const char *rest = nullptr; !doc.current_location().get(rest))
    return LineError{"trailing characters after the object"};
  if (meta)
    return std::nullopt;
  return finish(seen, e);
}

ReadResult parse_padded(const char *data, std::size_t size) {
  ReadResult r;
  od::parser parser;
  std::size_t pos = 0;
  std::uint32_t line = 0;
  bool first = true;
  r.history.events.reserve(size / 80);
  while (pos < size) {
    ++line;
    const char *nl = static_cast<const char *>(std::memchr(data + pos, '\n', size - pos));
    const std::size_t end = nl ? static_cast<std::size_t>(nl - data) : size;
    std::size_t b = pos, e = end;
    pos = end + 1;
    while (b < e && (data[b] == ' ' || data[b] == '\t'))
      ++b;
    while (e > b && (data[e - 1] == '\r' || data[e - 1] == ' ' || data[e - 1] == '\t'))
      --e;
    if (b == e)
      continue;
    Event ev;
    ev.line = line;
    bool meta = false;
    if (Seen seen; FastLine(data + b, data + e).read(ev, seen)) {
      if (auto err = finish(seen, ev)) {
        r.error = IoError{"line " + std::to_string(line) + ": " + err->what};
        return r;
      }
      first = false;
      r.history.events.push_back(ev);
      continue;
    }
    ev = Event{};
    ev.line = line;
    if (auto err = parse_line(parser, data + b, e - b, size - b + simdjson::SIMDJSON_PADDING, first,
                              ev, r.history, meta)) {
      r.error = IoError{"line " + std::to_string(line) + ": " + err->what};
      return r;
    }
    first = false;
    if (meta)
      continue;
    r.history.events.push_back(ev);
  }
  return r;
}

void put_uint(std::string &out, std::uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}
void put_int(std::string &out, std::int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}
void put_string(std::string &out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}
void put_number(std::string &out, double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
    put_int(out, static_cast<std::int64_t>(d));
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, std::isfinite(d) ? d : 0.0);
  out.append(buf, res.ptr);
}

} // namespace

ReadResult parse_history(std::string_view text) {
  simdjson::padded_string padded(text);
  return parse_padded(padded.data(), padded.size());
}

ReadResult read_history(const std::string &path) {
  ReadResult r;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    r.error = IoError{path + ": cannot read: " + std::strerror(errno)};
    return r;
  }
  if (S_ISDIR(st.st_mode)) {
    r.error = IoError{path + ": cannot read: a directory, not a history file"};
    return r;
  }
  simdjson::padded_string padded;
  errno = 0;
  if (simdjson::padded_string::load(path).get(padded)) {
    r.error = IoError{path + ": cannot read: " +
                      (errno != 0 ? std::strerror(errno) : "not a regular file of known size")};
    return r;
  }
  r = parse_padded(padded.data(), padded.size());
  if (r.error)
    r.error->message = path + ": " + r.error->message;
  return r;
}

std::string to_jsonl(const History &h) {
  std::string out;
  out.reserve(h.events.size() * 96 + 128);
  const std::pair<const char *, const std::vector<std::uint32_t> *> lists[] = {
      {"crashed", &h.crashed}, {"senders", &h.senders}, {"receivers", &h.receivers}};
  const bool any_list =
      !h.crashed_ns.empty() ||
      std::any_of(std::begin(lists), std::end(lists), [](auto &l) { return !l.second->empty(); });
  if (!h.meta_numbers.empty() || !h.claims.empty() || any_list) {
    out += "{\"meta\":{";
    bool comma = false;
    for (const auto &[key, pids] : lists) {
      if (pids->empty())
        continue;
      if (comma)
        out += ',';
      put_string(out, key);
      out += ":[";
      for (std::size_t i = 0; i < pids->size(); ++i) {
        if (i)
          out += ',';
        put_uint(out, (*pids)[i]);
      }
      out += ']';
      comma = true;
    }
    if (!h.crashed_ns.empty()) {
      out += comma ? ",\"crashed_ns\":[" : "\"crashed_ns\":[";
      for (std::size_t i = 0; i < h.crashed_ns.size(); ++i) {
        if (i)
          out += ',';
        put_int(out, h.crashed_ns[i]);
      }
      out += ']';
      comma = true;
    }
    for (const auto &[k, v] : h.meta_numbers) {
      if (comma)
        out += ',';
      put_string(out, k);
      out += ':';
      put_number(out, v);
      comma = true;
    }
    if (!h.claims.empty()) {
      if (comma)
        out += ',';
      out += "\"claims\":[";
      for (std::size_t i = 0; i < h.claims.size(); ++i) {
        if (i)
          out += ',';
        put_string(out, h.claims[i]);
      }
      out += ']';
    }
    out += "}}\n";
  }
  for (const Event &e : h.events) {
    out += "{\"pid\":";
    put_uint(out, e.pid);
    out += ",\"op\":\"";
    out += to_string(e.op);
    out += '"';
    if (e.has_msg) {
      out += (e.op == Op::write || e.op == Op::read) ? ",\"val\":[" : ",\"msg\":[";
      put_uint(out, e.msg.producer);
      out += ',';
      put_uint(out, e.msg.seq);
      out += ']';
    }
    if (e.len != 0 || e.op == Op::send || (e.op == Op::recv && e.res == Res::ok)) {
      out += ",\"len\":";
      put_uint(out, e.len);
    }
    out += ",\"call\":";
    put_int(out, e.call);
    if (!e.pending()) {
      out += ",\"ret\":";
      put_int(out, e.ret);
    }
    if (e.deadline != kNever) {
      out += ",\"deadline\":";
      put_int(out, e.deadline);
    }
    out += ",\"res\":\"";
    out += to_string(e.res);
    out += '"';
    if ((e.op == Op::recv || e.op == Op::read) && e.res == Res::ok)
      out += e.intact ? ",\"intact\":true" : ",\"intact\":false";
    out += "}\n";
  }
  return out;
}

std::optional<IoError> write_history(const History &h, const std::string &path) {
  const std::string text = to_jsonl(h);
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return IoError{path + ": cannot write: " + std::strerror(errno)};
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok)
    return IoError{path + ": cannot write: " + std::strerror(errno)};
  return std::nullopt;
}

} // namespace ipcv::spec
