-- azure.redact: the ONE place that decides what counts as a secret. Every log line, trace and error
-- message that may contain request data goes through it, so a new kind of secret is masked
-- everywhere by editing this file only.
--
--   local redact = require "azure.redact"
--   redact(s)            -- any text (URL, form body, JSON body, header value): secrets masked
--   redact.url(url)      -- same, for a URL (query secrets masked, the rest kept for debugging)
--   redact.headers(h)    -- copy of a header table with secret header values masked
local M = {}

local MASK = "REDACTED"

-- Header names whose value is a secret (lower-case).
local secret_headers = {
  ["authorization"] = true, ["proxy-authorization"] = true, ["x-identity-header"] = true,
  ["secret"] = true, ["x-ms-encryption-key"] = true, ["x-ms-copy-source-authorization"] = true,
  ["ocp-apim-subscription-key"] = true, ["cookie"] = true, ["set-cookie"] = true,
}

-- Query/form/JSON field names whose value is a secret (lower-case). `sig` is the SAS signature.
local secret_fields = {
  sig = true, client_secret = true, client_assertion = true, assertion = true, password = true,
  secret = true, access_token = true, refresh_token = true, id_token = true, accesstoken = true,
  refreshtoken = true, key = true, accountkey = true, account_key = true, primary = true,
  secondary = true, primarykey = true, secondarykey = true, code = false, token = true,
  clientsecret = true, sastoken = true, sas = true,
}

local function is_secret_field(name)
  return secret_fields[name:lower()] == true
end

-- name=value pairs in query strings and form bodies.
local function mask_pairs(s)
  return (s:gsub("([%w_%-%.]+)=([^&%s\"']*)", function(k, v)
    if v ~= "" and is_secret_field(k) then return k .. "=" .. MASK end
  end))
end

-- "name": "value" in JSON text.
local function mask_json(s)
  s = s:gsub('("([%w_%-]+)"%s*:%s*)"([^"]*)"', function(prefix, k, v)
    if v ~= "" and is_secret_field(k) then return prefix .. '"' .. MASK .. '"' end
  end)
  -- storage listKeys: {"keyName":"key1","value":"<key>"} — "value" is only secret next to keyName.
  s = s:gsub('("keyName"%s*:%s*"[^"]*"%s*,%s*"value"%s*:%s*)"[^"]*"', '%1"' .. MASK .. '"')
  return s
end

-- Bearer / SharedKey credentials that appear inside free text (e.g. a header dumped as text).
local function mask_schemes(s)
  s = s:gsub("([Bb]earer%s+)[%w%-%._~%+/]+=*", "%1" .. MASK)
  s = s:gsub("(SharedKey%s+[%w]+:)[%w%+/]+=*", "%1" .. MASK)
  -- A JWT anywhere (three base64url segments, the first starting like {"typ"/{"alg").
  s = s:gsub("eyJ[%w%-_]+%.[%w%-_]+%.[%w%-_]+", MASK)
  return s
end

function M.text(s)
  if s == nil then return nil end
  s = tostring(s)
  return mask_schemes(mask_json(mask_pairs(s)))
end

function M.url(url)
  if url == nil then return nil end
  local base, query = tostring(url):match("^([^?]*)%?(.*)$")
  if not base then return tostring(url) end
  return base .. "?" .. mask_pairs(query)
end

function M.headers(h)
  local out = {}
  for k, v in pairs(h or {}) do
    local lk = type(k) == "string" and k:lower() or k
    if secret_headers[lk] then
      -- Keep the scheme so a log still says which kind of credential was sent.
      local scheme = type(v) == "string" and v:match("^(%a+)%s") or nil
      out[k] = scheme and (scheme .. " " .. MASK) or MASK
    elseif type(v) == "table" then
      local copy = {}
      for i, x in ipairs(v) do copy[i] = M.text(x) end
      out[k] = copy
    else
      out[k] = M.text(v)
    end
  end
  return out
end

M.MASK = MASK

return setmetatable(M, { __call = function(_, s) return M.text(s) end })
