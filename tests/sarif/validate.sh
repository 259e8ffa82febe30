#!/bin/sh
# validate.sh FILE... - validates SARIF logs against the official SARIF 2.1.0
# JSON schema kept here (sarif-schema-2.1.0.json; see README.md).
#
# The validator (ajv + ajv-formats, versions pinned by package-lock.json) is
# installed from the npm registry into tests/sarif/node_modules, which git
# ignores, the first time it is missing. A machine that cannot reach the
# registry fails here, loudly: the SARIF test is never skipped.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "validate.sh: node and npm are needed to validate SARIF output" >&2
	exit 1
fi
if ! node -e "require('$dir/node_modules/ajv/dist/2020'); require('$dir/node_modules/ajv-formats')" \
	>/dev/null 2>&1; then
	echo "validate.sh: installing the JSON-schema validator from npm into $dir/node_modules" >&2
	if ! npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2; then
		echo "validate.sh: FAILED to install ajv from the npm registry; SARIF output cannot be validated" >&2
		exit 1
	fi
fi
exec node "$dir/validate.js" "$@"
