#!/bin/sh
# Configures and builds emergence (Release, Ninja) into ./build. Incremental when run again.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
