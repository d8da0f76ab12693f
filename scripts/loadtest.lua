-- wrk script: cycles through the tile paths in the file given after `--`, asks for gzip,
-- and prints requests/s and latency percentiles in milliseconds.
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
  io.write(string.format("%8.0f req/s  p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (%d requests, %d errors)\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
