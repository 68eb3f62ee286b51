#!/bin/bash
# The whole end-to-end suite on one kernel of the matrix, one guest per bats
# file (a file's tests share a boot; a guest that runs out of time loses one
# file, not the rest), and the matrix per file at the end:
#   tests/kernels/suite.sh [KERNEL [FILE...]]   (default 6.1.0-57, every file)
#   VIGIL_KERNEL_HOOKS=auto/-fentry             hook sets (default: auto)
#   VIGIL_VM_TIMEOUT_S=N                        per guest (default 3600)
# Not in `make test` (under TCG on a loaded host the suite takes hours);
# `make test-kernels-suite` runs it. TAP per file in .output/kernels/suite/;
# last lines: "FILE passed skipped failed" per file, then the totals.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
k="${1:-6.1.0-57}"
shift
files=("$@")
[ ${#files[@]} = 0 ] && mapfile -t files < <(cd tests/bats && ls ./*.bats | sed 's|^\./||; s|\.bats$||')
out=.output/kernels/suite
mkdir -p "$out"
export VIGIL_VM_TIMEOUT_S="${VIGIL_VM_TIMEOUT_S:-3600}"
export VIGIL_KERNEL_HOOKS="${VIGIL_KERNEL_HOOKS:-auto}"
broken=()	# files whose guest ran no test (no qemu, no kernel, a guest that died)
for file in "${files[@]}"; do
	[ -f "tests/bats/$file.bats" ] || { echo "suite: no tests/bats/$file.bats" >&2; exit 2; }
	VIGIL_KERNEL_FILES="$file" VIGIL_KERNEL_FILTER=. tests/kernels/run.sh "$k" > "$out/$k.$file.tap" 2>&1
	rc=$?
	echo "# $file: $(tail -1 "$out/$k.$file.tap")"
	if [ "$rc" -ge 2 ] || ! grep -q '^\(\[.*\] \)\?\(not \)\?ok ' "$out/$k.$file.tap"; then
		broken+=("$file")
	fi
done
printf '%-14s %6s %7s %6s\n' file passed skipped failed
tp=0 ts=0 tf=0
for file in "${files[@]}"; do
	t="$out/$k.$file.tap"
	s="$(grep -c '^\[.*\] ok .* # skip' "$t")"
	p="$(($(grep -c '^\[.*\] ok ' "$t") - s))"
	f="$(grep -c '^\(\[.*\] \)\?not ok ' "$t")"
	printf '%-14s %6d %7d %6d\n' "$file" "$p" "$s" "$f"
	tp=$((tp + p)) ts=$((ts + s)) tf=$((tf + f))
done
[ ${#broken[@]} = 0 ] || echo "# ran no test (counted failed): ${broken[*]}"
tf=$((tf + ${#broken[@]}))
echo "$tp passed, $ts skipped, $tf failed"
[ "$tf" = 0 ]
