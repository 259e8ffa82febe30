"""Errors carry the C status; closed and empty objects fail cleanly."""
import os
import subprocess
import sys

import pytest

import toolgate
from conftest import ENGINEER, SOURCE, rpc


def test_load_errors(bytecode, tmp_path):
    cases = {
        b"": "TG_ETRUNCATED",
        b"not bytecode at all, definitely": "TG_EBADMAGIC",
        bytecode[: len(bytecode) // 2]: "TG_ETRUNCATED",
    }
    flipped = bytearray(bytecode)
    flipped[-1] ^= 0xFF
    cases[bytes(flipped)] = "TG_ECHECKSUM"
    for data, name in cases.items():
        with pytest.raises(toolgate.ToolgateError) as e:
            toolgate.Policy.load(data)
        err = e.value
        assert err.status_name == name, (err, name)
        assert err.status == getattr(toolgate.Status, name[3:])
        assert err.reason and isinstance(err.offset, int) and isinstance(err.pc, int)
    with pytest.raises(toolgate.ToolgateError) as e:
        toolgate.Policy.load(tmp_path / "missing.tgb")
    assert e.value.status == toolgate.Status.EIO


def test_status_names():
    assert toolgate.status_name(9) == "TG_EVERIFY"
    assert toolgate.status_name(99) == "TG_STATUS_99"


def test_policy_metadata(policy):
    assert policy.name == "binding-test" and policy.version == "1"
    assert len(policy.hash) == 64 and len(policy.source_hash) == 64
    assert not policy.default_allow and "docs" in policy.rules
    assert policy.max_instructions > 0
    assert toolgate.version() == toolgate.__version__


def test_closed_objects(bytecode):
    p = toolgate.Policy.load(bytecode)
    with p:
        pass
    assert p.closed
    with pytest.raises(toolgate.ToolgateError, match="closed"):
        p.eval_json("{}")
    who = toolgate.Identity(ENGINEER)
    who.close()
    with pytest.raises(toolgate.ToolgateError, match="closed"):
        toolgate.Policy.load(bytecode).authorize(rpc("ping"), who)
    tools = toolgate.Tools()
    tools.close()
    with pytest.raises(toolgate.ToolgateError, match="closed"):
        tools.reset()


def test_holder_errors(bytecode):
    with toolgate.Holder() as h:
        with pytest.raises(toolgate.ToolgateError) as e:
            with h.current():
                pass
        assert e.value.status_name == "TG_EEMPTY"
        h.load(bytecode)
        with h.current() as borrowed:
            with pytest.raises(toolgate.ToolgateError):
                toolgate.Holder(borrowed)
        # Released on exit: the borrowed object is closed.
        assert borrowed.closed
        h.swap(None)
        with pytest.raises(toolgate.ToolgateError):
            h.eval_json("{}")


def test_missing_library_is_a_clear_import_error(tmp_path):
    env = dict(os.environ, TOOLGATE_LIBDIR=str(tmp_path))
    r = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.path.insert(0, %r)\n"
         "try:\n import toolgate\nexcept ImportError as e:\n"
         " print(type(e).__name__); print(e)" % str(SOURCE / "bindings" / "python")],
        env=env, cwd=tmp_path, capture_output=True, text=True)
    out = r.stdout
    assert out.startswith("LibraryNotFound"), (out, r.stderr)
    assert "TOOLGATE_LIBDIR" in out and str(tmp_path) in out
