---@meta
-- Generated from lua/azure/docs/azure.lua by azure.docs.stubs: do not edit.

---Credentials: cred:token(scope) gives a cached, refreshed access token.
---@class azure.identity
local identity = {}

---Environment service principal → workload identity → managed identity → az CLI, first that works.
---@param opts? {cloud?: string|table}
---@return azure.identity.Credential
function identity.default(opts) end

---A service principal with a secret.
---@param opts {tenant: string, client_id: string, secret: string, cloud?: string|table}
---@return azure.identity.Credential
function identity.client_secret(opts) end

---A service principal with a certificate (PEM).
---@param opts {tenant: string, client_id: string, certificate_path: string}
---@return azure.identity.Credential
function identity.client_certificate(opts) end

---From what 'az ad sp create-for-rbac' printed ({appId, password, tenant}).
---@param sp table|string
---@param opts? table
---@return azure.identity.Credential
function identity.from_sp(sp, opts) end

---From AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET.
---@param opts? table
---@return azure.identity.Credential
function identity.environment(opts) end

---The VM's or App Service's managed identity.
---@param opts? {client_id?: string}
---@return azure.identity.Credential
function identity.managed_identity(opts) end

---A federated token file (AKS workload identity).
---@param opts? table
---@return azure.identity.Credential
function identity.workload_identity(opts) end

---Whoever 'az login' signed in.
---@param opts? table
---@return azure.identity.Credential
function identity.azure_cli(opts) end

---A credential: tokens are cached per scope and refreshed before they expire.
---@class azure.identity.Credential
local Credential = {}
identity.Credential = Credential

---An access token for scope (e.g. "https://management.azure.com/.default").
---@param scope string
---@return string
function Credential:token(scope) end
return identity
