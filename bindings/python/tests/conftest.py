"""Shared fixtures. ctest runs these with TG_BINARY_DIR, TG_SOURCE_DIR and
TOOLGATE_LIBDIR set (tests/CMakeLists.txt); run by hand, they default to
the source tree's build/ directory."""
import os
import sys
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("TG_SOURCE_DIR", Path(__file__).resolve().parents[3]))
BUILD = Path(os.environ.get("TG_BINARY_DIR", SOURCE / "build"))
os.environ.setdefault("TOOLGATE_LIBDIR", str(BUILD / "lib"))
# The package under test is the source tree's, not an installed copy.
sys.path.insert(0, str(SOURCE / "bindings" / "python"))

import toolgate  # noqa: E402

# A policy for the MCP tests: annotations, a prompt argument, resources,
# lists and context.time.
TEST_POLICY = """\
policy "binding-test" version "1";
default deny;

attribute context.time: int;
attribute args.style: string;

role engineer;
role admin: engineer;

rule "too-late": deny anyone to do anything when context.time > 2000000000
  because "the test policy expired";
rule "no-destructive": deny anyone to call any tool when tool.destructive
  because "destructive tools are off";
rule "read-tools": allow role engineer to call tool "db.*" when tool.read_only;
rule "short-summaries": allow role engineer to get prompt "summarize"
  when args has style and args.style == "short";
rule "explain": allow role engineer to get prompt "explain_*";
rule "docs": allow role engineer to read resource "file:///docs/**";
rule "lists": allow anyone to list tools;
rule "prompt-lists": allow anyone to list prompts;
rule "resource-lists": allow anyone to list resources;
"""

ENGINEER = {"principal": {"id": "alice", "roles": ["engineer"]}}


@pytest.fixture(scope="session")
def source_dir() -> Path:
    return SOURCE


@pytest.fixture(scope="session")
def build_dir() -> Path:
    return BUILD


@pytest.fixture(scope="session")
def toolgate_cli() -> Path:
    return BUILD / "bin" / "toolgate"


@pytest.fixture(scope="session")
def bytecode() -> bytes:
    c = toolgate.compile(TEST_POLICY, path="binding-test.tg")
    assert c.ok, c.text
    return c.bytecode


@pytest.fixture()
def policy(bytecode):
    with toolgate.Policy.load(bytecode) as p:
        yield p


def rpc(method, params=None, id=1):
    m = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        m["params"] = params
    return m
