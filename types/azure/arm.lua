---@meta
-- Generated from lua/azure/docs/arm.lua by azure.docs.stubs: do not edit.

---Azure Resource Manager: raw verbs, long-running operations followed, lazy paging.
---@class azure.arm
local arm = {}

---An ARM client; "{sub}" in paths is its subscription.
---@param opts? {credential?: azure.identity.Credential, subscription?: string, cloud?: string|table}
---@return azure.arm.Client
function arm.client(opts) end

---Resource Manager for one subscription. Paths may hold {sub}; api-version is chosen per provider.
---@class azure.arm.Client
local Client = {}
arm.Client = Client

---GET a resource (decoded body).
---@param path string
---@param opts? {api_version?: string, query?: table}
---@return table
function Client:get(path, opts) end

---Creates or replaces a resource; a long-running operation is followed to the end (progress shown, Ctrl-C stops).
---@param path string
---@param body table
---@param opts? {wait?: boolean, timeout?: number}
---@return table
function Client:put(path, body, opts) end

---Updates a resource (LRO followed).
---@param path string
---@param body table
---@param opts? table
---@return table
function Client:patch(path, body, opts) end

---POST an action (listKeys, …).
---@param path string
---@param body? table
---@param opts? table
---@return table
function Client:post(path, body, opts) end

---Deletes a resource (LRO followed).
---@param path string
---@param opts? {wait?: boolean}
---@return table
function Client:delete(path, opts) end

---Whether the resource exists.
---@param path string
---@param opts? table
---@return boolean
function Client:head(path, opts) end

---Lazy iterator over a list's items (follows nextLink).
---@param path string
---@param opts? table
---@return fun(): table
function Client:list(path, opts) end

---Lazy iterator over a list's pages.
---@param path string
---@param opts? table
---@return fun(): table
function Client:pages(path, opts) end

---A resource provider and its registration state.
---@param namespace string
---@return table
function Client:provider(namespace) end

---Registers a provider and waits until registered.
---@param namespace string
---@param opts? table
---@return table
function Client:register_provider(namespace, opts) end

---Resource groups: :create(name, {location=}), :get, :exists, :delete, :list().
---@return table
function Client:resource_groups() end

---Storage accounts: :check_name, :create(name, body), :get, :keys, :key, :delete, :list().
---@param rg string
---@return table
function Client:storage_accounts(rg) end

---Blob containers through ARM: :create, :get, :delete, :list().
---@param rg string
---@param account string
---@return table
function Client:blob_containers(rg, account) end

---Batch accounts: :check_name, :create(name, {location=, storage_account_id=}), :get, :keys, :endpoint, :delete, :list().
---@param rg string
---@return table
function Client:batch_accounts(rg) end

---Any ARM call through the pipeline.
---@param method string
---@param path string
---@param body? table
---@param opts? table
---@return table
function Client:request(method, path, body, opts) end
return arm
