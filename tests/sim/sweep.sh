#!/usr/bin/env bash
# tests/sim/sweep.sh MODE DIR: the sweep runner's checks (tests/sim/CMakeLists.txt). DIR holds
# the test scenarios (tests/sim/sweep/); needs $TCPSIM and $TS_SIM_TMP. Modes:
#   grid     row count, the parameter columns in grid order, pandas loads it as is, every
#            column documented in docs/sweeps.md
#   same     the same sweep twice, and with -j 1 and -j 2: identical bytes
#   shards   4 shards merged equal the unsharded run byte for byte
#   resume   a sweep killed by its PID mid-way, then rerun, equals an uninterrupted one;
#            so does a file with a torn last line and one with rows missing in the middle
#   merge    merge refuses a missing shard, a doubled shard, shards of another sweep
#   refuse   a bad --vary name, value, seed range or shard: one line, exit 2, no file
#   plot     plot sweep: well-formed SVG (rendered) with its series, bands, axis titles;
#            the numbers beside it are pandas' medians and the order-statistic bounds
#   measure  what the rows say: SYN retransmissions, backoff and connect failures; a
#            spurious RTO retransmission (the original only late); pure ACKs counted as
#            tcpsim run prints them; -D in tcpsim run
set -uo pipefail
mode=$1
dir=$2
tmp=${TS_SIM_TMP:-/tmp}/sweep.$mode.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3 # Debian's, where python3-pandas lives
src=$(cd "$(dirname "$0")/../.." && pwd)
tiny=$dir/tiny.scn
grid=(--vary loss=0%,2%,5%,10% --vary cc=newreno,cubic --seeds 1..5)

case "$mode" in
grid)
    "$TCPSIM" sweep "$tiny" "${grid[@]}" -j 2 -o "$tmp/r.csv" || fail "sweep failed"
    [ "$(wc -l <"$tmp/r.csv")" -eq 41 ] || fail "want a header and 40 rows, got $(wc -l <"$tmp/r.csv") lines"
    "$py" - "$tmp/r.csv" "$src/docs/sweeps.md" <<'PY' || fail "pandas"
import itertools, sys
import pandas as pd
d = pd.read_csv(sys.argv[1])
want = list(itertools.product(["0%", "2%", "5%", "10%"], ["newreno", "cubic"], range(1, 6)))
got = list(zip(d["loss"], d["cc"], d["seed"]))
assert got == want, f"grid order: {got[:6]}..."
assert list(d.columns[:5]) == ["loss", "cc", "seed", "run", "runs"], list(d.columns[:5])
assert list(d["run"]) == list(range(40)) and set(d["runs"]) == {40}
assert (d["whole"] == 1).all() and (d["expect_ok"] == 1).all()
assert (d["bytes_delivered"] == 30000).all()
for c in ["completion_s", "goodput_mbps", "rexmit", "spurious_rexmit", "recovery_s"]:
    assert d[c].dtype.kind in "if", f"{c} is {d[c].dtype}"
lossless = d[d["loss"] == "0%"]
assert (lossless["rexmit"] == 0).all(), "retransmissions without loss"
assert d[d["loss"] == "10%"]["rexmit"].sum() > 0, "no retransmissions at 10% loss"
r = d["rexmit"]
parts = sum(d[c] for c in ["rexmit_rto", "rexmit_fast", "rexmit_partial", "rexmit_tlp",
                          "rexmit_rack", "rexmit_probe", "rexmit_syn"])
assert (r == parts).all(), "rexmit is not the sum of its causes"
docs = open(sys.argv[2]).read()
missing = [c for c in d.columns[2:] if f"| `{c}` |" not in docs]
assert not missing, f"columns not documented in docs/sweeps.md: {missing}"
print(f"grid: {len(d)} rows, {len(d.columns)} columns; pandas reads them; all documented")
PY
    ;;
same)
    "$TCPSIM" sweep "$tiny" "${grid[@]}" -j 2 -o "$tmp/a.csv" || fail "sweep a"
    "$TCPSIM" sweep "$tiny" "${grid[@]}" -j 2 -o "$tmp/b.csv" || fail "sweep b"
    "$TCPSIM" sweep "$tiny" "${grid[@]}" -j 1 -o "$tmp/c.csv" || fail "sweep c"
    cmp "$tmp/a.csv" "$tmp/b.csv" || fail "the same sweep twice differs"
    cmp "$tmp/a.csv" "$tmp/c.csv" || fail "-j 1 and -j 2 differ"
    echo "same: identical twice and across -j ($(wc -l <"$tmp/a.csv") lines)"
    ;;
