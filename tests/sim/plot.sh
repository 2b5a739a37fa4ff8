#!/usr/bin/env bash
# tests/sim/plot.sh MODE SCENARIO_DIR: the series export and the graphs (tcpsim run
# --series, tcpsim plot), from the outside. Needs $TCPSIM and $TS_SIM_TMP.
#   series   columns, pandas loads CSV and JSON lines as they are, byte-identical per seed;
#            the default rows are every event's (--series-events all) with the rule applied
#   plots    cwnd, rtt and tseq SVGs well formed (xmllint), rendered (rsvg-convert), with
#            axis titles, legend, shaded recovery, one bar per data segment of a capture
#   refuse   every refusal is one line on stderr and exit 2
set -uo pipefail
mode=$1
scn=$2
tmp=${TS_SIM_TMP:-/tmp}/plot.$mode.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3 # Debian's, where python3-pandas lives

case "$mode" in
series)
    for i in 1 2; do
        "$TCPSIM" run "$scn/bulk-loss.scn" --quiet --seed 3 --series "$tmp/a$i.csv" >/dev/null ||
            fail "run --series exit $?"
    done
    cmp "$tmp/a1.csv" "$tmp/a2.csv" || fail "same seed, different series"
    TS_SERIES_SYNC=1 "$TCPSIM" run "$scn/bulk-loss.scn" --quiet --seed 3 --series "$tmp/s.csv" >/dev/null
    cmp "$tmp/a1.csv" "$tmp/s.csv" || fail "the writer's thread and formatting in line differ"
    # --series-events all: a row for every event; the default is that file with the timer
    # rows that repeat the row before (same host, connection and variables) left out.
    for i in 1 2; do
        "$TCPSIM" run "$scn/bulk-loss.scn" --quiet --seed 3 --series "$tmp/all$i.csv" \
            --series-events all >/dev/null || fail "run --series-events all exit $?"
    done
    cmp "$tmp/all1.csv" "$tmp/all2.csv" || fail "same seed, different series (all events)"
    TS_SERIES_SYNC=1 "$TCPSIM" run "$scn/bulk-loss.scn" --quiet --seed 3 --series "$tmp/alls.csv" \
        --series-events all >/dev/null
    cmp "$tmp/all1.csv" "$tmp/alls.csv" || fail "every event: the writer's thread and in line differ"
    awk -F, 'NR > 1 && ($6 == "timer_set" || $6 == "timer_cancel") && $11 != "" {
                 v = $2 "," $3; for (i = 11; i <= 25; i++) v = v "," $i
                 if (v == last) next
             }
             NR > 1 { last = $2 "," $3; for (i = 11; i <= 25; i++) last = last "," $i }
             { print }' "$tmp/all1.csv" | cmp - "$tmp/a1.csv" ||
        fail "the default rows are not every event's with the repeated timer rows left out"
    all=$(($(wc -l <"$tmp/all1.csv") - 1)) kept=$(($(wc -l <"$tmp/a1.csv") - 1))
    timers=$(grep -c ',timer_\(set\|cancel\),' "$tmp/all1.csv")
    [ "$kept" -lt "$all" ] && [ $((all - kept)) -gt $((timers / 2)) ] ||
        fail "$kept rows of $all kept; $timers timer rows"
    "$TCPSIM" run "$scn/bulk-loss.scn" --quiet --seed 3 --series "$tmp/a.jsonl" >/dev/null ||
        fail "run --series .jsonl exit $?"
    head -1 "$tmp/a1.csv" | grep -qx 'time_s,host,conn,local,remote,event,detail,seg_seq,seg_ack,seg_len,state,ca_state,snd_una,snd_nxt,snd_max,snd_wnd,cwnd,ssthresh,flight,sacked,lost,srtt_us,rttvar_us,rto_us,backoff,rtt_us,timer_us' ||
        fail "header: $(head -1 "$tmp/a1.csv")"
    bad=$(awk -F, 'NF != 27' "$tmp/a1.csv" | head -2)
    [ -z "$bad" ] || fail "a row without 27 cells: $bad"
    [ "$(wc -l <"$tmp/a1.csv")" -eq $(( $(wc -l <"$tmp/a.jsonl") + 1 )) ] ||
        fail "CSV and JSON lines differ in rows"
    "$py" - "$tmp/a1.csv" "$tmp/a.jsonl" "$tmp/all1.csv" <<'PY' || fail "pandas"
import sys
import pandas as pd
c = pd.read_csv(sys.argv[1])
j = pd.read_json(sys.argv[2], lines=True)
assert len(c) == len(j) > 1000, (len(c), len(j))
for col in ["time_s", "cwnd", "ssthresh", "flight", "srtt_us", "rto_us", "rtt_us"]:
    assert c[col].dtype.kind in "if", (col, c[col].dtype)
    assert j[col].dtype.kind in "if", (col, j[col].dtype)
