// Conformance checks: the behaviour every channel owes the Channel contract (round trips of
// 0, 1 and maximum-size messages, too_large, eof, prompt timeouts, full, peer_gone, real
// multi-process round trips), each run against a registry entry and leaving no OS object or
// process behind. The tests and `ipcverify verify` run the same checks.
#pragma once

#include "outcome.hpp"

#include "ipcverify/any_channel.hpp"

#include <chrono>
#include <span>
#include <string>
#include <string_view>

namespace ipcv::harness {

/// The outcome of one conformance check on one channel.
struct CheckOutcome {
  Outcome kind = Outcome::pass;
  std::string detail; ///< why it failed or was skipped; empty on pass

  static CheckOutcome ok() { return {}; }
  static CheckOutcome failed(std::string why) { return {Outcome::fail, std::move(why)}; }
  static CheckOutcome skipped(std::string why) { return {Outcome::skip, std::move(why)}; }
};

/// A ConformanceCheck is one named behaviour of the contract and the code that checks it.
struct ConformanceCheck {
  std::string_view name;  ///< UpperCamelCase, used as the test name
  std::string_view claim; ///< one sentence: what the channel must do
  CheckOutcome (*run)(const ChannelEntry &);
};

/// Every conformance check, in the order they are reported.
std::span<const ConformanceCheck> conformance_checks();

/// How long one check may run (in a child process) before the channel is judged to have hung
/// and the child is killed: 60 s unless set (`ipcverify verify --check-limit`).
std::chrono::seconds check_limit();
void set_check_limit(std::chrono::seconds limit);

/// True when the entry is a latest-value register rather than a queue (it claims `register`).
bool is_register(const ChannelEntry &e);

} // namespace ipcv::harness
