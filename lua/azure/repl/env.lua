-- azure.repl.env: where the REPL's ready-made clients come from, and the banner that says so.
--
-- `arm`, `batch`, `blob` and `cred` are globals built on first use from the usual places, so
-- starting the REPL reads at most two small local files and contacts nothing:
--   cloud         AZURE_CLOUD (default AzureCloud; "local" = the emulator, AZLUA_LOCAL_ENDPOINTS)
--   cred, sub     config.lua (subs, sp) if present, else the identity default chain and
--                 AZURE_SUBSCRIPTION_ID (the local cloud knows its own subscription)
--   batch         config_resources.lua batch{name,key,url}, else AZURE_BATCH_ENDPOINT with
--                 AZURE_BATCH_ACCOUNT + AZURE_BATCH_ACCESS_KEY (az's names), or with cred
--   blob          config_resources.lua blob_container{url,sas_token}, else
--                 AZURE_STORAGE_CONNECTION_STRING, else AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY
local M = {}

M.CONFIG = "config.lua"
M.RESOURCES = "config_resources.lua"

local function getenv(k)
  local v = os.getenv(k)
  if v == "" then return nil end
  return v
end

local function exists(p)
  local f = io.open(p, "r")
  if f then f:close() return true end
  return false
end

-- Reads a config file once per session; a broken file is remembered as its error message.
local loaded = {}
local function load_config(path)
  if loaded[path] == nil then
    if not exists(path) then
      loaded[path] = false
    else
      local ok, v = pcall(require("azure.config").load, path)
      loaded[path] = ok and v or { __error = tostring(v) }
    end
  end
  return loaded[path] or nil
end

local function config_ok(path)
  local c = load_config(path)
  if c and c.__error then error(c.__error, 0) end
  return c
end

function M.reset() loaded = {} end

function M.cloud() return require("azure.cloud").get() end

function M.cloud_name() return getenv("AZURE_CLOUD") or "AzureCloud" end

-- → subscription id, where it came from (no network; nil when unknown)
function M.subscription()
  local cfg = load_config(M.CONFIG)
  if cfg and not cfg.__error and (cfg.subs or cfg.subscription) then return cfg.subs or cfg.subscription, M.CONFIG end
  local s = getenv("AZURE_SUBSCRIPTION_ID")
  if s then return s, "AZURE_SUBSCRIPTION_ID" end
  if M.cloud_name() == "local" then
    local ok, c = pcall(M.cloud)
    if ok and c.subscription then return c.subscription, "the emulator" end
  end
  return nil
end

-- → {endpoint=, account=, key=} and where it came from, or nil
function M.batch_settings()
  local r = load_config(M.RESOURCES)
  if r and not r.__error and type(r.batch) == "table" and r.batch.url then
    return { endpoint = r.batch.url, account = r.batch.name, key = r.batch.key }, M.RESOURCES
  end
  local ep = getenv("AZURE_BATCH_ENDPOINT")
  if ep then
    return { endpoint = ep, account = getenv("AZURE_BATCH_ACCOUNT"), key = getenv("AZURE_BATCH_ACCESS_KEY") },
      "AZURE_BATCH_ENDPOINT"
  end
  return nil
end

-- ---- builders: each runs on the first use of its global ---------------------------------------

local builders = {}

function builders.cred()
  local cloud = M.cloud()
  local identity = require "azure.identity"
  local cfg = config_ok(M.CONFIG)
  if cfg then
    local config = require "azure.config"
    return identity.from_sp(config.service_principal(cfg, M.CONFIG), { cloud = cloud })
  end
  return identity.default{ cloud = cloud }
end

function builders.arm(env)
  local sub = M.subscription()
  if not sub then
    error("arm: no subscription: set AZURE_SUBSCRIPTION_ID or write config.lua (" ..
      require("azure.tutorial").CONFIG_HELP .. ")", 0)
  end
  config_ok(M.CONFIG)
  return require("azure.arm").client{ credential = env.cred, subscription = sub, cloud = M.cloud() }
end

function builders.batch(env)
  config_ok(M.RESOURCES)
  local s = M.batch_settings()
  if not s then
    error("batch: no Batch account: run scripts/create_resource.lua (it writes config_resources.lua) " ..
      "or set AZURE_BATCH_ENDPOINT, AZURE_BATCH_ACCOUNT and AZURE_BATCH_ACCESS_KEY", 0)
  end
  local opts = { endpoint = s.endpoint, account = s.account, key = s.key }
  if not s.key then opts.credential, opts.cloud = env.cred, M.cloud() end
  if M.cloud_name() == "local" then opts.ca_file = M.cloud().ca_file end -- the emulator's own CA (--tls)
  return require("azure.batch").client(opts)
end

function builders.blob()
  local blob = require "azure.blob"
  local r = config_ok(M.RESOURCES)
  local bc = r and r.blob_container
  if type(bc) == "table" and bc.url then
    local u = bc.url
    if bc.sas_token and bc.sas_token ~= "" then u = u .. "?" .. bc.sas_token:gsub("^%?", "") end
    return blob.container{ url = u }
  end
  local cs = getenv("AZURE_STORAGE_CONNECTION_STRING")
  if cs then return blob.service{ connection_string = cs } end
  local account, key = getenv("AZURE_STORAGE_ACCOUNT"), getenv("AZURE_STORAGE_KEY")
  if account and key then return blob.service{ account = account, key = key } end
  error("blob: no storage: run scripts/create_resource.lua (it writes config_resources.lua) or set " ..
    "AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY)", 0)
end

M.NAMES = { "arm", "batch", "blob", "cred" }

-- What Tab completion may show for a global before it is built: its class (methods only).
local prototypes = {
  arm = function() return require("azure.arm").Client end,
  batch = function() return require("azure.batch").Client end,
  blob = function() return require("azure.blob.container").Container end,
  cred = function() return require("azure.identity").Credential end,
}
M.prototypes = prototypes

-- Installs the lazy globals on env (normally _G). A failed build raises its one-line reason and
-- leaves the global unset, so fixing the environment and retrying works.
function M.install(env)
  local mt = getmetatable(env) or {}
  local prev = mt.__index
  local complete = mt.__complete or {}
  for name, proto in pairs(prototypes) do complete[name] = proto end
  mt.__complete = complete
  mt.__index = function(t, k)
    local b = builders[k]
    if b then
      local v = b(t)
      rawset(t, k, v)
      return v
    end
    if type(prev) == "function" then return prev(t, k) end
    if type(prev) == "table" then return prev[k] end
    return nil
  end
  setmetatable(env, mt)
  return env
end

-- Was this lazy global already built? (Completion only talks to clients that exist.)
function M.built(env, name) return rawget(env, name) ~= nil end

local function short(id) return (id and #id > 13) and (id:sub(1, 8) .. "…") or id end

-- Two lines, no network: which cloud, subscription and Batch account, and how to change them.
function M.banner()
  local parts = { "cloud " .. M.cloud_name() }
  local sub, from = M.subscription()
  parts[#parts + 1] = sub and ("subscription " .. short(sub) .. " (" .. from .. ")") or "no subscription"
  local b, bfrom = M.batch_settings()
  if b then
    local acct = b.account or b.endpoint:match("^%a+://([^.:/]+)") or b.endpoint
    parts[#parts + 1] = "Batch " .. acct .. " (" .. bfrom .. ")"
  else
    parts[#parts + 1] = "no Batch account"
  end
  local broken = {}
  for _, p in ipairs{ M.CONFIG, M.RESOURCES } do
    local c = load_config(p)
    if c and c.__error then broken[#broken + 1] = c.__error end
  end
  local line1 = table.concat(parts, " · ")
  local line2 = "arm batch blob cred: built on first use · change: AZURE_CLOUD, AZURE_SUBSCRIPTION_ID, " ..
    "config.lua, config_resources.lua · help()"
  if #broken > 0 then line2 = line2 .. "\n" .. table.concat(broken, "\n") end
  return line1 .. "\n" .. line2
end

return M
