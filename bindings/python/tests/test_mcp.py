"""MCP messages through authorize and filter_list: every decision here is
libtoolgate-mcp's reading of the message; the tests check that the package
hands messages, identities, annotations and results through intact, by
comparing with the equivalent request decided by eval_json."""
import json

import pytest

import toolgate
from conftest import ENGINEER, rpc

TOOLS_LIST = {
    "jsonrpc": "2.0", "id": 7,
    "result": {
        "tools": [
            {"name": "db.query", "inputSchema": {"type": "object"},
             "annotations": {"readOnlyHint": True, "destructiveHint": False}},
            {"name": "db.drop", "inputSchema": {"type": "object"},
             "annotations": {"destructiveHint": True}},
            {"name": "db.write", "inputSchema": {"type": "object"},
             "annotations": {"readOnlyHint": False, "destructiveHint": False}},
            {"name": "mail.send", "inputSchema": {"type": "object"},
             "annotations": {"readOnlyHint": True, "destructiveHint": False}},
        ],
        "nextCursor": "page-2",
    },
}


def names(filtered, key="tools", field="name"):
    return [e[field] for e in filtered.json()["result"][key]]


def test_tools_call_takes_annotations_from_a_filtered_tools_list(policy):
    tools = toolgate.Tools()
    call = rpc("tools/call", {"name": "db.query", "arguments": {"sql": "SELECT 1"}})
    # Never listed: MCP's defaults (destructive true) apply, and deny.
    before = policy.authorize(call, ENGINEER, tools=tools)
    assert (before.decision, before.rule) == ("deny", "no-destructive")
    assert before.reason == "destructive tools are off"
    f = policy.filter_list("tools/list", json.dumps(TOOLS_LIST), ENGINEER, tools=tools)
    assert names(f) == ["db.query"]
    assert f.removed == 3
    assert f.json()["result"]["nextCursor"] == "page-2"
    after = policy.authorize(call, ENGINEER, tools=tools, now=1764140000)
    assert (after.decision, after.rule) == ("allow", "read-tools")
    # The same request in the JSON request model decides the same.
    same = policy.eval_json({**ENGINEER, "method": "tools/call", "target": "db.query",
                             "tool": {"read_only": True, "destructive": False,
                                      "idempotent": False, "open_world": True},
                             "args": {"sql": "SELECT 1"},
                             "context": {"time": 1764140000}})
    assert same == after
    # list_changed: forget the annotations.
    tools.reset()
    assert policy.authorize(call, ENGINEER, tools=tools).rule == "no-destructive"
    # No cache at all: defaults.
    assert policy.authorize(call, ENGINEER).rule == "no-destructive"


def test_message_forms_and_identity_forms_agree(policy):
    call = rpc("prompts/get", {"name": "summarize", "arguments": {"style": "short"}})
    who = toolgate.Identity(ENGINEER)
    want = policy.authorize(call, who)
    assert (want.decision, want.rule) == ("allow", "short-summaries")
    text = json.dumps(call)
    assert policy.authorize(text, who) == want
    assert policy.authorize(text.encode(), who) == want
    assert policy.authorize(bytearray(text.encode()), json.dumps(ENGINEER)) == want
    assert policy.authorize(call, ENGINEER) == want


def test_prompts_get_argument_rule(policy):
    def get(args):
        return policy.authorize(rpc("prompts/get", {"name": "summarize", "arguments": args}),
                                ENGINEER)
    assert get({"style": "short"}).decision == "allow"
    assert get({"style": "long"}).decision == "deny"
    assert get({}).decision == "deny"
    viewer = {"principal": {"id": "bob", "roles": ["viewer"]}}
    assert policy.authorize(rpc("prompts/get", {"name": "summarize",
                                                "arguments": {"style": "short"}}),
                            viewer).decision == "deny"


def test_completion_complete_is_decided_as_what_it_completes(policy):
    def complete(ref):
        return policy.authorize(rpc("completion/complete", {
            "ref": ref, "argument": {"name": "q", "value": "sel"}}), ENGINEER)
    d = complete({"type": "ref/prompt", "name": "explain_query"})
    assert (d.decision, d.rule) == ("allow", "explain")
    assert complete({"type": "ref/prompt", "name": "other"}).decision == "deny"
    d = complete({"type": "ref/resource", "uri": "file:///docs/guide.md"})
    assert (d.decision, d.rule) == ("allow", "docs")
    assert complete({"type": "ref/resource", "uri": "file:///etc/passwd"}).decision == "deny"
    bad = complete({"type": "ref/other", "name": "x"})
    assert bad.invalid and bad.decision == "deny"


def test_resources_read(policy):
    read = policy.authorize(rpc("resources/read", {"uri": "file:///docs/a.md"}), ENGINEER)
    assert read.rule == "docs"
    # The library refuses dot segments; the package passes the URI as is.
    dots = policy.authorize(rpc("resources/read", {"uri": "file:///docs/../etc/passwd"}),
                            ENGINEER)
    assert dots.invalid and dots.decision == "deny"


