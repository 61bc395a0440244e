-- azure.pretty: values as people read them, for the REPL and for debugging.
-- Tables print sorted and nested, to a depth limit, with cycles marked rather than followed.
local M = {}

local json_null -- the JSON null sentinel, looked up lazily so start-up loads no codec

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function scalar(v)
  local t = type(v)
  if t == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  if t == "table" then
    local mt = getmetatable(v)
    if mt and mt.__tostring then return tostring(v) end
  end
  if json_null == nil then
    local ok, json = pcall(require, "azure.core.json")
    json_null = ok and json.null or false
  end
  if json_null and v == json_null then return "null" end
  return tostring(v)
end

-- opts: depth (default 6), indent (default "  "), max_items (per table, default 200)
function M.format(value, opts)
  opts = opts or {}
  local max_depth = opts.depth or 6
  local indent = opts.indent or "  "
  local max_items = opts.max_items or 200
  local out = {}
  local seen = {}

  local function emit(v, depth)
    if type(v) ~= "table" or (getmetatable(v) and getmetatable(v).__tostring) then
      out[#out + 1] = scalar(v)
      return
    end
    if seen[v] then
      out[#out + 1] = "<cycle " .. tostring(v):gsub("^table: ", "") .. ">"
      return
    end
    if next(v) == nil then
      out[#out + 1] = "{}"
      return
    end
    if depth >= max_depth then
      out[#out + 1] = "{...}"
      return
    end
    seen[v] = true
    local n = #v
    local keys = {}
    for k in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, key_order)
    local pad = indent:rep(depth + 1)
    out[#out + 1] = "{\n"
    local count = 0
    local function item(prefix, val)
      count = count + 1
      if count > max_items then return false end
      out[#out + 1] = pad .. prefix
      emit(val, depth + 1)
      out[#out + 1] = ",\n"
      return true
    end
    local total = n + #keys
    local stopped = false
    for i = 1, n do
      if not item("", v[i]) then stopped = true break end
    end
    if not stopped then
      for _, k in ipairs(keys) do
        local prefix = is_identifier(k) and (k .. " = ") or ("[" .. scalar(k) .. "] = ")
        if not item(prefix, v[k]) then stopped = true break end
      end
    end
    if stopped then out[#out + 1] = pad .. "-- " .. (total - max_items) .. " more\n" end
    out[#out + 1] = indent:rep(depth) .. "}"
    seen[v] = nil
  end

  emit(value, 0)
  return table.concat(out)
end

function M.print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = M.format((select(i, ...))) end
  io.stdout:write(table.concat(parts, "\t"), "\n")
end

return M
