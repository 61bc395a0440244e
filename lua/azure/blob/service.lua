-- azure.blob.service: the account-level Blob client (list containers, user delegation keys).
local xml = require "azure.blob.xmlutil"
local signing = require "azure.blob.signing"

local M = {}
local Service = {}
Service.__index = Service
M.Service = Service

function M.wrap(ctx)
  return setmetatable({ ctx = ctx, url = ctx.service_url, account = ctx.account }, Service)
end

function Service:container(name)
  return require("azure.blob.container").wrap(self.ctx, name)
end

-- Service root: "/" after the endpoint (path-style endpoints end in the account segment).
function Service:_root(params)
  return self.ctx:url_for(self.url .. "/", params)
end

local function container_item(el)
  local props = xml.map(xml.child(el, "Properties"))
  return {
    name = xml.name(xml.child(el, "Name")), properties = props,
    metadata = xml.child(el, "Metadata") and xml.map(xml.child(el, "Metadata")) or nil,
    etag = props.Etag, last_modified = props["Last-Modified"],
  }
end

-- Lazy iterator over the containers: for c in svc:containers{prefix=, include="metadata"} do … end
-- Pages (NextMarker) are fetched only when the previous one is used up.
function Service:containers(opts)
  opts = opts or {}
  return xml.pages(function(marker)
    local res = self.ctx:send { method = "GET", expect = { 200 }, url = self:_root {
      { "comp", "list" }, { "prefix", opts.prefix }, { "marker", marker },
      { "maxresults", opts.page_size }, { "include", opts.include } } }
    local doc, items = xml.parse(res.body), {}
    for el in xml.each(xml.child(doc, "Containers"), "Container") do items[#items + 1] = container_item(el) end
    return items, xml.text(doc, "NextMarker")
  end)
end

function Service:list_containers(opts)
  local out = {}
  for c in self:containers(opts) do out[#out + 1] = c end
  return out
end

-- Properties of the account's Blob service (also a cheap "does my credential work?" probe).
function Service:properties()
  local res = self.ctx:send { method = "GET", expect = { 200 },
    url = self:_root { { "restype", "service" }, { "comp", "properties" } } }
  return xml.parse(res.body)
end

-- A user delegation key (needs a token credential): {signed_oid, signed_tid, signed_start,
-- signed_expiry, signed_service, signed_version, value}. start/expiry: epoch seconds or ISO text.
function Service:user_delegation_key(opts)
  opts = opts or {}
  local start = signing.sas_time(opts.start or (os.time() - 300))
  local expiry = signing.sas_time(opts.expiry or (os.time() + 3600))
  local body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><KeyInfo><Start>" .. xml.escape(start) ..
      "</Start><Expiry>" .. xml.escape(expiry) .. "</Expiry></KeyInfo>"
  -- Asking twice for a key is harmless, so the POST may be retried.
  local res = self.ctx:send { method = "POST", expect = { 200 }, idempotent = true, body = body,
    headers = { ["Content-Type"] = "application/xml" },
    url = self:_root { { "restype", "service" }, { "comp", "userdelegationkey" } } }
  local doc = xml.parse(res.body)
  return {
    signed_oid = xml.text(doc, "SignedOid"), signed_tid = xml.text(doc, "SignedTid"),
    signed_start = xml.text(doc, "SignedStart"), signed_expiry = xml.text(doc, "SignedExpiry"),
    signed_service = xml.text(doc, "SignedService"), signed_version = xml.text(doc, "SignedVersion"),
    value = xml.text(doc, "Value"),
  }
end

-- Account SAS signed with this client's key (options as azure.blob.account_sas).
function Service:account_sas(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.account, o.key = o.account or self.ctx.account, o.key or self.ctx.key
  o.version = o.version or self.ctx.version
  return signing.account_sas(o)
end

return M