@pytest.mark.parametrize("message", [
    rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "1"}}),
    rpc("ping"),
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
])
def test_lifecycle_messages_are_not_decided(policy, message):
    d = policy.authorize(message, ENGINEER, audit=True)
    assert d.lifecycle and d.decision == "allow" and d.rule is None and d.audit is None


@pytest.mark.parametrize("message", [
    b"not json",
    b"[]",
    b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call"}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":1}}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"db.query"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"db.\xff"}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud800"}}',
])
def test_malformed_messages_deny_as_invalid(policy, message):
    d = policy.authorize(message, ENGINEER, audit=True)
    assert d.decision == "deny" and d.invalid and d.rule is None
    assert d.reason  # the library's message, whatever its wording
    line = json.loads(d.audit)
    assert line["invalid"] is True and line["decision"] == "deny"


def test_now_is_context_time(policy):
    call = rpc("resources/read", {"uri": "file:///docs/a.md"})
    assert policy.authorize(call, ENGINEER, now=1764140000).rule == "docs"
    late = policy.authorize(call, ENGINEER, now=2000000001)
    assert (late.decision, late.rule, late.reason) == ("deny", "too-late",
                                                      "the test policy expired")
    # An identity that sets context.time wins over `now`, as the library says.
    fixed = {**ENGINEER, "context": {"time": 1764140000}}
    assert policy.authorize(call, fixed, now=2000000001).rule == "docs"


def test_audit_line(policy):
    call = rpc("tools/call", {"name": "db.drop", "arguments": {}})
    line = policy.audit(call, ENGINEER, now=1764140000)
    rec = json.loads(line)
    assert rec["principal"] == "alice" and rec["method"] == "tools/call"
    assert rec["target"] == "db.drop" and rec["decision"] == "deny"
    assert rec["rule"] == "no-destructive" and rec["time"] == "2025-11-26T06:53:20Z"
    assert rec["policy"]["name"] == "binding-test" and rec["policy"]["hash"] == policy.hash
    assert len(rec["request_digest"]) == 64
    # A long argument makes a line past the first buffer.
    big = policy.audit(rpc("tools/call", {"name": "x" * 6000}), ENGINEER)
    assert json.loads(big)["target"] == "x" * 6000


def test_filter_resources_and_prompts(policy):
    resources = {"jsonrpc": "2.0", "id": 2, "result": {"resources": [
        {"uri": "file:///docs/a.md", "name": "a"},
        {"uri": "file:///secret/b", "name": "b"}]}}
    f = policy.filter_list("resources/list", resources, ENGINEER)
    assert names(f, "resources", "uri") == ["file:///docs/a.md"] and f.removed == 1
    prompts = {"jsonrpc": "2.0", "id": 3, "result": {"prompts": [
        {"name": "explain_query"}, {"name": "summarize"}, {"name": "delete_all"}]}}
    f = policy.filter_list("prompts/list", json.dumps(prompts).encode(), ENGINEER)
    # summarize needs an argument the list cannot know: visibility's Kleene
    # logic, decided in C, shows it.
    visible = names(f, "prompts")
    assert "explain_query" in visible and "delete_all" not in visible
    assert f.removed == 3 - len(visible)


def test_check_roots(policy):
    answer = {"jsonrpc": "2.0", "id": "r", "result": {"roots": [
        {"uri": "file:///docs", "name": "d"}, {"uri": "file:///"}, {"uri": "file:///secret"}]}}
    kept = json.loads(policy.check_roots(answer, ENGINEER))
    assert kept["result"]["roots"] == [{"uri": "file:///docs", "name": "d"}]
    retry = rpc("tools/call", {"name": "db.query", "inputResponses": {
        "k": {"roots": [{"uri": "file:///"}]}}})
    assert json.loads(policy.check_roots(retry, ENGINEER))["params"]["inputResponses"] == {
        "k": {"roots": []}}
    assert policy.check_roots(rpc("tools/call", {"name": "db.query"}), ENGINEER) is None
    with pytest.raises(toolgate.InvalidRequestError):
        policy.check_roots({"jsonrpc": "2.0", "id": 1, "result": {"roots": "file:///"}}, ENGINEER)


def test_filter_errors(policy):
    with pytest.raises(toolgate.InvalidRequestError) as e:
        policy.filter_list("tools/list", "not json", ENGINEER)
    assert e.value.status == toolgate.Status.EINVALID_REQUEST
    with pytest.raises(toolgate.ToolgateError) as e:
        policy.filter_list("foo/list", TOOLS_LIST, ENGINEER)
    assert e.value.status_name == "TG_EINVAL"


def test_identity_errors():
    with pytest.raises(toolgate.InvalidRequestError) as e:
        toolgate.Identity({"principal": {"roles": ["x"]}})
    assert e.value.status_name == "TG_EINVALID_REQUEST" and e.value.reason
    with pytest.raises(toolgate.InvalidRequestError):
        toolgate.Identity("[]")