shards)
    "$TCPSIM" sweep "$tiny" "${grid[@]}" -o "$tmp/all.csv" || fail "unsharded"
    for k in 1 2 3 4; do
        "$TCPSIM" sweep "$tiny" "${grid[@]}" -j 1 --shard $k/4 -o "$tmp/s$k.csv" || fail "shard $k"
        [ "$(wc -l <"$tmp/s$k.csv")" -eq 11 ] || fail "shard $k: want 10 rows"
    done
    "$TCPSIM" sweep merge "$tmp/m.csv" "$tmp"/s{3,1,4,2}.csv || fail "merge"
    cmp "$tmp/all.csv" "$tmp/m.csv" || fail "merged shards differ from the unsharded run"
    echo "shards: 4 shards merged = the unsharded run, byte for byte"
    ;;
resume)
    # 12,000 runs (about 2 s): a smaller grid could finish before the kill lands
    big=(--vary loss=0%,2%,5%,10% --vary cc=newreno,cubic --seeds 1..1500)
    "$TCPSIM" sweep "$tiny" "${big[@]}" -j 2 -o "$tmp/full.csv" || fail "uninterrupted"
    "$TCPSIM" sweep "$tiny" "${big[@]}" -j 2 -o "$tmp/k.csv" &
    pid=$!
    for _ in $(seq 1 400); do # until some rows are there, at most 4 s
        [ -f "$tmp/k.csv" ] && [ "$(wc -l <"$tmp/k.csv")" -gt 20 ] && break
        sleep 0.01
    done
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    got=$(wc -l <"$tmp/k.csv")
    [ "$got" -gt 1 ] && [ "$got" -lt 12001 ] || fail "the kill did not land mid-way ($got lines)"
    cmp -s "$tmp/k.csv" "$tmp/full.csv" && fail "killed, yet complete"
    "$TCPSIM" sweep "$tiny" "${big[@]}" -j 2 -o "$tmp/k.csv" || fail "resume"
    cmp "$tmp/k.csv" "$tmp/full.csv" || fail "killed after $got lines and resumed: differs"
    # a torn last line (the write cut by a crash) is dropped and that run done again
    head -n 600 "$tmp/full.csv" >"$tmp/t.csv"
    sed -n 601p "$tmp/full.csv" | head -c 40 >>"$tmp/t.csv"
    "$TCPSIM" sweep "$tiny" "${big[@]}" -j 2 -o "$tmp/t.csv" || fail "resume after a torn line"
    cmp "$tmp/t.csv" "$tmp/full.csv" || fail "a torn line resumed: differs"
    # rows missing in the middle: run, and the file comes out in grid order
    sed '100,400d' "$tmp/full.csv" >"$tmp/h.csv"
    "$TCPSIM" sweep "$tiny" "${big[@]}" -j 2 -o "$tmp/h.csv" || fail "resume with a hole"
    cmp "$tmp/h.csv" "$tmp/full.csv" || fail "rows missing in the middle, resumed: differs"
    # a finished file: nothing to do, nothing changes
    "$TCPSIM" sweep "$tiny" "${big[@]}" -j 2 -o "$tmp/h.csv" || fail "rerun of a finished sweep"
    cmp "$tmp/h.csv" "$tmp/full.csv" || fail "rerunning a finished sweep changed it"
    # another sweep's file is refused, not mixed
    "$TCPSIM" sweep "$tiny" --vary loss=1% -o "$tmp/h.csv" 2>"$tmp/err" && fail "mixed sweeps"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "want one line: $(cat "$tmp/err")"
    echo "resume: killed at $got of 12001 lines; resumed, torn, holed: all = uninterrupted"
    ;;
