"""Finding and declaring the C libraries.

ctypes rather than cffi: ctypes is in the standard library, needs no build
step and no compiler when the package is installed, and the libraries' ABI
(docs/embedding.md, "ABI policy") was laid out for exactly this kind of
caller: opaque handles, records read through pointers, status codes. cffi's
ABI mode would add a dependency for the same calls; its API mode would need a
compiler on every server.

Every prototype below mirrors include/toolgate/*.h; nothing else is declared.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Optional

SOVERSION = 1

# Opaque handles are plain pointers: the binding never looks inside them.
c_policy = ctypes.c_void_p
c_decision = ctypes.c_void_p
c_holder = ctypes.c_void_p
c_mcp_request = ctypes.c_void_p
c_identity = ctypes.c_void_p
c_tools = ctypes.c_void_p
c_compilation = ctypes.c_void_p

_size = ctypes.c_size_t
_int = ctypes.c_int
_u32 = ctypes.c_uint32
_i64 = ctypes.c_int64
_str = ctypes.c_char_p
_void = ctypes.c_void_p
_P = ctypes.POINTER


class LoadError(ctypes.Structure):
    """tg_load_error: read through the library's pointer only (members may be
    appended by later versions, so it is never allocated here)."""

    _fields_ = [("status", _int), ("offset", _u32), ("pc", _i64), ("reason", _str)]


class CDiagnostic(ctypes.Structure):
    """tg_diagnostic, read through tg_compilation_diagnostic's pointer only."""

    _fields_ = [
        ("severity", _int),
        ("file", _str),
        ("line", _u32),
        ("column", _u32),
        ("end_line", _u32),
        ("end_column", _u32),
        ("lint_id", _str),
        ("message", _str),
        ("hint", _str),
    ]


class LibraryNotFound(ImportError):
    """The shared libraries could not be found or loaded."""


_RUNTIME = {
    "tg_version": (_str, []),
    "tg_strerror": (_str, [_int]),
    "tg_policy_load": (_int, [_void, _size, _P(c_policy), _P(_P(LoadError))]),
    "tg_policy_load_file": (_int, [_str, _P(c_policy), _P(_P(LoadError))]),
    "tg_load_error_free": (None, [_P(LoadError)]),
    "tg_policy_free": (None, [c_policy]),
    "tg_policy_name": (_str, [c_policy]),
    "tg_policy_version": (_str, [c_policy]),
    "tg_policy_hash": (_str, [c_policy]),
    "tg_policy_source_hash": (_str, [c_policy]),
    "tg_policy_default_allow": (ctypes.c_bool, [c_policy]),
    "tg_policy_rule_count": (_u32, [c_policy]),
    "tg_policy_rule_id": (_str, [c_policy, _u32]),
    "tg_policy_max_instructions": (_u32, [c_policy]),
    "tg_decision_create": (_int, [_P(c_decision)]),
    "tg_decision_free": (None, [c_decision]),
    "tg_decision_effect": (_int, [c_decision]),
    "tg_decision_rule_id": (_str, [c_decision]),
    "tg_decision_reason": (_str, [c_decision]),
    "tg_decision_invalid": (ctypes.c_bool, [c_decision]),
    "tg_decision_by_error": (ctypes.c_bool, [c_decision]),
    "tg_decision_error_count": (_size, [c_decision]),
    "tg_decision_error_total": (_size, [c_decision]),
    "tg_decision_error": (_int, [c_decision, _size, _void, _P(_str), _P(_str)]),
    "tg_decision_set_invalid": (None, [c_decision, _str]),
    "tg_eval": (_int, [c_policy, _void, c_decision]),
    "tg_audit_format": (_size, [c_policy, _void, c_decision, _i64, _void, _size]),
    "tg_holder_create": (_int, [_P(c_holder)]),
    "tg_holder_free": (None, [c_holder]),
    "tg_holder_acquire": (c_policy, [c_holder]),
    "tg_holder_release": (None, [c_holder, c_policy]),
    "tg_holder_swap": (None, [c_holder, c_policy]),
}

_MCP = {
    "tg_mcp_request_parse": (_int, [c_policy, _str, _size, _P(c_mcp_request), _void, _size]),
    "tg_mcp_request_get": (_void, [c_mcp_request]),
    "tg_mcp_request_free": (None, [c_mcp_request]),
    "tg_eval_json": (_int, [c_policy, _str, _size, c_decision]),
    "tg_decision_json": (_size, [c_decision, _void, _size]),
    "tg_mcp_identity_parse": (_int, [_str, _size, _P(c_identity), _void, _size]),
    "tg_mcp_identity_free": (None, [c_identity]),
    "tg_mcp_tools_create": (_int, [_P(c_tools)]),
    "tg_mcp_tools_free": (None, [c_tools]),
    "tg_mcp_tools_reset": (None, [c_tools]),
    "tg_mcp_request_from_message": (
        _int,
        [c_policy, c_identity, c_tools, _str, _size, _i64, _P(c_mcp_request), _void, _size],
    ),
    "tg_mcp_filter_list": (
        _int,
        [c_policy, c_identity, c_tools, _str, _str, _size, _i64, _P(_void), _P(_size), _P(_size)],
    ),
    "tg_mcp_check_roots": (
        _int,
        [c_policy, c_identity, _str, _size, _i64, _P(_void), _P(_size)],
    ),
    "tg_mcp_free": (None, [_void]),
}

