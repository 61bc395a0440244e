-- azure.arm.resources: the ARM helpers the tutorial and its users need, on top of the raw verbs.
--
--   arm:resource_groups():create(name, {location=, tags=}) / :get(name) / :exists(name) / :delete(name) / :list()
--   arm:storage_accounts(rg):check_name(name) / :create(name, body) / :get(name) / :keys(name) / :key(name)
--                            / :delete(name) / :list()
--   arm:blob_containers(rg, account):create(name [, body]) / :get(name) / :delete(name) / :list()
--   arm:batch_accounts(rg):check_name(name, location) / :create(name, {location=, storage_account_id=})
--                          / :get(name) / :keys(name) / :endpoint(name) / :delete(name) / :list()
--   arm.validate.storage_account(name) / batch_account(name) / resource_group(name) / container(name)
-- Names are validated before any call, with a message that says why a name is wrong.
local errors = require "azure.errors"

local M = {}

-- ---- name rules -------------------------------------------------------------------------------------

local validate = {}
M.validate = validate

local function lower_digits(kind, name)
  if type(name) ~= "string" then error(kind .. " name must be a string", 3) end
  if #name < 3 or #name > 24 then
    error(string.format("%s name '%s' must be 3 to 24 characters long (it has %d)", kind, name, #name), 3)
  end
  local bad = name:match("[^a-z0-9]")
  if bad then
    error(string.format("%s name '%s' may only use lower-case letters and digits (found '%s')", kind, name, bad), 3)
  end
  return name
end

function validate.storage_account(name) return lower_digits("storage account", name) end
function validate.batch_account(name) return lower_digits("Batch account", name) end

function validate.resource_group(name)
  if type(name) ~= "string" or name == "" then error("resource group name must be a non-empty string", 2) end
  if #name > 90 then error("resource group name '" .. name .. "' is longer than 90 characters", 2) end
  -- ARM allows letters and digits (Unicode \w), '-', '_', '.', '(' and ')'; ASCII is the safe subset.
  local bad = name:match("[^%w%-_%.%(%)]")
  if bad then
    error(string.format("resource group name '%s' may only use letters, digits, '-', '_', '.', '(' and ')' (found '%s')",
      name, bad), 2)
  end
  if name:sub(-1) == "." then error("resource group name '" .. name .. "' cannot end with '.'", 2) end
  return name
end

function validate.container(name)
  if type(name) ~= "string" then error("container name must be a string", 2) end
  if #name < 3 or #name > 63 then error("container name '" .. name .. "' must be 3 to 63 characters long", 2) end
  if name:match("[^a-z0-9%-]") then
    error("container name '" .. name .. "' may only use lower-case letters, digits and '-'", 2)
  end
  if not name:match("^[a-z0-9]") or not name:match("[a-z0-9]$") then
    error("container name '" .. name .. "' must start and end with a letter or digit", 2)
  end
  if name:find("--", 1, true) then error("container name '" .. name .. "' cannot contain '--'", 2) end
  return name
end

local function merge(into, from)
  for k, v in pairs(from or {}) do
    if type(v) == "table" and type(into[k]) == "table" and not getmetatable(v) then merge(into[k], v)
    else into[k] = v end
  end
  return into
end

local function not_found(e) return errors.is(e) and e.status == 404 end

-- A bound collection: `client` + a base path.
local function collection(client, base, methods)
  local c = setmetatable({ client = client, base = base }, { __index = methods })
  return c
end

-- ---- resource groups ----------------------------------------------------------------------------------

local RG = {}

function RG:path(name) return self.base .. "/" .. validate.resource_group(name) end

function RG:create(name, body)
  if type(body) == "string" then body = { location = body } end
  body = body or {}
  if not body.location then error("resource_groups:create: location is required", 2) end
  return (self.client:put(self:path(name), { location = body.location, tags = body.tags }))
end

function RG:get(name) return (self.client:get(self:path(name))) end
function RG:exists(name) return (self.client:head(self:path(name))) end

-- opts.wait=false returns once ARM accepted the deletion (it takes minutes); missing groups are fine.
function RG:delete(name, opts)
  opts = opts or {}
  local ok, e = pcall(self.client.delete, self.client, self:path(name), opts)
  if not ok and not (not_found(e) and opts.missing_ok ~= false) then error(e, 0) end
  return ok
end

function RG:list() return self.client:list(self.base) end

-- ---- storage accounts ----------------------------------------------------------------------------------

local SA = {}

function SA:path(name) return self.base .. "/" .. validate.storage_account(name) end

-- true when the name can be used; otherwise raises with ARM's reason (AccountNameInvalid,
-- AlreadyExists) in the error code and its message.
function SA:check_name(name)
  validate.storage_account(name)
  local r = self.client:post("/subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability",
    { name = name, type = "Microsoft.Storage/storageAccounts" })
  if r.nameAvailable then return true end
  error(errors.new{ service = "arm", code = r.reason or "NameUnavailable",
    message = r.message or ("storage account name '" .. name .. "' is not available") }, 0)
end

-- body: merged over secure defaults (StorageV2, Standard_LRS, TLS 1.2, no public blobs, https only).
function SA:create(name, body)
  body = body or {}
  local location = body.location or self.client.cloud.location
  if not location then error("storage_accounts:create: location is required", 2) end
  local b = merge({
    sku = { name = "Standard_LRS" }, kind = "StorageV2", location = location,
    properties = { minimumTlsVersion = "TLS1_2", allowBlobPublicAccess = false, supportsHttpsTrafficOnly = true },
  }, body)
  return (self.client:put(self:path(name), b, { timeout = body.timeout }))
end

function SA:get(name) return (self.client:get(self:path(name))) end

function SA:exists(name)
  local ok, e = pcall(self.get, self, name)
  if ok then return true end
  if not_found(e) then return false end
  error(e, 0)
end

function SA:keys(name)
  local r = self.client:post(self:path(name) .. "/listKeys", nil)
  return r and r.keys or {}
end

-- The first key with full permissions (compared case-insensitively: "Full" or "FULL").
function SA:key(name)
  for _, k in ipairs(self:keys(name)) do
    if tostring(k.permissions):lower() == "full" then return k.value end
  end
  error(errors.new{ service = "arm", code = "NoStorageKey", message = "storage account '" .. name .. "' has no full-access key" }, 0)
end

function SA:delete(name) return (self.client:delete(self:path(name))) end
function SA:list() return self.client:list(self.base) end

-- ---- blob containers through ARM (no account key needed, only RBAC on the account) ------------------

local BC = {}

function BC:path(name) return self.base .. "/" .. validate.container(name) end

function BC:create(name, body)
  return (self.client:put(self:path(name), body or { properties = { publicAccess = "None" } }))
end

function BC:get(name) return (self.client:get(self:path(name))) end
function BC:delete(name) return (self.client:delete(self:path(name))) end
function BC:list() return self.client:list(self.base) end

-- ---- Batch accounts ------------------------------------------------------------------------------------

local BA = {}

function BA:path(name) return self.base .. "/" .. validate.batch_account(name) end

function BA:check_name(name, location)
  validate.batch_account(name)
  location = location or self.client.cloud.location
  if not location then error("batch_accounts:check_name: location is required", 2) end
  local r = self.client:post("/subscriptions/{sub}/providers/Microsoft.Batch/locations/" .. location
    .. "/checkNameAvailability", { name = name, type = "Microsoft.Batch/batchAccounts" })
  if r.nameAvailable then return true end
  error(errors.new{ service = "arm", code = r.reason or "NameUnavailable",
    message = r.message or ("Batch account name '" .. name .. "' is not available") }, 0)
end

-- body: a BatchAccountCreateParameters table, or the shortcut {location=, storage_account_id=, tags=}.
function BA:create(name, body)
  body = body or {}
  local b = {}
  for k, v in pairs(body) do if k ~= "storage_account_id" and k ~= "timeout" then b[k] = v end end
  b.location = b.location or self.client.cloud.location
  if not b.location then error("batch_accounts:create: location is required", 2) end
  if body.storage_account_id then
    b.properties = b.properties or {}
    b.properties.autoStorage = { storageAccountId = body.storage_account_id }
  end
  return (self.client:put(self:path(name), b, { timeout = body.timeout }))
end

function BA:get(name) return (self.client:get(self:path(name))) end

-- {primary=, secondary=, accountName=}
function BA:keys(name) return (self.client:post(self:path(name) .. "/listKeys", nil)) end

-- The data-plane URL: accountEndpoint has no scheme; plain http only on loopback (the emulator).
function BA:endpoint(name)
  local a = self:get(name)
  local ep = a and a.properties and a.properties.accountEndpoint
  if not ep then error(errors.new{ service = "arm", code = "NoAccountEndpoint", message = "Batch account '" .. name .. "' has no accountEndpoint yet" }, 0) end
  if ep:match("^%a+://") then return ep end
  if ep:match("^127%.0%.0%.1[:/]") or ep:match("^localhost[:/]") then
    -- the emulator: its own scheme (https when it was started with --tls)
    local c = self.client.cloud
    local tls = c and c.is_local and c.endpoints and c.endpoints.tls == true
    return (tls and "https://" or "http://") .. ep
  end
  return "https://" .. ep
end

function BA:delete(name) return (self.client:delete(self:path(name))) end
function BA:list() return self.client:list(self.base) end

-- ---- install on the client -------------------------------------------------------------------------------

function M.install(Client, arm)
  arm.validate = validate
  function Client:resource_groups()
    return collection(self, "/subscriptions/{sub}/resourcegroups", RG)
  end
  local function rg_base(rg) return "/subscriptions/{sub}/resourceGroups/" .. validate.resource_group(rg) end
  function Client:storage_accounts(rg)
    return collection(self, rg_base(rg) .. "/providers/Microsoft.Storage/storageAccounts", SA)
  end
  function Client:blob_containers(rg, account)
    return collection(self, rg_base(rg) .. "/providers/Microsoft.Storage/storageAccounts/"
      .. validate.storage_account(account) .. "/blobServices/default/containers", BC)
  end
  function Client:batch_accounts(rg)
    return collection(self, rg_base(rg) .. "/providers/Microsoft.Batch/batchAccounts", BA)
  end
end

return M
