#!/bin/sh
# Runs each libFuzzer target for FUZZ_SECONDS (default 60), one after the
# other, one process each (-jobs=1 equivalent): `make fuzz`.
#
#   tests/fuzz/run-fuzz.sh BUILD_DIR [TARGET...]
#
# The working corpus lives in BUILD_DIR/fuzz-corpus/TARGET, seeded from
# tests/fuzz/corpus/TARGET and tests/fuzz/regressions/TARGET; crashes, leaks
# and timeouts are written to BUILD_DIR/fuzz-artifacts/TARGET/. A finding
# belongs in tests/fuzz/regressions/TARGET/ once fixed, where ctest replays
# it. Exits 1 when any target found something.
set -eu
build=$1
shift
src=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-60}
targets=${*:-compile load request suite regex gateway}
status=0
for t in $targets; do
	case $t in
	compile) dict=policy.dict ;;
	load) dict= ;;
	request) dict=json.dict ;;
	suite) dict=yaml.dict ;;
	regex) dict= ;;
	gateway) dict= ;;
	*) echo "unknown fuzz target '$t'" >&2; exit 2 ;;
	esac
	corpus=$build/fuzz-corpus/$t
	art=$build/fuzz-artifacts/$t
	mkdir -p "$corpus" "$art"
	set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$art/"
	[ -n "$dict" ] && set -- "$@" -dict="$src/dict/$dict"
	echo "== fuzz_$t for ${secs}s"
	if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$build/bin/fuzz_$t" "$@" "$corpus" "$src/corpus/$t" "$src/regressions/$t"; then
		echo "fuzz_$t: finding saved in $art" >&2
		status=1
	fi
done
exit $status
