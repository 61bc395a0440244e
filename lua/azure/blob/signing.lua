-- azure.blob.signing: Shared Key and SAS for the Blob service, as strings-to-sign plus HMAC.
-- One code path serves Azure's host-style URLs and Azurite's path-style URLs: the canonicalized
-- resource is "/" .. account .. <wire path>, so the emulator's doubled account falls out by itself.
local url = require "azure.blob.url"

local M = {}

M.DEFAULT_VERSION = "2025-11-05"

local crypto_mod
local function crypto()
  crypto_mod = crypto_mod or require "azure.core.crypto"
  return crypto_mod
end

local function hmac_b64(key_b64, s)
  local c = crypto()
  local key = c.base64_decode(key_b64)
  if not key then error("azure.blob: the account key is not valid base64", 3) end
  return c.base64_encode(c.hmac_sha256(key, s))
end
M.hmac_b64 = hmac_b64

-- The service orders canonical header names with '-' first, then other punctuation ('_'), then
-- digits, then letters; plain byte order differs only for names holding '_'.
local function sort_key(name)
  return (name:gsub(".", function(c)
    if c == "-" then return "\1" end
    if c:match("%p") then return "\2" .. c end
    if c:match("%d") then return "\3" .. c end
    return "\4" .. c
  end))
end

-- Numbers sign as the transport sends them: 8388608, never "8388608.0" for a float.
local function num(v)
  if type(v) == "number" and math.tointeger(v) then return string.format("%d", math.tointeger(v)) end
  return tostring(v)
end

