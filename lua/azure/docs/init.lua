-- azure.docs: the documentation table behind help() in the REPL and the LuaCATS stubs in types/.
-- One source for both, kept in Lua so that it is compiled into azlua (help works from any
-- directory without the stub files) and loads only when help is asked for.
--   docs.entries() → every module/class entry; docs.params(s) → {{name=, type=, optional=}, …}
local M = {}

M.FILES = { "azure.docs.azure", "azure.docs.batch", "azure.docs.arm", "azure.docs.blob" }

function M.entries()
  local out = {}
  for _, f in ipairs(M.FILES) do
    for _, e in ipairs(require(f)) do
      e.file = f
      out[#out + 1] = e
    end
  end
  return out
end

-- Splits "a: T, b?: {x: U, y: V}" at the top-level commas.
function M.params(s)
  local out, depth, start = {}, 0, 1
  s = s or ""
  local function add(part)
    part = part:match("^%s*(.-)%s*$")
    if part == "" then return end
    local name, opt, ty = part:match("^([%w_%.]+)(%??)%s*:%s*(.+)$")
    out[#out + 1] = { name = name or part, optional = opt == "?", type = ty or "any" }
  end
  for i = 1, #s do
    local c = s:sub(i, i)
    if c == "{" or c == "(" or c == "<" then depth = depth + 1
    elseif c == "}" or c == ")" or c == ">" then depth = depth - 1
    elseif c == "," and depth == 0 then
      add(s:sub(start, i - 1))
      start = i + 1
    end
  end
  add(s:sub(start))
  return out
end

-- "name(a, b?)" from a params string: the short form for one-line listings.
function M.short(name, params)
  local names = {}
  for i, p in ipairs(M.params(params)) do names[i] = p.name .. (p.optional and "?" or "") end
  return name .. "(" .. table.concat(names, ", ") .. ")"
end

return M
