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

. "$TG_SOURCE_DIR/tests/cli/data/npm_peers.sh"
need_npm_peers "$DIR" "gateway end-to-end test" sdk server-everything server-filesystem

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tggateway.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
node "$DIR/e2e.mjs" "$TOOLGATE" "$TMP"
