"""The C libraries from Python through ctypes alone (standard library only):
a binding needs no toolgate semantics of its own. Every request of the
example suites is decided by libtoolgate-mcp's tg_eval_json on bytecode
loaded by libtoolgate, and decision, rule, reason and errors - read through
the opaque decision's accessors - must equal what `toolgate eval` prints.

usage: test_ctypes.py BUILD_DIR SOURCE_DIR
"""
import ctypes
import json
import subprocess
import sys
from pathlib import Path

BUILD, SOURCE = Path(sys.argv[1]), Path(sys.argv[2])
LIB = BUILD / "lib"

runtime = ctypes.CDLL(str(LIB / "libtoolgate.so"))
mcp = ctypes.CDLL(str(LIB / "libtoolgate-mcp.so"))

c_policy = ctypes.c_void_p
c_decision = ctypes.c_void_p
runtime.tg_policy_load_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(c_policy), ctypes.c_void_p]
runtime.tg_policy_load_file.restype = ctypes.c_int
runtime.tg_policy_free.argtypes = [c_policy]
runtime.tg_decision_create.argtypes = [ctypes.POINTER(c_decision)]
runtime.tg_decision_create.restype = ctypes.c_int
runtime.tg_decision_free.argtypes = [c_decision]
runtime.tg_decision_effect.argtypes = [c_decision]
runtime.tg_decision_effect.restype = ctypes.c_int
for name in ("tg_decision_rule_id", "tg_decision_reason"):
    getattr(runtime, name).argtypes = [c_decision]
    getattr(runtime, name).restype = ctypes.c_char_p
runtime.tg_decision_invalid.argtypes = [c_decision]
runtime.tg_decision_invalid.restype = ctypes.c_bool
runtime.tg_decision_by_error.argtypes = [c_decision]
runtime.tg_decision_by_error.restype = ctypes.c_bool
runtime.tg_decision_error_count.argtypes = [c_decision]
runtime.tg_decision_error_count.restype = ctypes.c_size_t
runtime.tg_decision_error.argtypes = [c_decision, ctypes.c_size_t, ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_char_p),
                                      ctypes.POINTER(ctypes.c_char_p)]
runtime.tg_decision_error.restype = ctypes.c_int
runtime.tg_strerror.argtypes = [ctypes.c_int]
runtime.tg_strerror.restype = ctypes.c_char_p
mcp.tg_eval_json.argtypes = [c_policy, ctypes.c_char_p, ctypes.c_size_t, c_decision]
mcp.tg_eval_json.restype = ctypes.c_int


def text(b):
    return None if b is None else b.decode("utf-8", "replace")


def decision_of(d):
    """The decision as `toolgate eval` writes it, read through accessors."""
    invalid = runtime.tg_decision_invalid(d)
    errors = []
    if not invalid:
        for i in range(runtime.tg_decision_error_count(d)):
            rule, message = ctypes.c_char_p(), ctypes.c_char_p()
            assert runtime.tg_decision_error(d, i, None, ctypes.byref(rule),
                                             ctypes.byref(message)) == 0
            errors.append({"rule": text(rule.value), "message": text(message.value)})
    out = {"decision": "allow" if runtime.tg_decision_effect(d) == 1 else "deny",
           "rule": None if invalid else text(runtime.tg_decision_rule_id(d)),
           "reason": text(runtime.tg_decision_reason(d)),
           "errors": errors}
    if invalid:
        out["invalid"] = True
    if runtime.tg_decision_by_error(d):
        out["by_error"] = True
    return out


def main():
    toolgate = BUILD / "bin" / "toolgate"
    dumper = BUILD / "bin" / "suite_requests"
    d = c_decision()
    assert runtime.tg_decision_create(ctypes.byref(d)) == 0
    compared = 0
    for suite in sorted((SOURCE / "policies" / "examples").glob("*.yaml")):
        lines = subprocess.run([str(dumper), str(suite)], check=True, capture_output=True,
                               text=True).stdout.splitlines()
        source, requests = lines[0], lines[1:]
        bytecode = BUILD / "bindings-test" / (Path(source).stem + ".tgb")
        bytecode.parent.mkdir(exist_ok=True)
        subprocess.run([str(toolgate), "compile", source, "-o", str(bytecode)], check=True,
                       capture_output=True)
        policy = c_policy()
        st = runtime.tg_policy_load_file(str(bytecode).encode(), ctypes.byref(policy), None)
        assert st == 0, text(runtime.tg_strerror(st))
        # The reference: toolgate eval on the same lines, in one process.
        ref = subprocess.run([str(toolgate), "eval", str(bytecode)], input="\n".join(requests),
                             capture_output=True, text=True).stdout.splitlines()
        assert len(ref) == len(requests), (suite, len(ref), len(requests))
        for req, want in zip(requests, ref):
            raw = req.encode()
            mcp.tg_eval_json(policy, raw, len(raw), d)
            got = decision_of(d)
            if got != json.loads(want):
                print(f"FAIL {suite.name}: {req}\n  ctypes: {got}\n  eval:   {want}")
                return 1
            compared += 1
        runtime.tg_policy_free(policy)
    runtime.tg_decision_free(d)
    if compared < 100:
        print(f"FAIL: only {compared} requests compared")
        return 1
    print(f"{compared} passed, 0 failed")
    return 0


sys.exit(main())
