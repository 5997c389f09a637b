-- wrk script for POST /api/generations (bench/wrk.py runs it): every request is a real start.
--
-- wrk -s bench/start.lua <url> -- <init-data file> <key prefix> <first user> <threads> <path> <model>
--
-- The init-data file holds one signed Telegram init-data string per line, one per seeded
-- user. Thread t of T sends its n-th request as user (first + t + T * n) mod users, with the
-- idempotency key <prefix>-t-n: fresh users in turn and a key never used before, so every
-- answer should be a 201. Answers other than 201 are counted by status and reported.

local users = {}
local first, thread_count, counter = 0, 1, 0
local prefix, path, model = "k", "/api/generations", "nano-banana"
-- Globals, not locals: done() reads them from every thread with thread:get().
others = {}     -- status -> count of answers other than 201 (this thread's)
answered = 0

local threads = {}
local thread_seq = 0

function setup(thread)
  thread:set("thread_id", thread_seq)
  thread_seq = thread_seq + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then users[#users + 1] = line end
  end
  prefix = args[2]
  first = tonumber(args[3])
  thread_count = tonumber(args[4])
  path = args[5] or path
  model = args[6] or model
end

function request()
  local user = users[(first + thread_id + thread_count * counter) % #users + 1]
  counter = counter + 1
  local body = '{"model":"' .. model .. '","prompt":"a red fox in the snow","idempotency_key":"'
    .. prefix .. "-" .. thread_id .. "-" .. counter .. '"}'
  return wrk.format("POST", path, {["Authorization"] = "tma " .. user, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 201 then
    local key = tostring(status)
    others[key] = (others[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local statuses, total = {}, 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("answered") or 0)
    for status, count in pairs(thread:get("others") or {}) do
      statuses[status] = (statuses[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(statuses) do parts[#parts + 1] = '"' .. status .. '":' .. count end
  local errors = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests":%d,"answered":%d,"duration_us":%d,"others":{%s},'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, total, summary.duration, table.concat(parts, ","),
    errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
