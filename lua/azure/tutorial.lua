-- azure.tutorial: the few things the three tutorial scripts share — signing in from config.lua (or
-- the environment), reading config_resources.lua, and reporting steps — so each script reads as
-- its workflow and nothing else.
local config = require "azure.config"

local M = {}

M.CONFIG_HELP = "copy scripts/config.lua.example to config.lua and fill in subs and sp " ..
  "(from 'az ad sp create-for-rbac'), or set AZURE_SUBSCRIPTION_ID, AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"

local function file_exists(p)
  local f = io.open(p, "r")
  if f then f:close() return true end
  return false
end

-- Returns credential, subscription id, cloud. config.lua wins when present; otherwise the
-- azure.identity default chain (environment, workload identity, managed identity, az CLI).
function M.sign_in(path)
  path = path or "config.lua"
  local identity = require "azure.identity"
  local cloud = require("azure.cloud").get()
  if file_exists(path) then
    local cfg = config.load(path)
    local sub = config.subscription(cfg, path)
    local sp = config.service_principal(cfg, path)
    return identity.from_sp(sp, { cloud = cloud }), sub, cloud
  end
  local sub = os.getenv("AZURE_SUBSCRIPTION_ID")
  if not sub or sub == "" then
    error(path .. " not found and AZURE_SUBSCRIPTION_ID is not set: " .. M.CONFIG_HELP, 0)
  end
  return identity.default{ cloud = cloud }, sub, cloud
end

-- config_resources.lua, checked field by field.
function M.resources(path)
  path = path or "config_resources.lua"
  if not file_exists(path) then
    error(path .. " not found: run 'azlua scripts/create_resource.lua' first (it writes this file)", 0)
  end
  local r = config.load(path)
  local function need(t, field, what)
    if type(t) ~= "table" or t[field] == nil or t[field] == "" then
      error(("%s: %s is missing: re-run 'azlua scripts/create_resource.lua' to rewrite it"):format(path, what), 0)
    end
    return t[field]
  end
  need(r, "batch", "batch"); need(r.batch, "name", "batch.name"); need(r.batch, "key", "batch.key")
  need(r.batch, "url", "batch.url")
  need(r, "blob_container", "blob_container"); need(r.blob_container, "url", "blob_container.url")
  need(r.blob_container, "sas_token", "blob_container.sas_token")
  local exp = r.blob_container.sas_expiry
  if exp then
    local t = require("azure.core.time").parse_iso8601(exp)
    if t and t <= os.time() then
      error(("%s: the blob container's SAS token expired at %s: re-run 'azlua scripts/create_resource.lua' for a new one"):format(path, exp), 0)
    end
  end
  return r
end

-- Steps: one line each on stdout as they happen ("  created  resource group 'x' (centralus)").
-- With -o json|tsv (M.set_output) the lines go to stderr and M.finish prints the steps in that
-- format on stdout, so a script's output can be piped.
local out_format, steps = "table", {}

function M.set_output(fmt) out_format = fmt or "table" end

function M.step(verb, what)
  steps[#steps + 1] = { action = verb, resource = what }
  local f = (out_format == "table") and io.stdout or io.stderr
  f:write(("  %-8s %s\n"):format(verb, what))
  f:flush()
end

-- Prints a line for people (stdout in table mode, stderr otherwise).
function M.say(text)
  local f = (out_format == "table") and io.stdout or io.stderr
  f:write(text, "\n")
  f:flush()
end

function M.finish(extra)
  if out_format == "table" then return end
  local o = require "azure.output"
  o.print(extra and { steps = steps, result = extra } or steps, out_format,
    { columns = { "action", "resource" } })
end

return M
