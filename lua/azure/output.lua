-- azure.output: results in the formats people and pipes expect, like az's -o.
--
--   output.format(value, "json"|"table"|"tsv" [, {columns = {...}, width = 100}]) -> string
--   output.print(value, fmt, opts)
--   output(value, fmt, opts)          -- the module is callable: same as print (azure.output(v, "json"))
--   output.add_option(parser)         -- adds az's -o/--output {json,table,tsv} to an azure.cli parser
--   output.field(record, "a.b")       -- a column's value: dotted names reach into nested objects
--
-- table: a list of records is an aligned table of its scalar fields (identity columns first); one
-- record is a two-column key/value table; nested values are shown compactly; wide cells are cut
-- with "…" so rows fit the width. tsv: no header, tab-separated, one line per record (as az).
local M = {}

local function json() return require("azure.core.json") end

local FIRST = { id = 1, name = 2, state = 3, displayName = 4, location = 5 }

local function is_null(v) return v == nil or v == json().null end

local function is_list(v)
  if type(v) ~= "table" then return false end
  local jm = json()
  if jm.is_array and jm.is_array(v) then return true end
  local n = #v
  if n == 0 then return false end
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function cell(v)
  if is_null(v) then return "" end
  local t = type(v)
  if t == "table" then
    local ok, s = pcall(json().encode, v)
    return ok and s or tostring(v)
  end
  if t == "string" then return (v:gsub("[\t\n\r]", " ")) end
  return tostring(v)
end

-- r[c], or for a dotted name not present as such, the nested value ("executionInfo.exitCode").
local function field(r, c)
  local v = r[c]
  if v ~= nil or type(c) ~= "string" or not c:find(".", 1, true) then return v end
  v = r
  for part in c:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end
M.field = field

-- A dotted column is headed by its last part: "poolInfo.poolId" → "poolId".
local function headers(cols)
  local h = {}
  for i, c in ipairs(cols) do h[i] = (type(c) == "string" and c:match("([^.]+)$")) or tostring(c) end
  return h
end

local function column_order(rows, wanted)
  if wanted then return wanted end
  local seen, cols = {}, {}
  for _, r in ipairs(rows) do
    if type(r) == "table" then
      for k, v in pairs(r) do
        -- tables show scalar fields only: nested objects belong to the tree view
        if type(k) == "string" and not seen[k] and type(v) ~= "table" and not is_null(v) then
          seen[k] = true
          cols[#cols + 1] = k
        end
      end
    end
  end
  table.sort(cols, function(a, b)
    local fa, fb = FIRST[a] or 100, FIRST[b] or 100
    if fa ~= fb then return fa < fb end
    return a < b
  end)
  return cols
end

-- Display width in code points, so UTF-8 names line up.
local function width(s) return utf8.len(s) or #s end

local function cut(s, w)
  if width(s) <= w then return s end
  if w <= 1 then return "…" end
  local out, n = {}, 0
  for _, c in utf8.codes(s) do
    if n >= w - 1 then break end
    out[#out + 1] = utf8.char(c)
    n = n + 1
  end
  return table.concat(out) .. "…"
end

local function render_table(header, rows, max_width)
  local ncol = #header
  local widths = {}
  for i = 1, ncol do widths[i] = width(header[i]) end
  for _, r in ipairs(rows) do
    for i = 1, ncol do widths[i] = math.max(widths[i], width(r[i])) end
  end
  -- Shrink the widest columns until the row fits (two spaces between columns).
  local function total()
    local s = 2 * (ncol - 1)
    for i = 1, ncol do s = s + widths[i] end
    return s
  end
  while max_width and total() > max_width do
    local wi = 1
    for i = 2, ncol do if widths[i] > widths[wi] then wi = i end end
    if widths[wi] <= 8 then break end
    widths[wi] = widths[wi] - 1
  end
  local lines = {}
  local function line(cells)
    local parts = {}
    for i = 1, ncol do
      local c = cut(cells[i], widths[i])
      parts[i] = (i < ncol) and (c .. string.rep(" ", widths[i] - width(c))) or c
    end
    lines[#lines + 1] = table.concat(parts, "  ")
  end
  line(header)
  local rule = {}
  for i = 1, ncol do rule[i] = string.rep("-", widths[i]) end
  lines[#lines + 1] = table.concat(rule, "  ")
  for _, r in ipairs(rows) do line(r) end
  return table.concat(lines, "\n") .. "\n"
end

local function as_table(value, opts)
  local max_width = opts.width
  if is_list(value) then
    if #value == 0 then return "(no items)\n" end
    if type(value[1]) ~= "table" then
      local rows = {}
      for i, v in ipairs(value) do rows[i] = { cell(v) } end
      return render_table({ "value" }, rows, max_width)
    end
    local cols = column_order(value, opts.columns)
    local rows = {}
    for i, r in ipairs(value) do
      local row = {}
      for j, c in ipairs(cols) do row[j] = cell(field(r, c)) end
      rows[i] = row
    end
    local out = render_table(headers(cols), rows, max_width)
    if opts.total and opts.total > #value then
      out = out .. ("(%d of %d shown)\n"):format(#value, opts.total)
    end
    return out
  elseif type(value) == "table" then
    local keys = {}
    for k in pairs(value) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      local fa, fb = FIRST[a] or 100, FIRST[b] or 100
      if fa ~= fb then return fa < fb end
      return tostring(a) < tostring(b)
    end)
    local rows = {}
    for i, k in ipairs(keys) do rows[i] = { tostring(k), cell(value[k]) } end
    return render_table({ "field", "value" }, rows, max_width)
  end
  return cell(value) .. "\n"
end

local function as_tsv(value, opts)
  local lines = {}
  if is_list(value) then
    local cols = (type(value[1]) == "table") and column_order(value, opts.columns) or nil
    for _, r in ipairs(value) do
      if cols then
        local row = {}
        for j, c in ipairs(cols) do row[j] = cell(field(r, c)) end
        lines[#lines + 1] = table.concat(row, "\t")
      else
        lines[#lines + 1] = cell(r)
      end
    end
  elseif type(value) == "table" then
    local cols = column_order({ value }, opts.columns)
    local row = {}
    for j, c in ipairs(cols) do row[j] = cell(field(value, c)) end
    lines[1] = table.concat(row, "\t")
  else
    lines[1] = cell(value)
  end
  if #lines == 0 then return "" end
  return table.concat(lines, "\n") .. "\n"
end

M.FORMATS = { "json", "table", "tsv" }

function M.format(value, fmt, opts)
  opts = opts or {}
  fmt = fmt or "table"
  if type(value) == "function" then
    -- a lazy list (batch:pools(), c:blobs()): every item, as az prints a whole list
    local list = json().array and json().array({}) or {}
    for item in value do list[#list + 1] = item end
    value = list
  end
  if fmt == "json" then return json().encode(value, { indent = true }) .. "\n" end
  if fmt == "table" then return as_table(value, opts) end
  if fmt == "tsv" then return as_tsv(value, opts) end
  error("output format must be json, table or tsv, got '" .. tostring(fmt) .. "'", 2)
end

function M.print(value, fmt, opts)
  io.stdout:write(M.format(value, fmt, opts))
end

-- az's -o/--output for a script's azure.cli parser; args.output is then one of M.FORMATS.
function M.add_option(parser, default)
  return parser:option("-o", "--output", { choices = M.FORMATS, default = default or "table", metavar = "FORMAT",
    help = "output format: json, table or tsv (default " .. (default or "table") .. ")" })
end

return setmetatable(M, { __call = function(_, value, fmt, opts) return M.print(value, fmt, opts) end })
