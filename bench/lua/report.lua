-- Shared done(): one JSON line wrk_run (bench/lib.sh) parses.
-- Latencies in microseconds; errors summed over connect/read/write/timeout/status.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"wrk":{"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"socket_errors":%d,"bytes":%d}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect + e.read + e.write + e.timeout, summary.bytes))
end
