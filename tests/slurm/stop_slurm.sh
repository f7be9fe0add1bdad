#!/usr/bin/env bash
# Stop a cluster started by tests/slurm/start_slurm.sh ROOT, and every process it started.
#
# Usage: tests/slurm/stop_slurm.sh ROOT
#
# 1. Cancels the jobs still in this cluster's queue (their processes belong to slurmstepd, not to slurmd).
# 2. Stops the daemons listed in ROOT/pids by PID, in reverse start order: SIGTERM, then SIGKILL after 10 s.
# 3. Stops any process left whose environment holds this cluster's SLURM_CONF: slurmstepd and job steps
#    detach from slurmd, so only their environment ties them to this cluster. SIGTERM, then SIGKILL after 5 s.
# Safe to run twice, or after a start that failed half-way.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 ROOT" >&2
    exit 2
fi
ROOT=$(cd "$1" 2>/dev/null && pwd) || exit 0
CONF="$ROOT/etc/slurm.conf"
# Given only to the Slurm commands below, so that no process of this script matches cluster_processes.
unset SLURM_CONF

# Stop PID $2 (named $1): SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid() {
    kill -0 "$2" 2>/dev/null || return 0
    kill "$2" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$2" 2>/dev/null || {
            echo "stopped $1 ($2)"
            return 0
        }
        sleep 0.1
    done
    kill -KILL "$2" 2>/dev/null && echo "killed $1 ($2)"
}

# PIDs of processes whose environment contains this cluster's SLURM_CONF (job steps, slurmstepd).
cluster_processes() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}
        pid=${pid%/environ}
        [ "$pid" = $$ ] && continue
        { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$CONF" && echo "$pid"
    done
}

if [ -f "$CONF" ] && [ -s "$ROOT/pids" ]; then
    if SLURM_CONF=$CONF timeout 10 squeue --noheader --format=%i >/dev/null 2>&1; then
        SLURM_CONF=$CONF timeout 10 scancel --full --signal=KILL "--user=$(id -un)" 2>/dev/null
        for _ in $(seq 50); do
            [ -z "$(SLURM_CONF=$CONF timeout 5 squeue --noheader --states=RUNNING,COMPLETING --format=%i 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
fi

if [ -f "$ROOT/pids" ]; then
    tac "$ROOT/pids" | while read -r name pid; do
        stop_pid "$name" "$pid"
    done
fi

# Left-over job processes (only if the controller could not cancel their jobs): SIGTERM, then SIGKILL after 5 s.
leftover=$(cluster_processes)
if [ -n "$leftover" ]; then
    echo "stopping left-over job processes: $(echo $leftover)"
    kill $leftover 2>/dev/null
    for _ in $(seq 50); do
        alive=""
        for pid in $leftover; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    [ -n "$alive" ] && kill -KILL $alive 2>/dev/null
fi
exit 0
