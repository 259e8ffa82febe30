# gateway_2026_e2e.sh - `toolgate gateway` with real MCP 2026-07-28 peers
# and scaled out (tests/gateway2026/e2e.mjs): @modelcontextprotocol/client
# and /server 2.4.0 through the gateway (allowed, denied, filtered, a
# header/body mismatch, a task of one principal refused to another); then
# two gateway processes behind nginx (round-robin, no affinity) serving a
# 2025 client (@modelcontextprotocol/sdk 1.32.2) and a 2026 client, first
# with a development identity, then with bearer tokens (auth with the keys
# of tests/gateway/keys; a token for another resource gets 401). The
# peers are installed into tests/gateway2026/node_modules (git-ignored) from
# the committed package-lock.json when missing; if that fails, or node or
# nginx is missing, the test FAILS. Not run under valgrind (Makefile).
set -u
: "${TOOLGATE:?TOOLGATE must name the toolgate binary}"
: "${TG_SOURCE_DIR:?TG_SOURCE_DIR must name the source tree}"
DIR="$TG_SOURCE_DIR/tests/gateway2026"

for t in node npm nginx; do
	command -v $t >/dev/null 2>&1 || { echo "FAIL: $t is required (scripts/install-deps)" >&2; exit 1; }
done
installed() {
	for p in client server sdk; do
		[ -f "$DIR/node_modules/@modelcontextprotocol/$p/package.json" ] || return 1
	done
}
if ! installed; then
	lock="${TMPDIR:-/tmp}/toolgate-gateway2026-npm.lock"
	if command -v flock >/dev/null 2>&1; then
		(flock 9; installed || (cd "$DIR" && npm ci --no-audit --no-fund >&2)) 9>"$lock"
	else
		(cd "$DIR" && npm ci --no-audit --no-fund >&2)
	fi
	installed || { echo "FAIL: 'npm ci' in $DIR did not install the MCP peers" >&2; exit 1; }
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tggw2026.XXXXXX") || exit 1
chmod 755 "$TMP"	# nginx workers may run as another user when the test runs as root
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
node "$DIR/e2e.mjs" "$TOOLGATE" "$TMP"
