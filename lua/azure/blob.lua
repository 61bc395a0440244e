-- azure.blob: Blob Storage — signing helpers and clients.
--
--   local blob = require "azure.blob"
--   blob.sign(req, account, key)          -- "SharedKey acct:sig" for {method=, url=, headers={}}
--   blob.sas{account=, key=, container=, blob=, permissions=, start=, expiry=, protocol=, ip=,
--            version=, identifier=, resource=, snapshot=, delegation_key=, …}   -- query, no '?'
--   blob.account_sas{account=, key=, permissions=, services="b", resource_types="sco", expiry=, …}
--   local svc = blob.service{connection_string=s} | {account=, key=} | {url=sas_url} |
--                           {endpoint=, credential=cred}           -- cred:token(scope)
--   svc:containers{prefix=} (lazy iterator)  svc:list_containers()  svc:user_delegation_key{expiry=}
--   local c = svc:container("results")  or  blob.container{url=container_url_with_sas}
--   c:create{if_not_exists=true}  c:delete{if_exists=true}  c:exists()  c:properties()
--   c:metadata()  c:set_metadata{k="v"}  for b in c:blobs{prefix=, delimiter="/"} do … end  c:sas{…}
--   local b = c:blob("dir/a.bin")  or  blob.blob{url=blob_url}
--   b:upload_file(path, {block_size=, concurrency=, md5=, progress=, metadata=, content_type=})
--   b:upload_string(s)  b:download_file(path, {block_size=, concurrency=, progress=, direct=})
--   b:download_string()  b:read(offset, length)   (direct=true: O_DIRECT, past the page cache)
--   b:properties()  b:metadata()  b:set_metadata{}  b:delete()  b:exists()  b:sas{…}
local signing = require "azure.blob.signing"

local M = {}

M.DEFAULT_VERSION = signing.DEFAULT_VERSION
M.sign = signing.sign
M.string_to_sign = signing.string_to_sign

function M.sas(o) return (signing.sas(o)) end
function M.account_sas(o) return (signing.account_sas(o)) end

-- Service SAS signed with a user delegation key (from service:user_delegation_key()).
function M.user_delegation_sas(o, key)
  local t = {}
  for k, v in pairs(o or {}) do t[k] = v end
  t.delegation_key = key or t.delegation_key
  if not t.delegation_key then error("azure.blob.user_delegation_sas: delegation key required", 2) end
  return (signing.sas(t))
end

function M.parse_connection_string(s)
  return require("azure.blob.context").parse_connection_string(s)
end

function M.service(opts)
  local ctx = require("azure.blob.context").new(opts)
  return require("azure.blob.service").wrap(ctx)
end

-- blob.container{url=".../container[?sas]"} or blob.container{name=, <service options>}
function M.container(opts)
  local ctx, parsed = require("azure.blob.context").new(opts)
  local name = opts.name or opts.container or parsed.container
  if not name then error("azure.blob.container: container name (in url or name=) is required", 2) end
  return require("azure.blob.container").wrap(ctx, name)
end

-- blob.blob{url=".../container/name[?sas]"} or blob.blob{container=, name=, <service options>}
function M.blob(opts)
  local ctx, parsed = require("azure.blob.context").new(opts)
  local cname = opts.container or parsed.container
  local name = opts.name or opts.blob or parsed.blob
  if not cname or not name then error("azure.blob.blob: container and blob name (in url or options) are required", 2) end
  return require("azure.blob.container").wrap(ctx, cname):blob(name)
end

M.transfer_defaults = require("azure.blob.transfer").defaults

return M
