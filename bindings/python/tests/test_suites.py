"""Every request of the example suites decides through the package as
`toolgate eval` decides it: decision, rule, reason, errors and invalid."""
import json
import subprocess
from pathlib import Path

import pytest

import toolgate
from conftest import BUILD, SOURCE

SUITES = sorted((SOURCE / "policies" / "examples").glob("*.yaml"))


def as_eval_prints(d: toolgate.Decision) -> dict:
    out = {"decision": d.decision, "rule": d.rule, "reason": d.reason,
           "errors": [{"rule": r, "message": m} for r, m in d.errors]}
    if d.invalid:
        out["invalid"] = True
    if d.by_error:
        out["by_error"] = True
    return out


@pytest.mark.parametrize("suite", SUITES, ids=[s.stem for s in SUITES])
def test_suite_requests_decide_as_eval(suite, tmp_path, toolgate_cli):
    lines = subprocess.run([str(BUILD / "bin" / "suite_requests"), str(suite)], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    source, requests = lines[0], lines[1:]
    assert requests
    # The package's compiler must produce the CLI's bytecode, byte for byte.
    compiled = toolgate.compile_file(source)
    assert compiled.ok, compiled.text
    tgb = tmp_path / (Path(source).stem + ".tgb")
    subprocess.run([str(toolgate_cli), "compile", source, "-o", str(tgb)], check=True,
                   capture_output=True)
    assert tgb.read_bytes() == compiled.bytecode
    ref = subprocess.run([str(toolgate_cli), "eval", str(tgb)], input="\n".join(requests),
                         capture_output=True, text=True).stdout.splitlines()
    assert len(ref) == len(requests)
    with toolgate.Policy.load(str(tgb)) as policy:
        for req, want in zip(requests, ref):
            got = policy.eval_json(req)
            assert as_eval_prints(got) == json.loads(want), req
            # Bytes, and the slower audited path, decide the same.
            assert policy.eval_json(req.encode()) == got
            audited = policy.eval_json(req, audit=True, now=1764140000)
            assert audited.audit is not None
            line = json.loads(audited.audit)
            assert line["decision"] == got.decision and line["rule"] == got.rule
            assert line["time"] == "2025-11-26T06:53:20Z"
