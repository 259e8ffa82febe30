# proxy_e2e.sh - `toolgate proxy` end to end with real MCP peers from npm
# (tests/proxy/e2e.mjs): the SDK client in front, server-everything and
# server-filesystem behind. The peers are installed into tests/proxy/
# node_modules (git-ignored) from the committed package-lock.json when
# missing; if that fails (no node, registry unreachable) the test FAILS.
set -u
: "${TOOLGATE:?TOOLGATE must name the toolgate binary}"
: "${TG_SOURCE_DIR:?TG_SOURCE_DIR must name the source tree}"
DIR="$TG_SOURCE_DIR/tests/proxy"

. "$TG_SOURCE_DIR/tests/cli/data/npm_peers.sh"
need_npm_peers "$DIR" "proxy end-to-end test" sdk server-everything server-filesystem

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgproxy.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
node "$DIR/e2e.mjs" "$TOOLGATE" "$TMP"
