#!/bin/sh
# The exported symbols of each shared library against tests/abi/*.symbols,
# so that an ABI change shows up in review as a change to those files
# (docs/embedding.md, "ABI policy"). TG_UPDATE_GOLDEN=1 rewrites them.
# Environment: TG_SOURCE_DIR, TG_BINARY_DIR (set by ctest).
set -eu
: "${TG_SOURCE_DIR:?}" "${TG_BINARY_DIR:?}"
golden=$TG_SOURCE_DIR/tests/abi
status=0
for lib in libtoolgate libtoolgate-compiler libtoolgate-mcp; do
	so=$TG_BINARY_DIR/lib/$lib.so
	want=$golden/$lib.symbols
	got=$(nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" {print $3}' |
		grep -v '^_' | sort)
	if [ "${TG_UPDATE_GOLDEN:-}" = 1 ]; then
		printf '%s\n' "$got" >"$want"
		continue
	fi
	if ! printf '%s\n' "$got" | diff -u "$want" - >&2; then
		echo "FAIL: $lib.so exports differ from tests/abi/$lib.symbols (above);" \
			"rerun with TG_UPDATE_GOLDEN=1 if the change is meant" >&2
		status=1
	fi
done
[ "$status" = 0 ] && echo "abi: exports match"
exit $status
