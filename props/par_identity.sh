#!/bin/sh
# Threads and shards change nothing (issue 9): the ctests par_* (reports/par_tests.cmake).
#
#   par_identity.sh ULPGATE BASELINE check   check --kernel all --rows 2 (text and --json)
#                                            with --threads 1, 2, 3: the same bytes; and
#                                            every bad --threads / --shard exits 2
#   par_identity.sh ULPGATE BASELINE report  report --quick with --threads 1, with
#                                            --threads 2, and as 3 shards (--threads 3, 2,
#                                            1) merged: report.json, report.md and
#                                            report.html the same bytes; merge refuses a
#                                            missing shard, a shard given twice, shards of
#                                            different runs (exit 2, nothing written)
#   par_identity.sh ULPGATE BASELINE gate    gate with --threads 1 and 3: the same bytes;
#                                            3 shards each pass and measure, together, every
#                                            line once
# A fourth argument KERNEL (default all) runs check, report and gate on that kernel only:
# the quick ctests use one kernel (every family, axis and sweep of it still splits into
# units over threads and shards); the `slow` ones run every kernel.
# Nothing here is compared with a figure taken from the code under test: every check is
# one run of ulpgate against another run with other --threads / --shard.
set -eu
U=$1
BASELINE=$2
WHAT=$3
KSEL=${4:-all}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
same() { cmp "$1" "$2" >/dev/null || fail "$1 and $2 differ"; echo "same bytes: $1 $2"; }

# expect_rc CODE PATTERN command...: exit status CODE and PATTERN in the message.
expect_rc() {
    want=$1 pattern=$2
    shift 2
    set +e
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" -eq "$want" ] || fail "$* exited $rc, not $want: $(cat "$T/err")"
    grep -q -- "$pattern" "$T/err" || fail "$* said '$(cat "$T/err")', not '$pattern'"
    echo "exit $rc as expected: $*: $(cat "$T/err")"
}

case $WHAT in
check)
    for t in 1 2 3; do
        "$U" check --kernel "$KSEL" --rows 2 --threads $t --json "$T/c$t.json" >"$T/c$t.txt" || [ $? -eq 1 ]
    done
    [ -s "$T/c1.txt" ] || fail "check printed nothing"
    grep -q '^summary: ' "$T/c1.txt" || fail "check printed no summary"
    for t in 2 3; do
        same "$T/c1.txt" "$T/c$t.txt"
        same "$T/c1.json" "$T/c$t.json"
    done
    for spec in 0/0 3/2 x/y 0/3 1/ /2 2; do
        expect_rc 2 "shard '$spec'" "$U" check --kernel softmax.naive.f32 --shard "$spec"
        expect_rc 2 "shard '$spec'" "$U" report --out "$T/bad" --shard "$spec"
        expect_rc 2 "shard '$spec'" "$U" gate --baseline "$BASELINE" --shard "$spec"
    done
    for n in 0 -1 x 2000; do
        expect_rc 2 "threads '$n'" "$U" check --kernel softmax.naive.f32 --threads "$n"
    done
    [ ! -e "$T/bad" ] || fail "a report with a bad --shard created its directory"
    ;;
