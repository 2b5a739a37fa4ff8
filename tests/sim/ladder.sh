#!/usr/bin/env bash
# tests/sim/ladder.sh MODE ARGS...: the ladder diagrams of the chapter's experiments, drawn
# by `tcpsim diagram` from the scenarios (see CMakeLists.txt). Needs $TCPSIM and
# $TS_SIM_TMP. TS_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
set -uo pipefail
mode=$1
shift
tmp=${TS_SIM_TMP:-/tmp}/ladder.$mode.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

case "$mode" in
golden) # SCN GOLDEN [ARGS...]: the text ladder, byte for byte
    scn=$1 golden=$2
    shift 2
    "$TCPSIM" diagram "$scn" "$@" >"$tmp/out.txt" || fail "tcpsim diagram $scn $*: exit $?"
    if [ -n "${TS_UPDATE_GOLDEN:-}" ]; then cp "$tmp/out.txt" "$golden"; fi
    diff -u "$golden" "$tmp/out.txt" || fail "$scn $*: the ladder differs from $golden"
    ;;
svg) # SCN NSEGS TEXT...: well-formed, renders, one arrow per segment, each TEXT a label
    scn=$1 n=$2
    shift 2
    "$TCPSIM" diagram "$scn" -o "$tmp/l.svg" || fail "tcpsim diagram $scn -o l.svg: exit $?"
    xmllint --noout "$tmp/l.svg" || fail "$scn: SVG not well-formed"
    err=$(rsvg-convert -o "$tmp/l.png" "$tmp/l.svg" 2>&1) || fail "$scn: rsvg-convert: $err"
    [ -z "$err" ] || fail "$scn: rsvg-convert complained: $err"
    [ -s "$tmp/l.png" ] || fail "$scn: empty PNG"
    got=$(grep -c '<g class="seg' "$tmp/l.svg")
    [ "$got" -eq "$n" ] || fail "$scn: $got arrows, want $n"
    for label in "$@"; do
        grep -qF ">$label<" "$tmp/l.svg" || fail "$scn: no label \"$label\""
    done
    ;;
html) # SCN STEP TEXT...: opened at #step=STEP in headless chromium, that arrow is the one
      # highlighted and each TEXT is in the page as the browser left it
    scn=$1 step=$2
    shift 2
    "$TCPSIM" diagram "$scn" -o "$tmp/l.html" || fail "tcpsim diagram $scn -o l.html: exit $?"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/chrome" --virtual-time-budget=3000 \
        --dump-dom "file://$tmp/l.html#step=$step" >"$tmp/dom.html" 2>/dev/null ||
        fail "chromium failed"
    grep -qF "class=\"seg current\" id=\"seg-$step\"" "$tmp/dom.html" ||
        fail "$scn: step $step is not the highlighted arrow"
    [ "$(grep -o 'seg current' "$tmp/dom.html" | wc -l)" -eq 1 ] || fail "more than one highlighted"
    for text in "$@"; do
        grep -qF -- "$text" "$tmp/dom.html" || fail "$scn step $step: no \"$text\" in the page"
    done
    ;;
*) fail "unknown mode $mode" ;;
esac
