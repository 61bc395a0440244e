-- azure.config: the tutorial's config files. `config.lua` (subscription and service principal,
-- written by the user) and `config_resources.lua` (what create_resource.lua made, written by us,
-- 0600 and atomically because it holds keys and a SAS token).
--
--   local cfg = config.load("config.lua")            -- the globals the file sets, or raises one line
--   local sp  = config.service_principal(cfg, "config.lua")   -- {client_id, secret, tenant, name}
--   config.write("config_resources.lua", {resource_gpe_name = ..., batch = {...}}, {header = "..."})
local M = {}

local function fail(msg) error(msg, 0) end

-- Config files are data: they run with a tiny environment (no io, no os.execute), but may read
-- environment variables so that secrets can stay out of the file.
local function sandbox()
  return { os = { getenv = os.getenv }, tostring = tostring, tonumber = tonumber, string = string }
end

function M.load(path, opts)
  opts = opts or {}
  local f = io.open(path, "r")
  if not f then
    fail(opts.missing or (path .. " not found"))
  end
  local text = f:read("a")
  f:close()
  local env = sandbox()
  local chunk, err = load(text, "@" .. path, "t", env)
  if not chunk then fail(err:gsub("^%[string.-%]:", path .. ":")) end
  local ok, rerr = pcall(chunk)
  if not ok then fail(path .. ": " .. tostring(rerr)) end
  env.os, env.tostring, env.tonumber, env.string = nil, nil, nil, nil
  return env
end

-- The keys people paste: the seed's {client_id, name, password, tenant} or what
-- `az ad sp create-for-rbac` prints {appId, displayName, password, tenant}.
local SP_FIELDS = {
  { key = "client_id", aliases = { "client_id", "appId", "clientId" },
    how = "the appId that 'az ad sp create-for-rbac' printed" },
  { key = "secret", aliases = { "password", "secret", "client_secret", "clientSecret" },
    how = "the password that 'az ad sp create-for-rbac' printed" },
  { key = "tenant", aliases = { "tenant", "tenant_id", "tenantId" },
    how = "the tenant that 'az ad sp create-for-rbac' printed (or 'az account show --query tenantId')" },
}

function M.service_principal(cfg, where)
  where = where or "config.lua"
  local sp = cfg.sp
  if sp == nil then
    fail(where .. ": 'sp' is missing: set sp = {appId=..., password=..., tenant=...} from 'az ad sp create-for-rbac'")
  end
  if type(sp) ~= "table" then fail(where .. ": 'sp' must be a table, got " .. type(sp)) end
  local out = { name = sp.name or sp.displayName }
  for _, f in ipairs(SP_FIELDS) do
    for _, a in ipairs(f.aliases) do
      if sp[a] ~= nil then out[f.key] = sp[a] break end
    end
    local v = out[f.key]
    if v == nil or v == "" then
      fail(("%s: sp.%s is missing: it is %s"):format(where, f.aliases[1] == "client_id" and "client_id (or appId)"
        or f.aliases[1], f.how))
    end
    if type(v) ~= "string" then
      fail(("%s: sp.%s must be a string, got %s"):format(where, f.aliases[1], type(v)))
    end
  end
  return out
end

function M.subscription(cfg, where)
  where = where or "config.lua"
  local s = cfg.subs or cfg.subscription
  if s == nil or s == "" then
    fail(where .. ": 'subs' is missing: set subs = \"<subscription id>\" ('az account show --query id -o tsv')")
  end
  if type(s) ~= "string" or not s:match("^%x+%-%x+%-%x+%-%x+%-%x+$") then
    fail(where .. ": 'subs' must be a subscription id like 00000000-0000-0000-0000-000000000000, got '" ..
      tostring(s) .. "'")
  end
  return s
end

-- Serializes plain data (strings, numbers, booleans, nested tables) as Lua source.
local function serialize(v, indent)
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t == "number" or t == "boolean" then return tostring(v) end
  if t ~= "table" then error("config.write: cannot write a " .. t, 3) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local pad = indent .. "  "
  local out = { "{\n" }
  for _, k in ipairs(keys) do
    local key = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or ("[" .. serialize(k, pad) .. "]")
    out[#out + 1] = pad .. key .. " = " .. serialize(v[k], pad) .. ",\n"
  end
  out[#out + 1] = indent .. "}"
  return table.concat(out)
end

-- Writes each top-level key as a global assignment, in sorted order, 0600, atomically.
function M.write(path, values, opts)
  opts = opts or {}
  local out = {}
  if opts.header then
    for line in (opts.header .. "\n"):gmatch("(.-)\n") do out[#out + 1] = "-- " .. line .. "\n" end
  end
  local keys = {}
  for k in pairs(values) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do out[#out + 1] = k .. " = " .. serialize(values[k], "") .. "\n" end
  local ok, err = require("azure.core.sys").write_file_atomic(path, table.concat(out), opts.mode or 384) -- 0600
  if not ok then fail(err) end
  return true
end

return M
