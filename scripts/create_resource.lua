-- create_resource.lua: the tutorial's first workflow. Signs in with the service principal in
-- config.lua, then creates (or reuses) a resource group holding a storage account with a blob
-- container and a Batch account linked to it, and writes config_resources.lua for the next steps.
local azure = require "azure"
local cli = require "azure.cli"
local tutorial = require "azure.tutorial"

local p = cli.parser{
  prog = "create_resource.lua",
  description = "Creating a resource group containing a batch account and a storage account that has a blob container.",
  epilog = 'Returns a file named "config_resources.lua" containing information about the batch account ' ..
    "and the blob container that will have been created.",
}
p:option("--resource_gp_name", { metavar = "RESOURCE_GPE_NAME", default = "group-centrale-supelec", help = "Name of resource group" })
p:option("--batch_account_name", { metavar = "BATCH_ACCOUNT_NAME", default = "ab03centralesupelec", help = "Name of batch account" })
p:option("--storage_account_name", { metavar = "STORAGE_ACCOUNT_NAME", default = "as03centralesupelec", help = "Name of storage account" })
p:option("--blob_container_name", { metavar = "BLOB_CONTAINER_NAME", default = "results", help = "Name of blob container" })
p:option("--region_name", { metavar = "REGION_NAME", default = "centralus", help = "Location where resources will be created" })
p:option("--sas_days", { metavar = "DAYS", type = "integer", default = 7, help = "Validity of the container's SAS token, in days" })
p:option("--config", { metavar = "FILE", default = "config.lua", help = "Subscription and service principal" })
p:option("--out", { metavar = "FILE", default = "config_resources.lua", help = "Where to write what was created" })
require("azure.output").add_option(p)
local args = p:parse(arg)
tutorial.set_output(args.output)

local arm_mod = azure.arm
local v = arm_mod.validate
-- Every name is checked before anything is sent, so a typo costs nothing.
v.resource_group(args.resource_gp_name)
v.storage_account(args.storage_account_name)
v.batch_account(args.batch_account_name)
v.container(args.blob_container_name)
if args.sas_days < 1 or args.sas_days > 365 then p:error("argument --sas_days: must be 1 to 365") end

local cred, sub, cloud = tutorial.sign_in(args.config)
local arm = arm_mod.client{ credential = cred, subscription = sub, cloud = cloud }
local rg, region = args.resource_gp_name, args.region_name
tutorial.say(("Creating the tutorial's resources in subscription %s (%s, cloud %s)"):format(sub, region, cloud.name))

-- The region first: a typo is reported before any provider or name is touched.
local known = {}
for loc in arm:list("/subscriptions/{sub}/locations", { api_version = "2022-12-01" }) do
  known[#known + 1] = loc.name
  if loc.name == region:lower() or (loc.displayName or ""):lower() == region:lower() then region = loc.name end
end
local region_ok = false
for _, name in ipairs(known) do if name == region then region_ok = true end end
if not region_ok then
  error(("region '%s' is not available to subscription %s: pick one of 'az account list-locations -o table' (e.g. centralus, eastus, westeurope)")
    :format(args.region_name, sub), 0)
end

local providers = { "Microsoft.Storage", "Microsoft.Batch" }
local registered = arm:register_providers(providers) -- together: on Azure each takes a minute or two
for _, ns in ipairs(providers) do
  local prov = registered[ns]
  tutorial.step("ready", ("provider %s (%s)"):format(ns, tostring(prov and prov.registrationState or "Registered")))
end

-- Names that must be free across Azure are checked before the first resource is created.
local sa_api = arm:storage_accounts(rg)
local ba_api = arm:batch_accounts(rg)
local rg_exists = arm:resource_groups():exists(rg)
local sa_exists = rg_exists and sa_api:exists(args.storage_account_name)
if not sa_exists then sa_api:check_name(args.storage_account_name) end
local ba_exists = false
if rg_exists then
  local ok, e = pcall(ba_api.get, ba_api, args.batch_account_name)
  if ok then ba_exists = true elseif not (type(e) == "table" and e.status == 404) then error(e, 0) end
end
if not ba_exists then ba_api:check_name(args.batch_account_name, region) end

if rg_exists then
  tutorial.step("reused", ("resource group '%s'"):format(rg))
else
  arm:resource_groups():create(rg, { location = region })
  tutorial.step("created", ("resource group '%s' (%s)"):format(rg, region))
end

local sa
if sa_exists then
  sa = sa_api:get(args.storage_account_name)
  tutorial.step("reused", ("storage account '%s'"):format(args.storage_account_name))
else
  sa = sa_api:create(args.storage_account_name, { location = region })
  tutorial.step("created", ("storage account '%s'"):format(args.storage_account_name))
end

local ba
if ba_exists then
  ba = ba_api:get(args.batch_account_name)
  tutorial.step("reused", ("Batch account '%s'"):format(args.batch_account_name))
else
  ba = ba_api:create(args.batch_account_name, { location = region, storage_account_id = sa.id })
  tutorial.step("created", ("Batch account '%s' (auto-storage: %s)"):format(args.batch_account_name, args.storage_account_name))
end

arm:blob_containers(rg, args.storage_account_name):create(args.blob_container_name)
tutorial.step("ready", ("blob container '%s'"):format(args.blob_container_name))

-- The tasks write their output to the container and the nodes read the demo from it: a SAS with
-- read, add, create, write and list rights, valid for --sas_days.
local storage_key = sa_api:key(args.storage_account_name)
local blob_base = (sa.properties and sa.properties.primaryEndpoints and sa.properties.primaryEndpoints.blob)
  or cloud.blob_endpoint(args.storage_account_name)
local container_url = blob_base:gsub("/*$", "/") .. args.blob_container_name
local expiry = os.time() + args.sas_days * 86400
local sas = azure.blob.sas{
  account = args.storage_account_name, key = storage_key, container = args.blob_container_name,
  permissions = "racwl", expiry = expiry, protocol = cloud.is_local and "https,http" or "https",
}
local batch_keys = ba_api:keys(args.batch_account_name)
local batch_url = ba_api:endpoint(args.batch_account_name)

require("azure.config").write(args.out, {
  resource_gpe_name = rg,
  location = region,
  subscription = sub,
  storage_account = { name = args.storage_account_name, blob_endpoint = blob_base },
  batch = { name = args.batch_account_name, key = batch_keys.primary, url = batch_url },
  blob_container = { name = args.blob_container_name, url = container_url, sas_token = sas,
                     sas_expiry = azure.time.iso8601(expiry) },
}, { header = "Written by scripts/create_resource.lua: holds a Batch key and a SAS token (mode 0600).\n" ..
  "Delete everything with: azlua scripts/delete_resources.lua (or az group delete -n " .. rg .. ")" })
tutorial.step("wrote", ("%s (Batch account, container URL and a SAS valid until %s)"):format(args.out, azure.time.iso8601(expiry)))
tutorial.finish()
tutorial.say(("Done. Next: azlua scripts/launch_batch.lua   (they cost money until deleted: azlua scripts/delete_resources.lua)"))
