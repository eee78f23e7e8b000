-- Registers cases (wrk ... -s register.lua URL -- FILE PREFIX): FILE holds one url-encoded
-- intake form whose one-time `submission` token is {token}; every request gets a token of its
-- own (PREFIX, the thread, a counter), so the server registers each one.
local before, after, prefix
local sent = 0
local next_thread = 1

function setup(thread)
  thread:set("id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local file = io.open(args[1])
  local form = file:read("*l")
  file:close()
  before, after = form:match("^(.-){token}(.*)$")
  prefix = args[2]
end

function request()
  sent = sent + 1
  local body = before .. prefix .. id .. "-" .. sent .. after
  return wrk.format("POST", wrk.path, nil, body)
end
