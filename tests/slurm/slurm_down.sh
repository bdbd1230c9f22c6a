#!/bin/sh
# Stops the test cluster that tests/slurm/slurm_up.sh started in STATE_DIR, by the pids it wrote.
# Idempotent: what is not running is skipped.
set -eu
dir=${1:?usage: slurm_down.sh STATE_DIR}
[ -d "$dir" ] || exit 0
for d in slurmd slurmctld munged; do
  f="$dir/$d.pid"
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$f"
done
echo "slurm_down: stopped the cluster in $dir"
