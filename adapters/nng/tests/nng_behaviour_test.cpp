#include <gtest/gtest.h>
#include <nng/nng.h>
TEST(NngSmoke, Opens) { SUCCEED(); }
