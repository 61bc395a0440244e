-- azure.blob.props: metadata and properties as headers and back.
local M = {}

-- {owner="me"} → headers["x-ms-meta-owner"] = "me". Names must be C identifiers (the service's
-- rule); checked here so a typo fails before the request instead of as a 400.
function M.metadata_headers(meta, headers, who)
  headers = headers or {}
  for k, v in pairs(meta or {}) do
    if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
      error(string.format("%s: metadata name %q must be a C identifier", who or "azure.blob", tostring(k)), 3)
    end
    headers["x-ms-meta-" .. k] = tostring(v)
  end
  return headers
end

function M.metadata_from_headers(h)
  local meta = {}
  for k, v in pairs(h or {}) do
    local name = k:match("^x%-ms%-meta%-(.+)$")
    if name then meta[name] = type(v) == "table" and v[1] or v end
  end
  return meta
end

local function h1(h, name)
  local v = h[name]
  if type(v) == "table" then v = v[1] end
  return v
end

-- Response headers of a HEAD/GET on a blob or container → a plain properties table.
function M.from_headers(h)
  h = h or {}
  local p = {
    etag = h1(h, "etag"), last_modified = h1(h, "last-modified"), content_type = h1(h, "content-type"),
    content_md5 = h1(h, "content-md5"), content_encoding = h1(h, "content-encoding"),
    blob_type = h1(h, "x-ms-blob-type"), lease_state = h1(h, "x-ms-lease-state"),
    lease_status = h1(h, "x-ms-lease-status"), access_tier = h1(h, "x-ms-access-tier"),
    public_access = h1(h, "x-ms-blob-public-access"), creation_time = h1(h, "x-ms-creation-time"),
    metadata = M.metadata_from_headers(h), headers = h,
  }
  local len = h1(h, "content-length")
  p.size = len and tonumber(len) or nil
  return p
end

return M
