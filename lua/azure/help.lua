-- azure.help: help in place. help() explains the REPL session; help(batch.add_pool),
-- help("batch:add_pool") and ?batch.add_pool print a function's signature and what it does,
-- from azure.docs (the same table the LuaCATS stubs in types/ are generated from).
-- help(batch) lists a client's methods. Naming a lazy global never builds it.
local docs = require "azure.docs"

local M = {}

local index -- name → {entry=, item=, kind="function"|"method"|"call"}, built on first use
local classes -- class name → entry

local function add(name, v) if index[name] == nil then index[name] = v end end

local function build()
  if index then return end
  index, classes = {}, {}
  for _, e in ipairs(docs.entries()) do
    if e.class then
      classes[e.class] = e
      add(e.class, { entry = e })
      for _, m in ipairs(e.methods or {}) do
        local v = { entry = e, item = m, kind = "method" }
        add(e.class .. "." .. m[1], v)
        if e.global then add(e.global .. "." .. m[1], v) end
      end
      if e.global then add(e.global, { entry = e }) end
    else
      add(e.module, { entry = e, kind = e.call and "call" or nil, item = e.call and { e.module:match("[^.]+$"),
        e.call[1], e.call[2], e.call[3] } or nil })
      for _, f in ipairs(e.functions or {}) do add(e.module .. "." .. f[1], { entry = e, item = f, kind = "function" }) end
    end
  end
end

-- The real object a doc entry describes (loading the module: that contacts nothing).
local function target(e, item)
  local ok, mod = pcall(require, e.module)
  if not ok or type(mod) ~= "table" then return nil end
  local owner = e.class and mod[e.field] or mod
  if type(owner) ~= "table" then return nil end
  if not item then return owner end
  return rawget(owner, item[1])
end

local function signature(v)
  local e, item = v.entry, v.item
  local who
  if v.kind == "method" then who = (e.global or e.class) .. ":" .. item[1]
  elseif v.kind == "call" then who = e.module
  else who = e.module .. "." .. item[1] end
  local s = who .. "(" .. item[2] .. ")"
  if item[3] and item[3] ~= "" and item[3] ~= "nil" then s = s .. " → " .. item[3] end
  return s
end

local function first_sentence(s)
  return (s or ""):match("^(.-%.)%s") or s or ""
end

local function listing(e)
  local lines = { (e.class or e.module) .. (e.global and ("  (the REPL's `" .. e.global .. "`)") or "") .. ": " .. (e.doc or "") }
  if e.call then lines[#lines + 1] = "  " .. docs.short(e.module, e.call[1]) .. "  " .. first_sentence(e.call[3]) end
  local sep = e.class and ":" or "."
  for _, f in ipairs(e.methods or e.functions or {}) do
    local line = "  " .. sep .. docs.short(f[1], f[2])
    line = line .. string.rep(" ", math.max(1, 34 - utf8.len(line))) .. first_sentence(f[4])
    if utf8.len(line) > 118 then line = line:sub(1, utf8.offset(line, 117) - 1) .. "…" end
    lines[#lines + 1] = line
  end
  return table.concat(lines, "\n")
end

local function describe(v)
  if not v.item or v.kind == "call" then return listing(v.entry) end
  return signature(v) .. "\n  " .. v.item[4]
end

-- A function no doc entry names: what Lua itself knows (parameter names, where it is defined).
local function undocumented(f)
  local info = debug.getinfo(f, "Su")
  if info.what == "C" then return "a built-in (C) function; see the Lua 5.4 manual" end
  local names = {}
  for i = 1, info.nparams do names[i] = debug.getlocal(f, i) end
  if info.isvararg then names[#names + 1] = "..." end
  return ("function(%s)  defined at %s:%d (no help text)"):format(table.concat(names, ", "),
    info.short_src, info.linedefined)
end

local function find_value(x)
  build()
  for _, v in pairs(index) do
    local t = target(v.entry, v.kind ~= "call" and v.item or nil)
    if t ~= nil and t == x then return v end
  end
  -- an instance: its metatable is a documented class
  if type(x) == "table" then
    local mt = getmetatable(x)
    for _, e in pairs(classes) do
      if mt and target(e) == mt then return { entry = e } end
    end
  end
  return nil
end

-- "batch:add_pool", "batch.add_pool", "azure.batch.client", "blob" …
local function find_name(s)
  build()
  local name = s:gsub("%s+", ""):gsub(":", ".")
  if index[name] then return index[name] end
  -- a global the user made (b = azure.batch.client{…}): look at its class, never build a lazy one
  local head, rest = name:match("^([%a_][%w_]*)%.?(.*)$")
  local value = head and rawget(_G, head)
  if value ~= nil then
    local v = find_value(value)
    if v and v.entry.class and rest ~= "" then
      return index[v.entry.class .. "." .. rest]
    elseif v and rest == "" then
      return v
    end
    -- a field of a value: resolve it and look it up by value
    local x = value
    for part in rest:gmatch("[^.]+") do
      if type(x) ~= "table" then x = nil break end
      x = x[part]
    end
    if x ~= nil then return find_value(x), x end
  end
  return nil
end

M.GENERAL = [[
azlua REPL: Lua 5.4 with Azure one expression away.
  arm, batch, blob, cred   clients built on first use from the environment and the current directory:
      cloud          AZURE_CLOUD (AzureCloud, AzureChinaCloud, AzureUSGovernment, local)
      sign-in        config.lua (subs, sp) or AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, managed identity, az login
      subscription   config.lua subs or AZURE_SUBSCRIPTION_ID
      batch          config_resources.lua (written by scripts/create_resource.lua) or
                     AZURE_BATCH_ENDPOINT + AZURE_BATCH_ACCOUNT + AZURE_BATCH_ACCESS_KEY
      blob           config_resources.lua blob_container, or AZURE_STORAGE_CONNECTION_STRING
    or make your own: b = azure.batch.client{endpoint=, account=, key=}
  ?batch.add_pool, help(batch)    a function's signature, a client's methods
  batch:pools()                   lists print as tables, one resource as a tree; the value is kept in _
  azure.output(_, "json")         json, table or tsv, as az -o
  lasterror                       the whole error object of the last failure (status, code, details, …)
  Tab completes names, methods, modules in require"…", and pool/job ids in batch:get_pool("…
  Ctrl-C stops a running call (waits, transfers), Ctrl-D leaves; history in ~/.azlua_history]]

-- → text. x: nothing, a string naming something, or the thing itself.
function M.text(x)
  if x == nil then return M.GENERAL end
  local v, value
  if type(x) == "string" then
    v, value = find_name(x)
    if not v then
      if type(value) == "function" then return x .. ": " .. undocumented(value) end
      return "no help for '" .. x .. "' (try help(), or Tab to see names)"
    end
  else
    v = find_value(x)
    if not v then
      if type(x) == "function" then return undocumented(x) end
      return "no help for a " .. type(x) .. " value (help() lists what there is)"
    end
  end
  return describe(v)
end

function M.help(x)
  io.stdout:write(M.text(x), "\n")
  io.stdout:flush()
end

return M
