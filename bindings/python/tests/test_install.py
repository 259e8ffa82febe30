"""`pip install --no-build-isolation` of bindings/python works offline, and
the installed package finds the libraries of a `cmake --install` prefix,
through TOOLGATE_LIBDIR and through pkg-config."""
import ctypes.util
import os
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD, SOURCE

PROBE = """
import sys, toolgate
assert toolgate.__file__.startswith(sys.argv[1]), toolgate.__file__
print(toolgate.library_path())
c = toolgate.compile('policy "p"; default deny; rule "r": allow anyone to call tool "t";')
p = toolgate.Policy.load(c.bytecode)
d = p.authorize({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                 "params": {"name": "t"}}, {"principal": {"id": "x"}})
assert (d.decision, d.rule) == ("allow", "r"), d
import importlib.resources
assert importlib.resources.files("toolgate").joinpath("py.typed").is_file()
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("install")
    prefix = work / "prefix"
    subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix)], check=True,
                   capture_output=True)
    libdir = next(p.parent for p in prefix.rglob("libtoolgate.so.1"))
    # pip builds in the source tree; build a copy so the checkout stays clean.
    src = work / "src"
    shutil.copytree(SOURCE / "bindings" / "python", src,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "tests"))
    site = work / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-index", "--no-deps", "--disable-pip-version-check",
                        "--target", str(site), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return prefix, libdir, site, work


def probe(site, cwd, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("TOOLGATE_LIBDIR", "PYTHONPATH")}
    full.update(env, PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", PROBE, str(site)], cwd=cwd, env=full,
                          capture_output=True, text=True)


def test_pip_install_and_toolgate_libdir(installed):
    prefix, libdir, site, work = installed
    assert (site / "toolgate" / "py.typed").is_file()
    r = probe(site, work, TOOLGATE_LIBDIR=str(libdir))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(libdir / "libtoolgate.so.1")


@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="no pkg-config")
@pytest.mark.skipif(ctypes.util.find_library("toolgate") is not None,
                    reason="a system-wide libtoolgate would be found before pkg-config")
def test_found_through_pkg_config(installed):
    prefix, libdir, site, work = installed
    r = probe(site, work, PKG_CONFIG_PATH=str(libdir / "pkgconfig"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(libdir / "libtoolgate.so.1")
