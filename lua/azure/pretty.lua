-- azure.pretty: values as people read them, for the REPL and for debugging.
-- Tables print sorted and nested, to a depth limit, with cycles marked rather than followed.
--   pretty.format(v, opts)  Lua-literal style, for any value
--   pretty.tree(v, opts)    "key: value" indented tree (as az's yaml), for one Azure resource:
--                           identity fields first, nulls as null, arrays as "- " items
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

local FIRST = { id = 1, name = 2, state = 3, displayName = 4, location = 5 }

local function tree_key_order(a, b)
  local fa, fb = FIRST[a] or 100, FIRST[b] or 100
  if fa ~= fb then return fa < fb end
  return key_order(a, b)
end

local function tree_scalar(v)
  if type(v) == "string" then
    -- plain unless the text would be ambiguous on the line (empty, spaces at the ends, line breaks)
    if v == "" or v:find("[%c]") or v:match("^%s") or v:match("%s$") then return scalar(v) end
    return v
  end
  return scalar(v)
end

-- opts: depth (default 8), max_items (per table, default 200)
function M.tree(value, opts)
  opts = opts or {}
  local max_depth = opts.depth or 8
  local max_items = opts.max_items or 200
  local lines, seen = {}, {}

  -- the one-line form of v, or nil when v needs lines of its own
  local function inline(v, depth)
    if type(v) ~= "table" then return tree_scalar(v) end
    local mt = getmetatable(v)
    if mt and mt.__tostring then return tostring(v) end
    if next(v) == nil then
      local ok, json = pcall(require, "azure.core.json")
      return (ok and json.is_array and json.is_array(v)) and "[]" or "{}"
    end
    if seen[v] then return "<cycle>" end
    if depth >= max_depth then return "{…}" end
    return nil
  end

  local block
  local function entry(label, v, ind, depth)
    local s = inline(v, depth)
    if s then
      lines[#lines + 1] = ind .. label .. s
    else
      lines[#lines + 1] = ind .. label:gsub(" $", "")
      block(v, ind .. "  ", depth + 1)
    end
  end

  function block(t, ind, depth)
    seen[t] = true
    local n = #t
    local keys = {}
    for k in pairs(t) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, tree_key_order)
    local count, total = 0, n + #keys
    for i = 1, n do
      count = count + 1
      if count > max_items then break end
      local v = t[i]
      local s = inline(v, depth)
      if s then
        lines[#lines + 1] = ind .. "- " .. s
      else
        -- YAML's compact form: the item's first line carries the dash
        local first = #lines + 1
        block(v, ind .. "  ", depth + 1)
        if lines[first] then lines[first] = ind .. "- " .. lines[first]:sub(#ind + 3) end
      end
    end
    for _, k in ipairs(keys) do
      count = count + 1
      if count > max_items then break end
      entry(tostring(k) .. ": ", t[k], ind, depth)
    end
    if total > max_items then lines[#lines + 1] = ind .. "… " .. (total - max_items) .. " more" end
    seen[t] = nil
  end

  local s = inline(value, 0)
  if s then return s end
  block(value, "", 0)
  return table.concat(lines, "\n")
end

function M.print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = M.format((select(i, ...))) end
  io.stdout:write(table.concat(parts, "\t"), "\n")
end

return M
