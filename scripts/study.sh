#!/bin/sh
# Installs what is missing, builds, and runs the main job: the quick study on the built-in corpus
# and tasks (configs/quick.toml) into studies/quick. Extra arguments go to `emergence study`
# (e.g. a config path, --dir DIR). Rerunning continues an interrupted study.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh emergence   # the program alone: the study needs no tests or benchmarks
exec build/emergence study "$@"
