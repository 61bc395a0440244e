---@meta
-- Generated from lua/azure/docs/blob.lua by azure.docs.stubs: do not edit.

---Blob Storage: signing helpers, service/container/blob clients, parallel transfers.
---@class azure.blob
local blob = {}

---An account-level client.
---@param opts {connection_string?: string, account?: string, key?: string, url?: string, credential?: azure.identity.Credential}
---@return azure.blob.Service
function blob.service(opts) end

---One container, e.g. {url="https://acct.blob.core.windows.net/c?<sas>"}.
---@param opts {url?: string, name?: string, account?: string, key?: string, sas?: string}
---@return azure.blob.Container
function blob.container(opts) end

---One blob.
---@param opts {url?: string, container?: string, name?: string}
---@return azure.blob.Blob
function blob.blob(opts) end

---The Shared Key Authorization header value.
---@param request table
---@param account string
---@param key string
---@return string
function blob.sign(request, account, key) end

---A service SAS query string (no leading '?').
---@param o {account: string, key: string, container: string, blob?: string, permissions: string, expiry: integer|string}
---@return string
function blob.sas(o) end

---An account SAS query string.
---@param o {account: string, key: string, permissions: string, expiry: integer|string}
---@return string
function blob.account_sas(o) end

---A storage account's Blob service.
---@class azure.blob.Service
local Service = {}

---A container client (nothing is sent).
---@param name string
---@return azure.blob.Container
function Service:container(name) end

---Lazy iterator over the containers.
---@param opts? {prefix?: string}
---@return fun(): table
function Service:containers(opts) end

---Every container, as an array.
---@param opts? {prefix?: string}
---@return table[]
function Service:list_containers(opts) end

---The service's properties.
---@return table
function Service:properties() end

---A user delegation key (Entra ID sign-in).
---@param opts {expiry: integer|string}
---@return table
function Service:user_delegation_key(opts) end

---An account SAS for this account.
---@param opts table
---@return string
function Service:account_sas(opts) end

---One container: listing, SAS, and transfers of its blobs.
---@class azure.blob.Container
local Container = {}

---A blob client (nothing is sent).
---@param name string
---@return azure.blob.Blob
function Container:blob(name) end

---Creates the container.
---@param opts? {if_not_exists?: boolean, metadata?: table}
---@return boolean
function Container:create(opts) end

---Deletes the container.
---@param opts? {if_exists?: boolean}
---@return boolean
function Container:delete(opts) end

---Whether the container exists.
---@return boolean
function Container:exists() end

---The container's properties.
---@return table
function Container:properties() end

---The container's metadata.
---@return table
function Container:metadata() end

---Replaces the container's metadata.
---@param meta table
function Container:set_metadata(meta) end

---Lazy iterator over blobs {name, size, last_modified, …}; a delimiter gives virtual directories.
---@param opts? {prefix?: string, delimiter?: string, include?: string}
---@return fun(): table
function Container:blobs(opts) end

---Every blob, as an array.
---@param opts? table
---@return table[]
function Container:list(opts) end

---A SAS for this container.
---@param opts {permissions: string, expiry: integer|string}
---@return string
function Container:sas(opts) end

---The container URL with a SAS.
---@param opts table
---@return string
function Container:sas_url(opts) end

---Uploads a file in parallel blocks (the block size grows with the file).
---@param name string
---@param path string
---@param opts? {block_size?: integer, concurrency?: integer, progress?: boolean}
---@return table
function Container:upload(name, path, opts) end

---Downloads a blob to a file in parallel ranges: disk space reserved first, renamed into place only when complete. direct: written past the page cache (O_DIRECT); "auto" (the default) does so from 256 MiB, false never.
---@param name string
---@param path string
---@param opts? {block_size?: integer, concurrency?: integer, progress?: boolean, direct?: boolean|"auto"}
---@return table
function Container:download(name, path, opts) end

---Uploads a string.
---@param name string
---@param s string
---@param opts? table
---@return table
function Container:upload_string(name, s, opts) end

---A blob's content.
---@param name string
---@param opts? table
---@return string
function Container:download_string(name, opts) end

---Uploads many blobs, several at a time; returns how many were uploaded.
---@param items {name: string, path?: string, data?: string}[]
---@param opts? table
---@return integer
function Container:upload_many(items, opts) end

---Deletes a blob.
---@param name string
---@param opts? table
---@return boolean
function Container:delete_blob(name, opts) end

---One blob.
---@class azure.blob.Blob
local Blob = {}

---Whether the blob exists.
---@return boolean
function Blob:exists() end

---Size, type, times, MD5, metadata.
---@return table
function Blob:properties() end

---The blob's metadata.
---@return table
function Blob:metadata() end

---Replaces the blob's metadata.
---@param meta table
function Blob:set_metadata(meta) end

---Deletes the blob.
---@param opts? table
---@return boolean
function Blob:delete(opts) end

---Uploads a file in parallel blocks.
---@param path string
---@param opts? table
---@return table
function Blob:upload_file(path, opts) end

---Uploads a string.
---@param s string
---@param opts? table
---@return table
function Blob:upload_string(s, opts) end

---Downloads to a file in parallel ranges: disk space reserved first, renamed into place only when complete.
---@param path string
---@param opts? table
---@return table
function Blob:download_file(path, opts) end

---The blob's content.
---@param opts? table
---@return string
function Blob:download_string(opts) end

---A byte range.
---@param offset integer
---@param length integer
---@return string
function Blob:read(offset, length) end

---A SAS for this blob.
---@param opts table
---@return string
function Blob:sas(opts) end

---The blob URL with a SAS.
---@param opts table
---@return string
function Blob:sas_url(opts) end
return blob
