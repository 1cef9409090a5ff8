-- wrk script: cycles through prebuilt requests read from a file of "METHOD PATH TOKEN" lines
-- (TOKEN "-" = no Authorization), and prints one JSON summary line at the end.
local reqs = {}
local n = 0
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    local method, path, token = line:match("^(%S+) (%S+) (%S+)$")
    local headers = {}
    if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
    n = n + 1
    reqs[n] = wrk.format(method, path, headers)
  end
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
