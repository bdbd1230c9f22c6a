#!/bin/sh
# Installs what is missing (with the test oracle), builds, and runs the default test suite.
# Long checks: ctest --test-dir build -L long --output-on-failure
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
ctest --test-dir build -LE long --output-on-failure -j 2 --timeout 900
