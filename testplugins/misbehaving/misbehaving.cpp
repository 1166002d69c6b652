// The misbehaving fixtures as a plugin (misbehaving.hpp): loaded with `ipcverify run --plugin
// libipcv_misbehaving.so --include-faulty --channel misbehave-...`, each must come out as its
// own `run` failure with the reason (tools/tests/misbehaving_test.cpp).
#include "misbehaving.hpp"

#include <ipcverify/plugin.hpp>

namespace {

using ipcv::misbehave::Fault;
using ipcv::misbehave::Misbehaving;

template <Fault F> ipcv::ChannelEntry faulty() { return ipcv::entry_of<Misbehaving<F>>(true); }

} // namespace

IPCV_PLUGIN("misbehaving", r) {
  r.add(faulty<Fault::crash_prepare>());
  r.add(faulty<Fault::crash_destroy>());
  r.add(faulty<Fault::hang_prepare>());
  r.add(faulty<Fault::throw_prepare>());
  r.add(faulty<Fault::crash_send>());
  r.add(faulty<Fault::hang_send>());
  r.add(faulty<Fault::throw_connect>());
  r.add(faulty<Fault::throw_send>());
  r.add(faulty<Fault::garbage_size>());
  r.add(faulty<Fault::leak_shm>());
  r.add(faulty<Fault::leak_descriptor>());
}
