-- azure.complete: Tab completion for the REPL. Given the line and the word being completed, it
-- returns the full words that may replace it: keywords, globals, fields and methods (following
-- __index tables, never calling user code), and module names inside require("...").
-- A metatable's __complete table names fields that are not there yet (lazy submodules, the
-- REPL's lazy clients); its values say what such a field will look like, without building it:
-- a table (a class), a module name (required: loading Lua code contacts nothing), or a function
-- returning the class.
local M = {}

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
  "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

-- Extra completers for string arguments, e.g. pool ids: M.string_completers[#+1] = fn(line_before) -> list|nil
M.string_completers = {}

local function add_keys(t, out, seen, depth)
  if depth > 8 then return end
  if type(t) == "table" then
    for k in pairs(t) do
      if type(k) == "string" and not seen[k] then seen[k] = true; out[#out + 1] = k end
    end
  end
  local mt = getmetatable(t)
  if type(mt) == "table" then
    local idx = rawget(mt, "__index")
    if type(idx) == "table" then add_keys(idx, out, seen, depth + 1) end
    -- modules that load their parts lazily can list them without loading them
    local names = rawget(mt, "__complete")
    if type(names) == "table" then add_keys(names, out, seen, depth + 1) end
  end
end

local function prototype(mt, part)
  local names = type(mt) == "table" and rawget(mt, "__complete")
  local p = type(names) == "table" and rawget(names, part)
  if type(p) == "table" then return p end
  if type(p) == "string" and p:match("^azure") then
    local ok, mod = pcall(require, p)
    return ok and mod or nil
  end
  if type(p) == "function" then
    local ok, v = pcall(p)
    return ok and v or nil
  end
  return nil
end

-- Resolves "a.b.c" from the globals without calling user code (rawget, then __index tables,
-- then what __complete says a lazy field will be).
local function resolve(path, env)
  local v = env
  for part in path:gmatch("[^%.:]+") do
    if type(v) ~= "table" then
      if type(v) == "string" then v = string else return nil end
    end
    local nv = rawget(v, part)
    if nv == nil then
      local mt = getmetatable(v)
      local idx = type(mt) == "table" and rawget(mt, "__index")
      local depth = 0
      while nv == nil and type(idx) == "table" and depth < 8 do
        nv = rawget(idx, part)
        local imt = getmetatable(idx)
        idx = type(imt) == "table" and rawget(imt, "__index")
        depth = depth + 1
      end
      if nv == nil then nv = prototype(mt, part) end
    end
    v = nv
    if v == nil then return nil end
  end
  return v
end

local function modules()
  local list, seen = {}, {}
  local ok, builtin = pcall(require, "azure.core.builtin")
  if ok then for _, n in ipairs(builtin.modules()) do seen[n] = true; list[#list + 1] = n end end
  for n in pairs(package.preload) do if not seen[n] then seen[n] = true; list[#list + 1] = n end end
  for n in pairs(package.loaded) do if not seen[n] then seen[n] = true; list[#list + 1] = n end end
  return list
end

local function filter(cands, prefix, decorate)
  local out = {}
  for _, c in ipairs(cands) do
    if c:sub(1, #prefix) == prefix then out[#out + 1] = decorate and decorate(c) or c end
  end
  table.sort(out)
  return out
end

-- line: the whole input line; start/finish: 0-based offsets of the word being completed.
function M.complete(line, start, finish, env)
  env = env or _G
  local before = line:sub(1, start)
  local word = line:sub(start + 1, finish)
  -- Inside a string argument: require("azu<Tab>, or a registered completer (pool ids, ...)
  if before:match("require%s*%(?%s*[\"']$") then return filter(modules(), word) end
  if before:match("[\"']$") then
    for _, fn in ipairs(M.string_completers) do
      local ok, cands = pcall(fn, before, env)
      if ok and type(cands) == "table" then return filter(cands, word) end
    end
    return {}
  end
  local base, sep, prefix = word:match("^(.-)([%.:])([%w_]*)$")
  if base and base ~= "" then
    local v = resolve(base, env)
    if v == nil then return {} end
    if type(v) == "string" then v = string end
    local keys = {}
    add_keys(v, keys, {}, 0)
    if sep == ":" then
      -- methods only
      local m = {}
      for _, k in ipairs(keys) do
        local f = resolve(base .. "." .. k, env)
        if type(f) == "function" or (type(f) == "table" and getmetatable(f) and getmetatable(f).__call) then
          m[#m + 1] = k
        end
      end
      keys = m
    end
    if prefix:sub(1, 2) ~= "__" then
      -- metamethods and class plumbing (__index) are not what people Tab for
      local visible = {}
      for _, k in ipairs(keys) do if k:sub(1, 2) ~= "__" then visible[#visible + 1] = k end end
      keys = visible
    end
    return filter(keys, prefix, function(k) return base .. sep .. k end)
  end
  local cands = {}
  for _, k in ipairs(KEYWORDS) do cands[#cands + 1] = k end
  add_keys(env, cands, {}, 0)
  return filter(cands, word)
end

return M
