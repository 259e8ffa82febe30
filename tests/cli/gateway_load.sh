# gateway_load.sh - the short form of bench/gateway/load.sh: 5 s of mixed
# allowed and denied 2026-07-28 traffic through the gateway at 64
# connections with wrk, then 5 s more while the policy is replaced every
# second; 0 failed requests, 0 wrong answers, 0 denied calls at the
# recording upstream. No nginx baseline here (`make bench-gateway` runs the
# long form with it). Not run under valgrind (Makefile).
set -u
: "${TOOLGATE:?TOOLGATE must name the toolgate binary}"
: "${TG_SOURCE_DIR:?TG_SOURCE_DIR must name the source tree}"
exec sh "$TG_SOURCE_DIR/bench/gateway/load.sh" "$TOOLGATE" 5 64 --no-baseline
