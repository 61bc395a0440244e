-- azure.cloud: where each Azure cloud keeps its endpoints, so no module hard-codes a host name.
--
--   local cloud = require "azure.cloud"
--   local c = cloud.get()            -- AZURE_CLOUD, else AzureCloud ("local" → the emulator)
--   local c = cloud.get("AzureUSGovernment")
--   local c = cloud.load_local(path) -- the emulator's endpoints file (also AZLUA_LOCAL_ENDPOINTS=path)
--   c.authority_host, c.arm_endpoint, c.arm_scope, c.storage_suffix, c.storage_scope,
--   c.batch_suffix, c.batch_scope, c.blob_endpoint(account) …
-- A scope is what a v2 token request asks for; an audience/resource is the scope without
-- "/.default" (what managed identity and the CLI want).
local M = {}

local function define(t)
  t.blob_endpoint = t.blob_endpoint or function(account)
    return "https://" .. account .. ".blob." .. t.storage_suffix
  end
  t.batch_endpoint = t.batch_endpoint or function(account, region)
    return "https://" .. account .. "." .. region .. "." .. t.batch_suffix
  end
  return t
end

local builtin = {
  AzureCloud = define{
    name = "AzureCloud",
    authority_host = "https://login.microsoftonline.com",
    arm_endpoint = "https://management.azure.com",
    arm_audience = "https://management.core.windows.net/",
    arm_scope = "https://management.azure.com/.default",
    storage_suffix = "core.windows.net",
    storage_audience = "https://storage.azure.com/",
    storage_scope = "https://storage.azure.com/.default",
    batch_suffix = "batch.azure.com",
    batch_audience = "https://batch.core.windows.net/",
    -- The double slash is the resource id's own trailing slash, as Microsoft's SDKs send it.
    batch_scope = "https://batch.core.windows.net//.default",
  },
  AzureChinaCloud = define{
    name = "AzureChinaCloud",
    authority_host = "https://login.chinacloudapi.cn",
    arm_endpoint = "https://management.chinacloudapi.cn",
    arm_audience = "https://management.core.chinacloudapi.cn/",
    arm_scope = "https://management.chinacloudapi.cn/.default",
    storage_suffix = "core.chinacloudapi.cn",
    storage_audience = "https://storage.azure.com/",
    storage_scope = "https://storage.azure.com/.default",
    batch_suffix = "batch.chinacloudapi.cn",
    batch_audience = "https://batch.chinacloudapi.cn/",
    batch_scope = "https://batch.chinacloudapi.cn//.default",
  },
  AzureUSGovernment = define{
    name = "AzureUSGovernment",
    authority_host = "https://login.microsoftonline.us",
    arm_endpoint = "https://management.usgovcloudapi.net",
    arm_audience = "https://management.core.usgovcloudapi.net/",
    arm_scope = "https://management.usgovcloudapi.net/.default",
    storage_suffix = "core.usgovcloudapi.net",
    storage_audience = "https://storage.azure.com/",
    storage_scope = "https://storage.azure.com/.default",
    batch_suffix = "batch.usgovcloudapi.net",
    batch_audience = "https://batch.core.usgovcloudapi.net/",
    batch_scope = "https://batch.core.usgovcloudapi.net//.default",
  },
}
builtin.AzurePublicCloud = builtin.AzureCloud
builtin.public = builtin.AzureCloud
builtin.china = builtin.AzureChinaCloud
builtin.usgov = builtin.AzureUSGovernment

local loaded_local

local function strip_slash(s) return s and (s:gsub("/+$", "")) or nil end

-- The "local" cloud: the emulator (sign-in, ARM, Batch) and Azurite (Blob), on loopback over
-- plain http, described by the endpoints file the emulator writes once it is ready.
function M.load_local(path)
  local f, err = io.open(path, "rb")
  if not f then error("cloud.load_local: cannot read the emulator's endpoints file: " .. tostring(err), 2) end
  local text = f:read("a")
  f:close()
  local json = require("azure.core.json")
  local e = json.decode(text)
  for k, v in pairs(e) do if v == json.null then e[k] = nil end end -- null means "not there"
  local batch_audience = e.batch_audience or "https://batch.core.windows.net/"
  local c = define{
    name = "local",
    authority_host = strip_slash(e.authority),
    arm_endpoint = strip_slash(e.arm),
    arm_audience = e.arm_audience or "https://management.azure.com/",
    arm_scope = strip_slash(e.arm_audience or "https://management.azure.com/") .. "/.default",
    storage_suffix = "localhost",
    storage_audience = e.storage_audience or "https://storage.azure.com/",
    storage_scope = strip_slash(e.storage_audience or "https://storage.azure.com/") .. "/.default",
    batch_suffix = e.batch_suffix,
    batch_audience = batch_audience,
    batch_scope = batch_audience .. "/.default",
    -- Azurite is path-style: http://127.0.0.1:10000/<account>
    blob_endpoint = e.blob and function(account) return strip_slash(e.blob) .. "/" .. account end or nil,
    batch_endpoint = function(account) return strip_slash(e.batch_url_template:gsub("{account}", account)) end,
    imds_endpoint = e.imds_endpoint,
    identity_endpoint = e.identity_endpoint,
    ca_file = e.ca_file,
    tenant = e.tenant,
    subscription = e.subscription,
    location = e.location,
    endpoints = e,
    is_local = true,
  }
  loaded_local = c
  return c
end

function M.register(name, t)
  if type(name) ~= "string" or type(t) ~= "table" then error("cloud.register(name, table) expected", 2) end
  t.name = t.name or name
  builtin[name] = define(t)
  return builtin[name]
end

-- name: nil (AZURE_CLOUD or AzureCloud), a cloud name, or a cloud table (returned as is).
function M.get(name)
  if type(name) == "table" then return name end
  name = name or os.getenv("AZURE_CLOUD") or "AzureCloud"
  if name == "local" then
    if loaded_local then return loaded_local end
    local path = os.getenv("AZLUA_LOCAL_ENDPOINTS")
    if not path then
      error("cloud 'local' needs the emulator's endpoints file: set AZLUA_LOCAL_ENDPOINTS=path or call cloud.load_local(path)", 2)
    end
    return M.load_local(path)
  end
  local c = builtin[name]
  if not c then
    local names = {}
    for k in pairs(builtin) do if k:match("^Azure") then names[#names + 1] = k end end
    table.sort(names)
    error("unknown cloud '" .. tostring(name) .. "' (known: " .. table.concat(names, ", ") .. ", local)", 2)
  end
  return c
end

-- scope "https://batch.core.windows.net//.default" → resource "https://batch.core.windows.net/"
function M.scope_to_resource(scope)
  local r = scope:gsub("/%.default$", "")
  return r
end

return M
