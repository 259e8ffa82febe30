# proxy_e2e.sh - `toolgate proxy` end to end with real MCP peers from npm
# (tests/proxy/e2e.mjs): the SDK client in front, server-everything and
# server-filesystem behind. The peers are installed into tests/proxy/
# node_modules (git-ignored) from the committed package-lock.json when
# missing; if that fails (no node, registry unreachable) the test FAILS.
set -u
: "${TOOLGATE:?TOOLGATE must name the toolgate binary}"
: "${TG_SOURCE_DIR:?TG_SOURCE_DIR must name the source tree}"
DIR="$TG_SOURCE_DIR/tests/proxy"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "FAIL: node and npm are required for the proxy end-to-end test" >&2
	exit 1
fi
installed() {
	for p in sdk server-everything server-filesystem; do
		[ -f "$DIR/node_modules/@modelcontextprotocol/$p/package.json" ] || return 1
	done
}
if ! installed; then
	# One install at a time when several build trees run their tests.
	lock="${TMPDIR:-/tmp}/toolgate-proxy-npm.lock"
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

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgproxy.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
node "$DIR/e2e.mjs" "$TOOLGATE" "$TMP"
