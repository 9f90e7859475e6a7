-- Loaded by every bench script: headers from the environment and done().
local dir = os.getenv("BENCH_LUA_DIR") or "bench/lua"
dofile(dir .. "/report.lua")
wrk.headers["Host"] = "127.0.0.1"
local tok = os.getenv("BENCH_TOKEN")
if tok and tok ~= "" then wrk.headers["Authorization"] = "Bearer " .. tok end
