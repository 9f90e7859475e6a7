-- POST /mcp: one JSON-RPC message per request, the body from BENCH_MCP_BODY
-- (default: tools/call whoami). Stateless JSON mode: no session header.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Mcp-Protocol-Version"] = "2025-11-25"
wrk.body = os.getenv("BENCH_MCP_BODY") or
  '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'

-- BENCH_DELAY_MS: each connection waits that long after a reply before its
-- next call (paced clients instead of a closed loop at full speed).
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
  function delay() return pause end
end
