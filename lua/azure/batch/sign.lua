-- azure.batch.sign: Batch Shared Key, as the service and the SDKs compute it.
--   sign(req, account, key) → "SharedKey account:signature", string_to_sign
--   req = {method=, url=, headers={}, body=string|{file=,length=}|nil}
-- StringToSign = VERB, 11 standard header values, the ocp-* headers (lower-case, sorted,
-- "name:value\n"), then "/" .. account .. the path exactly as sent, and "\nname:value" for each
-- query parameter (decoded, sorted, repeated names joined by ","; empty values skipped).
local url = require "azure.url"

local M = {}

local STANDARD = { "content-encoding", "content-language", "content-length", "content-md5", "content-type",
                   "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range" }

-- The Content-Length the transport will send: azure.core.http always sends a body (possibly empty)
-- for POST/PUT/PATCH and none otherwise, so the signature matches the wire.
local function content_length(method, body)
  if type(body) == "string" then
    if #body > 0 or method == "POST" or method == "PUT" or method == "PATCH" then return tostring(#body) end
    return ""
  elseif type(body) == "table" then
    if body.length then return tostring(body.length) end
    local f = io.open(body.file, "rb")
    if f then
      local size = f:seek("end")
      f:close()
      return tostring(size - (body.offset or 0))
    end
  end
  if method == "POST" or method == "PUT" or method == "PATCH" then return "0" end
  return ""
end

function M.string_to_sign(req, account)
  local method = (req.method or "GET"):upper()
  local h = {}
  for k, v in pairs(req.headers or {}) do
    if type(v) == "table" then v = table.concat(v, ",") end
    h[k:lower()] = tostring(v)
  end
  local lines = { method }
  for _, name in ipairs(STANDARD) do
    local v = h[name]
    if name == "content-length" and v == nil then v = content_length(method, req.body) end
    lines[#lines + 1] = v or ""
  end
  local ocp = {}
  for k, v in pairs(h) do
    if k:sub(1, 4) == "ocp-" then
      v = v:gsub("[\r\n]", " "):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
      if v ~= "" then ocp[#ocp + 1] = k .. ":" .. v .. "\n" end
    end
  end
  table.sort(ocp)
  local path, query = req.url:match("^%a[%w+.-]*://[^/?]*([^?]*)%??(.*)$")
  if not path then error("batch.sign: absolute URL expected", 3) end
  if path == "" then path = "/" end
  local resource = "/" .. account .. path
  local params, names = {}, {}
  for _, kv in ipairs(url.parse_query(query)) do
    local k, v = kv[1], kv[2]
    if v ~= "" then
      if not params[k] then params[k] = {}; names[#names + 1] = k end
      table.insert(params[k], v)
    end
  end
  table.sort(names)
  for _, k in ipairs(names) do
    table.sort(params[k])
    resource = resource .. "\n" .. k .. ":" .. table.concat(params[k], ",")
  end
  return table.concat(lines, "\n") .. "\n" .. table.concat(ocp) .. resource
end

function M.sign(req, account, key)
  if type(account) ~= "string" or account == "" then error("batch.sign: account (string) expected", 2) end
  if type(key) ~= "string" or key == "" then error("batch.sign: key (base64 string) expected", 2) end
  local crypto = require "azure.core.crypto"
  local sts = M.string_to_sign(req, account)
  local sig = crypto.base64_encode(crypto.hmac_sha256(crypto.base64_decode(key), sts))
  return "SharedKey " .. account .. ":" .. sig, sts
end

return M
