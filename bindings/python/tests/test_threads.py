"""Threads deciding while another reloads through a Holder: no crash, no
error, and every decision comes from one of the two policies. The C calls
run without the GIL (ctypes releases it), so the threads really overlap in
the library."""
import threading
import time

import toolgate
from conftest import ENGINEER, rpc

POLICY_A = 'policy "a"; default deny; rule "from-a": allow anyone to call tool "t";'
POLICY_B = 'policy "b"; default deny; rule "from-b": allow anyone to call tool "t";'


def test_decisions_during_reloads():
    code_a = toolgate.compile(POLICY_A).bytecode
    code_b = toolgate.compile(POLICY_B).bytecode
    holder = toolgate.Holder(code_a)
    who = toolgate.Identity(ENGINEER)
    tools = toolgate.Tools()
    call = rpc("tools/call", {"name": "t", "arguments": {"n": 1}})
    listing = {"jsonrpc": "2.0", "id": 1, "result": {"tools": [
        {"name": "t", "inputSchema": {}, "annotations": {"readOnlyHint": True}}]}}
    stop = threading.Event()
    seen: dict = {}
    failures: list = []

    def decide(n):
        rules = set()
        count = 0
        try:
            while not stop.is_set():
                if n % 2:
                    d = holder.authorize(call, who, tools=tools)
                else:
                    with holder.current() as p:
                        d = p.eval_json({**ENGINEER, "method": "tools/call", "target": "t"})
                        assert p.name in ("a", "b")
                rules.add(d.rule)
                assert d.decision == "allow", d
                count += 1
        except BaseException as e:  # noqa: B902 - reported below
            failures.append(e)
        seen[n] = (rules, count)

    def list_tools():
        # A writer of the shared Tools cache among its readers.
        try:
            while not stop.is_set():
                holder.filter_list("tools/list", listing, who, tools=tools)
        except BaseException as e:  # noqa: B902
            failures.append(e)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=list_tools))
    for t in threads:
        t.start()
    swaps = 0
    policy_b = toolgate.Policy.load(code_b)
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            # Fresh bytes and a long-lived Policy object, in turn.
            holder.swap(code_a if swaps % 2 else policy_b)
            swaps += 1
    finally:
        stop.set()  # never leave the deciding threads running
        for t in threads:
            t.join()
    assert not failures, failures
    total = sum(c for _, c in seen.values())
    assert total > 100 and swaps > 100, (total, swaps)
    print(f"{total} decisions during {swaps} swaps")
    rules = set().union(*(r for r, _ in seen.values()))
    assert rules <= {"from-a", "from-b"} and rules, rules
    # The Policy object given to swap is still usable on its own.
    assert policy_b.eval_json({**ENGINEER, "method": "tools/call", "target": "t"}).rule == "from-b"
    holder.close()
    assert policy_b.name == "b"


def test_each_thread_has_its_own_decision():
    p = toolgate.Policy.from_source(POLICY_A)
    results = []

    def run():
        for _ in range(2000):
            d = p.eval_json({"principal": {"id": "x"}, "method": "tools/call", "target": "t"})
            bad = p.eval_json('{"principal":{"id":"x"}}')
            results.append((d.rule, bad.invalid))

    ts = [threading.Thread(target=run) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert set(results) == {("from-a", True)}
