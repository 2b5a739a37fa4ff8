#!/usr/bin/env bash
# tests/sim/identical.sh [--update]: every scenario's output and pcap, and the packetdrill
# adapter's packets, byte for byte as recorded in tests/sim/identical.sha256.
#
# For each scenario in sim/scenarios and tests/sim/stress and each seed in SEEDS, runs
#   tcpsim run FILE --seed S --pcap P      (the printed output and the pcap)
#   tcpsim run FILE --seed S --trace       (state changes, timers, socket calls)
# and tests/conformance/pd_trace (a fixed exchange with libtcpsim_packetdrill.so), and
# compares the SHA-256 of each with the recorded one. A refactor that means to change no
# behaviour must leave every line alone; a change that means to alter behaviour records
# the new hashes with --update and says why in its commit.
#
# Needs $TCPSIM; $TS_PD_TRACE and $TS_PD_SO for the adapter (skipped when unset);
# $TS_SIM_TMP for scratch files. Run from anywhere: paths are taken relative to the
# source tree, because the output names the scenario file.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
file=$here/identical.sha256
SEEDS=(1 2 7)
update=0
[ "${1:-}" = "--update" ] && update=1

tmp=$(mktemp -d "${TS_SIM_TMP:-/tmp}/identical.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: "${TCPSIM:?set TCPSIM to the tcpsim binary}"
[ -x "$TCPSIM" ] || { echo "identical.sh: $TCPSIM is not executable" >&2; exit 2; }

sum() { sha256sum "$1" | cut -d' ' -f1; }

# One line per (what, name, seed): "HASH  KIND NAME SEED".
record() {
    cd "$root" || exit 2
    for scn in sim/scenarios/*.scn tests/sim/stress/*.scn; do
        name=${scn%.scn}
        for seed in "${SEEDS[@]}"; do
            "$TCPSIM" run "$scn" --seed "$seed" --pcap "$tmp/p.pcap" >"$tmp/out" 2>&1
            echo "rc=$?" >>"$tmp/out"
            echo "$(sum "$tmp/out")  out   $name $seed"
            echo "$(sum "$tmp/p.pcap")  pcap  $name $seed"
            "$TCPSIM" run "$scn" --seed "$seed" --trace >"$tmp/trace" 2>&1
            echo "rc=$?" >>"$tmp/trace"
            echo "$(sum "$tmp/trace")  trace $name $seed"
        done
    done
    if [ -n "${TS_PD_TRACE:-}" ] && [ -n "${TS_PD_SO:-}" ]; then
        "$TS_PD_TRACE" "$TS_PD_SO" >"$tmp/pd" 2>&1
        echo "rc=$?" >>"$tmp/pd"
        echo "$(sum "$tmp/pd")  pd    packetdrill-adapter -"
    fi
}

record >"$tmp/now"
if [ $update -eq 1 ]; then
    cp "$tmp/now" "$file"
    echo "identical.sh: recorded $(wc -l <"$file") hashes in $file"
    exit 0
fi
[ -f "$file" ] || { echo "identical.sh: no $file; record it with $0 --update" >&2; exit 1; }

# Compare line by line: name every run that differs or is missing.
bad=0
while read -r want kind name seed; do
    got=$(awk -v k="$kind" -v n="$name" -v s="$seed" '$2==k && $3==n && $4==s {print $1}' "$tmp/now")
    if [ -z "$got" ]; then
        # The adapter's line is only checked where the adapter was built and given.
        [ "$kind" = pd ] && [ -z "${TS_PD_TRACE:-}" ] && continue
        echo "MISSING: $kind $name seed $seed (scenario gone or not run)"
        bad=1
    elif [ "$got" != "$want" ]; then
        case $kind in
        out) how="tcpsim run $name.scn --seed $seed --pcap P" ;;
        pcap) how="tcpsim run $name.scn --seed $seed --pcap P; cmp P" ;;
        trace) how="tcpsim run $name.scn --seed $seed --trace" ;;
        pd) how="pd_trace libtcpsim_packetdrill.so" ;;
        esac
        echo "DIFFERS: $kind of $name seed $seed (see: $how, on main and here)"
        bad=1
    fi
done <"$file"
new=$(awk 'NR==FNR {seen[$2" "$3" "$4]=1; next} !seen[$2" "$3" "$4] {print $2" "$3" seed "$4}' \
    "$file" "$tmp/now")
if [ -n "$new" ]; then
    echo "$new" | sed 's/^/NEW (not recorded): /'
    bad=1
fi
if [ $bad -ne 0 ]; then
    echo "FAIL: runs differ from tests/sim/identical.sha256. If the change is meant to alter"
    echo "behaviour, record it: TCPSIM=build/tools/tcpsim TS_PD_TRACE=build/tests/conformance/pd_trace"
    echo "  TS_PD_SO=build/lib/libtcpsim_packetdrill.so tests/sim/identical.sh --update"
    echo "and say in the commit why the runs changed."
    exit 1
fi
echo "identical: $(wc -l <"$tmp/now") runs byte-identical to $file"
