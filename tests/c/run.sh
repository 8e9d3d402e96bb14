#!/usr/bin/env bash
# tests/c/run.sh [plain|asan|tsan|all]   (default: all)
#
# Builds tests/c/test_native.c against each built-in C implementation (implementations/c/
# futex64.c, futex32.c, posix_sem.c) and runs it:
#   plain  -O2
#   asan   -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
#   tsan   -O1 -fsanitize=thread
# Binaries go to a fresh temporary directory (removed on exit).  Works from any directory.
# Exits non-zero if any build or any run fails.  Environment: CC (default gcc), and the test
# program's own SEMH_TEST_SEED / SEMH_TEST_WATCHDOG_S / SEMH_TEST_STRICT.
#
# TSan and ASLR: older TSan runtimes abort ("FATAL: ThreadSanitizer: unexpected memory
# mapping") on kernels with high mmap ASLR entropy (vm.mmap_rnd_bits = 32).  GCC 12's TSan ran
# fine with ASLR on where this script was written (kernel 6.18, mmap_rnd_bits 28), so nothing is
# done by default; if a TSan binary fails with that message, it is re-run once under
# `setarch "$(uname -m)" -R` (ASLR off for that process only), and the script says so.
set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cc="${CC:-gcc}"
mode="${1:-all}"

case "$mode" in
plain) modes=(plain) ;;
asan) modes=(asan) ;;
tsan) modes=(tsan) ;;
all) modes=(plain asan tsan) ;;
-h | --help)
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
    exit 0
    ;;
*)
    echo "usage: $0 [plain|asan|tsan|all]" >&2
    exit 2
    ;;
esac

impls=(futex64 futex32 posix_sem)
common=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -I"$root/harness/csrc")

flags_for() {
    case "$1" in
    plain) echo "-O2" ;;
    asan) echo "-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" ;;
    tsan) echo "-O1 -fsanitize=thread" ;;
    esac
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/semh-ctests.XXXXXX")" || exit 2
trap 'rm -rf "$tmp"' EXIT

# Sanitizer settings: fail hard, no leaks tolerated, reports on stderr.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

failures=()
for m in "${modes[@]}"; do
    # shellcheck disable=SC2207
    mflags=($(flags_for "$m"))
    for impl in "${impls[@]}"; do
        name="$m/$impl"
        exe="$tmp/test_${m}_${impl}"
        echo "=== $name"
        if ! "$cc" "${common[@]}" "${mflags[@]}" "$root/tests/c/test_native.c" \
            "$root/implementations/c/$impl.c" -lpthread -o "$exe"; then
            echo "=== $name: BUILD FAILED"
            failures+=("$name (build)")
            continue
        fi
        start=$(date +%s.%N)
        "$exe" 2>&1 | tee "$tmp/out"
        rc=${PIPESTATUS[0]}
        if [ "$m" = tsan ] && [ "$rc" -ne 0 ] &&
            grep -q "unexpected memory mapping" "$tmp/out"; then
            echo "=== $name: TSan cannot map its shadow memory with ASLR on; re-running under setarch -R"
            setarch "$(uname -m)" -R "$exe" 2>&1 | tee "$tmp/out"
            rc=${PIPESTATUS[0]}
        fi
        end=$(date +%s.%N)
        secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
        if [ "$rc" -ne 0 ]; then
            echo "=== $name: FAILED (exit $rc, ${secs} s)"
            failures+=("$name (exit $rc)")
        else
            echo "=== $name: ok (${secs} s)"
        fi
    done
done

echo
if [ "${#failures[@]}" -ne 0 ]; then
    echo "FAILED: ${failures[*]}"
    exit 1
fi
echo "all passed: ${modes[*]} x ${impls[*]}"
