-- POST /api/projects with the runbook's body and a unique name per request.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

local n = 0
local run = os.getenv("BENCH_RUN") or "r"
function request()
  n = n + 1
  local body = string.format(
    '{"name":"Pilot %s-%d-%d","owner_email":"owner@corp.example","manager_email":"mgr@corp.example","group":"platform","budget_usd":100}',
    run, tid or 0, n)
  return wrk.format(nil, nil, nil, body)
end
