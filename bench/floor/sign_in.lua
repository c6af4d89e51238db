-- wrk script: `signIn` with the right password, again and again (argon2 each time).
-- wrk -t1 -c32 -dS -s bench/floor/sign_in.lua <url> -- <email> <password>
local body

function init(args)
  body = '{"query":"mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { token } }",'
    .. '"variables":{"e":"' .. args[1] .. '","p":"' .. args[2] .. '"}}'
end

function request()
  return wrk.format("POST", "/graphql", { ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d seconds=%.3f p50_us=%d p99_us=%d\n",
    summary.requests, summary.errors.status + summary.errors.timeout, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99)))
end
