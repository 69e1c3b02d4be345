#!/usr/bin/env bash
# Runs the whole test suite: the release build's tests, then the file parsers and the engine
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    release tests only
set -euo pipefail
cd "$(dirname "$0")/.."
FARE_SETUP_NO_EXAMPLE=1 scripts/setup.sh
jobs="$(nproc)"

ctest --preset release -j "$jobs"

if [ "${1:-}" != "--quick" ]; then
  cmake --preset sanitize >/dev/null
  cmake --build --preset sanitize -j "$jobs" --target sanitize_tests
  ctest --preset sanitize -j "$jobs" -L sanitize
fi
