-- mixed.lua - wrk script for bench/gateway/load.sh: alternating MCP
-- 2026-07-28 tools/call requests, one the policy allows ("echo") and one it
-- denies ("secret"), each with the headers a 2026 client sends. Every
-- answer is checked: an allowed call must carry the upstream's "ok echo",
-- a denied one the gateway's denial code -32003; anything else counts as wrong. (Behind
-- the nginx baseline both reach the upstream, so both say "ok".)
local meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",' ..
	'"io.modelcontextprotocol/clientCapabilities":{}}'
local function call(id, name)
	local body = '{"jsonrpc":"2.0","id":' .. id .. ',"method":"tools/call","params":{"name":"' ..
		name .. '","arguments":{},' .. meta .. '}}'
	return wrk.format("POST", nil, {
		["Content-Type"] = "application/json",
		["Accept"] = "application/json, text/event-stream",
		["MCP-Protocol-Version"] = "2026-07-28",
		["Mcp-Method"] = "tools/call",
		["Mcp-Name"] = name,
	}, body)
end

local threads = {}
function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	reqs = { call(1, "echo"), call(2, "secret") }
	n, wrong, allowed, denied = 0, 0, 0, 0
	baseline = args[1] == "baseline"
end

function request()
	n = n + 1
	return reqs[n % 2 + 1]
end

function response(status, headers, body)
	if status ~= 200 then
		wrong = wrong + 1
	elseif body:find("ok echo", 1, true) then
		allowed = allowed + 1
	elseif body:find("-32003", 1, true) or (baseline and body:find("ok secret", 1, true)) then
		denied = denied + 1
	else
		wrong = wrong + 1
	end
end

function done(summary, latency, requests)
	local w, a, d = 0, 0, 0
	for _, t in ipairs(threads) do
		w = w + t:get("wrong")
		a = a + t:get("allowed")
		d = d + t:get("denied")
	end
	io.write(string.format("RESULT requests=%d errors=%d wrong=%d allowed=%d denied=%d " ..
		"p50_us=%d p99_us=%d rps=%.0f\n",
		summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write +
		summary.errors.status + summary.errors.timeout, w, a, d,
		latency:percentile(50), latency:percentile(99),
		summary.requests / (summary.duration / 1e6)))
end