local function header_value(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = num(x) end
    return table.concat(parts, ",")
  end
  return num(v)
end

-- Case-insensitive header lookup in a request header table.
local function lower_headers(headers)
  local h = {}
  for k, v in pairs(headers or {}) do h[k:lower()] = header_value(v) end
  return h
end

local standard = { "content-encoding", "content-language", "content-length", "content-md5",
  "content-type", "date", "if-modified-since", "if-match", "if-none-match",
  "if-unmodified-since", "range" }

-- The Shared Key string-to-sign for a request {method=, url=, headers=}.
function M.string_to_sign(req, account)
  local h = lower_headers(req.headers)
  -- The transport sets Content-Length from the body; sign the same number.
  if h["content-length"] == nil and req.body ~= nil then
    local b = req.body
    h["content-length"] = num(type(b) == "string" and #b or (type(b) == "table" and b.length) or "")
  end
  local lines = { (req.method or "GET"):upper() }
  for _, name in ipairs(standard) do
    local v = h[name] or ""
    -- Since 2015-02-21 a zero length signs as the empty string (Azurite rejects a literal "0").
    if name == "content-length" and v == "0" then v = "" end
    lines[#lines + 1] = v
  end
  local names = {}
  for name, v in pairs(h) do
    if name:sub(1, 5) == "x-ms-" and v ~= "" then names[#names + 1] = name end
  end
  table.sort(names, function(a, b) return sort_key(a) < sort_key(b) end)
  local canon = {}
  for _, name in ipairs(names) do
    local v = h[name]:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " ")
    canon[#canon + 1] = name .. ":" .. v .. "\n"
  end
  local _, _, path, query = url.split(req.url)
  local res = { "/" .. account .. (path ~= "" and path or "/") }
  local params, order = {}, {}
  for _, kv in ipairs(url.parse_query(query)) do
    local k = kv[1]:lower()
    if not params[k] then params[k] = {}; order[#order + 1] = k end
    table.insert(params[k], kv[2])
  end
  table.sort(order)
  for _, k in ipairs(order) do
    table.sort(params[k])
    res[#res + 1] = k .. ":" .. table.concat(params[k], ",")
  end
  return table.concat(lines, "\n") .. "\n" .. table.concat(canon) .. table.concat(res, "\n")
end

-- Authorization header value: "SharedKey account:signature".
function M.sign(req, account, key)
  if type(req) ~= "table" or not req.url then error("azure.blob.sign: request table with url expected", 2) end
  if type(account) ~= "string" or account == "" then error("azure.blob.sign: account name expected", 2) end
  if type(key) ~= "string" then error("azure.blob.sign: account key expected", 2) end
  local sts = M.string_to_sign(req, account)
  return "SharedKey " .. account .. ":" .. hmac_b64(key, sts), sts
end

---------------------------------------------------------------------------------------------------
-- SAS

-- Times: a number is seconds since the epoch (os.time()); a string is passed through as ISO 8601.
local function sas_time(t)
  if t == nil then return nil end
  if type(t) == "number" then return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) end
  return tostring(t)
end
M.sas_time = sas_time

-- Permission letters must be in the service's canonical order; reorder what the caller gave and
-- refuse letters the resource type does not have (a typo would otherwise sign a useless token).
local perm_orders = {
  c = "racwdxltfmeopi", b = "racwdxyltmeopi", account = "rwdxylacuptfi",
}
local function permissions(p, kind, who)
  if p == nil then return nil end
  local order = perm_orders[kind] or perm_orders.b
  local seen = {}
  for ch in p:gmatch(".") do
    if not order:find(ch, 1, true) then
      error(string.format("%s: permission %q is not valid for this resource (valid: %s)", who, ch, order), 3)
    end
    seen[ch] = true
  end
  local out = {}
  for ch in order:gmatch(".") do if seen[ch] then out[#out + 1] = ch end end
  return table.concat(out)
end

local function opt(o, ...)
  for _, k in ipairs({ ... }) do if o[k] ~= nil then return o[k] end end
end

local function protocol(p)
  if p == "http" or p == "http,https" then return "https,http" end
  return p
end

-- Query string in the order the SDKs emit, every value percent-encoded (a raw '+' in sig decodes
-- to a space on the service and fails).
local function token(fields)
  return url.query(fields)
end

-- Service SAS (container or blob) signed with the account key, or with a user delegation key when
-- o.delegation_key is given (the table returned by service:user_delegation_key()).
function M.sas(o)
  local who = "azure.blob.sas"
  if type(o) ~= "table" then error(who .. ": options table expected", 2) end
  local account = opt(o, "account", "account_name")
  local container = opt(o, "container", "container_name")
  local blob = opt(o, "blob", "blob_name")
  if not account then error(who .. ": account is required", 2) end
  if not container then error(who .. ": container is required", 2) end
  local udk = o.delegation_key or o.user_delegation_key
  local key = opt(o, "key", "account_key")
  if not key and not udk then error(who .. ": key (or delegation_key) is required", 2) end
  local sv = o.version or M.DEFAULT_VERSION
  local sr = o.resource or (blob and "b" or "c")
  local sp = permissions(opt(o, "permissions", "permission"), sr == "c" and "c" or "b", who)
  local st, se = sas_time(o.start), sas_time(o.expiry)
  if not se and not o.identifier then error(who .. ": expiry is required (or identifier of a stored policy)", 2) end
  local sip, spr = o.ip, protocol(o.protocol)
  local snapshot = o.snapshot or o.version_id
  local resource = "/blob/" .. account .. "/" .. container
  if blob and sr ~= "c" then resource = resource .. "/" .. (blob:gsub("\\", "/")) end
  local r = o.response or {}
  local rscc, rscd, rsce, rscl, rsct = r.cache_control or o.cache_control, r.content_disposition or o.content_disposition,
      r.content_encoding or o.content_encoding, r.content_language or o.content_language, r.content_type or o.content_type
  local ses = o.encryption_scope
  local parts
  if udk then
    parts = { sp or "", st or "", se or "", resource, udk.signed_oid or "", udk.signed_tid or "",
      udk.signed_start or "", udk.signed_expiry or "", udk.signed_service or "", udk.signed_version or "",
      o.authorized_oid or "", o.unauthorized_oid or "", o.correlation_id or "" }
    if sv >= "2025-07-05" then
      parts[#parts + 1] = o.delegated_user_tid or ""
      parts[#parts + 1] = o.delegated_user_oid or ""
    end
    for _, v in ipairs({ sip or "", spr or "", sv, sr, snapshot or "", ses or "" }) do parts[#parts + 1] = v end
    -- 2026-04-06 adds signed request headers and query parameters (seen in Azurite's code).
    if sv >= "2026-04-06" then parts[#parts + 1] = ""; parts[#parts + 1] = "" end
  else
    parts = { sp or "", st or "", se or "", resource, o.identifier or "", sip or "", spr or "", sv }
    if sv >= "2018-11-09" then
      parts[#parts + 1] = sr
      parts[#parts + 1] = snapshot or ""
    end
    if sv >= "2020-12-06" then parts[#parts + 1] = ses or "" end
  end
  for _, v in ipairs({ rscc or "", rscd or "", rsce or "", rscl or "", rsct or "" }) do parts[#parts + 1] = v end
  local sts = table.concat(parts, "\n")
  local sig = hmac_b64(udk and udk.value or key, sts)
  local fields = { { "st", st }, { "se", se }, { "sp", sp }, { "sip", sip }, { "spr", spr }, { "sv", sv },
    { "sr", sr }, { "si", o.identifier }, { "ses", ses } }
  if udk then
    for _, kv in ipairs({ { "skoid", udk.signed_oid }, { "sktid", udk.signed_tid }, { "skt", udk.signed_start },
      { "ske", udk.signed_expiry }, { "sks", udk.signed_service }, { "skv", udk.signed_version },
      { "saoid", o.authorized_oid }, { "suoid", o.unauthorized_oid }, { "scid", o.correlation_id } }) do
      fields[#fields + 1] = kv
    end
    if sv >= "2025-07-05" then
      fields[#fields + 1] = { "skdutid", o.delegated_user_tid }
      fields[#fields + 1] = { "sduoid", o.delegated_user_oid }
    end
  end
  for _, kv in ipairs({ { "rscc", rscc }, { "rscd", rscd }, { "rsce", rsce }, { "rscl", rscl }, { "rsct", rsct },
    { "sig", sig } }) do
    fields[#fields + 1] = kv
  end
  return token(fields), sts
end

-- Account SAS (ss defaults to b, srt to sco).
function M.account_sas(o)
  local who = "azure.blob.account_sas"
  if type(o) ~= "table" then error(who .. ": options table expected", 2) end
  local account = opt(o, "account", "account_name")
  local key = opt(o, "key", "account_key")
  if not account then error(who .. ": account is required", 2) end
  if not key then error(who .. ": key is required", 2) end
  local sv = o.version or M.DEFAULT_VERSION
  local sp = permissions(opt(o, "permissions", "permission") or error(who .. ": permissions are required", 2), "account", who)
  local ss = o.services or "b"
  local srt = opt(o, "resource_types", "srt") or "sco"
  local st, se = sas_time(o.start), sas_time(o.expiry)
  if not se then error(who .. ": expiry is required", 2) end
  local sip, spr, ses = o.ip, protocol(o.protocol), o.encryption_scope
  local parts = { account, sp, ss, srt, st or "", se, sip or "", spr or "", sv }
  if sv >= "2020-12-06" then parts[#parts + 1] = ses or "" end
  local sts = table.concat(parts, "\n") .. "\n"
  local fields = { { "st", st }, { "se", se }, { "sp", sp }, { "sip", sip }, { "spr", spr }, { "sv", sv },
    { "ss", ss }, { "srt", srt }, { "ses", ses }, { "sig", hmac_b64(key, sts) } }
  return token(fields), sts
end

return M
