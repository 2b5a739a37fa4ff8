#!/usr/bin/env bash
# run.sh: run one TUN integration test inside a network namespace of its own.
#   run.sh TCPSIM TEST.py [ARGS...]
# Creates the namespace (unique per process, so parallel ctest runs never collide), runs
# the Python test inside it with TCPSIM in the environment, and on every exit path kills
# whatever still runs in the namespace and deletes it. Exit status: the test's; 77 = skipped.
set -u
tcpsim=$1 test=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: TUN tests need root (network namespaces)"; exit 77; }

# Namespaces left by a test that was killed (ctest timeout): ours are tstun-PID-...; drop
# those whose PID is gone.
for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^tstun-[0-9]*-'); do
    pid=${old#tstun-}; pid=${pid%%-*}
    if ! kill -0 "$pid" 2>/dev/null; then
        for p in $(ip netns pids "$old" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$old" 2>/dev/null
    fi
done

ns="tstun-$$-$(basename "$test" .py | tr -c 'a-z0-9\n' '-' | cut -c1-20)"
cleanup() {
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns" || { echo "FAIL: ip netns add $ns"; exit 1; }
ip netns exec "$ns" ip link set lo up
TCPSIM=$tcpsim TS_NETNS=$ns PYTHONPATH="$here" PYTHONDONTWRITEBYTECODE=1 \
    ip netns exec "$ns" python3 "$test" "$@"
