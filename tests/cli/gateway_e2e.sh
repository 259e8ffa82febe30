# gateway_e2e.sh - `toolgate gateway` end to end with real MCP peers from npm
# (tests/gateway/e2e.mjs): the SDK StreamableHTTPClientTransport in front,
# server-everything (streamableHttp) and server-filesystem (stdio) behind.
# The peers are installed into tests/gateway/
# node_modules (git-ignored) from the committed package-lock.json when
# missing; if that fails (no node, registry unreachable) the test FAILS.
set -u
: "${TOOLGATE:?TOOLGATE must name the toolgate binary}"
: "${TG_SOURCE_DIR:?TG_SOURCE_DIR must name the source tree}"
DIR="$TG_SOURCE_DIR/tests/gateway"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "FAIL: node and npm are required for the gateway end-to-end test" >&2
	exit 1
fi
installed() {
	for p in sdk server-everything server-filesystem; do
		[ -f "$DIR/node_modules/@modelcontextprotocol/$p/package.json" ] || return 1
	done
}
if ! installed; then
	# One install at a time when several build trees run their tests.
	lock="${TMPDIR:-/tmp}/toolgate-gateway-npm.lock"
	if command -v flock >/dev/null 2>&1; then
		(flock 9; installed || (cd "$DIR" && npm ci --no-audit --no-fund >&2)) 9>"$lock"
	else
		(cd "$DIR" && npm ci --no-audit --no-fund >&2)
	fi
	if ! installed; then
		echo "FAIL: 'npm ci' in $DIR did not install the MCP peers (is the registry reachable?)" >&2
		exit 1
	fi
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tggateway.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
node "$DIR/e2e.mjs" "$TOOLGATE" "$TMP"
