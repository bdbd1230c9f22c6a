#!/bin/sh
# Starts a one-node Slurm on this machine for the tests: munged on its own socket with a fresh key,
# slurmctld and slurmd for localhost on 127.0.0.1 (free ports), every file under STATE_DIR.
# No cgroups, no systemd, no accounting database. Idempotent: a cluster already up there is kept.
# Usage: tests/slurm/slurm_up.sh STATE_DIR; then `. STATE_DIR/env.sh` sets SLURM_CONF for the
# clients (sbatch, squeue, scancel). Stop it with tests/slurm/slurm_down.sh STATE_DIR.
set -eu
dir=${1:?usage: slurm_up.sh STATE_DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

for b in munged mungekey slurmctld slurmd sbatch squeue scancel; do
  command -v "$b" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
  command -v "$b" >/dev/null 2>&1 || {
    echo "slurm_up: $b not found; install slurm-wlm and munge (scripts/install-deps.sh --test)" >&2
    exit 1
  }
done

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if alive "$dir/munged.pid" && alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid"; then
  echo "slurm_up: already running in $dir"
  exit 0
fi
# A half-started cluster from before: stop what is left of it, start afresh.
"$(dirname "$0")/slurm_down.sh" "$dir" >/dev/null 2>&1 || true

mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
chmod 700 "$dir/munge"
# munged wants a key only its user can read.
rm -f "$dir/munge/munge.key"
mungekey --create --keyfile="$dir/munge/munge.key" --bits=1024
chmod 400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"

# Two free TCP ports on loopback, for slurmctld and slurmd.
# Every local port in use (listening or not), from /proc/net/tcp{,6}'s hex "address:port".
used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk 'NR > 1 && $2 ~ /:/ { n = split($2, a, ":"); print a[n] }' |
  while read -r h; do echo $((0x$h)); done | sort -u)
free_port() {
  p=$1
  while echo "$used" | grep -qx "$p" || [ "$p" = "${2:-0}" ]; do p=$((p + 1)); done
  echo "$p"
}
base=$((20000 + $$ % 20000))
ctld_port=$(free_port "$base")
slurmd_port=$(free_port $((ctld_port + 1)) "$ctld_port")

cpus=$(nproc)
mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
user=$(id -un)
cat > "$dir/slurm.conf" <<CONF
# A one-node test cluster (tests/slurm/slurm_up.sh); every path under $dir.
ClusterName=emergence-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=30
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
echo "export SLURM_CONF=$dir/slurm.conf" > "$dir/env.sh"
export SLURM_CONF="$dir/slurm.conf"

# -c: a clean start, no state kept from an earlier cluster in this directory.
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
# Ready when the node takes jobs (at most 30 s).
i=0
while :; do
  state=$(sinfo -h -N -o %t 2>/dev/null || true)
  case "$state" in idle*|mix*|alloc*) break ;; esac
  i=$((i + 1))
  if [ "$i" -gt 60 ]; then
    echo "slurm_up: the node did not come up (state '$state'); see $dir/log/" >&2
    exit 1
  fi
  sleep 0.5
done
echo "slurm_up: slurmctld on 127.0.0.1:$ctld_port, slurmd on :$slurmd_port, $cpus CPUs; . $dir/env.sh"