merge)
    for k in 1 2 3; do
        "$TCPSIM" sweep "$tiny" "${grid[@]}" --shard $k/3 -o "$tmp/s$k.csv" || fail "shard $k"
    done
    "$TCPSIM" sweep "$tiny" --vary loss=1%,2% -o "$tmp/other.csv" || fail "other sweep"
    check() { # WHAT FRAGMENT ARGS...: exit 2, one line naming the problem, no output file
        local what=$1 frag=$2
        shift 2
        "$TCPSIM" sweep merge "$tmp/m.csv" "$@" 2>"$tmp/err"
        local rc=$?
        [ $rc -eq 2 ] || fail "$what: exit $rc, want 2"
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$what: want one line: $(cat "$tmp/err")"
        grep -qF -- "$frag" "$tmp/err" || fail "$what: want '$frag' in: $(cat "$tmp/err")"
        [ ! -e "$tmp/m.csv" ] || fail "$what: wrote the output anyway"
        echo "$what: $(cat "$tmp/err")"
    }
    check "missing shard" "13 of 40 runs are missing" "$tmp/s1.csv" "$tmp/s2.csv"
    check "doubled shard" "is doubled" "$tmp/s1.csv" "$tmp/s2.csv" "$tmp/s3.csv" "$tmp/s2.csv"
    check "other sweep" "different columns" "$tmp/s1.csv" "$tmp/other.csv"
    head -n 5 "$tmp/s3.csv" >"$tmp/cut.csv"
    check "unfinished shard" "missing" "$tmp/s1.csv" "$tmp/s2.csv" "$tmp/cut.csv"
    "$TCPSIM" sweep merge "$tmp/m.csv" "$tmp"/s{1,2,3}.csv || fail "a good merge refused"
    ;;
refuse)
    check() { # WHAT FRAGMENT ARGS...
        local what=$1 frag=$2
        shift 2
        "$TCPSIM" sweep "$tiny" "$@" -o "$tmp/r.csv" >"$tmp/out" 2>"$tmp/err"
        local rc=$?
        [ $rc -eq 2 ] || fail "$what: exit $rc, want 2"
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$what: want one line: $(cat "$tmp/err")"
        grep -qF -- "$frag" "$tmp/err" || fail "$what: want '$frag' in: $(cat "$tmp/err")"
        [ ! -s "$tmp/out" ] && [ ! -e "$tmp/r.csv" ] || fail "$what: output written anyway"
        echo "$what: $(cat "$tmp/err")"
    }
    check "undeclared name" "declares no 'param foo'" --vary foo=1,2
    check "bad value" "tiny.scn:8: loss: bad probability 'zz'" --vary loss=1%,zz
    check "bad policy" "--vary cc=bogus: " --vary cc=newreno,bogus
    check "value twice" "listed twice" --vary loss=1%,1%
    check "no values" "write NAME=V1,V2" --vary loss=
    check "name twice" "given twice" --vary loss=1% --vary loss=2%
    check "seed range" "--seeds '5..1'" --vary loss=1% --seeds 5..1
    check "seed word" "--seeds 'a..b'" --vary loss=1% --seeds a..b
    check "shard" "--shard '5/4'" --vary loss=1% --shard 5/4
    check "jobs" "-j '0'" --vary loss=1% -j 0
    "$TCPSIM" sweep "$tiny" --vary loss=1% >/dev/null 2>"$tmp/err" && fail "no -o accepted"
    grep -q -- "-o RESULTS.csv" "$tmp/err" || fail "no -o: $(cat "$tmp/err")"
    ;;
measure)
    "$TCPSIM" sweep "$dir/syn.scn" --vary drops=1,2,3 -o "$tmp/syn.csv" || fail "syn sweep"
    "$py" - "$tmp/syn.csv" <<'PY' || fail "syn numbers"
import sys
import pandas as pd
d = pd.read_csv(sys.argv[1]).set_index("drops")
# SYN at 0, 1 s, 3 s (Linux's 1 s initial RTO, doubled); syn_retries=2: three SYNs at most
assert list(d["rexmit_syn"]) == [1, 2, 2], list(d["rexmit_syn"])
assert list(d["max_backoff"]) == [1, 2, 2], list(d["max_backoff"])
assert list(d["connect_failures"]) == [0, 0, 1], list(d["connect_failures"])
assert list(d["connect_s"][:2]) == [1.02, 3.02], list(d["connect_s"])
assert pd.isna(d["connect_s"][3]), "a failed connect has no connect time"
print("syn: retransmissions, backoff, connect time and failures as the schedule says")
PY
    "$TCPSIM" sweep "$dir/spurious.scn" --vary hold=1ms,1500ms -o "$tmp/sp.csv" || fail "spurious sweep"
    "$py" - "$tmp/sp.csv" <<'PY' || fail "spurious numbers"
