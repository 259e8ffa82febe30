# lib.sh - helpers sourced by the CLI scripts in tests/cli (not a test).
#
# Each script runs the built CLI ($TOOLGATE) in a private temporary
# directory, counts failures instead of stopping at the first, and exits 1
# when any check failed.
set -u
: "${TOOLGATE:?TOOLGATE must name the toolgate binary}"
: "${TG_SOURCE_DIR:?TG_SOURCE_DIR must name the source tree}"
DATA="$TG_SOURCE_DIR/tests/cli/data"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgcli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# need TOOL...: each must be on PATH (scripts/install-deps installs them),
# or the script fails at once.
need() {
	for _t in "$@"; do
		command -v "$_t" >/dev/null 2>&1 ||
			{ echo "FAIL: $_t is required (scripts/install-deps)" >&2; exit 1; }
	done
}

# run_in STDIN WANT ARGS...: toolgate ARGS with stdin from STDIN; stdout to
# $TMP/out, stderr to $TMP/err; the exit status must be WANT.
run_in() {
	_in=$1 _want=$2
	shift 2
	"$TOOLGATE" "$@" <"$_in" >"$TMP/out" 2>"$TMP/err"
	_got=$?
	if [ "$_got" -ne "$_want" ]; then
		fail "toolgate $*: exit status $_got, want $_want"
		sed 's/^/    stdout: /' "$TMP/out" >&2
		sed 's/^/    stderr: /' "$TMP/err" >&2
	fi
}

# run WANT ARGS...: the same with stdin from /dev/null.
run() {
	run_in /dev/null "$@"
}

# has FILE PATTERN: FILE has a line matching the basic regular expression.
has() {
	grep -q -- "$2" "$1" || {
		fail "$(basename "$1") lacks /$2/"
		sed 's/^/    | /' "$1" >&2
	}
}

# lacks FILE PATTERN
lacks() {
	if grep -q -- "$2" "$1"; then
		fail "$(basename "$1") has /$2/"
		sed 's/^/    | /' "$1" >&2
	fi
}

# empty FILE
empty() {
	if [ -s "$1" ]; then
		fail "$(basename "$1") is not empty"
		sed 's/^/    | /' "$1" >&2
	fi
}

# same A B: the files are byte-identical.
same() {
	cmp -s "$1" "$2" || {
		fail "$1 and $2 differ"
		diff "$1" "$2" | sed 's/^/    /' >&2
	}
}

# wait_for FILE PATTERN: up to 60 s for a line matching PATTERN in FILE (for
# steps that talk to a running process: they wait for what they need to
# see, not for a fixed time, so they hold under valgrind on a loaded
# machine). Returns 1 when it never came.
wait_for() {
	_n=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		_n=$((_n + 1))
		[ "$_n" -gt 600 ] && return 1
		sleep 0.1
	done
}

# child_of PID COMM: prints the pid of PID's child process named COMM,
# waiting up to 5 s for it to appear (empty if it does not).
child_of() {
	_n=0
	while [ $_n -lt 100 ]; do
		for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
			[ "$(cat "/proc/$_c/comm" 2>/dev/null)" = "$2" ] && { echo "$_c"; return; }
		done
		_n=$((_n + 1))
		sleep 0.05
	done
}

# std_fds_only WHAT PID: fails unless process PID holds descriptors 0, 1
# and 2 and no other.
std_fds_only() {
	_fds=$(ls "/proc/$2/fd" 2>/dev/null | sort -n | tr '\n' ' ')
	[ -n "$2" ] && [ "$_fds" = "0 1 2 " ] ||
		fail "$1 (${2:-not found}) holds descriptors '$_fds', want '0 1 2 '"
}

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed" >&2
		exit 1
	fi
	exit 0
}

# big_request FILE TARGET [MEMBERS]: writes a tools/call of TARGET by rui
# whose args are MEMBERS (JSON members, each followed by a comma) and a
# "content" of 100 KiB of 'a', past the 64 KiB string limit.
big_request() {
	{
		printf '{"principal":{"id":"rui"},"method":"tools/call","target":"%s","args":{%s"content":"' "$2" "${3:-}"
		head -c 102400 /dev/zero | tr '\0' 'a'
		echo '"}}'
	} >"$1"
}
