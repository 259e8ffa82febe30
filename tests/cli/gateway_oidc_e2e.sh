# gateway_oidc_e2e.sh - `toolgate gateway` as an OAuth resource server with a
# real authorization server (tests/gateway/oidc_e2e.mjs): oidc-provider on
# loopback issuing RFC 9068 JWT access tokens (resource indicators, the
# client-credentials grant, keys read from its jwks_uri), the SDK client
# (1.32.2, ClientCredentialsProvider) in front, the recording upstream
# behind: an allowed call, a denied call that never reaches the upstream,
# and step-up (403 insufficient_scope) with what the SDK does about it.
# The npm packages are installed into tests/gateway/node_modules (git-
# ignored) from the committed package-lock.json when missing; if that fails
# the test FAILS. Not run under valgrind (Makefile).
set -u
: "${TOOLGATE:?TOOLGATE must name the toolgate binary}"
: "${TG_SOURCE_DIR:?TG_SOURCE_DIR must name the source tree}"
DIR="$TG_SOURCE_DIR/tests/gateway"

. "$TG_SOURCE_DIR/tests/cli/data/npm_peers.sh"
need_npm_peers "$DIR" "gateway OIDC end-to-end test" sdk npm:oidc-provider

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgoidc.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
node "$DIR/oidc_e2e.mjs" "$TOOLGATE" "$TMP"
