-- wrk script: `resendWelcomeEmail` spread over every seeded practice and client.
-- wrk -t2 -cN -dS --latency -s bench/floor/resend.lua <url> -- <targets file>
-- The targets file has one "token client-id" pair per line. GraphQL answers with
-- `errors` count as errors, like non-200 answers.
local targets = {}
local next_target = 0
errors = 0

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads)
end

function init(args)
  for line in io.lines(args[1]) do
    local token, id = line:match("^(%S+) (%S+)$")
    if token then targets[#targets + 1] = { token, id } end
  end
  -- Threads start apart so they do not resend to the same clients in step.
  next_target = (offset - 1) * math.floor(#targets / 2)
end

local query = "mutation($id: ID!) { resendWelcomeEmail(clientId: $id) { resendsRemaining } }"

function request()
  next_target = next_target % #targets + 1
  local t = targets[next_target]
  local body = '{"query":"' .. query .. '","variables":{"id":"' .. t[2] .. '"}}'
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. t[1] }
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("errors") end
  -- Non-200 answers are counted by `response`; these are the ones with no answer.
  failed = failed + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("RESULT requests=%d errors=%d seconds=%.3f p50_us=%d p99_us=%d\n",
    summary.requests, failed, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99)))
end
