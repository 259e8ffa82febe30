"""fake_server.py - MCP servers that misbehave in one way each, for the
proxy's CLI tests (tests/cli/proxy_ids.sh):

    python3 fake_server.py MODE LOG

Every line received is appended to LOG. MODE:

  double   reads ids as doubles, as a JavaScript server does: 2^53 and
           2^53 + 1 are one id to it. It holds tools/call unanswered and
           answers tools/list (two tools, one the policy hides) under the id
           as it read it, written back as an integer.
  silent   answers initialize and tools/list, never a tools/call.
"""
import json
import sys

TOOLS = {"tools": [{"name": "echo", "annotations": {"readOnlyHint": True}},
                   {"name": "secret", "annotations": {"readOnlyHint": True}}]}


def send(msg):
    sys.stdout.write(json.dumps(msg, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main():
    mode, log = sys.argv[1], sys.argv[2]
    with open(log, "a", encoding="utf-8") as out:
        for line in sys.stdin:
            out.write(line)
            out.flush()
            if mode == "double":
                msg = json.loads(line, parse_int=float)
                ident = msg.get("id")
                ident = int(ident) if isinstance(ident, float) else ident
            else:
                msg = json.loads(line)
                ident = msg.get("id")
            method = msg.get("method")
            if ident is None or method is None:
                continue
            if method == "tools/list":
                send({"jsonrpc": "2.0", "id": ident, "result": TOOLS})
            elif method == "initialize":
                send({"jsonrpc": "2.0", "id": ident,
                      "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                                 "serverInfo": {"name": "fake", "version": "1"}}})


main()
