#!/usr/bin/env bash
# Runs the whole test suite: the release build's tests, then the file parsers and the engine
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    release tests only
# The third pass builds the thread pool, scheduler and server tests with ThreadSanitizer and runs them
# (100 random schedules instead of 1000, the tiny model's batch test left to the other passes: a
# thread-sanitized forward pass is about 30 times slower).
# The last pass builds the fuzz targets with clang (libFuzzer, ASan + UBSan) and runs each over its
# committed seeds and then on new inputs for a few seconds (scripts/fuzz.sh; longer runs: give it
# more seconds per target).
set -euo pipefail
cd "$(dirname "$0")/.."
FARE_SETUP_NO_EXAMPLE=1 scripts/setup.sh
jobs="$(nproc)"

ctest --preset release -j "$jobs"

if [ "${1:-}" != "--quick" ]; then
  cmake --preset sanitize >/dev/null
  cmake --build --preset sanitize -j "$jobs" --target sanitize_tests
  ctest --preset sanitize -j "$jobs" -L sanitize

  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$jobs" --target thread_pool_test scheduler_test server_http_tests
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
  build/tsan/tests/common/thread_pool_test
  FARE_RANDOM_SCHEDULES=100 build/tsan/tests/engine/scheduler_test --gtest_filter='-*BatchInvariance*tiny*'
  # The server in process: HTTP threads, streams, cancellation and shutdown against the scheduler
  # (not the tests that spawn `fare` processes, nor the one whose grace a sanitized decode outlasts).
  build/tsan/tests/server/server_http_tests --gtest_filter='ServerHttp.*:ServerJudge.*:ServerInjection.*:-*ShutdownLetsInFlightWork*'

  scripts/fuzz.sh 5
fi
