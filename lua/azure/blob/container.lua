-- azure.blob.container: one container — create/delete/exists/properties/metadata, listing with lazy
-- paging, SAS for itself, and shortcuts to its blobs' transfers.
local url = require "azure.blob.url"
local xml = require "azure.blob.xmlutil"
local props = require "azure.blob.props"
local signing = require "azure.blob.signing"

local M = {}
local Container = {}
Container.__index = Container
M.Container = Container

local function encode_container(name)
  -- $root, $logs, $web stay readable; ordinary names are [a-z0-9-] anyway.
  if name:match("^%$?[%w%-]+$") then return name end
  return url.encode(name)
end

function M.wrap(ctx, name)
  if type(name) ~= "string" or name == "" then error("azure.blob: container name expected", 3) end
  return setmetatable({ ctx = ctx, name = name, url = ctx.service_url .. "/" .. encode_container(name) }, Container)
end

function Container:_url(params)
  return self.ctx:url_for(self.url, params)
end

local RESTYPE = { "restype", "container" }

function Container:blob(name)
  return require("azure.blob.object").wrap(self, name)
end

-- Creates the container; returns true when created, false when it already existed and
-- opts.if_not_exists (or opts.exist_ok) is set.
function Container:create(opts)
  opts = opts or {}
  local h = props.metadata_headers(opts.metadata, {}, "container:create")
  if opts.public_access then h["x-ms-blob-public-access"] = opts.public_access end
  local ok, err = pcall(self.ctx.send, self.ctx, { method = "PUT", url = self:_url { RESTYPE }, headers = h,
    body = "", expect = { 201 } })
  if ok then return true end
  if (opts.if_not_exists or opts.exist_ok) and type(err) == "table" and err.code == "ContainerAlreadyExists" then
    return false
  end
  error(err, 0)
end

-- Deletes the container; with opts.if_exists a missing container is not an error (returns false).
function Container:delete(opts)
  opts = opts or {}
  local ok, err = pcall(self.ctx.send, self.ctx, { method = "DELETE", url = self:_url { RESTYPE }, expect = { 202 } })
  if ok then return true end
  if opts.if_exists and type(err) == "table" and err.status == 404 then return false end
  error(err, 0)
end

function Container:exists()
  local res = self.ctx:send { method = "HEAD", url = self:_url { RESTYPE }, expect = { 200, 404 } }
  return res.status == 200
end

function Container:properties()
  local res = self.ctx:send { method = "HEAD", url = self:_url { RESTYPE }, expect = { 200 } }
  return props.from_headers(res.headers)
end

function Container:metadata()
  return self:properties().metadata
end

-- Replaces the container's metadata.
function Container:set_metadata(meta)
  local h = props.metadata_headers(meta, {}, "container:set_metadata")
  self.ctx:send { method = "PUT", url = self:_url { RESTYPE, { "comp", "metadata" } }, headers = h, body = "",
    expect = { 200 } }
end

local function blob_item(el)
  local p = xml.map(xml.child(el, "Properties"))
  local meta = xml.child(el, "Metadata")
  return {
    name = xml.name(xml.child(el, "Name")), properties = p, metadata = meta and xml.map(meta) or nil,
    size = tonumber(p["Content-Length"]), etag = p.Etag, last_modified = p["Last-Modified"],
    content_type = p["Content-Type"], content_md5 = p["Content-MD5"], blob_type = p.BlobType,
    snapshot = xml.text(el, "Snapshot"),
  }
end

-- Lazy iterator over blobs: for b in c:blobs{prefix=, delimiter="/", include="metadata"} do … end
-- With a delimiter, virtual directories come as {name="dir/", prefix=true}. One page (≤ page_size,
-- service default 5000) is held at a time; the next is fetched when this one is used up.
function Container:blobs(opts)
  opts = opts or {}
  local include = opts.include
  if type(include) == "table" then include = table.concat(include, ",") end
  return xml.pages(function(marker)
    local res = self.ctx:send { method = "GET", expect = { 200 }, url = self:_url {
      RESTYPE, { "comp", "list" }, { "prefix", opts.prefix }, { "delimiter", opts.delimiter },
      { "marker", marker }, { "maxresults", opts.page_size }, { "include", include } } }
    local doc, items = xml.parse(res.body), {}
    for _, el in ipairs(xml.child(doc, "Blobs") or {}) do
      if type(el) == "table" and el.name == "Blob" then
        items[#items + 1] = blob_item(el)
      elseif type(el) == "table" and el.name == "BlobPrefix" then
        items[#items + 1] = { name = xml.name(xml.child(el, "Name")), prefix = true }
      end
    end
    return items, xml.text(doc, "NextMarker")
  end, opts.marker)
end

-- All blobs as an array (convenience over blobs()).
function Container:list(opts)
  local out = {}
  for b in self:blobs(opts) do out[#out + 1] = b end
  return out
end

-- Service SAS for this container (or, with opts.blob, one of its blobs), signed with the key.
function Container:sas(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.account, o.container = o.account or self.ctx.account, self.name
  o.key = o.key or self.ctx.key
  o.version = o.version or self.ctx.version
  if not o.key and not o.delegation_key then error("container:sas: needs the account key (or delegation_key)", 2) end
  return (signing.sas(o))
end

-- The container URL with a fresh SAS attached.
function Container:sas_url(opts)
  return self.url .. "?" .. self:sas(opts)
end

-- Shortcuts: c:upload(name, path), c:download(name, path), and the string forms.
function Container:upload(name, path, opts) return self:blob(name):upload_file(path, opts) end
function Container:download(name, path, opts) return self:blob(name):download_file(path, opts) end
function Container:upload_string(name, s, opts) return self:blob(name):upload_string(s, opts) end
function Container:download_string(name, opts) return self:blob(name):download_string(opts) end
function Container:upload_many(items, opts) return require("azure.blob.transfer").upload_many(self, items, opts or {}) end
function Container:delete_blob(name, opts) return self:blob(name):delete(opts) end

return M
