-- azure.url: the few URL helpers every client needs (percent-encoding, query strings, joining).
local M = {}

-- RFC 3986 unreserved characters stay; everything else is %XX. `keep` adds characters to keep
-- (e.g. "/" for blob paths).
function M.encode(s, keep)
  s = tostring(s)
  local pattern = "[^%w%-%._~" .. (keep and keep:gsub("%p", "%%%0") or "") .. "]"
  return (s:gsub(pattern, function(c) return string.format("%%%02X", c:byte()) end))
end

function M.decode(s)
  s = tostring(s):gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- query string → array of {name, value} (both decoded), in order; "a" alone is {"a", ""}.
function M.parse_query(q)
  local out = {}
  if not q or q == "" then return out end
  for part in q:gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=(.*)$")
    if not k then k, v = part, "" end
    out[#out + 1] = { M.decode(k), M.decode(v) }
  end
  return out
end

-- {a=1, ["$filter"]="x eq 'y'"} → "%24filter=x%20eq%20%27y%27&a=1" (sorted, so URLs are stable).
-- false/nil values are skipped; `$` in names is kept readable because Batch signs names as sent.
function M.query(t)
  if not t then return "" end
  local keys = {}
  for k, v in pairs(t) do if v ~= nil and v ~= false then keys[#keys + 1] = k end end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = M.encode(k, "$") .. "=" .. M.encode(tostring(t[k]))
  end
  return table.concat(parts, "&")
end

-- Adds query parameters to a URL that may already have some.
function M.with_query(u, t)
  local q = type(t) == "table" and M.query(t) or t
  if not q or q == "" then return u end
  return u .. (u:find("?", 1, true) and "&" or "?") .. q
end

-- Does the URL already carry parameter `name`?
function M.has_param(u, name)
  local q = u:match("%?(.*)$")
  if not q then return false end
  for k in q:gmatch("([^&=]+)=?[^&]*") do
    if M.decode(k):lower() == name:lower() then return true end
  end
  return false
end

-- base "https://h/x/" + path "/a/b" → "https://h/x/a/b"; a full URL path is returned as is.
function M.join(base, path)
  if path:match("^%a[%w+.-]*://") then return path end
  return (base:gsub("/+$", "")) .. "/" .. (path:gsub("^/+", ""))
end

-- "https://host:port/p/a?q" → {scheme=, host=, port=, path=, query=}
function M.parse(u)
  local scheme, rest = u:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  local host, port = authority:match("^(.-):(%d+)$")
  host = host or authority
  local p, q = path:match("^([^?#]*)%??([^#]*)")
  return { scheme = scheme:lower(), host = host, port = tonumber(port), path = p ~= "" and p or "/",
           query = q ~= "" and q or nil }
end

return M
