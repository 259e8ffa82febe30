# npm_peers.sh - sourced by the tests that drive real MCP peers from npm
# (not a test). need_npm_peers DIR WHAT PACKAGE...: makes sure node and npm
# exist and that DIR/node_modules holds every @modelcontextprotocol/PACKAGE
# (or NAME itself for a PACKAGE written npm:NAME), installing them from DIR's committed package-lock.json when missing (one
# install at a time when several build trees run their tests); exits 1 with
# a FAIL line naming WHAT (the test) otherwise.
need_npm_peers() {
	_dir=$1 _what=$2
	shift 2
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "FAIL: node and npm are required for the $_what" >&2
		exit 1
	fi
	_installed() {
		for _p in "$@"; do
			case $_p in
			npm:*) _p=${_p#npm:} ;;
			*) _p=@modelcontextprotocol/$_p ;;
			esac
			[ -f "$_dir/node_modules/$_p/package.json" ] || return 1
		done
	}
	_installed "$@" && return 0
	_lock="${TMPDIR:-/tmp}/toolgate-npm-$(basename "$_dir").lock"
	if command -v flock >/dev/null 2>&1; then
		(flock 9; _installed "$@" || (cd "$_dir" && npm ci --no-audit --no-fund >&2)) 9>"$_lock"
	else
		(cd "$_dir" && npm ci --no-audit --no-fund >&2)
	fi
	if ! _installed "$@"; then
		echo "FAIL: 'npm ci' in $_dir did not install the MCP peers (is the registry reachable?)" >&2
		exit 1
	fi
}
