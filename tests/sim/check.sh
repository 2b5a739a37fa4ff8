#!/usr/bin/env bash
# tests/sim/check.sh MODE ARGS...: the simulator's ctest checks (see CMakeLists.txt).
# Needs $TCPSIM (the tcpsim binary) and $TS_SIM_TMP (a scratch directory).
set -uo pipefail
mode=$1
shift
tmp=${TS_SIM_TMP:-/tmp}/check.$mode.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

case "$mode" in
holds) # every expectation of the scenario holds
    "$TCPSIM" run "$1"
    rc=$?
    [ $rc -eq 0 ] || fail "$1: exit $rc, want 0"
    ;;
stress) # FILE N: every expectation holds on seeds 1..N (no stalls, no lost bytes)
    for seed in $(seq 1 "$2"); do
        out=$("$TCPSIM" run "$1" --seed "$seed" --quiet 2>&1)
        rc=$?
        [ $rc -eq 0 ] || fail "$1 --seed $seed: exit $rc, want 0; $(echo "$out" | grep -A1 FAIL)"
    done
    ;;
virtual) # FILE SECONDS: all expectations hold and the run ends at SECONDS of virtual time
    # (how fast that is in wall time is tools/bench sim's business, not a test's)
    out=$("$TCPSIM" run --quiet "$1") || fail "$1 did not hold"
    grep -q "^--- run ended at $2 (virtual)" <<<"$out" || fail "$1: wanted the run to end at $2:
$out"
    ;;
deterministic) # same seed: identical output and pcap; another seed: a different run
    for i in 1 2; do
        "$TCPSIM" run "$1" --seed 5 --pcap "$tmp/a$i.pcap" >"$tmp/a$i.out" 2>&1
    done
    "$TCPSIM" run "$1" --seed 6 --pcap "$tmp/b.pcap" >"$tmp/b.out" 2>&1
    cmp "$tmp/a1.out" "$tmp/a2.out" || fail "same seed, different output"
    cmp "$tmp/a1.pcap" "$tmp/a2.pcap" || fail "same seed, different pcap"
    [ -s "$tmp/a1.pcap" ] || fail "empty pcap"
    if cmp -s "$tmp/a1.out" "$tmp/b.out"; then fail "seeds 5 and 6 gave the same run"; fi
    if cmp -s "$tmp/a1.pcap" "$tmp/b.pcap"; then fail "seeds 5 and 6 gave the same pcap"; fi
    echo "seed 5 twice: identical ($(wc -l <"$tmp/a1.out") lines); seed 6: different"
    ;;
pcap) # tcpdump -r reads every scenario's pcap, packet for packet
    command -v tcpdump >/dev/null || fail "tcpdump is not installed"
    for scn in "$@"; do
        name=$(basename "$scn" .scn)
        "$TCPSIM" run "$scn" --pcap "$tmp/$name.pcap" >"$tmp/$name.out" 2>&1
        want=$(sed -n 's/^--- run ended at .* \([0-9][0-9]*\) packets$/\1/p' "$tmp/$name.out")
        [ -n "$want" ] || fail "$name: no packet count in the output"
        got=$(tcpdump -n -r "$tmp/$name.pcap" 2>"$tmp/$name.err" | wc -l)
        [ "${PIPESTATUS[0]}" -eq 0 ] || fail "$name: tcpdump -r failed: $(cat "$tmp/$name.err")"
        [ "$got" -eq "$want" ] || fail "$name: tcpdump read $got packets, the run sent $want"
        # The first line tcpdump prints is the first line tcpsim printed, time aside.
        first_sim=$(sed -n '1{s/^ *[0-9]*  [0-9.]* //;s/  \[.*$//;p}' "$tmp/$name.out")
        first_dump=$(tcpdump -n -S -r "$tmp/$name.pcap" 2>/dev/null | head -1 | sed 's/^[0-9:.]* //')
        [ "$first_sim" = "$first_dump" ] || fail "$name: tcpdump '$first_dump' vs tcpsim '$first_sim'"
        echo "$name: $got packets"
    done
    ;;
