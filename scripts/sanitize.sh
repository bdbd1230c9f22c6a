#!/bin/sh
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer into ./build-asan and
# runs the default test suite under them; any finding fails the test that met it.
# Usage: scripts/sanitize.sh [extra ctest arguments, e.g. -R Points]
set -eu
cd "$(dirname "$0")/.."
launcher=""
if command -v ccache >/dev/null 2>&1; then launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"; fi
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEM_SANITIZE=ON \
    $launcher >/dev/null
cmake --build build-asan -j "$(nproc)"
# halt_on_error: the first finding stops the test that met it, so ctest reports it as failed.
# Leaks are findings too (LeakSanitizer runs at exit; scripts/lsan.supp lists what system
# libraries keep on purpose).
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
LSAN_OPTIONS="suppressions=$(pwd)/scripts/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
ctest --test-dir build-asan -LE long --output-on-failure -j 2 --timeout 1800 "$@"
