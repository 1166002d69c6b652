// ipcbench: round-trip latency and one-way throughput of every registered channel between two
// forked processes, side by side with two physical baselines measured in the same run (a bare
// shared-memory cache-line round trip and single-thread memcpy bandwidth). This header holds
// what the measuring part (ipcbench_measure.cpp), the reporting part (ipcbench_report.cpp) and
// the command line (ipcbench.cpp) share.
#pragma once

#include "harness/registry.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipcv::bench {

using harness::channels;
using harness::find_channel;

/// A Pattern is the shape of traffic a point measures.
enum class Pattern : std::uint8_t {
  pingpong, ///< A sends, B receives and answers on a second instance, A receives: a round trip
  stream,   ///< A sends as fast as B keeps up: one way
};

/// A Wait is how both processes wait for the channel.
enum class Wait : std::uint8_t {
  spin,  ///< busy-poll with try_send / try_recv
  block, ///< send / recv with a deadline, sleeping in the kernel
};

constexpr std::string_view to_string(Pattern p) noexcept {
  return p == Pattern::pingpong ? "pingpong" : "stream";
}
constexpr std::string_view to_string(Wait w) noexcept { return w == Wait::spin ? "spin" : "block"; }

/// The message sizes of a full run: 8 B to 1 MiB.
inline constexpr std::array<std::size_t, 6> kDefaultSizes = {8, 64, 512, 4096, 65536, 1 << 20};

/// A Point is one cell of the benchmark matrix: a channel, a pattern, a wait mode, a size.
struct Point {
  const ChannelEntry *channel = nullptr;
  Pattern pattern = Pattern::pingpong;
  Wait wait = Wait::spin;
  std::size_t size = 0; ///< message bytes; the first 8 carry the sequence number
};

/// A Budget bounds the measured part of one point: it ends at whichever limit comes first.
/// Warm-up (not measured) adds a tenth of each, at most 1000 round trips / 10000 messages.
struct Budget {
  std::uint64_t iterations = 1'000'000; ///< round trips (pingpong) or messages (stream)
  double seconds = 0.25;                ///< 0: no time limit
};

/// The two CPUs the processes A and B are pinned to; -1 when fewer than two are available.
struct CpuPair {
  int a = -1;
  int b = -1;
  bool pinned() const noexcept { return a >= 0 && b >= 0; }
};

/// CPUs for A and B: the first two this process may run on, or none when it has one only.
CpuPair pick_cpus();

/// The physical baselines every result is compared with, measured in the same run: at the start
/// and, in a full run, again at the end, keeping the best of the two.
struct Baselines {
  double cacheline_rtt_ns = 0;     ///< median round trip of one cache line between A and B
  double cacheline_rtt_p99_ns = 0; ///< its 99th percentile (shown, not in the JSON)
  double memcpy_gbps = 0;          ///< best single-thread memcpy bandwidth, GB/s (1e9 B/s)
  double clock_ns = 0;             ///< one steady_clock read; every round-trip sample holds one
  std::string note;                ///< why the baselines are not to be trusted; "" when steady
};

/// A Measurement is the outcome of one point: numbers, or an error saying what went wrong.
struct Measurement {
  Point point;
  bool ok = false;
  std::string error;       ///< one line when !ok
  std::uint64_t count = 0; ///< measured round trips or messages
  double rtt_ns_p50 = 0;   ///< pingpong
  double rtt_ns_p99 = 0;   ///< pingpong
  double line_ns_p50 = 0;  ///< pingpong: the bare cache-line round trip just before, same CPUs
  double msgs_per_s = 0;   ///< stream
  double gbps = 0;         ///< stream: payload bytes per second / 1e9
};

/// A Skip is a point (or a set of them) left out on purpose, with the reason.
struct Skip {
  std::string channel;
  std::string what; ///< "stream", "1 MiB", ...
  std::string why;
};

/// Single-thread memcpy bandwidth: the best of `repeats` copies of `bytes` between two buffers
/// that are already faulted in. GB/s counts the bytes copied once (not read + written).
double measure_memcpy_gbps(std::size_t bytes, int repeats);

/// The round trip of one cache line between two forked processes pinned to `cpus`: A stores a
/// sequence number on its line, B spins until it sees it and stores it on a second line, A
/// spins until it sees it there. Fills cacheline_rtt_ns / _p99_ns; false with `error` set when
/// the children failed.
bool measure_cacheline_rtt(std::uint64_t iterations, const CpuPair &cpus, Baselines &out,
                           std::string &error);

/// The cost of one steady_clock::now() in this process: the median over 31 batches of 256.
double clock_read_ns();

/// Runs one point between two forked processes: prepares the instance(s) in this process,
/// forks A and B, reaps both, destroys the instances, and checks their named objects are gone.
/// Before a pingpong, A and B run 5000 bare cache-line round trips (Measurement::line_ns_p50).
Measurement run_point(const Point &p, const Budget &b, const CpuPair &cpus);

/// True when `e` is a latest-value register rather than a queue (its claims name "register").
inline bool is_register(const ChannelEntry &e) { return e.claims.promises("register"); }

/// "8 B", "4 KiB", "1 MiB": a byte count for humans.
std::string size_text(std::size_t bytes);

/// The readable report on stdout: baselines, round trips, one-way rates, the registers, what
/// was skipped and why, and (when the channels involved were measured) the project's targets.
void print_report(const Baselines &base, const std::vector<Measurement> &results,
                  const std::vector<Skip> &skips, bool show_targets);

/// Writes the JSON of docs/design.md ("Benchmark output"). False with `error` set on failure.
bool write_json(const std::string &path, const Baselines &base,
                const std::vector<Measurement> &results, std::string &error);

/// Checks a file written by write_json: both baselines positive, every result well formed, and
/// at least one result for every registered channel that is not faulty. False with `error`.
bool check_json(const std::string &path, std::string &summary, std::string &error);

} // namespace ipcv::bench
