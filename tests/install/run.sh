#!/bin/sh
# Installs the build into a temporary prefix and uses it as a server would:
#   - a consumer built with pkg-config and with find_package (shared and
#     static) compiles, loads and decides, agreeing with the installed
#     command;
#   - libtoolgate.so needs nothing beyond libc (and libpthread where the C
#     library splits it out), read from its dynamic section;
#   - the other libraries reach the runtime only through what it exports;
#   - a project builds the runtime alone with add_subdirectory, needing none
#     of re2c, Bison, jansson, libyaml or cmocka.
# Environment: TG_SOURCE_DIR, TG_BINARY_DIR (set by ctest).
set -eu
: "${TG_SOURCE_DIR:?}" "${TG_BINARY_DIR:?}"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$TG_BINARY_DIR" --prefix "$prefix" >"$work/install.log"
libdir=$prefix/lib
[ -d "$libdir/pkgconfig" ] || libdir=$(dirname "$(find "$prefix" -name toolgate.pc | head -1)")/..
for f in include/toolgate/toolgate.h include/toolgate/version.h include/toolgate/compiler.h \
	include/toolgate/mcp.h bin/toolgate share/man/man1/toolgate.1 share/man/man3/libtoolgate.3; do
	[ -f "$prefix/$f" ] || fail "not installed: $f"
done
for lib in libtoolgate libtoolgate-compiler libtoolgate-mcp; do
	[ -f "$libdir/$lib.a" ] || fail "not installed: $lib.a"
	[ -e "$libdir/$lib.so" ] || fail "not installed: $lib.so"
done

# The runtime's dynamic section: libc only.
needed=$(readelf -d "$libdir/libtoolgate.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for n in $needed; do
	case $n in
	libc.so.* | libpthread.so.*) ;;
	*) fail "libtoolgate.so needs $n (allowed: libc, libpthread)" ;;
	esac
done

# The compiler and the adapter use only what the runtime exports.
nm -D --defined-only "$libdir/libtoolgate.so" | awk '{print $3}' | sort >"$work/exported"
for lib in libtoolgate-compiler libtoolgate-mcp; do
	nm -D --undefined-only "$libdir/$lib.so" | awk '{print $2}' | grep '^tg_' | sort >"$work/used"
	missing=$(comm -23 "$work/used" "$work/exported")
	[ -z "$missing" ] || fail "$lib.so needs runtime symbols it does not export: $missing"
done

# An example, compiled and decided by the installed command.
policy=$TG_SOURCE_DIR/policies/examples/engineering.tg
"$prefix/bin/toolgate" compile "$policy" -o "$work/p.tgb" >/dev/null
grep -v '^#' "$TG_SOURCE_DIR/policies/examples/engineering.requests.jsonl" | sed -n 2p >"$work/req.json"
"$prefix/bin/toolgate" eval "$work/p.tgb" --request "$work/req.json" >"$work/want.json" || true
grep -q '"decision":"deny"' "$work/want.json" || fail "unexpected eval output: $(cat "$work/want.json")"
run_consumer() {
	LD_LIBRARY_PATH=$libdir "$@" "$policy" "$work/p.tgb" "$work/req.json" "$work/want.json" \
		>"$work/out" 2>&1 || fail "$1: $(cat "$work/out")"
}

# pkg-config.
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
[ "$(pkg-config --modversion toolgate)" = "$(sed -n 's/^#define TG_VERSION_STRING "\(.*\)"/\1/p' "$prefix/include/toolgate/version.h")" ] ||
	fail "toolgate.pc and version.h disagree"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$work/consumer_pc" "$TG_SOURCE_DIR/tests/install/consumer/consumer.c" \
	$(pkg-config --cflags --libs toolgate-mcp toolgate-compiler)
run_consumer "$work/consumer_pc"

# find_package, shared and static.
cmake -S "$TG_SOURCE_DIR/tests/install/consumer" -B "$work/consumer" \
	-DCMAKE_PREFIX_PATH="$prefix" >"$work/consumer.log" 2>&1 || fail "find_package: $(cat "$work/consumer.log")"
cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1 || fail "consumer build: $(cat "$work/consumer.log")"
run_consumer "$work/consumer/consumer"
run_consumer "$work/consumer/consumer_static"
readelf -d "$work/consumer/consumer_static" | grep -q 'libtoolgate' &&
	fail "consumer_static still needs a shared libtoolgate"

# The runtime alone, from source, inside another project.
cmake -S "$TG_SOURCE_DIR/tests/install/subproject" -B "$work/sub" \
	-DTOOLGATE_SOURCE_DIR="$TG_SOURCE_DIR" >"$work/sub.log" 2>&1 || fail "subproject: $(cat "$work/sub.log")"
if grep -E '^(RE2C|BISON_EXECUTABLE|JANSSON_|YAJL_|UTF8PROC_|YAML_|CMOCKA_|PKG_CONFIG_EXECUTABLE)' "$work/sub/CMakeCache.txt"; then
	fail "a runtime-only configure looked for tools it does not need"
fi
cmake --build "$work/sub" >>"$work/sub.log" 2>&1 || fail "subproject build: $(cat "$work/sub.log")"
"$work/sub/server" "$work/p.tgb" >"$work/out" || fail "subproject server: $(cat "$work/out")"

echo "install: ok"