assert list(c.columns) == list(j.columns)
cl = c[(c.host == "client") & c.cwnd.notna()]
assert (cl.ca_state == "recovery").any(), "no recovery"
assert set(c.event) >= {"seg_out", "seg_in", "rtt_sample", "retransmit", "cwnd", "state"}
assert c.time_s.is_monotonic_increasing
assert c.rtt_us.notna().sum() == (c.event == "rtt_sample").sum()
# docs/series.md's rule, in pandas, on every event's rows gives the default file's
all = pd.read_csv(sys.argv[3])
v = ["host", "conn"] + list(all.loc[:, "state":"backoff"].columns)
same = all[v].fillna(-1).eq(all[v].fillna(-1).shift()).all(axis=1)
timer = all.event.isin(["timer_set", "timer_cancel"]) & all.state.notna()
pd.testing.assert_frame_equal(all[~(timer & same)].reset_index(drop=True), c)
print(f"series: {len(c)} rows ({len(all)} with every event), pandas reads {len(c.columns)} columns from CSV and JSON lines")
PY
    ;;
plots)
    "$TCPSIM" run "$scn/fast-retransmit.scn" --pcap "$tmp/fr.pcap" >/dev/null || fail "run --pcap"
    "$TCPSIM" plot cwnd "$scn/bulk-loss.scn" -o "$tmp/cwnd.svg" || fail "plot cwnd exit $?"
    "$TCPSIM" plot rtt "$scn/rto-backoff.scn" -o "$tmp/rtt.svg" || fail "plot rtt exit $?"
    "$TCPSIM" plot tseq "$tmp/fr.pcap" -o "$tmp/tseq.svg" || fail "plot tseq exit $?"
    for g in cwnd rtt tseq; do
        f=$tmp/$g.svg
        xmllint --noout "$f" || fail "$g: not well-formed XML"
        rsvg-convert -o "$tmp/$g.png" "$f" 2>"$tmp/$g.err" || fail "$g: rsvg-convert: $(cat "$tmp/$g.err")"
        [ -s "$tmp/$g.png" ] && [ ! -s "$tmp/$g.err" ] || fail "$g: rendering warned: $(cat "$tmp/$g.err")"
        grep -q 'class="atitle xtitle"[^>]*>time ([m]*s' "$f" || fail "$g: no x axis title with its unit"
        grep -q 'class="atitle ytitle"[^>]*>[^<]*(\(bytes\|kB\|MB\|ms\|s\)' "$f" || fail "$g: no y axis title with its unit"
        grep -q '<g class="legend">' "$f" || fail "$g: no legend"
    done
    grep -q '<rect class="rec"' "$tmp/cwnd.svg" || fail "cwnd: no shaded recovery"
    grep -q 'fast recovery (grey)' "$tmp/cwnd.svg" || fail "cwnd: recovery not in the legend"
    grep -q 'ssthresh (dashed)' "$tmp/cwnd.svg" || fail "cwnd: no ssthresh"
    grep -q '<circle class="sample"' "$tmp/rtt.svg" || fail "rtt: no samples"
    grep -q 'class="mk armed"' "$tmp/rtt.svg" || fail "rtt: no armed timer marks"
    # The SYN's timer backing off, 1 2 4 8 16 s, on the RTT graph of a connect timeout.
    "$TCPSIM" plot rtt "$scn/connect-timeout.scn" -o "$tmp/ct.svg" || fail "plot rtt connect-timeout"
    # five marks and the legend's own
    [ "$(grep -c '<text class="mk armed" x' "$tmp/ct.svg")" -eq 6 ] || fail "connect timeout: not 5 SYN timers"
    # One bar per data segment: as many as tcpdump shows carrying payload from the client.
    want=$(tcpdump -n -r "$tmp/fr.pcap" 'src port 6379 or dst port 6379' 2>/dev/null |
        grep -c '10.0.0.103.[0-9]* > .* length [1-9]')
    got=$(grep -c '<path class="seg ' "$tmp/tseq.svg")
    [ "$want" -gt 0 ] && [ "$got" -eq "$want" ] || fail "tseq: $got bars for $want data segments"
    grep -q 'Thinned' "$tmp/tseq.svg" && fail "tseq: a 27-packet capture thinned"
    grep -q 'class="ackl"' "$tmp/tseq.svg" || fail "tseq: no ACK line"
    grep -q 'class="sackb sack"\|class="seg sack"' "$tmp/tseq.svg" || fail "tseq: no SACK blocks"
    # From the scenario: the stacks' own causes and the link's losses.
    "$TCPSIM" plot tseq "$scn/fast-retransmit.scn" -o "$tmp/tseqs.svg" || fail "plot tseq .scn"
    xmllint --noout "$tmp/tseqs.svg" || fail "tseq of a scenario: not well-formed"
    [ "$(grep -c '<path class="seg fast"' "$tmp/tseqs.svg")" -eq 1 ] || fail "tseq .scn: not one fast retransmission"
    [ "$(grep -c '<text class="mk lostmk" x="[0-9.]*" y="[0-9.]*">' "$tmp/tseqs.svg")" -eq 1 ] || fail "tseq .scn: not one lost segment marked"
    [ "$(grep -c '<path class="seg ' "$tmp/tseqs.svg")" -eq "$want" ] || fail "tseq .scn: bars differ from the capture's"
    # A window of time: only the segments inside it, the axis from its start.
    "$TCPSIM" plot tseq "$scn/fast-retransmit.scn" --from 0.115 --to 0.2 -o "$tmp/zoom.svg" || fail "--from/--to"
    [ "$(grep -c '<path class="seg ' "$tmp/zoom.svg")" -eq 1 ] || fail "zoom: want the retransmission alone"
    grep -q 'text-anchor="middle">120</text>' "$tmp/zoom.svg" &&
        ! grep -q 'text-anchor="middle">110</text>' "$tmp/zoom.svg" || fail "zoom: the time axis does not start at 115 ms"
    # --series beside --diagram: the same rows as alone.
    "$TCPSIM" run "$scn/fast-retransmit.scn" --series "$tmp/a.csv" >/dev/null
    "$TCPSIM" run "$scn/fast-retransmit.scn" --series "$tmp/b.csv" --diagram "$tmp/d.txt" >/dev/null
    cmp "$tmp/a.csv" "$tmp/b.csv" || fail "--series changed by --diagram"
    [ -s "$tmp/d.txt" ] || fail "--diagram beside --series wrote nothing"
    echo "plots: cwnd, rtt, tseq well formed and rendered; tseq $got bars for $want data segments"
    ;;
refuse)
    "$TCPSIM" run "$scn/fast-retransmit.scn" --pcap "$tmp/fr.pcap" >/dev/null || fail "run --pcap"
    printf 'not a capture\n' >"$tmp/junk.pcap"
    check() { # expected-text command...
        local want=$1
        shift
        "$@" >"$tmp/out" 2>"$tmp/err"
        local rc=$?
        [ $rc -eq 2 ] || fail "$*: exit $rc, want 2"
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: want one line, got: $(cat "$tmp/err")"
        grep -q -- "$want" "$tmp/err" || fail "$*: '$(cat "$tmp/err")' does not say '$want'"
    }
    check "a capture shows only the wire" "$TCPSIM" plot cwnd "$tmp/fr.pcap" -o "$tmp/x.svg"
    check "a capture shows only the wire" "$TCPSIM" plot rtt "$tmp/fr.pcap"
    check "unknown graph 'seq'" "$TCPSIM" plot seq "$tmp/fr.pcap"
    check "no such connection" "$TCPSIM" plot tseq "$tmp/fr.pcap" --conn 5
    check "no such connection" "$TCPSIM" plot cwnd "$scn/bulk-loss.scn" --conn 1.2.3.4:5
    check "junk.pcap" "$TCPSIM" plot tseq "$tmp/junk.pcap"
    check "which graph" "$TCPSIM" plot tseq
    check "name the file .csv or .jsonl" "$TCPSIM" run "$scn/fast-retransmit.scn" --series "$tmp/x.txt"
    check "series needs a file" "$TCPSIM" run "$scn/fast-retransmit.scn" --series
    check "--series-events wants 'all'" "$TCPSIM" run "$scn/fast-retransmit.scn" --series "$tmp/x.csv" --series-events every
    check "--series-events chooses the rows --series writes; add --series" "$TCPSIM" run "$scn/fast-retransmit.scn" --series-events all
    check "--series-events wants 'all'" "$TCPSIM" tun --series "$tmp/x.csv" --series-events every
    check "--series-events chooses the rows --series writes; add --series" "$TCPSIM" tun --series-events all
    check "nothing to draw there; the connection runs from" "$TCPSIM" plot tseq "$tmp/fr.pcap" --from 50
    check "nothing to draw there; the data runs from" "$TCPSIM" plot cwnd "$scn/bulk-loss.scn" --from 0.5 --to 0.4
    check "--to needs seconds" "$TCPSIM" plot tseq "$tmp/fr.pcap" --to soon
    [ ! -e "$tmp/x.svg" ] || fail "a refused plot left a file"
    "$TCPSIM" plot --help | grep -q '^examples:' || fail "plot --help has no examples"
    echo "refusals: one line, exit 2"
    ;;
*) fail "unknown mode $mode" ;;
esac
