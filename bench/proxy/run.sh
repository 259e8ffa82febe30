#!/bin/sh
# run.sh - latency benchmark of `toolgate proxy` (bench/proxy/latency.mjs).
#
#   bench/proxy/run.sh [BUILD_DIR] [CALLS]      (defaults: build, 1000)
#
# Uses the MCP peers the end-to-end test installs into tests/proxy/
# node_modules (installed here with `npm ci` when missing).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
CALLS=${2:-1000}
TOOLGATE="$ROOT/$BUILD/bin/toolgate"
[ -x "$TOOLGATE" ] || { echo "run.sh: no $TOOLGATE; build first" >&2; exit 2; }
[ -d "$ROOT/tests/proxy/node_modules/@modelcontextprotocol/server-everything" ] ||
	(cd "$ROOT/tests/proxy" && npm ci --no-audit --no-fund)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/bench.tg" <<'POL'
policy "bench" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "read-only": allow role reader to call any tool when tool.read_only;
rule "no-env": deny anyone to call tool "get-env" because "secret";
POL
"$TOOLGATE" compile "$TMP/bench.tg" -o "$TMP/bench.tgb"
node "$ROOT/bench/proxy/latency.mjs" "$TOOLGATE" "$TMP/bench.tgb" "$CALLS"
