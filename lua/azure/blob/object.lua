-- azure.blob.object: one blob — properties, metadata, delete, exists, ranged reads, and the
-- transfers (azure.blob.transfer does the parallel work).
local url = require "azure.blob.url"
local props = require "azure.blob.props"
local transfer = require "azure.blob.transfer"

local M = {}
local Blob = {}
Blob.__index = Blob
M.Blob = Blob

function M.wrap(container, name)
  if type(name) ~= "string" or name == "" then error("azure.blob: blob name expected", 3) end
  return setmetatable({ ctx = container.ctx, container = container, name = name,
    url = container.url .. "/" .. url.encode_path(name) }, Blob)
end

function Blob:_url(params)
  return self.ctx:url_for(self.url, params)
end

function Blob:exists()
  local res = self.ctx:send { method = "HEAD", url = self:_url(), expect = { 200, 404 } }
  return res.status == 200
end

-- {size, etag, last_modified, content_type, content_md5, blob_type, metadata, headers, …}
function Blob:properties()
  local res = self.ctx:send { method = "HEAD", url = self:_url(), expect = { 200 } }
  return props.from_headers(res.headers)
end

function Blob:metadata()
  return self:properties().metadata
end

function Blob:set_metadata(meta)
  local h = props.metadata_headers(meta, {}, "blob:set_metadata")
  self.ctx:send { method = "PUT", url = self:_url { { "comp", "metadata" } }, headers = h, body = "", expect = { 200 } }
end

-- Deletes the blob (and its snapshots); opts.if_exists turns a 404 into `false`.
function Blob:delete(opts)
  opts = opts or {}
  local h = { ["x-ms-delete-snapshots"] = opts.snapshots ~= false and "include" or nil }
  local ok, err = pcall(self.ctx.send, self.ctx, { method = "DELETE", url = self:_url(), headers = h, expect = { 202 } })
  if ok then return true end
  if opts.if_exists and type(err) == "table" and err.status == 404 then return false end
  error(err, 0)
end

local function range_header(offset, length)
  if offset == nil and length == nil then return nil end
  offset = offset or 0
  if length then
    if length <= 0 then error("azure.blob: range length must be positive", 3) end
    return string.format("bytes=%d-%d", offset, offset + length - 1)
  end
  return string.format("bytes=%d-", offset)
end

-- The blob's content as a string; opts.offset/opts.length read a range (x-ms-range, so the
-- Range slot of the signature stays empty).
function Blob:download_string(opts)
  opts = opts or {}
  local r = range_header(opts.offset, opts.length)
  local res = self.ctx:send { method = "GET", url = self:_url(), headers = { ["x-ms-range"] = r },
    expect = r and { 206 } or { 200 } }
  return res.body or "", props.from_headers(res.headers)
end

-- Bytes [offset, offset+length) of the blob (to the end when length is nil).
function Blob:read(offset, length)
  return (self:download_string { offset = offset or 0, length = length })
end

function Blob:upload_string(s, opts) return transfer.upload_string(self, s, opts or {}) end
function Blob:upload_file(path, opts) return transfer.upload_file(self, path, opts or {}) end
function Blob:download_file(path, opts) return transfer.download_file(self, path, opts or {}) end

-- Service SAS for this blob.
function Blob:sas(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.blob = self.name
  return self.container:sas(o)
end

function Blob:sas_url(opts)
  return self.url .. "?" .. self:sas(opts)
end

return M
