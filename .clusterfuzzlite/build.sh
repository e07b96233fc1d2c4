#!/bin/bash -eu
# Builds ulpgate's libFuzzer targets the way OSS-Fuzz and ClusterFuzzLite expect.
#
# Input (set by the base-builder image, or by scripts/cflite-check): $SRC (holding the
# source as $SRC/ulpgate, or ULPGATE_SRC), $WORK (scratch), $OUT (what the fuzzers need at
# run time, and nothing else is kept), $CC, $CFLAGS (sanitizer and coverage flags, e.g.
# -fsanitize=address -fsanitize=fuzzer-no-link), $LIB_FUZZING_ENGINE (the engine to link,
# e.g. -fsanitize=fuzzer or /usr/lib/libFuzzingEngine.a).
#
# Output in $OUT, for each target T in rowops, losses, bce, simd:
#   fuzz_T                      the fuzzer (MPFR and GMP linked statically: the runner
#                               image has neither)
#   fuzz_T_seed_corpus.zip      the input families (fuzz_T_replay --make-corpus), the
#                               committed corpus fuzz/corpus/T and the regression inputs
#                               fuzz/regress/T
#   fuzz_T.dict                 the special values of every dtype (fuzz/*.dict)
#   fuzz_T.options              libFuzzer options (max_len, as the smoke tests use)
#   known-findings.txt          the findings that are known and must not stop a run
#                               (fuzz/known.c looks for it beside the binary)
src=${ULPGATE_SRC:-$SRC/ulpgate}
build=$WORK/ulpgate-build
targets="rowops losses bce simd"

# Static MPFR and GMP where the compiler finds them (libmpfr-dev, libgmp-dev ship them).
static_lib() {
    local a
    a=$($CC -print-file-name="lib$1.a")
    if [ "$a" = "lib$1.a" ] || [ ! -f "$a" ]; then
        a=$(find /usr/lib /usr/local/lib -name "lib$1.a" 2>/dev/null | head -1)
    fi
    [ -n "$a" ] || { echo "build.sh: no static lib$1.a (install lib$1-dev)" >&2; exit 1; }
    echo "$a"
}

fuzzers=""
replays=""
for t in $targets; do
    fuzzers="$fuzzers fuzz_$t"
    replays="$replays fuzz_${t}_replay"
done

cmake -S "$src" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
    -DUG_FUZZ=ON -DUG_FUZZ_SMOKE=OFF -DUG_SANITIZE=OFF \
    -DUG_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
    -DMPFR_LIBRARY="$(static_lib mpfr)" -DGMP_LIBRARY="$(static_lib gmp)"
# shellcheck disable=SC2086
cmake --build "$build" --target $fuzzers $replays

mkdir -p "$OUT"
cp "$src/fuzz/known-findings.txt" "$OUT/"
for t in $targets; do
    cp "$build/fuzz/fuzz_$t" "$OUT/"
    cp "$build/fuzz/ulpgate.dict" "$OUT/fuzz_$t.dict"
    printf '[libfuzzer]\nmax_len = 600\n' >"$OUT/fuzz_$t.options"
    seeds=$WORK/seeds-$t
    rm -rf "$seeds"
    mkdir -p "$seeds"
    # the replay binary carries the sanitizers too; leaks at exit are not findings here
    ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/fuzz_${t}_replay" --make-corpus "$seeds" >/dev/null
    for d in corpus regress; do
        if [ -d "$src/fuzz/$d/$t" ]; then
            cp "$src/fuzz/$d/$t"/* "$seeds/" 2>/dev/null || true
        fi
    done
    rm -f "$OUT/fuzz_${t}_seed_corpus.zip"
    (cd "$seeds" && zip -q -r "$OUT/fuzz_${t}_seed_corpus.zip" .)
done
echo "build.sh: $(ls "$OUT")"
