#!/usr/bin/env bash
# make fuzz: run every native fuzz target in the module for FUZZTIME each (default 5m), one at a
# time (go test -fuzz takes one target in one package). New crashers land in the package's
# testdata/fuzz/FuzzXxx, where go test then replays them as regression cases.
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5m}
# FUZZFLAGS adds go test flags, e.g. FUZZFLAGS=-parallel=1 on a shared machine.
read -r -a extra <<<"${FUZZFLAGS:-}"
pkgs=("${@:-./...}") # scripts/fuzz.sh [PACKAGES]: default every package

# go test -list prints a package's matching names, then its "ok  <package>  <time>" line.
if ! list=$(go test -list '^Fuzz' "${pkgs[@]}" 2>&1); then
	echo "$list" >&2
	echo "fuzz: listing the fuzz targets failed" >&2
	exit 1
fi
targets=()
names=()
while read -r first second _; do
	case $first in
	Fuzz*) names+=("$first") ;;
	ok)
		for n in "${names[@]}"; do targets+=("$second $n"); done
		names=()
		;;
	esac
done <<<"$list"

if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no Fuzz targets found"
	exit 0
fi
# Run them all even when one fails, then fail if any did.
failed=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "== $name ($pkg) for $fuzztime, started $(date -u +%H:%M:%S)"
	start=$(date +%s)
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "${extra[@]}" "$pkg"; then
		echo "== $name ($pkg): ok after $(($(date +%s) - start))s"
	else
		echo "== $name ($pkg): FAILED after $(($(date +%s) - start))s"
		failed+=("$name ($pkg)")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz: failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
