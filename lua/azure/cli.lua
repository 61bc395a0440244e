-- azure.cli: command-line parsing for azlua scripts, in the spirit of Python's argparse, so the
-- tutorial scripts keep the usage text their users know.
--
--   local p = cli.parser{ prog = "create_resource.lua", description = "...", epilog = "..." }
--   p:option("--region_name", { metavar = "REGION_NAME", default = "centralus", help = "..." })
--   p:option("--count", { type = "integer", default = 2 })
--   p:flag("--wait", { help = "..." })            -- true when given
--   p:option("-o", "--output", { choices = {"table", "json", "tsv"}, default = "table" })
--   local args = p:parse(arg)                    -- args.region_name, args.wait, args.output
--
-- `-h`/`--help` prints the help and exits 0; a bad argument prints the usage and
-- "PROG: error: ..." on stderr and exits 2, as argparse does.
local M = {}

local Parser = {}
Parser.__index = Parser

function M.parser(opts)
  opts = opts or {}
  local p = setmetatable({
    prog = opts.prog or (arg and arg[0] and arg[0]:match("[^/]+$")) or "script",
    description = opts.description,
    epilog = opts.epilog,
    opts = {},
    by_name = {},
    positionals = {},
  }, Parser)
  p:flag("-h", "--help", { help = "show this help message and exit" })
  return p
end

-- dest: "--resource_gp_name" -> "resource_gp_name", "--vm-size" -> "vm_size"
local function dest_of(names)
  local long
  for _, n in ipairs(names) do if n:sub(1, 2) == "--" then long = n break end end
  return ((long or names[1]):gsub("^%-+", ""):gsub("%-", "_"))
end

