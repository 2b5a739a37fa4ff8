#!/usr/bin/env bash
# tests/sim/heavy_loss.sh SCN [SEEDS] [JOBS]: the heavy-loss run of issue 11 (ctest
# sim.heavy_loss, labels sim and slow). Runs SCN on seeds 1..SEEDS (50) with timestamps on
# and with them off, JOBS (2) at a time. Every run must hold all its expectations (data
# whole both ways, both ends CLOSED), and in each set the slowest seed's completion time
# (the connection's last packet) must be within twice the median's. Prints one line per
# seed (completion, RTO retransmissions of each end) and each set's median and maximum.
# Needs $TCPSIM; $TS_SIM_TMP for scratch files.
set -uo pipefail
scn=${1:?usage: heavy_loss.sh SCN [SEEDS] [JOBS]}
seeds=${2:-50}
jobs=${3:-2}
: "${TCPSIM:?set TCPSIM to the tcpsim binary}"
tmp=$(mktemp -d "${TS_SIM_TMP:-/tmp}/heavy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# one run: its exit status, the connection's summary and any failed expectation
one() {
    local ts=$1 seed=$2
    "$TCPSIM" run "$scn" --seed "$seed" --set "timestamps=$ts" >"$tmp/raw.$ts.$seed" 2>&1
    echo "rc $?" >"$tmp/out.$ts.$seed"
    grep -E '^  1  |^      (client|server)  |^FAIL|^          seen|^--- run ended' \
        "$tmp/raw.$ts.$seed" >>"$tmp/out.$ts.$seed"
    rm -f "$tmp/raw.$ts.$seed"
}
export -f one
export scn tmp TCPSIM

start=$SECONDS
status=0
for ts in on off; do
    seq 1 "$seeds" | xargs -P "$jobs" -I{} bash -c "one $ts {}"
    : >"$tmp/times.$ts"
    for seed in $(seq 1 "$seeds"); do
        f=$tmp/out.$ts.$seed
        rc=$(sed -n 's/^rc //p' "$f")
        last=$(sed -n 's/^  1  .* last \([0-9.]*\)$/\1/p' "$f")
        rto=$(sed -n 's/^      \(client\|server\) .*retransmitted: \([0-9]*\) timeout.*/\1 \2/p' "$f" |
            tr '\n' ' ')
        printf 'timestamps=%-3s seed %2d: done at %11s s; RTO retransmissions: %s\n' \
            "$ts" "$seed" "${last:-?}" "$rto"
        if [ "$rc" != 0 ] || [ -z "$last" ]; then
            echo "FAIL: timestamps=$ts seed $seed: exit $rc"
            grep -E '^FAIL|^          seen|^--- run ended' "$f"
            status=1
        fi
        [ -n "$last" ] && echo "$last $seed" >>"$tmp/times.$ts"
    done
    read -r median max worst < <(sort -n "$tmp/times.$ts" |
        awk '{t[NR] = $1; s[NR] = $2} END {
            m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            print m, t[NR], s[NR] }')
    echo "timestamps=$ts: median ${median} s, slowest ${max} s (seed $worst)"
    if awk -v m="$median" -v x="$max" 'BEGIN { exit !(x > 2 * m) }'; then
        echo "FAIL: timestamps=$ts: the slowest seed ($worst, ${max} s) took more than twice the median (${median} s)"
        status=1
    fi
done
echo "wall time $((SECONDS - start)) s for $((2 * seeds)) runs, $jobs at a time"
exit $status
