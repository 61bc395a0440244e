-- azure.docs.stubs: writes the LuaCATS stubs (---@meta) in types/ from azure.docs, so
-- lua-language-server users get the same signatures and text as help() in the REPL.
--   azlua -e 'require("azure.docs.stubs").write("types")'      (tests/lua/test_repl_help.lua checks
--   that the checked-in files are what this writes)
-- One file per module, laid out as the modules are (types/azure/batch.lua for azure.batch), with the
-- classes that module's doc file describes after it.
local docs = require "azure.docs"

local M = {}

local function path_of(module)
  if module == "azure" then return "azure/init.lua" end
  return module:gsub("%.", "/") .. ".lua"
end

local function comment(lines, text)
  for line in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = "---" .. line end
end

local function fn(lines, owner, sep, item)
  comment(lines, item[4])
  local names = {}
  for _, p in ipairs(docs.params(item[2])) do
    lines[#lines + 1] = ("---@param %s%s %s"):format(p.name, p.optional and "?" or "", p.type)
    names[#names + 1] = p.name
  end
  if item[3] and item[3] ~= "" and item[3] ~= "nil" then lines[#lines + 1] = "---@return " .. item[3] end
  lines[#lines + 1] = ("function %s%s%s(%s) end"):format(owner, sep, item[1], table.concat(names, ", "))
  lines[#lines + 1] = ""
end

local function local_name(name) return (name:match("([%w_]+)$")) end

-- → { [relative path] = text }
function M.generate()
  local files, order = {}, {}
  local current -- the module file the following classes belong to
  for _, e in ipairs(docs.entries()) do
    if e.module and not e.class then
      local lines = { "---@meta", ("-- Generated from lua/%s.lua by azure.docs.stubs: do not edit."):format(
        e.file:gsub("%.", "/")), "" }
      local var = local_name(e.module) == "azure" and "azure" or local_name(e.module)
      comment(lines, e.doc)
      lines[#lines + 1] = "---@class " .. e.module
      for _, f in ipairs(e.fields or {}) do
        lines[#lines + 1] = ("---@field %s %s%s"):format(f[1], f[2], f[3] ~= "" and (" " .. f[3]) or "")
      end
      if e.call then
        local params = {}
        for _, p in ipairs(docs.params(e.call[1])) do params[#params + 1] = p.name .. (p.optional and "?" or "") .. ": " .. p.type end
        lines[#lines + 1] = ("---@overload fun(%s)"):format(table.concat(params, ", "))
      end
      lines[#lines + 1] = "local " .. var .. " = {}"
      lines[#lines + 1] = ""
      for _, f in ipairs(e.functions or {}) do fn(lines, var, ".", f) end
      current = { path = path_of(e.module), lines = lines, var = var, module = e.module }
      files[current.path] = current
      order[#order + 1] = current
    elseif e.class then
      local lines = current.lines
      local cls = local_name(e.class)
      comment(lines, e.doc)
      lines[#lines + 1] = "---@class " .. e.class
      lines[#lines + 1] = "local " .. cls .. " = {}"
      if e.module == current.module then
        lines[#lines + 1] = current.var .. "." .. e.field .. " = " .. cls
      end
      lines[#lines + 1] = ""
      for _, m in ipairs(e.methods or {}) do fn(lines, cls, ":", m) end
    end
  end
  local out = {}
  for _, f in ipairs(order) do
    out[f.path] = table.concat(f.lines, "\n") .. "return " .. f.var .. "\n"
  end
  return out
end

function M.write(dir)
  local sys = require "azure.core.sys"
  for rel, text in pairs(M.generate()) do
    local full = dir .. "/" .. rel
    sys.mkdir_p(full:match("^(.*)/[^/]+$"))
    local ok, err = sys.write_file_atomic(full, text, 420) -- 0644
    if not ok then error(err, 0) end
  end
end

return M
