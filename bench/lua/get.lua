-- GET the URL's path (wrk's default), with Authorization from BENCH_TOKEN if set.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")
wrk.method = "GET"
