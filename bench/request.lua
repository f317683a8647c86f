-- wrk script for bench/load.py. Arguments (after --): METHOD PATH BODY [SLUG_PREFIX [HEADER...]]
--
-- Without a SLUG_PREFIX (or with an empty one) every request is the same. With one, "{slug}" in
-- BODY becomes "<prefix>-<thread>-<n>": setup() numbers the threads, each thread counts its own
-- requests, so no two requests of one wrk run (nor of two runs with different prefixes) share a
-- slug. Each HEADER is "Name: value" (say "Authorization: Bearer ...") and goes with every request.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  method, path, body, prefix = args[1], args[2], args[3], args[4]
  n = 0
  headers = { ["Content-Type"] = "application/json" }
  for i = 5, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    if name == nil then
      error("header argument " .. i .. " is not 'Name: value': " .. args[i])
    end
    headers[name] = value
  end
  if prefix == nil or prefix == "" then
    fixed = wrk.format(method, path, headers, body ~= "" and body or nil)
  end
end

function request()
  if fixed then
    return fixed
  end
  n = n + 1
  local slug = string.format("%s-%d-%d", prefix, tid, n)
  local filled = string.gsub(body, "{slug}", slug)
  return wrk.format(method, path, headers, filled)
end
