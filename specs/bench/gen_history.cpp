// specs_gen_history: writes a large, valid synthetic history for timing `ipcverify check`, and
// times the two ways of writing it (the hand-rolled writer of history_io.cpp and nlohmann::json).
//   specs_gen_history EVENTS FILE [--register] [--compare-nlohmann]
// Queue histories: 4 producers, 2 receivers, every message received once in order, a few empty
// receives; register histories: one writer and 3 readers. Both pass every spec that applies.
#include "specs/history_io.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

using namespace ipcv::spec;

namespace {

History queue_history(std::size_t n) {
  History h;
  h.meta_numbers["bound_ns"] = 1e9;
  h.events.reserve(n);
  std::uint64_t seq[4] = {};
  std::int64_t t = 1'000'000;
  for (std::size_t k = 0; h.events.size() + 2 <= n; ++k, t += 100) {
    const auto producer = static_cast<std::uint32_t>(k % 4 + 1);
    const auto receiver = static_cast<std::uint32_t>(k % 2 + 10);
    const MsgId id{producer, seq[producer - 1]++};
    h.events.push_back({.pid = producer,
                        .op = Op::send,
                        .has_msg = true,
                        .msg = id,
                        .len = 64,
                        .call = t,
                        .ret = t + 50});
    h.events.push_back({.pid = receiver,
                        .op = Op::recv,
                        .has_msg = true,
                        .msg = id,
                        .len = 64,
                        .call = t + 20,
                        .ret = t + 80});
    if (k % 64 == 0 && h.events.size() < n)
      h.events.push_back(
          {.pid = receiver, .op = Op::recv, .res = Res::empty, .call = t + 85, .ret = t + 90});
  }
  return h;
}

History register_history(std::size_t n) {
  History h;
  h.events.reserve(n);
  std::int64_t t = 1'000'000;
  for (std::uint64_t v = 1; h.events.size() + 4 <= n; ++v, t += 200) {
    h.events.push_back({.pid = 1,
                        .op = Op::write,
                        .has_msg = true,
                        .msg = {1, v},
                        .len = 8,
                        .call = t,
                        .ret = t + 100});
    for (std::uint32_t r = 0; r < 3; ++r)
      h.events.push_back({.pid = 2 + r,
                          .op = Op::read,
                          .has_msg = true,
                          .msg = {1, v},
                          .len = 8,
                          .call = t + 110 + r * 10,
                          .ret = t + 150 + r * 10});
  }
  return h;
}

std::string with_nlohmann(const History &h) {
  std::string out;
  for (const Event &e : h.events) {
    nlohmann::json j;
    j["pid"] = e.pid;
    j["op"] = to_string(e.op);
    if (e.has_msg)
      j[e.op == Op::write || e.op == Op::read ? "val" : "msg"] = {e.msg.producer, e.msg.seq};
    j["len"] = e.len;
    j["call"] = e.call;
    if (!e.pending())
      j["ret"] = e.ret;
    j["res"] = to_string(e.res);
    out += j.dump();
    out += '\n';
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: specs_gen_history EVENTS FILE [--register] [--compare-nlohmann]\n");
    return 2;
  }
  const auto n = static_cast<std::size_t>(std::strtoull(argv[1], nullptr, 10));
  bool reg = false, compare = false;
  for (int i = 3; i < argc; ++i) {
    reg |= std::strcmp(argv[i], "--register") == 0;
    compare |= std::strcmp(argv[i], "--compare-nlohmann") == 0;
  }
  const History h = reg ? register_history(n) : queue_history(n);
  auto t0 = std::chrono::steady_clock::now();
  if (auto err = write_history(h, argv[2])) {
    std::fprintf(stderr, "%s\n", err->message.c_str());
    return 1;
  }
  std::printf("%zu events written by the hand-rolled writer in %.3f s\n", h.events.size(),
              seconds_since(t0));
  if (compare) {
    t0 = std::chrono::steady_clock::now();
    const std::string text = with_nlohmann(h);
    std::ofstream(std::string(argv[2]) + ".nlohmann") << text;
    std::printf("%zu events written with nlohmann::json in %.3f s\n", h.events.size(),
                seconds_since(t0));
  }
  return 0;
}