function Parser:_add(kind, ...)
  local names, spec = {}, {}
  for _, v in ipairs({ ... }) do
    if type(v) == "table" then spec = v else names[#names + 1] = v end
  end
  assert(#names > 0, "an option needs a name")
  local o = {
    kind = kind, names = names, dest = spec.dest or dest_of(names), help = spec.help,
    default = spec.default, metavar = spec.metavar, type = spec.type, choices = spec.choices,
    required = spec.required,
  }
  if kind == "option" and not o.metavar then o.metavar = o.dest:upper() end
  self.opts[#self.opts + 1] = o
  for _, n in ipairs(names) do self.by_name[n] = o end
  return self
end

function Parser:option(...) return self:_add("option", ...) end
function Parser:flag(...) return self:_add("flag", ...) end

function Parser:positional(name, spec)
  spec = spec or {}
  self.positionals[#self.positionals + 1] = { dest = name, help = spec.help, optional = spec.optional,
    default = spec.default, metavar = spec.metavar or name }
  return self
end

function Parser:usage()
  local parts = { "usage: " .. self.prog }
  for _, o in ipairs(self.opts) do
    local s = o.names[1]
    if o.kind == "option" then s = s .. " " .. o.metavar end
    parts[#parts + 1] = o.required and s or ("[" .. s .. "]")
  end
  for _, p in ipairs(self.positionals) do
    parts[#parts + 1] = p.optional and ("[" .. p.metavar .. "]") or p.metavar
  end
  -- Wrap like argparse: continuation lines align under the first option.
  local indent = string.rep(" ", #parts[1] + 1)
  local lines, line = {}, parts[1]
  for i = 2, #parts do
    if #line + 1 + #parts[i] > 78 and line ~= parts[1] then
      lines[#lines + 1] = line
      line = indent .. parts[i]
    else
      line = line .. " " .. parts[i]
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

local function wrap(text, width, indent)
  local out, line = {}, ""
  for word in text:gmatch("%S+") do
    if #line > 0 and #line + 1 + #word > width then
      out[#out + 1] = line
      line = word
    else
      line = (#line > 0) and (line .. " " .. word) or word
    end
  end
  if #line > 0 then out[#out + 1] = line end
  return table.concat(out, "\n" .. indent)
end

function Parser:help()
  local out = { self:usage(), "" }
  if self.description then out[#out + 1] = wrap(self.description, 78, ""); out[#out + 1] = "" end
  if #self.positionals > 0 then
    out[#out + 1] = "positional arguments:"
    for _, p in ipairs(self.positionals) do
      out[#out + 1] = "  " .. p.metavar .. string.rep(" ", math.max(1, 22 - #p.metavar)) .. (p.help or "")
    end
    out[#out + 1] = ""
  end
  out[#out + 1] = "options:"
  for _, o in ipairs(self.opts) do
    local names = {}
    for _, n in ipairs(o.names) do
      names[#names + 1] = (o.kind == "option") and (n .. " " .. o.metavar) or n
    end
    local head = "  " .. table.concat(names, ", ")
    local help = o.help or ""
    if o.default ~= nil and o.kind == "option" then help = help .. " (default: " .. tostring(o.default) .. ")" end
    if o.choices then help = help .. " {" .. table.concat(o.choices, ",") .. "}" end
    local body = wrap(help, 54, string.rep(" ", 24))
    if #head >= 22 then
      out[#out + 1] = head
      out[#out + 1] = string.rep(" ", 24) .. body
    else
      out[#out + 1] = head .. string.rep(" ", 24 - #head) .. body
    end
  end
  if self.epilog then out[#out + 1] = ""; out[#out + 1] = wrap(self.epilog, 78, "") end
  return table.concat(out, "\n") .. "\n"
end

-- Raises a usage error the way argparse reports it; `exit` is replaceable for tests.
function Parser:error(msg)
  io.stderr:write(self:usage(), "\n", self.prog, ": error: ", msg, "\n")
  M.exit(2)
end

M.exit = os.exit

local function convert(p, o, v)
  if o.type == "integer" or o.type == "number" then
    local n = tonumber(v)
    if not n or (o.type == "integer" and math.type(n) ~= "integer") then
      p:error(("argument %s: invalid %s value: '%s'"):format(o.names[#o.names], o.type, v))
    end
    v = n
  end
  if o.choices then
    local ok = false
    for _, c in ipairs(o.choices) do if c == v then ok = true end end
    if not ok then
      p:error(("argument %s: invalid choice: '%s' (choose from %s)"):format(
        o.names[#o.names], tostring(v), table.concat(o.choices, ", ")))
    end
  end
  return v
end

function Parser:parse(argv)
  argv = argv or {}
  local args, pos = {}, {}
  for _, o in ipairs(self.opts) do
    if o.kind == "flag" then args[o.dest] = false else args[o.dest] = o.default end
  end
  local i, only_pos = 1, false
  while i <= #argv do
    local a = argv[i]
    if only_pos or a == "-" or a:sub(1, 1) ~= "-" then
      pos[#pos + 1] = a
    elseif a == "--" then
      only_pos = true
    else
      local name, value = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local o = self.by_name[name]
      if not o then
        -- A unique prefix of a long option works, as in argparse.
        local found
        for n, cand in pairs(self.by_name) do
          if n:sub(1, 2) == "--" and n:sub(1, #name) == name and name:sub(1, 2) == "--" then
            if found and found ~= cand then self:error("ambiguous option: " .. name) end
            found = cand
          end
        end
        o = found
      end
      if not o then self:error("unrecognized arguments: " .. a) end
      if o.dest == "help" then
        io.stdout:write(self:help())
        M.exit(0)
        return nil
      end
      if o.kind == "flag" then
        if value then self:error("argument " .. name .. ": ignored explicit argument '" .. value .. "'") end
        args[o.dest] = true
      else
        if not value then
          i = i + 1
          value = argv[i]
          if value == nil then self:error("argument " .. name .. ": expected one argument") end
        end
        args[o.dest] = convert(self, o, value)
      end
    end
    i = i + 1
  end
  for k, p in ipairs(self.positionals) do
    if pos[k] ~= nil then args[p.dest] = pos[k]
    elseif not p.optional then self:error("the following arguments are required: " .. p.metavar)
    else args[p.dest] = p.default end
  end
  if #pos > #self.positionals then
    self:error("unrecognized arguments: " .. table.concat(pos, " ", #self.positionals + 1))
  end
  for _, o in ipairs(self.opts) do
    if o.required and args[o.dest] == nil then
      self:error("the following arguments are required: " .. o.names[#o.names])
    end
  end
  return args
end

return M
