-- wrk script: cycles through the URL paths in the file given after `--` (each thread from
-- its own place), asks for gzip, and prints one line: requests/s, p50, p99, bytes/request.
local paths = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  counter = math.random(#paths)
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], { ["Accept-Encoding"] = "gzip" })
end

function done(summary, latency, requests)
  local e = summary.errors
  local n = math.max(summary.requests, 1)
  io.write(string.format("%9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  %8.0f B/req  %d errors\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.bytes / n,
    e.connect + e.read + e.write + e.status + e.timeout))
end
