-- wrk script for bench/web.py: optional random ids in the path, one machine-readable result line.
--
--   wrk -t1 -c2 -d10s -s bench/web.lua http://127.0.0.1:8000/                  (the URL as given)
--   wrk -t1 -c2 -d10s -s bench/web.lua http://127.0.0.1:8000 -- /orders/%d 1 1000000
--
-- With a path pattern and an id range, every request asks for a uniformly random id in the range.
-- done() prints "BENCH requests=... duration_us=... p50_us=... p95_us=... p99_us=... ..." which
-- bench/web_wrk.py parses (latencies in microseconds, as wrk measures them).

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
end

function init(args)
  local pattern, low, high = args[1], tonumber(args[2]), tonumber(args[3])
  if pattern == nil or low == nil or high == nil then
    return -- static request: wrk sends the URL it was given
  end
  math.randomseed(os.time() * 100 + (thread_no or 0))
  request = function()
    return wrk.format("GET", string.format(pattern, math.random(low, high)))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d "
      .. "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