import sys
import pandas as pd
d = pd.read_csv(sys.argv[1]).set_index("hold")
a, b = d.loc["1ms"], d.loc["1500ms"]
assert a["rexmit"] == 0 and a["spurious_rexmit"] == 0, a
# held 1.5 s: the tail loss probe resends the FIN, the RTO the data (rto 220 ms after
# the probe); the original arrives at 1.61 s: that retransmission was not needed
assert b["rexmit_tlp"] == 1 and b["rexmit_rto"] == 1 and b["rto_expiries"] == 1, b
assert b["spurious_rexmit"] == 1 and b["spurious_bytes"] == 1000, b
assert b["max_rto_s"] == 0.44 and b["max_backoff"] == 1, b
assert b["whole"] == 1 and b["completion_s"] == 0.55, b
print("spurious: a late original makes its RTO retransmission spurious")
PY
    # the causes add up to what the simulator's own report counts (timeout; fast = fast,
    # partial and RACK), seed by seed, on the ready scenario with random loss
    bulk=$src/sim/scenarios/bulk-loss.scn
    "$TCPSIM" sweep "$bulk" --seeds 1..3 -o "$tmp/bulk.csv" || fail "bulk-loss sweep"
    for seed in 1 2 3; do
        read -r rto fast < <("$TCPSIM" run "$bulk" --seed $seed |
            sed -n 's/^ *client .*retransmitted: \([0-9]*\) timeout, \([0-9]*\) fast.*/\1 \2/p')
        row=$("$py" -c 'import sys, pandas as pd
d = pd.read_csv(sys.argv[1]).set_index("seed").loc[int(sys.argv[2])]
print(int(d.rexmit_rto), int(d.rexmit_fast + d.rexmit_partial + d.rexmit_rack))' "$tmp/bulk.csv" $seed)
        [ "$row" = "$rto $fast" ] || fail "seed $seed: sweep says rto, fast = $row; tcpsim run says $rto $fast"
    done
    echo "bulk-loss: RTO and fast retransmissions as tcpsim run reports them (seeds 1-3)"
    # pure_acks: the segments tcpsim run prints as Flags [.] with no payload, per policy
    dl=$src/sim/studies/delack-bulk.scn
    "$TCPSIM" sweep "$dl" --vary policy=linux,every --vary loss=1% -o "$tmp/dl.csv" ||
        fail "delack-bulk sweep"
    for pol in linux every; do
        want=$("$TCPSIM" run "$dl" -D policy=$pol -D loss=1% | grep -c 'Flags \[\.\], .*length 0$')
        got=$("$py" -c 'import sys, pandas as pd
d = pd.read_csv(sys.argv[1]).set_index("policy")
print(int(d.loc[sys.argv[2], "pure_acks"]))' "$tmp/dl.csv" $pol)
        [ "$got" = "$want" ] || fail "$pol: sweep says $got pure ACKs; tcpsim run prints $want"
    done
    echo "delack-bulk: pure ACKs as tcpsim run prints them (linux, every)"
    # tcpsim run -D: the value reaches the file; an undeclared name is refused
    "$TCPSIM" run "$tiny" -q -D loss=0% -D cc=cubic >"$tmp/out" || fail "run -D"
    "$TCPSIM" run "$tiny" -q -D los=1% >/dev/null 2>"$tmp/err" && fail "run -D los accepted"
    grep -q "declares no 'param los'" "$tmp/err" || fail "run -D los: $(cat "$tmp/err")"
    ;;
plot)
    "$TCPSIM" sweep "$tiny" --vary loss=0%,5%,10% --vary cc=newreno,cubic --seeds 1..12 \
        -o "$tmp/r.csv" || fail "sweep"
    "$TCPSIM" plot sweep "$tmp/r.csv" --x loss --y goodput --by cc -o "$tmp/g.svg" || fail "plot"
    xmllint --noout "$tmp/g.svg" || fail "not well-formed XML"
    command -v rsvg-convert >/dev/null && { rsvg-convert -o "$tmp/g.png" "$tmp/g.svg" || fail "rsvg-convert"; }
    [ "$(grep -c '<g class="series"' "$tmp/g.svg")" -eq 2 ] || fail "want 2 series"
    [ "$(grep -c '<polygon class="band b' "$tmp/g.svg")" -eq 2 ] || fail "want 2 bands"
    [ "$(grep -c '<polyline class="median l' "$tmp/g.svg")" -eq 2 ] || fail "want 2 median lines"
    for want in '>loss (%)</text>' '>goodput (Mbit/s)</text>' 'cc=newreno (solid, circle)' \
        'cc=cubic (dashed, square)' '95% CI of the median' 'order statistics' 'g.points.csv'; do
        grep -qF -- "$want" "$tmp/g.svg" || fail "the SVG lacks '$want'"
    done
    "$py" - "$tmp/r.csv" "$tmp/g.points.csv" <<'PY' || fail "plotted numbers"
import sys
import pandas as pd
r, p = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
assert list(p.columns) == ["cc", "loss", "y", "n", "median", "ci_low", "ci_high"], list(p.columns)
assert len(p) == 6 and (p["n"] == 12).all(), p
for _, row in p.iterrows():
    v = r[(r["cc"] == row["cc"]) & (r["loss"] == f"{row['loss']:g}%")]["goodput_mbps"].sort_values()
    assert abs(v.median() - row["median"]) < 1e-6, (row, v.median())
    # n = 12: P(B <= 2) = 0.019 <= 2.5% < P(B <= 3): the 3rd smallest and the 3rd largest
    assert abs(v.iloc[2] - row["ci_low"]) < 1e-6 and abs(v.iloc[9] - row["ci_high"]) < 1e-6, row
print(f"plot: {len(p)} points, medians and order-statistic bounds as pandas computes them")
PY
    check() { # WHAT FRAGMENT ARGS...
        local what=$1 frag=$2
        shift 2
        "$TCPSIM" plot sweep "$tmp/r.csv" "$@" 2>"$tmp/err" >/dev/null && fail "$what accepted"
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$what: want one line: $(cat "$tmp/err")"
        grep -qF -- "$frag" "$tmp/err" || fail "$what: want '$frag' in: $(cat "$tmp/err")"
        echo "$what: $(cat "$tmp/err")"
    }
    check "x not a number" "put that param in --by" --x cc --y goodput --by loss -o "$tmp/x.svg"
    check "unpinned param" "pick one with --where cc=newreno" --x loss --y goodput -o "$tmp/x.svg"
    check "unknown y" "no such measured column" --x loss --y speed --by cc -o "$tmp/x.svg"
    cp "$tmp/r.csv" "$tmp/q.points.csv"
    "$TCPSIM" plot sweep "$tmp/q.points.csv" --x loss --y goodput --by cc -o "$tmp/q.svg" \
        2>"$tmp/err" && fail "plotting over the results accepted"
    grep -q "would write its numbers over" "$tmp/err" || fail "over the results: $(cat "$tmp/err")"
    cmp -s "$tmp/r.csv" "$tmp/q.points.csv" || fail "the results were written over"
    # the study's picture in docs/ (drawn by the commands in sim/studies/rto-bursty.scn)
    xmllint --noout "$src/docs/img/rto-bursty.svg" || fail "docs/img/rto-bursty.svg: not well-formed"
    [ "$(grep -c '<g class="series"' "$src/docs/img/rto-bursty.svg")" -eq 4 ] ||
        fail "docs/img/rto-bursty.svg: want 4 series"
    [ "$(wc -l <"$src/docs/img/rto-bursty.points.csv")" -eq 25 ] ||
        fail "docs/img/rto-bursty.points.csv: want 24 points"
    # syn-backoff's sweep runs in about a second: redo it as its header says and compare
    # the plotted numbers with the checked-in ones, byte for byte
    for f in syn-backoff syn-backoff-failures; do
        xmllint --noout "$src/docs/img/$f.svg" || fail "docs/img/$f.svg: not well-formed"
        [ "$(grep -c '<g class="series"' "$src/docs/img/$f.svg")" -eq 3 ] ||
            fail "docs/img/$f.svg: want 3 series"
    done
    "$TCPSIM" sweep "$src/sim/studies/syn-backoff.scn" --vary backoff=exponential,linear,constant \
        --vary loss=0%,10%,20%,30%,40%,50%,60%,70%,80% --seeds 1..100 -o "$tmp/syn.csv" \
        >/dev/null 2>&1 || fail "syn-backoff sweep"
    "$TCPSIM" plot sweep "$tmp/syn.csv" --x loss --y connect_s --by backoff -o "$tmp/syn.svg" ||
        fail "syn-backoff plot"
    "$TCPSIM" plot sweep "$tmp/syn.csv" --x loss --y connect_failures --by backoff \
        -o "$tmp/synf.svg" || fail "syn-backoff failures plot"
    cmp "$tmp/syn.points.csv" "$src/docs/img/syn-backoff.points.csv" ||
        fail "docs/img/syn-backoff.points.csv is stale: rerun the commands in its study"
    cmp "$tmp/synf.points.csv" "$src/docs/img/syn-backoff-failures.points.csv" ||
        fail "docs/img/syn-backoff-failures.points.csv is stale: rerun the commands in its study"
    "$TCPSIM" plot sweep "$tmp/r.csv" --x loss --y rexmit --where cc=cubic -o "$tmp/w.svg" ||
        fail "--where"
    xmllint --noout "$tmp/w.svg" || fail "--where: not well-formed"
    ;;
*) fail "unknown mode $mode" ;;
esac
