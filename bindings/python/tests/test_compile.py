"""compile(): bytecode and diagnostics as data, as libtoolgate-compiler
reports them."""
import pytest

import toolgate

TYPO = '''policy "p";
default deny;
role engineer;
rule "r": allow role enginer to call tool "x";
'''

UNUSED = '''policy "p";
default deny;
role engineer;
role unused;
rule "r": allow role engineer to call tool "x";
'''


def test_error_with_position_and_hint():
    c = toolgate.compile(TYPO, path="typo.tg")
    assert not c.ok and c.bytecode is None and c.errors >= 1
    d = c.diagnostics[0]
    assert isinstance(d, toolgate.Diagnostic)
    assert (d.file, d.line, d.severity) == ("typo.tg", 4, "error")
    assert d.column == TYPO.splitlines()[3].index("enginer") + 1
    assert d.end_line == 4 and d.end_column == d.column + len("enginer")
    assert "enginer" in d.message and d.hint and "engineer" in d.hint
    assert str(d).startswith("typo.tg:4:")
    assert "typo.tg:4:" in c.text  # rendered as `toolgate check` prints it


def test_lint_warnings_and_strict():
    plain = toolgate.compile(UNUSED)
    assert plain.ok and plain.diagnostics == []
    linted = toolgate.compile(UNUSED, lint=True)
    assert linted.ok and linted.warnings >= 1
    w = [d for d in linted.diagnostics if d.severity == "warning"]
    assert w and w[0].lint_id and w[0].file == "<input>"
    strict = toolgate.compile(UNUSED, lint=True, strict=True)
    assert strict.bytecode is None
    assert strict.bytecode is None and linted.bytecode == plain.bytecode


def test_bytes_source_and_determinism():
    a = toolgate.compile(UNUSED.encode())
    b = toolgate.compile(UNUSED)
    assert a.bytecode == b.bytecode


def test_from_source_raises_compile_error():
    with pytest.raises(toolgate.CompileError) as e:
        toolgate.Policy.from_source(TYPO, path="typo.tg")
    assert e.value.diagnostics and e.value.diagnostics[0].line == 4
    assert isinstance(e.value, toolgate.ToolgateError)
    p = toolgate.Policy.from_source(UNUSED)
    assert p.name == "p" and p.rules == ("r",)


def test_compile_file_missing(tmp_path):
    with pytest.raises(toolgate.ToolgateError) as e:
        toolgate.compile_file(tmp_path / "nope.tg")
    assert e.value.status == toolgate.Status.EIO
