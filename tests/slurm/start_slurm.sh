#!/usr/bin/env bash
# Start a throw-away single-node Slurm cluster (munged, slurmctld, slurmd) with one fake GPU, for tests.
#
# Usage: tests/slurm/start_slurm.sh ROOT
#   ROOT        an empty or new folder; every file the cluster writes (config, state, logs, sockets) goes there
#   env SLURMCTLD_PORT, SLURMD_PORT   TCP ports (default 6817, 6818); pick free ones to run beside another Slurm
#   env NODE_CPUS, NODE_MEM_MB        what the node offers (default: this machine's CPUs and 80% of its RAM). More
#                                     than the machine has lets jobs run side by side; nothing enforces the limits
#                                     (no cgroups), so this only changes how many jobs Slurm starts at once.
#
# Needs root (slurmd runs jobs as their submitting user) and the Debian packages slurm-wlm, slurm-client and
# munge. The daemons run in the foreground under `&`, each PID goes to ROOT/pids, and tests/slurm/stop_slurm.sh
# stops them by PID; run it also when this script fails, to stop what did start. Nothing outside ROOT is
# written: munged gets its own key and socket in ROOT/munge.
# On success the last line printed is the environment a client needs; it is also written to ROOT/env:
#   export SLURM_CONF=ROOT/etc/slurm.conf PATH=ROOT/bin:$PATH
# ROOT/bin holds an `srun` wrapper because the slurm-jobstep executor plugin removes SLURM_CONF from the
# environment of the `srun` it runs inside each job.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 ROOT" >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "start_slurm.sh: must run as root (slurmd needs it)" >&2
    exit 1
fi
for program in munged mungekey munge slurmctld slurmd sinfo; do
    if ! command -v "$program" >/dev/null && [ ! -x "/usr/sbin/$program" ]; then
        echo "start_slurm.sh: $program not found; apt-get install slurm-wlm slurm-client munge" >&2
        exit 1
    fi
done

mkdir -p "$1"
ROOT=$(cd "$1" && pwd)
CTLD_PORT=${SLURMCTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
HOST=$(hostname -s)
NODE_CPUS=${NODE_CPUS:-$(nproc)}
NODE_MEM_MB=${NODE_MEM_MB:-$(($(awk '/^MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10))}
PIDS="$ROOT/pids"
mkdir -p "$ROOT"/{etc,state,spool,log,bin,munge}
: >"$PIDS"

# Print the last lines of a daemon's logs and fail.
fail() {
    echo "start_slurm.sh: $1" >&2
    tail -n 20 "$ROOT"/log/* >&2 2>/dev/null || true
    exit 1
}

# Wait up to $1 tenths of a second for command "${@:2}" to succeed.
wait_for() {
    local tenths=$1
    shift
    for _ in $(seq "$tenths"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# ---- munge: authentication, with a private key and socket -----------------------------------------------
SOCKET="$ROOT/munge/munge.socket"
mungekey --create --force --keyfile="$ROOT/munge/munge.key"
chmod 700 "$ROOT/munge"
# --force: munged refuses a socket that other users cannot reach, as in a private (0700) ROOT; here every
# client runs as root.
/usr/sbin/munged --foreground --force --socket="$SOCKET" --key-file="$ROOT/munge/munge.key" \
    --pid-file="$ROOT/munge/munged.pid" --seed-file="$ROOT/munge/munged.seed" \
    --log-file="$ROOT/log/munged.log" >"$ROOT/log/munged.out" 2>&1 &
echo "munged $!" >>"$PIDS"
wait_for 100 munge --socket="$SOCKET" --no-input || fail "munged did not start"

# ---- configuration ---------------------------------------------------------------------------------------
# No accounting (slurmdbd) on purpose: the profile must work without it. proctrack/linuxproc and task/none
# need no cgroup setup; config_overrides makes slurmd accept NODE_CPUS and NODE_MEM_MB as they are.
# MinJobAge keeps finished jobs visible to `squeue` (and to the test) for 15 minutes; the slurm executor
# plugin polls with squeue only if it is >= 3 x --slurm-init-seconds-before-status-checks.
cat >"$ROOT/etc/slurm.conf" <<CONF
ClusterName=hmmrnn-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
StateSaveLocation=$ROOT/state
SlurmdSpoolDir=$ROOT/spool
SlurmctldPidFile=$ROOT/state/slurmctld.pid
SlurmdPidFile=$ROOT/spool/slurmd.pid
SlurmctldLogFile=$ROOT/log/slurmctld.log
SlurmdLogFile=$ROOT/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=900
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
GresTypes=gpu
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NODE_CPUS RealMemory=$NODE_MEM_MB Gres=gpu:fake:1 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
# A fake GPU: Slurm schedules it like a real one and sets CUDA_VISIBLE_DEVICES, but there is no device.
cat >"$ROOT/etc/gres.conf" <<CONF
AutoDetect=off
NodeName=$HOST Name=gpu Type=fake File=/dev/null
CONF
export SLURM_CONF="$ROOT/etc/slurm.conf"

cat >"$ROOT/bin/srun" <<WRAPPER
#!/bin/sh
# The slurm-jobstep plugin strips SLURM_* (SLURM_CONF included) from the environment of its srun.
export SLURM_CONF="$SLURM_CONF"
exec /usr/bin/srun "\$@"
WRAPPER
chmod +x "$ROOT/bin/srun"
echo "export SLURM_CONF=$SLURM_CONF PATH=$ROOT/bin:\$PATH" >"$ROOT/env"

# ---- controller and compute daemon -----------------------------------------------------------------------
/usr/sbin/slurmctld -D -i >"$ROOT/log/slurmctld.out" 2>&1 &
echo "slurmctld $!" >>"$PIDS"
/usr/sbin/slurmd -D -N "$HOST" >"$ROOT/log/slurmd.out" 2>&1 &
echo "slurmd $!" >>"$PIDS"

node_idle() { [ "$(sinfo --noheader --format=%T 2>/dev/null)" = idle ]; }
wait_for 300 node_idle || fail "the node did not become idle within 30 s"
cat "$ROOT/env"
