-- azure.blob.url: the URL and name rules Blob Storage signs against. Shared Key signs the path
-- exactly as it travels on the wire, so every module builds URLs here and nowhere else.
local common = require "azure.url"

local M = {}

-- RFC 3986 unreserved characters stay; everything else (including '/', '+', '=') is %XX.
M.encode = common.encode

-- A blob name as a path: each segment encoded once, the '/' separators kept.
function M.encode_path(s) return common.encode(s, "/") end

-- Query-string decoding: '+' is a space, then %XX (what the service does before signing).
M.decode_query = common.decode

-- Path decoding: '+' is literal in a path.
function M.decode_path(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Splits a URL into scheme, authority (host[:port]), path (still encoded, "" when absent), query
-- (without '?', nil when absent).
function M.split(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then error("azure.blob: not an absolute URL: " .. tostring(url), 3) end
  rest = rest:gsub("#.*$", "")
  local authority, path = rest:match("^([^/?]*)([^?]*)")
  local query = rest:match("%?(.*)$")
  return scheme:lower(), authority, path, query
end

-- query string → array of {name, value} (both decoded), in order.
M.parse_query = common.parse_query

-- Appends a query string (no '?') to a URL.
function M.add_query(url, q)
  if not q or q == "" then return url end
  return url .. (url:find("?", 1, true) and "&" or "?") .. q
end

-- Builds "k=v&k=v" from an array of {name, value}, skipping nil/false values; values encoded.
function M.query(pairs_)
  local parts = {}
  for _, kv in ipairs(pairs_) do
    if kv[2] ~= nil and kv[2] ~= false then parts[#parts + 1] = kv[1] .. "=" .. M.encode(kv[2]) end
  end
  return table.concat(parts, "&")
end

-- Azurite (and any emulator) takes the account from the first path segment when the host is an IP
-- literal, has no dot, or is host.docker.internal; otherwise the account is the first DNS label.
function M.path_style(authority)
  local host = authority:gsub("^.*@", "")
  if host:match("^%[") then return true end -- IPv6 literal
  host = host:gsub(":%d+$", "")
  return host:match("^%d+%.%d+%.%d+%.%d+$") ~= nil or not host:find(".", 1, true)
      or host == "host.docker.internal"
end

-- Parses a Blob URL into its parts: {service = "scheme://host[/account]", account, container,
-- blob (decoded name), blob_path (encoded, as given), query}.
function M.parse(url)
  local scheme, authority, path, query = M.split(url)
  local r = { scheme = scheme, authority = authority, query = query }
  local segs = path:gsub("^/", "")
  if M.path_style(authority) then
    local acct, rest = segs:match("^([^/]*)/?(.*)$")
    r.account = acct ~= "" and acct or nil
    r.service = scheme .. "://" .. authority .. (r.account and ("/" .. acct) or "")
    segs = rest
  else
    r.account = authority:gsub("^.*@", ""):match("^([^.:]+)")
    r.service = scheme .. "://" .. authority
  end
  local c, b = segs:match("^([^/]*)/?(.*)$")
  if c and c ~= "" then r.container = M.decode_path(c) end
  if b and b ~= "" then r.blob_path = b; r.blob = M.decode_path(b) end
  return r
end

return M
