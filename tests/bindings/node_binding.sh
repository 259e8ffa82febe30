# node_binding.sh - the Node package (bindings/node) against this build:
#   1. its devDependencies (the MCP SDK) are installed into bindings/node/
#      node_modules (git-ignored) from the committed package-lock.json;
#   2. the package is copied into the build tree and its addon built there
#      with node-gyp against the build's libraries (TOOLGATE_BUILD_DIR), so
#      that several build trees never share an addon;
#   3. node --test: a guarded McpServer driven by the SDK's Client, and every
#      example suite's request decided as `toolgate eval` decides it;
#   4. `npm pack`, `cmake --install` into a temporary prefix, and an install
#      of the tarball into a temporary project with pkg-config finding the
#      prefix (no network: the package has no dependencies), which then
#      compiles and decides.
# Environment: TG_SOURCE_DIR, TG_BINARY_DIR (set by ctest).
set -eu
: "${TG_SOURCE_DIR:?}" "${TG_BINARY_DIR:?}"
SRC=$TG_SOURCE_DIR/bindings/node
# node-gyp: the headers of the node that runs the tests (/usr/bin/node's in
# /usr/include/node, .deps/node's beside it), never a download
node_prefix=$(dirname "$(dirname "$(command -v node)")")
export npm_config_nodedir=${npm_config_nodedir:-$node_prefix}
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if [ ! -f "$SRC/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
	lock="${TMPDIR:-/tmp}/toolgate-node-npm.lock"
	if command -v flock >/dev/null 2>&1; then
		(flock 9; [ -f "$SRC/node_modules/@modelcontextprotocol/sdk/package.json" ] ||
			(cd "$SRC" && npm ci --ignore-scripts >&2)) 9>"$lock"
	else
		(cd "$SRC" && npm ci --ignore-scripts >&2)
	fi
	[ -f "$SRC/node_modules/@modelcontextprotocol/sdk/package.json" ] ||
		fail "'npm ci' in $SRC did not install the SDK (is the registry reachable?)"
fi

PKG=$TG_BINARY_DIR/node-binding
rm -rf "$PKG"
mkdir -p "$PKG"
cp -R "$SRC/package.json" "$SRC/binding.gyp" "$SRC/lib" "$SRC/src" "$SRC/scripts" "$SRC/test" "$PKG/"
ln -s "$SRC/node_modules" "$PKG/node_modules"
(cd "$PKG" && TOOLGATE_BUILD_DIR=$TG_BINARY_DIR npm run install >build.log 2>&1) ||
	fail "addon build: $(cat "$PKG/build.log")"

(cd "$PKG" && node --test test/*.test.mjs) || fail "node --test"

work=$(mktemp -d "${TMPDIR:-/tmp}/tgnode.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$PKG" && npm pack --pack-destination "$work" >"$work/pack.log" 2>&1) || fail "npm pack: $(cat "$work/pack.log")"
cmake --install "$TG_BINARY_DIR" --prefix "$work/prefix" >"$work/install.log"
pc=$(dirname "$(find "$work/prefix" -name toolgate-mcp.pc | head -1)")
mkdir "$work/project"
cd "$work/project"
echo '{"name":"consumer","version":"1.0.0","private":true}' >package.json
PKG_CONFIG_PATH=$pc npm install --offline "$work"/toolgate-*.tgz >"$work/npm.log" 2>&1 ||
	fail "npm install of the tarball: $(cat "$work/npm.log")"
addon=node_modules/toolgate/build/Release/toolgate.node
[ -f "$addon" ] || fail "the installed package has no addon"
ldd "$addon" | grep -q "$work/prefix/.*libtoolgate-mcp.so" ||
	fail "the addon does not link the installed libtoolgate-mcp: $(ldd "$addon")"
cat >check.js <<'JS'
const tg = require('toolgate');
const p = tg.Policy.compile('policy "p"; role reader; rule "r": allow role reader to call tool "get_*";');
const id = { principal: { id: 'a', roles: ['reader'] } };
const call = (name) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name } });
const a = p.authorize(call('get_x'), id), d = p.authorize(call('rm_x'), id);
if (a.decision !== 'allow' || a.rule !== 'r' || d.decision !== 'deny') throw new Error(JSON.stringify([a, d]));
console.log('installed package decides:', a.decision, d.decision);
JS
node check.js || fail "the installed package does not decide"
