// The good test plugin: one correct channel, claiming what it provides.
#include "good_pipe.hpp"

IPCV_PLUGIN("fixture-good", registrar) { registrar.add<fixture::GoodPipe>(); }