report)
    "$U" report --quick --kernel "$KSEL" --out "$T/one" --threads 1 >/dev/null
    "$U" report --quick --kernel "$KSEL" --out "$T/two" --threads 2 >/dev/null
    "$U" report --quick --kernel "$KSEL" --out "$T/s1" --shard 1/3 --threads 3 >/dev/null
    "$U" report --quick --kernel "$KSEL" --out "$T/s2" --shard 2/3 --threads 2 >/dev/null
    "$U" report --quick --kernel "$KSEL" --out "$T/s3" --shard 3/3 --threads 1 >/dev/null
    [ ! -e "$T/s1/report.json" ] || fail "a shard wrote a report.json"
    "$U" merge --out "$T/merged" "$T/s3" "$T/s1" "$T/s2" >/dev/null
    for f in report.json report.md report.html; do
        [ -s "$T/one/$f" ] || fail "no $f"
        same "$T/one/$f" "$T/two/$f"
        same "$T/one/$f" "$T/merged/$f"
    done
    expect_rc 2 "missing shard 2/3" "$U" merge --out "$T/m1" "$T/s1" "$T/s3"
    expect_rc 2 "given twice" "$U" merge --out "$T/m2" "$T/s1" "$T/s2" "$T/s2" "$T/s3"
    expect_rc 3 "cannot read" "$U" merge --out "$T/m3" "$T/s1" "$T/s2" "$T/nowhere"
    K=softmax.naive.f32
    "$U" report --quick --kernel $K --seed 2 --out "$T/k2" --shard 2/3 >/dev/null
    "$U" report --quick --kernel $K --seed 1 --out "$T/k1" --shard 1/3 >/dev/null
    "$U" report --quick --kernel $K --seed 1 --out "$T/k3" --shard 3/3 >/dev/null
    expect_rc 2 "different runs.*seed" "$U" merge --out "$T/m4" "$T/k1" "$T/k2" "$T/k3"
    expect_rc 2 "different runs.*kernels" "$U" merge --out "$T/m5" "$T/k1" "$T/s2" "$T/s3"
    echo '{"schema": "something else"}' >"$T/k2/report-shard.json"
    expect_rc 2 "not a shard file" "$U" merge --out "$T/m6" "$T/k1" "$T/k2" "$T/k3"
    for d in m1 m2 m3 m4 m5 m6; do
        [ ! -e "$T/$d" ] || fail "merge wrote $d after an error"
    done
    ;;
gate)
    # The baseline may hold a failure of its own (that is gate_baseline's business): the
    # shards must then fail too, and pass when it passes.
    rc1=0 rc3=0 worst=0
    "$U" gate --baseline "$BASELINE" --kernel "$KSEL" --threads 1 >"$T/g1.txt" || rc1=$?
    "$U" gate --baseline "$BASELINE" --kernel "$KSEL" --threads 3 >"$T/g3.txt" || rc3=$?
    [ $rc1 -le 1 ] && [ $rc1 -eq $rc3 ] || fail "gate exited $rc1 with --threads 1, $rc3 with --threads 3"
    same "$T/g1.txt" "$T/g3.txt"
    total=$(sed -n 's/.*[(:] *\([0-9][0-9]*\) measurements.*/\1/p' "$T/g1.txt" | head -1)
    [ -n "$total" ] || fail "no measurement count in the gate's output"
    sum=0
    for i in 1 2 3; do
        rc=0
        "$U" gate --baseline "$BASELINE" --kernel "$KSEL" --shard $i/3 --threads 2 >"$T/s$i.txt" || rc=$?
        [ $rc -le 1 ] || fail "shard $i/3 of the gate exited $rc"
        [ $rc -le $worst ] || worst=$rc
        n=$(sed -n 's/.*[(:] *\([0-9][0-9]*\) measurements.*/\1/p' "$T/s$i.txt" | head -1)
        [ -n "$n" ] && [ "$n" -gt 0 ] || fail "shard $i/3 measured nothing"
        grep -q "shard $i/3" "$T/s$i.txt" || fail "shard $i/3 does not say which shard it is"
        sum=$((sum + n))
    done
    [ "$sum" -eq "$total" ] || fail "the shards measured $sum lines, the whole gate $total"
    [ $worst -eq $rc1 ] || fail "the shards' worst exit status is $worst, the whole gate's $rc1"
    echo "3 shards measured $sum lines, the unsharded gate $total"
    expect_rc 2 "cannot be combined with --shard" "$U" gate --baseline "$T/new.txt" --update --shard 1/2
    ;;
*)
    fail "unknown test $WHAT"
    ;;
esac
echo "par $WHAT: PASS"
