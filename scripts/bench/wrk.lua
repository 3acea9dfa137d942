-- wrk script for `make bench`: one scenario per run, chosen by the environment.
--   BENCH_METHOD, BENCH_PATH (may contain {id}), BENCH_BODY (may contain {id}),
--   BENCH_IDS (file of provider ids, one per line), BENCH_USER ("random": a new user-id each
--   request; else a fixed one or none), BENCH_AUTHORIZATION (an Authorization header value).
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/v1_0/health"
local body = os.getenv("BENCH_BODY")
local user = os.getenv("BENCH_USER")
local authorization = os.getenv("BENCH_AUTHORIZATION")
local honour_retry_after = os.getenv("BENCH_HONOUR_RETRY_AFTER")
local ids = {}

local ids_file = os.getenv("BENCH_IDS")
if ids_file then
  for line in io.lines(ids_file) do
    if #line > 0 then ids[#ids + 1] = line end
  end
end

local function uuid()
  local t = {}
  for i = 1, 16 do t[i] = math.random(0, 255) end
  t[7] = (t[7] % 16) + 64   -- version 4
  t[9] = (t[9] % 64) + 128  -- variant
  local hex = ""
  for i = 1, 16 do
    hex = hex .. string.format("%02x", t[i])
    if i == 4 or i == 6 or i == 8 or i == 10 then hex = hex .. "-" end
  end
  return hex
end

-- Every wrk process (the warm-up and each measured run) and each of its threads must draw
-- other user ids, or a later run's reviews would repeat an earlier run's (409).
math.randomseed(os.time() * 1000 + math.floor((os.clock() * 1000000) % 1000))
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("seed", math.random(1, 1000000000) + thread_number)
end

function init(args)
  math.randomseed(seed or os.time())
end

request = function()
  local id = (#ids > 0) and ids[math.random(1, #ids)] or ""
  local p = path:gsub("{id}", id)
  local headers = {}
  if body then headers["content-type"] = "application/json" end
  if user == "random" then
    headers["user-id"] = uuid()
  elseif user and #user > 0 then
    headers["user-id"] = user
  end
  if authorization then headers["authorization"] = authorization end
  local b = body and body:gsub("{id}", id) or nil
  return wrk.format(method, p, headers, b)
end

-- BENCH_HONOUR_RETRY_AFTER: a connection answered 503 waits the `Retry-After` it was given
-- (1 s) before its next request, as a well-behaved client does. wrk calls `response` and then
-- `delay` for the same connection, one connection at a time per thread.
if honour_retry_after then
  local wait = 0
  response = function(status, headers, body)
    if status == 503 then
      wait = 1000 * (tonumber(headers["retry-after"] or headers["Retry-After"] or "1") or 1)
    end
  end
  delay = function()
    local ms = wait
    wait = 0
    return ms
  end
end
