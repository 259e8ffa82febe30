"""Per-decision cost through the Python package against the C call, in
one run on the same requests (not a test; see docs/bindings/python.md).

  usage: TOOLGATE_LIBDIR=build/lib /usr/bin/python3 bindings/python/bench/bench.py build

Requests: every request case of the example suites (build/bin/suite_requests),
each suite on its own compiled policy. C: tg_eval_json in a loop
(eval_json_loop.c, compiled here with cc -O2 against the build). Python:
Policy.eval_json(str) into a Decision, and Policy.authorize of the
equivalent MCP tools/call message with a prepared Identity. Best of ROUNDS
passes over the lines, per decision.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = Path(sys.argv[1] if len(sys.argv) > 1 else "build").resolve()
SOURCE = HERE.parents[2]
ROUNDS = int(os.environ.get("ROUNDS", "30"))
os.environ.setdefault("TOOLGATE_LIBDIR", str(BUILD / "lib"))
sys.path.insert(0, str(HERE.parent))
import toolgate  # noqa: E402


def best_of(fn, n):
    best = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter_ns()
        fn()
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def main():
    work = Path(tempfile.mkdtemp())
    loop = work / "eval_json_loop"
    subprocess.run(["cc", "-O2", "-I", str(SOURCE / "include"), "-I", str(BUILD / "include"),
                    str(HERE / "eval_json_loop.c"), "-L", str(BUILD / "lib"),
                    "-ltoolgate-mcp", "-ltoolgate", "-Wl,-rpath," + str(BUILD / "lib"),
                    "-o", str(loop)], check=True)
    print(f"{'suite':<14}{'requests':>9}{'C tg_eval_json':>16}{'py eval_json':>14}"
          f"{'py authorize':>14}")
    for suite in sorted((SOURCE / "policies" / "examples").glob("*.yaml")):
        out = subprocess.run([str(BUILD / "bin" / "suite_requests"), str(suite)], check=True,
                             capture_output=True, text=True).stdout.splitlines()
        source, requests = out[0], out[1:]
        compiled = toolgate.compile_file(source)
        tgb = work / (suite.stem + ".tgb")
        tgb.write_bytes(compiled.bytecode)
        jsonl = work / (suite.stem + ".jsonl")
        jsonl.write_text("\n".join(requests) + "\n")
        c_ns = float(subprocess.run([str(loop), str(tgb), str(jsonl), str(ROUNDS)], check=True,
                                    capture_output=True, text=True).stdout.split()[0])
        policy = toolgate.Policy.load(compiled.bytecode)
        py_ns = best_of(lambda: [policy.eval_json(r) for r in requests], len(requests))
        # The MCP path: tools/call requests as messages, identity prepared once
        # per distinct principal/token/context (as a server keeps one per session).
        calls = []
        for r in map(json.loads, requests):
            if r.get("method") != "tools/call" or "target" not in r:
                continue
            ident = {k: r[k] for k in ("principal", "token", "context") if k in r}
            msg = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                              "params": {"name": r["target"], "arguments": r.get("args", {})}})
            try:
                calls.append((msg, toolgate.Identity(ident)))
            except toolgate.InvalidRequestError:
                pass
        mcp_ns = best_of(lambda: [policy.authorize(m, i, now=1764140000) for m, i in calls],
                         len(calls)) if calls else float("nan")
        print(f"{suite.stem:<14}{len(requests):>9}{c_ns:>13.0f} ns{py_ns:>11.0f} ns"
              f"{mcp_ns:>11.0f} ns")


main()
