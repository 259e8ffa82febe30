"""Policy source to bytecode through libtoolgate-compiler (tg_compile)."""
from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import List, Literal, Optional, Union

from . import _lib
from ._core import PathLike, Status, ToolgateError, _raise, _s

_LINT = 0x1
_STRICT = 0x2


@dataclass(frozen=True)
class Diagnostic:
    """One diagnostic as the compiler reports it: positions from 1, columns
    in bytes, the end exclusive; lint_id for lint warnings ("unused-role"),
    hint when the compiler has one."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Literal["error", "warning"]
    lint_id: Optional[str]
    message: str
    hint: Optional[str]

    def __str__(self) -> str:
        lint = f" [{self.lint_id}]" if self.lint_id else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}{lint}"


@dataclass(frozen=True)
class Compilation:
    """bytecode (None when there were errors), the diagnostics in source
    order, the error and warning counts (warnings count as errors under
    strict), and `text`: the diagnostics as `toolgate check` prints them."""

    bytecode: Optional[bytes]
    diagnostics: List[Diagnostic]
    errors: int
    warnings: int
    text: str

    @property
    def ok(self) -> bool:
        return self.bytecode is not None


class CompileError(ToolgateError):
    """Source with errors where bytecode was needed (Policy.from_source).
    `compilation` holds the diagnostics. Its status is TG_EINVAL: the
    source was unusable."""

    def __init__(self, compilation: Compilation) -> None:
        self.compilation = compilation
        self.diagnostics = compilation.diagnostics
        first = next((str(d) for d in compilation.diagnostics if d.severity == "error"),
                     "the policy has errors")
        super().__init__(Status.EINVAL, first)


def _flags(lint: bool, strict: bool) -> int:
    return (_LINT if lint else 0) | (_STRICT if strict else 0)


def _collect(c: int) -> Compilation:
    lib = _lib.libs().compiler
    n = ctypes.c_size_t()
    code = lib.tg_compilation_bytecode(c, ctypes.byref(n))
    bytecode = ctypes.string_at(code, n.value) if code else None
    diags = []
    for i in range(lib.tg_compilation_diagnostic_count(c)):
        d = lib.tg_compilation_diagnostic(c, i).contents
        diags.append(Diagnostic(
            file=_s(d.file) or "", line=d.line, column=d.column, end_line=d.end_line,
            end_column=d.end_column, severity="error" if d.severity == 0 else "warning",
            lint_id=_s(d.lint_id), message=_s(d.message) or "", hint=_s(d.hint)))
    need = lib.tg_compilation_render(c, None, 0)
    buf = ctypes.create_string_buffer(need + 1)
    lib.tg_compilation_render(c, buf, need + 1)
    return Compilation(bytecode, diags, lib.tg_compilation_error_count(c),
                       lib.tg_compilation_warning_count(c),
                       buf.raw[:need].decode("utf-8", "replace"))


def compile(source: Union[str, bytes], path: Optional[str] = None, lint: bool = False,
            strict: bool = False) -> Compilation:
    """Compile policy source (text, not a file name: see compile_file).
    `path` names it in diagnostics and in the ids of unnamed rules; lint
    also runs the lints; strict makes warnings errors. A policy with errors
    is a Compilation without bytecode, not an exception."""
    lib = _lib.libs().compiler
    src = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else bytes(source)
    c = _lib.c_compilation()
    st = lib.tg_compile(src, len(src), None if path is None else os.fsencode(path),
                        _flags(lint, strict), ctypes.byref(c))
    if st:
        _raise(st)
    try:
        return _collect(c.value)
    finally:
        lib.tg_compilation_free(c)


def compile_file(path: PathLike, lint: bool = False, strict: bool = False) -> Compilation:
    """compile() on a file's contents; ToolgateError (TG_EIO) when it cannot
    be read."""
    lib = _lib.libs().compiler
    c = _lib.c_compilation()
    st = lib.tg_compile_file(os.fsencode(path), _flags(lint, strict), ctypes.byref(c))
    if st:
        _raise(st)
    try:
        return _collect(c.value)
    finally:
        lib.tg_compilation_free(c)
