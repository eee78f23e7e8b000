-- Cycles through the requests in a file (wrk ... -s cycle.lua URL -- METHOD FILE): each line is
-- a path, or for a POST a path, a tab and the url-encoded body. The -H headers are sent too.
local requests = {}
local index = 0
local next_thread = 1

function setup(thread)
  thread:set("id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local method = args[1]
  for line in io.lines(args[2]) do
    local path, body = line:match("^([^\t]+)\t?(.*)$")
    if body == "" then body = nil end
    requests[#requests + 1] = wrk.format(method, path, nil, body)
  end
  -- Each thread starts at its own place in the list.
  index = (id * 7919) % #requests
end

function request()
  index = index % #requests + 1
  return requests[index]
end
