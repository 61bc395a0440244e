-- delete_resources.lua: removes what the tutorial made, so nothing keeps costing money. Deletes the
-- resource group (and with it the storage account, the Batch account, its pools and jobs), after
-- saying what will go. --yes skips the question; --no_wait returns once Azure accepted the deletion.
local azure = require "azure"
local cli = require "azure.cli"
local tutorial = require "azure.tutorial"

local p = cli.parser{
  prog = "delete_resources.lua",
  description = "Deleting the tutorial's resource group and everything in it (storage account, Batch account, pools, jobs).",
}
p:option("--resource_gp_name", { metavar = "RESOURCE_GPE_NAME", help = "Default: the one in config_resources.lua" })
p:flag("--yes", { help = "Do not ask for confirmation" })
p:flag("--no_wait", { help = "Return once the deletion is accepted (it takes a few minutes)" })
p:option("--config", { metavar = "FILE", default = "config.lua", help = "Subscription and service principal" })
p:option("--resources", { metavar = "FILE", default = "config_resources.lua", help = "Written by create_resource.lua" })
local args = p:parse(arg)

local rg = args.resource_gp_name
if not rg then
  local ok, r = pcall(require("azure.config").load, args.resources)
  rg = ok and r.resource_gpe_name or nil
  if not rg then p:error("no --resource_gp_name given and " .. args.resources .. " has none") end
end
azure.arm.validate.resource_group(rg)

local cred, sub, cloud = tutorial.sign_in(args.config)
local arm = azure.arm.client{ credential = cred, subscription = sub, cloud = cloud }
if not arm:resource_groups():exists(rg) then
  print(("Resource group '%s' does not exist in subscription %s: nothing to delete."):format(rg, sub))
  os.exit(0)
end
local names = {}
for res in arm:list("/subscriptions/{sub}/resourceGroups/" .. rg .. "/resources") do
  names[#names + 1] = ("  %s (%s)"):format(res.name, res.type)
end
print(("Resource group '%s' holds %d resources:"):format(rg, #names))
if #names > 0 then print(table.concat(names, "\n")) end
if not args.yes then
  io.stdout:write("Delete it and everything in it? [y/N] ")
  io.stdout:flush()
  local answer = io.stdin:read("l")
  if not answer or not answer:lower():match("^y") then
    print("Nothing deleted.")
    os.exit(1)
  end
end
arm:resource_groups():delete(rg, { wait = not args.no_wait })
tutorial.step(args.no_wait and "deleting" or "deleted", ("resource group '%s'"):format(rg))
