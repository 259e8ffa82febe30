"""toolgate: authorize MCP requests in a Python server with toolgate's C
libraries (libtoolgate, libtoolgate-mcp, libtoolgate-compiler).

The package holds no authorization semantics of its own: requests, MCP
messages, tool annotations and list visibility mean exactly what they mean
to `toolgate eval` and `toolgate proxy`, because the same C code reads and
decides them. See docs/bindings/python.md.

Importing it loads the shared libraries (TOOLGATE_LIBDIR, then
ctypes.util.find_library, pkg-config's libdir, standard paths) and raises
LibraryNotFound, an ImportError, when they cannot be found.
"""
from ._lib import LibraryNotFound, library_path
from ._core import (
    Decision,
    Filtered,
    Holder,
    Identity,
    InvalidRequestError,
    Policy,
    Status,
    Tools,
    ToolgateError,
    status_name,
    version,
)
from ._compile import CompileError, Compilation, Diagnostic, compile, compile_file

__version__ = "0.3.0"

__all__ = [
    "CompileError",
    "Compilation",
    "Decision",
    "Diagnostic",
    "Filtered",
    "Holder",
    "Identity",
    "InvalidRequestError",
    "LibraryNotFound",
    "Policy",
    "Status",
    "ToolgateError",
    "Tools",
    "compile",
    "compile_file",
    "library_path",
    "status_name",
    "version",
]