_COMPILER = {
    "tg_compile": (_int, [_str, _size, _str, ctypes.c_uint, _P(c_compilation)]),
    "tg_compile_file": (_int, [_str, ctypes.c_uint, _P(c_compilation)]),
    "tg_compilation_bytecode": (_void, [c_compilation, _P(_size)]),
    "tg_compilation_error_count": (_size, [c_compilation]),
    "tg_compilation_warning_count": (_size, [c_compilation]),
    "tg_compilation_diagnostic_count": (_size, [c_compilation]),
    "tg_compilation_diagnostic": (_P(CDiagnostic), [c_compilation, _size]),
    "tg_compilation_render": (_size, [c_compilation, _void, _size]),
    "tg_compilation_free": (None, [c_compilation]),
}


def _declare(lib: ctypes.CDLL, table: dict) -> ctypes.CDLL:
    for name, (restype, argtypes) in table.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def _pkg_config_libdir() -> Optional[str]:
    if not shutil.which("pkg-config"):
        return None
    try:
        out = subprocess.run(
            ["pkg-config", "--variable=libdir", "toolgate"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = out.stdout.strip()
    if out.returncode != 0 or not libdir:
        return None
    # toolgate.pc finds its prefix from its own location (lib/pkgconfig/../..).
    return os.path.normpath(libdir)


_STANDARD_DIRS = (
    "/usr/local/lib", "/usr/local/lib64", "/usr/lib", "/usr/lib64",
    "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
)


def _file(directory: str, stem: str) -> Optional[str]:
    # The SONAME file first: a runtime-only install may lack the dev symlink.
    for name in (f"{stem}.so.{SOVERSION}", f"{stem}.so"):
        p = os.path.join(directory, name)
        if os.path.exists(p):
            return p
    return None


def _candidates() -> list[tuple[str, str]]:
    """(where, path or name of libtoolgate) in the documented order."""
    out: list[tuple[str, str]] = []
    env = os.environ.get("TOOLGATE_LIBDIR")
    if env:
        f = _file(env, "libtoolgate")
        # An explicit directory is final: silently falling back to another
        # copy of the library would hide a misconfiguration.
        return [("TOOLGATE_LIBDIR", f or os.path.join(env, f"libtoolgate.so.{SOVERSION}"))]
    found = ctypes.util.find_library("toolgate")
    if found:
        out.append(("ctypes.util.find_library", found))
    pc = _pkg_config_libdir()
    if pc:
        f = _file(pc, "libtoolgate")
        if f:
            out.append(("pkg-config libdir", f))
    for d in _STANDARD_DIRS:
        f = _file(d, "libtoolgate")
        if f:
            out.append((d, f))
    return out


def _sibling(runtime_path: str, stem: str) -> str:
    """The path of another toolgate library next to the runtime, or its
    SONAME for the dynamic linker's own search when the runtime was found by
    name."""
    if os.sep in runtime_path:
        f = _file(os.path.dirname(runtime_path), stem)
        if f:
            return f
    return f"{stem}.so.{SOVERSION}"


class _Libs:
    def __init__(self) -> None:
        tried = []
        for where, path in _candidates():
            try:
                runtime = ctypes.CDLL(path)
            except OSError as e:
                tried.append(f"  {where}: {path}: {e}")
                continue
            self.runtime_path = path
            self.runtime = _declare(runtime, _RUNTIME)
            break
        else:
            places = "\n".join(tried) or "  (no candidate found)"
            raise LibraryNotFound(
                "toolgate: cannot load libtoolgate.so.%d. Searched TOOLGATE_LIBDIR, "
                "ctypes.util.find_library, pkg-config's libdir and %s.\n%s\n"
                "Install the libraries (make install) or set TOOLGATE_LIBDIR to the "
                "directory that holds them." % (SOVERSION, ", ".join(_STANDARD_DIRS), places)
            )
        # libtoolgate-mcp needs libtoolgate.so.1, which the dynamic linker now
        # resolves to the copy just loaded (same SONAME), never another one.
        path = _sibling(self.runtime_path, "libtoolgate-mcp")
        try:
            self.mcp = _declare(ctypes.CDLL(path), _MCP)
        except OSError as e:
            raise LibraryNotFound(f"toolgate: cannot load {path}: {e}") from None
        self._compiler: Optional[ctypes.CDLL] = None
        self._lock = threading.Lock()

    @property
    def compiler(self) -> ctypes.CDLL:
        # Loaded on first use: a server that only loads bytecode may install
        # the runtime and the adapter alone.
        with self._lock:
            if self._compiler is None:
                path = _sibling(self.runtime_path, "libtoolgate-compiler")
                try:
                    self._compiler = _declare(ctypes.CDLL(path), _COMPILER)
                except OSError as e:
                    raise LibraryNotFound(f"toolgate: cannot load {path}: {e}") from None
            return self._compiler


_libs: Optional[_Libs] = None
_libs_lock = threading.Lock()


def libs() -> _Libs:
    global _libs
    if _libs is None:
        with _libs_lock:
            if _libs is None:
                _libs = _Libs()
    return _libs


def library_path() -> str:
    """The libtoolgate that was loaded (for diagnostics)."""
    return str(Path(libs().runtime_path))
