#include "kselftest_harness.h"
#include <amxrt/amxrt.h>
TEST(version) { ASSERT_STREQ(amxrt_version(), AMXRT_VERSION_STRING); }
TEST_HARNESS_MAIN
