#!/bin/sh
# Configures and builds emergence (Release, Ninja) into ./build. Incremental when run again.
# Usage: scripts/build.sh [TARGET ...]   (default: everything: the program, tests, benchmarks)
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ $# -gt 0 ]; then
  cmake --build build -j "$(nproc)" --target "$@"
else
  cmake --build build -j "$(nproc)"
fi
