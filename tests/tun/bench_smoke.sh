#!/usr/bin/env bash
# bench_smoke.sh TCPSIM BENCH: tools/bench-tun's smoke test (ctest tun.bench_smoke). First its
# argument handling (each mistake refused with one line and exit 2; no root needed), then
# one short run of every part (0.5 s per figure, 1,000 idle connections, offloads on and off):
# every line is there and every figure is a positive number. Not the speed: that is the
# bench's own business on a quiet machine. Exit 77 (skipped) without root.
set -u
tcpsim=$1 bench=$2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for bad in "--secs 0" "--secs 0.1" "--secs 61" "--secs x" "--secs 1e3" "--offload maybe" "--io mmap" "--busy-poll soon" "--repeat 0" "--repeat 10" "--only bulk,speed" \
    "--in-flight 0" "--in-flight 257" "--in-flight x" \
    "--idle 0" "--idle 300000" "--idle 1k" "--frobnicate" "--secs"; do
    # shellcheck disable=SC2086
    err=$("$bench" $bad 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq 2 ] || fail "'$bad': exit $rc, wanted 2"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [[ "$err" == "tools/bench-tun: "* ]] ||
        fail "'$bad': wanted one 'tools/bench-tun: ...' line, got: $err"
done
"$bench" --help | grep -q -- '--only bulk,rtt' || fail "--help shows no --only example"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: the bench needs root (network namespaces)"; exit 77; }
# Peers: tcpsim itself without offloads stands in for another stack (it meets the contract:
# its own device, Linux at 10.0.0.1, echo, discard and chargen); one that exits at once is
# said and skipped, once.
out=$(timeout 150 "$bench" --tcpsim "$tcpsim" --secs 0.5 --idle 1000 --offload both \
    --only bulk,rtt,idle,churn --peer self="$tcpsim tun --offload off" --peer dead=/bin/false 2>&1)
rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || fail "the bench exited $rc"
[ "$(printf '%s\n' "$out" | grep -c '^tools/bench-tun: .* failed')" -eq 0 ] ||
    fail "a measurement failed"

# row LABEL UNIT: the line is there, both figures are positive, and so is the ratio
row() {
    local line
    line=$(printf '%s\n' "$out" | grep -F -- "$1") || { fail "no line '$1'"; return; }
    printf '%s\n' "$line" | awk -v l="$1" -v u="$2" '{
        rest = substr($0, length(l) + 1); n = split(rest, f, " ")
        if (n != 5 || f[2] != u || f[4] != u || !(f[1] + 0 > 0) || !(f[3] + 0 > 0) || !(f[5] + 0 > 0))
            exit 1 }' || fail "'$1': wanted two positive figures in $2 and a ratio: $line"
}
for m in on off; do
    row "bulk Linux -> stack (discard), offload $m" Gbit/s
    row "bulk stack -> Linux (chargen), offload $m" Gbit/s
    row "1-byte echo RTT, median, offload $m" us
done
row "idle 1,000: memory (tcpsim VmRSS; kernel slab)" kB
row "idle 1,000: per connection" B/conn
row "connect+close per second (sequential)" /s
row "connect+close per second (8 in flight)" /s
# Bare TUN (tools/bench-tun-bare.c), under the sequential figure only: a positive figure and
# tcpsim's ratio over it.
printf '%s\n' "$out" | grep -Eq '^bare TUN, no TCP: connect\+close \(sequential\) +[1-9][0-9]* /s +tcpsim/bare +[0-9]+\.[0-9]{2}$' ||
    fail "no bare TUN figure under the sequential one"
printf '%s\n' "$out" | grep -q '^bare TUN, no TCP: connect+close (8 in flight)' &&
    fail "a bare TUN figure with 8 in flight (one read and one write a packet is no floor there)"
printf '%s\n' "$out" | grep -q '^    bare TUN: tools/bench-tun-bare.c answers each SYN and FIN' ||
    fail "bare TUN is not explained"
printf '%s\n' "$out" | grep -Eq '^idle 1,000: connections held +1,000 +1,000$' ||
    fail "not 1,000 idle connections held by both"
