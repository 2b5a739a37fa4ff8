#!/usr/bin/env bash
# bench_bare.sh BARE CHURN: tools/bench-tun-bare.c (ctest tun.bench_bare), built by CMake
# with the project's warnings and, in CI's second pass, its sanitizers. What tools/bench-tun's
# "bare TUN" figure rests on: every SYN gets a SYN-ACK that Linux accepts, with tcpsim's
# options (MSS 1460, SACK permitted, timestamps, window scale 7), or only the MSS for a SYN
# that offered none of the others; every FIN a FIN-ACK that leaves Linux's side in TIME-WAIT;
# every checksum right (tcpdump -vv); what it does not answer (ICMP, UDP) dropped, and it
# stays up. First its arguments (refused with one line and exit 2, no root needed).
# Exit 77 (skipped) without root.
set -u
bare=$1 churn=$2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for bad in "" 0 601 x "1 2"; do
    # shellcheck disable=SC2086
    err=$("$bare" $bad 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [[ "$err" == usage:* ]] ||
        fail "'$bad': wanted exit 2 and one usage line, got $rc: $err"
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (a network namespace)"; exit 77; }

ns=tsbare-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
in_ns() { ip netns exec "$ns" "$@"; }
ip netns add "$ns" || exit 1
in_ns ip link set lo up
in_ns sysctl -qw net.ipv4.tcp_tw_reuse=1
# Not through in_ns: $! must be the program itself (ip netns exec execs it), to end by PID.
ip netns exec "$ns" "$bare" 60 >"$tmp/bare.out" 2>&1 </dev/null &
bp=$!
pids+=("$bp")
for _ in $(seq 100); do grep -qs ready "$tmp/bare.out" && break; sleep 0.05; done
grep -qs ready "$tmp/bare.out" || { echo "FAIL: not ready: $(cat "$tmp/bare.out")"; exit 1; }
in_ns sh -c 'ip addr add 10.0.0.1/24 dev tun0 && ip link set tun0 up' || exit 1
# A 16 MiB buffer: the 600 packets come within milliseconds (immediate mode drops some).
ip netns exec "$ns" tcpdump -U -B 16384 -n -i tun0 -w "$tmp/cap.pcap" 2>"$tmp/tcpdump.err" &
dump=$!
pids+=("$dump")
for _ in $(seq 100); do grep -qs listening "$tmp/tcpdump.err" && break; sleep 0.05; done

# What it must not answer.
in_ns ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1 && fail "a ping was answered"
in_ns bash -c 'echo x >/dev/udp/10.0.0.2/9' || fail "could not send the UDP datagram"
# 100 connect+close with Linux's options, then one with none (no timestamps, SACK or scaling).
out=$(in_ns "$churn" 10.0.0.2 9 100)
[[ "$out" == "done 100 refused 0 failed 0 "* ]] || fail "100 connect+close: $out"
in_ns sysctl -qw net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0 net.ipv4.tcp_window_scaling=0
out=$(in_ns "$churn" 10.0.0.2 9 1)
[[ "$out" == "done 1 refused 0 failed 0 "* ]] || fail "connect+close without options: $out"
sleep 0.3 # the last FIN-ACK in
kill -0 "$bp" 2>/dev/null || fail "bench-tun-bare is gone: $(cat "$tmp/bare.out")"
tw=$(in_ns ss -Htan state time-wait | wc -l)
[ "$tw" -eq 101 ] || fail "$tw TIME-WAITs, wanted 101 (each FIN-ACK taken)"
other=$(in_ns ss -Htan | grep -cv TIME-WAIT)
[ "$other" -eq 0 ] || fail "$other sockets not in TIME-WAIT: $(in_ns ss -Htan | grep -v TIME-WAIT | head -3)"

# tcpdump gets its buffer's blocks when full or a second late: ended once it wrote the 202
# answers (or after 5 s)
for _ in $(seq 50); do
    [ "$(tcpdump -n -r "$tmp/cap.pcap" 2>/dev/null | grep -c ' IP 10\.0\.0\.2\.9 > ')" -ge 202 ] && break
    sleep 0.1
done
kill -TERM "$dump"
wait "$dump" 2>/dev/null
txt=$(tcpdump -n -vv -r "$tmp/cap.pcap" 2>/dev/null)
from_bare=$(printf '%s\n' "$txt" | grep -c '^    10\.0\.0\.2\.')
synack=$(printf '%s\n' "$txt" | grep -c '^    10\.0\.0\.2\.9 > .* Flags \[S\.\], cksum 0x[0-9a-f]* (correct)')
finack=$(printf '%s\n' "$txt" | grep -c '^    10\.0\.0\.2\.9 > .* Flags \[F\.\], cksum 0x[0-9a-f]* (correct)')
[ "$synack" -eq 101 ] && [ "$finack" -eq 101 ] && [ "$from_bare" -eq 202 ] ||
    fail "from bench-tun-bare: $synack good SYN-ACKs and $finack good FIN-ACKs of $from_bare packets, wanted 101, 101 of 202"
printf '%s\n' "$txt" | grep -Eq 'bad cksum|incorrect' && fail "a bad checksum: $(printf '%s\n' "$txt" | grep -E 'bad cksum|incorrect' | head -1)"
printf '%s\n' "$txt" | grep '^    10\.0\.0\.2\.9 > .* Flags \[S\.\]' | head -1 |
    grep -Eq 'options \[mss 1460,sackOK,TS val [0-9]+ ecr [1-9][0-9]*,nop,wscale 7\]' ||
    fail "the first SYN-ACK lacks tcpsim's options"
printf '%s\n' "$txt" | grep '^    10\.0\.0\.2\.9 > .* Flags \[S\.\]' | tail -1 | grep -q 'options \[mss 1460\], length 0' ||
    fail "the SYN-ACK to a SYN without options has more than the MSS"
[ $fails -eq 0 ] && echo "PASS" || { echo "$fails failures"; exit 1; }