broken) # the file's first line says "# error: LINE: fragment"; expect exit 2 and that error
    spec=$(sed -n '1s/^# error: //p' "$1")
    line=${spec%%:*}
    frag=${spec#*: }
    [ -n "$line" ] && [ -n "$frag" ] || fail "$1: first line must be '# error: LINE: fragment'"
    "$TCPSIM" run "$1" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    cat "$tmp/err"
    [ $rc -eq 2 ] || fail "exit $rc, want 2"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "want exactly one line on stderr"
    grep -qF -- "$1:$line: " "$tmp/err" || fail "want '$1:$line: ' in the error"
    grep -qF -- "$frag" "$tmp/err" || fail "want '$frag' in the error"
    [ ! -s "$tmp/out" ] || fail "nothing should go to stdout"
    ;;
wrong) # a deliberately wrong expectation: exit 1 and a FAIL line naming it
    "$TCPSIM" run "$1" >"$tmp/out" 2>&1
    rc=$?
    cat "$tmp/out"
    [ $rc -eq 1 ] || fail "exit $rc, want 1"
    want=$(grep -n '^expect.*# WRONG' "$1" | cut -d: -f1 | head -1)
    grep -q "^FAIL  $1:$want " "$tmp/out" || fail "want a FAIL line for $1:$want"
    grep -q "^ok " "$tmp/out" || fail "the right expectations should still hold"
    ;;
usage) # command-line mistakes: one line, exit 2
    check() { # want-exit, args...
        local want=$1
        shift
        "$TCPSIM" run "$@" >"$tmp/out" 2>"$tmp/err"
        local rc=$?
        [ $rc -eq "$want" ] || fail "tcpsim run $*: exit $rc, want $want"
        if [ "$want" -eq 2 ]; then
            [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "tcpsim run $*: want one line on stderr"
        fi
    }
    check 2
    check 2 "$1" --seed
    check 2 "$1" --seed x
    check 2 "$1" --pcap
    check 2 "$1" --bogus
    check 2 "$1" "$1"
    check 2 /nonexistent.scn
    check 2 "$1" --set nonsense
    check 2 "$1" --set delack=never
    check 2 "$1" --set hz=7 # the help lists 100, 250, 300 and 1000: nothing else runs
    grep -qF "hz: 7 is not a Linux CONFIG_HZ; use 100, 250, 300 or 1000" "$tmp/err" ||
        fail "--set hz=7: want the CONFIG_HZ values in the error, got: $(cat "$tmp/err")"
    check 2 "$1" --pcap /nonexistent/dir/x.pcap
    check 0 --help
    check 0 "$1" --quiet
    [ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "--quiet prints the run line and the verdict only"
    [ "$(tail -1 "$tmp/out")" = "--- all 13 expectations hold" ] || fail "--quiet: no verdict"
    ;;
writers) # FILE.scn: every output that cannot be written (/dev/full) is named, exit 2
    [ -w /dev/full ] || { echo "SKIP: no /dev/full"; exit 0; }
    for ext in pcap pcapng csv jsonl txt svg html; do ln -s /dev/full "$tmp/full.$ext"; done
    "$TCPSIM" run "$1" --pcap "$tmp/ok.pcap" >/dev/null || fail "run $1 failed"
    full() { # what-stderr-says, command...
        local say=$1
        shift
        "$@" >"$tmp/out" 2>"$tmp/err"
        local rc=$?
        [ $rc -eq 2 ] || fail "$*: exit $rc, want 2 (the output was lost)"
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: want one line on stderr: $(cat "$tmp/err")"
        grep -qF -- "$say" "$tmp/err" || fail "$*: want '$say' in: $(cat "$tmp/err")"
    }
    full "--pcap $tmp/full.pcap: writing failed" "$TCPSIM" run "$1" --quiet --pcap "$tmp/full.pcap"
    full "--pcap $tmp/full.pcapng: writing failed" "$TCPSIM" run "$1" --quiet --pcap "$tmp/full.pcapng"
    full "--series: writing failed" "$TCPSIM" run "$1" --quiet --series "$tmp/full.csv"
    full "--series: writing failed" "$TCPSIM" run "$1" --quiet --series "$tmp/full.jsonl"
    for ext in txt svg html; do
        full "cannot write the diagram" "$TCPSIM" run "$1" --quiet --diagram "$tmp/full.$ext"
        full "cannot write the diagram" "$TCPSIM" diagram "$tmp/ok.pcap" -o "$tmp/full.$ext"
    done
    full "writing the SVG failed" "$TCPSIM" plot tseq "$tmp/ok.pcap" -o "$tmp/full.svg"
    # a sweep's rows and the picture drawn from them
    sweep=$(dirname "$0")/sweep/tiny.scn
    full "-o $tmp/full.csv" "$TCPSIM" sweep "$sweep" --vary loss=0%,1% --seeds 1..2 -o "$tmp/full.csv"
    "$TCPSIM" sweep "$sweep" --vary loss=0%,1% --seeds 1..2 -o "$tmp/sw.csv" >/dev/null 2>&1 ||
        fail "sweep $sweep failed"
    ln -sf /dev/full "$tmp/full.svg" # plot removed the failed picture: the link, here
    full "-o $tmp/full.svg: writing failed" "$TCPSIM" plot sweep "$tmp/sw.csv" --x loss \
        --y completion_s -o "$tmp/full.svg"
    # standard output: the run's report, a diagram or a plot on stdout, params, --help
    full "writing standard output failed" sh -c "'$TCPSIM' run '$1' >/dev/full"
    full "cannot write the diagram" sh -c "'$TCPSIM' diagram '$tmp/ok.pcap' >/dev/full"
    full "writing the SVG failed" sh -c "'$TCPSIM' plot tseq '$tmp/ok.pcap' >/dev/full"
    full "writing standard output failed" sh -c "'$TCPSIM' params >/dev/full"
    full "writing standard output failed" sh -c "'$TCPSIM' --help >/dev/full"
    echo "every writer reports a full disk in one line, exit 2"
    ;;
trace) # --trace adds state changes and timers between the packets
    "$TCPSIM" run "$1" --trace >"$tmp/out" || fail "trace run failed"
    grep -q "state SYN_SENT -> ESTABLISHED" "$tmp/out" || fail "no state change in the trace"
    grep -q "timer" "$tmp/out" || fail "no timer in the trace"
    grep -q "client/1: connect" "$tmp/out" || fail "no socket call in the trace"
    ;;