printf '%s\n' "$out" | grep -q "kernel slab grown over both ends: .* in TCP+" ||
    fail "no kernel slab line naming the TCP cache"
printf '%s\n' "$out" | grep -q "TIME-WAIT on Linux's client side: .*tcp_tw_reuse=1" ||
    fail "the TIME-WAIT handling is not said"
# Without a short reuse delay the client's ports cap connect+close near 32,000 a second.
if [ -e /proc/sys/net/ipv4/tcp_tw_reuse_delay ]; then
    want_tw="tcp_tw_reuse_delay=1 ms"
else
    want_tw="no tcp_tw_reuse_delay before Linux 6.14"
fi
printf '%s\n' "$out" | grep -q "TIME-WAIT on Linux's client side: .*$want_tw" ||
    fail "the TIME-WAIT line does not say '$want_tw'"
# peer_row LABEL UNIT NRATIOS: the peer's positive figure, then tcpsim's ratios over it
peer_row() {
    local line
    line=$(printf '%s\n' "$out" | grep -F -- "$1") || { fail "no line '$1'"; return; }
    printf '%s\n' "$line" | awk -v l="$1" -v u="$2" -v nr="$3" '{
        rest = substr($0, length(l) + 1); n = split(rest, f, " "); good = 0
        for (i = 3; i <= n; i++) good += f[i] + 0 > 0
        if (n != 4 || f[2] != u || !(f[1] + 0 > 0) || good != nr) exit 1 }' ||
        fail "'$1': wanted a positive figure in $2 and $3 ratios: $line"
}
peer_row "self: bulk Linux -> stack (discard)" Gbit/s 2
peer_row "self: bulk stack -> Linux (chargen)" Gbit/s 2
peer_row "self: 1-byte echo RTT, median" us 2
peer_row "self: connect+close (sequential)" /s 1
peer_row "self: connect+close (8 in flight)" /s 1
[ "$(printf '%s\n' "$out" | grep -c '^tools/bench-tun: peer dead: it exited (1) without answering; not measured$')" -eq 1 ] ||
    fail "the peer that exits is not said once"
printf '%s\n' "$out" | grep -q '^dead:' && fail "the dead peer has figures"
"$bench" --peer 'Lwip=x' 2>&1 | grep -q -- "--peer wants NAME=CMD" || fail "--peer Lwip=x not refused"
"$bench" --peer 'x=/no/such' 2>&1 | grep -q -- "'/no/such' is not a program" || fail "a missing peer program is not refused"
"$bench" --peer 'x="/no/such dir/peer" -v' 2>&1 | grep -q -- "'/no/such dir/peer' is not a program" ||
    fail "a quoted peer path with a space is not read as one path"
"$bench" --peer 'x="/bin/true' 2>&1 | grep -q -- "--peer x: cannot read the command (an unclosed quote?)" ||
    fail "an unclosed quote in --peer is not refused"
# --repeat: the median of three, and the three runs' range under each figure.
rep=$(timeout 60 "$bench" --tcpsim "$tcpsim" --secs 0.3 --only rtt --offload on --repeat 3 2>&1)
printf '%s\n' "$rep"
printf '%s\n' "$rep" | grep -q 'RTT and churn figure, median of 3 runs;' || fail "--repeat 3 not said"
printf '%s\n' "$rep" | grep -A1 '^1-byte echo RTT, median, offload on' |
    grep -Eq '^    median of 3; range: tcpsim [0-9.]+-[0-9.]+ us, kernel [0-9.]+-[0-9.]+ us$' ||
    fail "--repeat 3: no range line under the RTT"
for w in "machine at start: load average" "machine at end: load average" "over the run"; do
    printf '%s\n' "$out" | grep -q "$w" || fail "no '$w' line"
done
printf '%s\n' "$out" | grep -Eq '^(WARNING: the machine was busy|machine quiet)' ||
    fail "no verdict on the machine's state"
[ $fails -eq 0 ] && echo "PASS" || { echo "$fails failures"; exit 1; }