diagram) # FILE.scn: the ladder from the scenario, from run --diagram and from its pcap
    "$TCPSIM" diagram "$1" >"$tmp/scn.txt" 2>"$tmp/err" || fail "diagram $1: $(cat "$tmp/err")"
    [ ! -s "$tmp/err" ] || fail "diagram $1 wrote to stderr: $(cat "$tmp/err")"
    grep -q "6 segments, simulated" "$tmp/scn.txt" || fail "no '6 segments' caption"
    for want in SYN_SENT SYN_RECEIVED FIN_WAIT_1 CLOSE_WAIT LAST_ACK TIME_WAIT \
        "delayed ACK" "client" "server" "10.0.0.103:55570"; do
        grep -qF -- "$want" "$tmp/scn.txt" || fail "diagram $1: no '$want'"
    done
    if grep -qF "[SYN_SENT]" "$tmp/scn.txt"; then fail "a scenario's states are not inferred"; fi
    # run --diagram draws the same picture and leaves the run's output as it was
    "$TCPSIM" run "$1" >"$tmp/plain.out" 2>&1
    "$TCPSIM" run "$1" --diagram "$tmp/run.txt" --pcap "$tmp/run.pcap" >"$tmp/diag.out" 2>&1 ||
        fail "run --diagram failed"
    cmp "$tmp/plain.out" "$tmp/diag.out" || fail "run --diagram changed the run's output"
    cmp "$tmp/scn.txt" "$tmp/run.txt" || fail "run --diagram and diagram differ"
    "$TCPSIM" run "$1" --diagram "$tmp/run.svg" >/dev/null || fail "run --diagram x.svg"
    grep -q "<svg" "$tmp/run.svg" || fail "--diagram x.svg is not SVG"
    "$TCPSIM" diagram "$1" --format svg >"$tmp/fmt.svg" || fail "--format svg"
    cmp "$tmp/run.svg" "$tmp/fmt.svg" || fail "--format svg and -o x.svg differ"
    "$TCPSIM" diagram "$1" --ascii -o "$tmp/ascii.txt" || fail "--ascii -o"
    if LC_ALL=C grep -q '[^ -~]' "$tmp/ascii.txt"; then fail "--ascii is not ASCII"; fi
    # the capture of the same run: same segments, states inferred, relative numbers
    "$TCPSIM" diagram "$tmp/run.pcap" --relative >"$tmp/pcap.txt" 2>"$tmp/err" ||
        fail "diagram of the run's pcap: $(cat "$tmp/err")"
    grep -q "6 segments, from a capture" "$tmp/pcap.txt" || fail "pcap: no '6 segments'"
    for want in "[SYN_SENT]" "[TIME_WAIT]" "[LAST_ACK]" "S seq 0" "S. seq 0 ack 1" \
        "F. seq 1 ack 1" "F. seq 1 ack 2" ". ack 2"; do
        grep -qF -- "$want" "$tmp/pcap.txt" || fail "diagram of the pcap: no '$want'"
    done
    "$TCPSIM" diagram "$tmp/run.pcap" --conn 10.0.0.199:6379 >/dev/null || fail "--conn A:P"
    "$TCPSIM" diagram "$tmp/run.pcap" --conn 1 >/dev/null || fail "--conn 1"
    "$TCPSIM" diagram --help | grep -q "chapter-close.scn" || fail "--help has no example"
    echo "diagram: scenario, run --diagram, svg, ascii and pcap agree"
    ;;
diagram_errors) # FILE.scn: bad sources and options: one line on stderr, exit 2, no crash
    "$TCPSIM" run "$1" --pcap "$tmp/ok.pcap" >/dev/null || fail "run --pcap failed"
    echo "this is not a capture" >"$tmp/text.pcap"
    : >"$tmp/empty.pcap"
    head -c 110 "$tmp/ok.pcap" >"$tmp/cut.pcap"
    head -c 20 "$tmp/ok.pcap" >"$tmp/cuthdr.pcap"
    python3 - "$tmp/udp.pcap" <<'PY' || fail "python3 could not write the UDP capture"
import struct, sys
ip = bytes([0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
udp = struct.pack(">HHHH", 53, 53, 12, 0) + b"abcd"
pkt = ip + udp
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    f.write(struct.pack("<IIII", 1, 0, len(pkt), len(pkt)) + pkt)
PY
    check() { # want-fragment, args...
        local frag=$1
        shift
        "$TCPSIM" diagram "$@" >"$tmp/out" 2>"$tmp/err"
        local rc=$?
        cat "$tmp/err"
        [ $rc -eq 2 ] || fail "diagram $*: exit $rc, want 2"
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "diagram $*: want one line on stderr"
        grep -qF -- "$frag" "$tmp/err" || fail "diagram $*: want '$frag' in the error"
        [ ! -s "$tmp/out" ] || fail "diagram $*: nothing should go to stdout"
    }
    check "not a pcap or pcapng capture" "$tmp/text.pcap"
    check "empty file" "$tmp/empty.pcap"
    check "truncated" "$tmp/cut.pcap"
    check "truncated" "$tmp/cuthdr.pcap"
    check "no TCP over IPv4" "$tmp/udp.pcap"
    check "cannot open it" "$tmp/nonexistent.pcap"
    check "--conn 5: no such connection; there is 1" "$tmp/ok.pcap" --conn 5
    check "--conn 10.9.9.9:1: no such connection" "$tmp/ok.pcap" --conn 10.9.9.9:1
    check "--conn 7: no such connection" "$1" --conn 7
    check "which format?" "$1" -o "$tmp/x.png"
    check "--format pdf: use text, svg or html" "$1" --format pdf
    check "what to draw?"
    check "unknown option" "$1" --bogus
    check "--seed and --set are for scenarios" "$tmp/ok.pcap" --seed 3
    check "tcpsim diagram: --set" "$1" --set nonsense=1
    check "nonexistent.scn" /nonexistent.scn
    "$TCPSIM" run "$1" --diagram "$tmp/x.png" >"$tmp/out" 2>"$tmp/err"
    [ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "run --diagram x.png: want exit 2"
    "$TCPSIM" run "$1" --conn 2 >"$tmp/out" 2>"$tmp/err"
    [ $? -eq 2 ] && grep -q "add --diagram" "$tmp/err" || fail "run --conn without --diagram"
    ;;
pcapng) # FILE.pcapng explains itself: comments on the right packets (tshark); tcpdump
    # reads the same packets from every scenario's pcapng as from its plain pcap
    command -v tshark >/dev/null || fail "tshark is not installed"
    command -v tcpdump >/dev/null || fail "tcpdump is not installed"
    explain=$1
    "$TCPSIM" run "$explain" --pcap "$tmp/e.pcapng" >"$tmp/e.out" 2>&1 || fail "$explain did not hold"
    tshark -r "$tmp/e.pcapng" -Y frame.comment -T fields -e frame.number -e frame.time_relative \
        -e frame.comment >"$tmp/e.tsv" 2>"$tmp/e.err" || fail "tshark -r failed: $(cat "$tmp/e.err")"
    cat "$tmp/e.tsv"
    n=$(tshark -r "$tmp/e.pcapng" 2>/dev/null | wc -l)
    [ "$n" -eq 9 ] || fail "tshark read $n packets, want 9"
    want() { # NUMBER TIME COMMENT: packet NUMBER at TIME carries exactly COMMENT
        line=$(awk -F'\t' -v n="$1" '$1 == n' "$tmp/e.tsv")
        [ -n "$line" ] || fail "packet $1 has no comment; want '$3'"
        t=$(echo "$line" | cut -f2)
        c=$(echo "$line" | cut -f3-)
        awk -v a="$t" -v b="$2" 'BEGIN { exit !(a - b < 1e-6 && b - a < 1e-6) }' ||
            fail "packet $1 at $t, want $2"
        [ "$c" = "$3" ] || fail "packet $1: comment '$c', want '$3'"
    }
    want 1 0.000 "client: CLOSED -> SYN_SENT; server: CLOSED -> SYN_RECEIVED"
    want 2 0.010 "client: SYN_SENT -> ESTABLISHED"
    want 3 0.020 "server: SYN_RECEIVED -> ESTABLISHED"
    want 5 0.320 "client: RTO retransmission #1, rto 220 ms"
    want 6 0.370 "server: delayed ACK timer fired after 40 ms"
    want 7 1.000 "client: ESTABLISHED -> FIN_WAIT_1; server: ESTABLISHED -> CLOSE_WAIT; server: CLOSE_WAIT -> LAST_ACK"
    # the lost segment and the plain ones carry none
    for n in 4; do
        if awk -F'\t' -v n=$n '$1 == n { f = 1 } END { exit !f }' "$tmp/e.tsv"; then
            fail "packet $n should carry no comment"
        fi
    done
    shift
    for scn in "$explain" "$@"; do # the same packets as the plain pcap, in the same order
        name=$(basename "$scn" .scn)
        "$TCPSIM" run "$scn" --pcap "$tmp/$name.pcapng" >/dev/null 2>&1
        "$TCPSIM" run "$scn" --pcap "$tmp/$name.pcap" >/dev/null 2>&1
        tcpdump -n -S -r "$tmp/$name.pcapng" >"$tmp/$name.ng.txt" 2>"$tmp/$name.err" ||
            fail "$name: tcpdump -r FILE.pcapng failed: $(cat "$tmp/$name.err")"
        tcpdump -n -S -r "$tmp/$name.pcap" >"$tmp/$name.txt" 2>/dev/null
        cmp -s "$tmp/$name.ng.txt" "$tmp/$name.txt" ||
            fail "$name: the pcapng and the pcap differ: $(diff "$tmp/$name.ng.txt" "$tmp/$name.txt" | head -4)"
        echo "$name: $(wc -l <"$tmp/$name.txt") packets, as in the pcap"
    done
    ;;
telnet_trace) # the telnet shell's trace in the simulator: the events reach the service
    command -v tcpdump >/dev/null || fail "tcpdump is not installed"
    "$TCPSIM" run "$1" --pcap "$tmp/t.pcap" >"$tmp/out" 2>&1 || fail "$1 did not hold: $(grep FAIL "$tmp/out")"
    tcpdump -A -r "$tmp/t.pcap" 2>/dev/null | tr -d '\r' >"$tmp/text"
    # the "x" arrives at 1.005 s; the trace waits for the delayed ACK instead of carrying it
    grep -q '^ *[0-9]*  1.045000 IP 10.0.0.199.23 > 10.0.0.103.[0-9]*: Flags \[\.\], ack [0-9]*, .*length 0$' "$tmp/out" ||
        fail "no delayed ACK at 1.045 s: $(grep ' 1.0[0-9]*000 ' "$tmp/out")"
    for want in "trace on: connection 2's events" \
        "0.890000 conn 2 10.0.0.199.23>10.0.0.103.[0-9]* in IP 10.0.0.103.[0-9]* > 10.0.0.199.23: Flags \[P.\], seq [0-9:]*, .*length 1" \
        "0.890000 conn 2 .* timer delack set +40ms" "0.930000 conn 2 .* timer delack fire" \
        "0.930000 conn 2 .* out IP 10.0.0.199.23 > .*Flags \[.\], ack .*length 0"; do
        grep -q "$want" "$tmp/text" || fail "the session lacks '$want'"
    done
    echo "the trace shows the keystroke, its delayed-ACK timer and the ACK it sent"
    ;;
*) fail "unknown mode $mode" ;;
esac
exit 0
