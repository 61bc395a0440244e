-- azure.repl.show: how the REPL prints a result, for people rather than for Lua.
--   a list of resources (pools, jobs, tasks, nodes, blobs, ARM resources) → an aligned table of
--     the columns that matter for that kind, the first LIMIT rows and a count of the rest;
--   one resource (a table with an id or name) → an indented tree (azure.pretty.tree);
--   a lazy iterator from a list call (batch:pools(), c:blobs(), arm:list(…)) → collected, up to
--     COLLECT items, then shown as a list;
--   anything else → azure.pretty.format (Lua-literal style, sorted, cycles marked).
-- The shown value (the collected list, for an iterator) is kept in the global `_`.
local pretty = require "azure.pretty"

local M = { LIMIT = 50, COLLECT = 1000 }

-- Columns per kind of resource: the first profile whose `when` field the first row has wins.
-- Dotted names reach into nested objects (azure.output resolves them).
M.PROFILES = {
  { kind = "pool", when = { "allocationState", "vmSize" }, columns = { "id", "state", "allocationState", "vmSize",
    "currentDedicatedNodes", "targetDedicatedNodes", "currentLowPriorityNodes", "enableAutoScale" } },
  { kind = "task", when = { "commandLine" }, columns = { "id", "state", "executionInfo.exitCode",
    "executionInfo.result", "nodeInfo.nodeId", "commandLine" } },
  { kind = "job", when = { "poolInfo" }, columns = { "id", "state", "poolInfo.poolId", "priority",
    "onAllTasksComplete", "creationTime" } },
  { kind = "node", when = { "nodeAgentInfo", "ipAddress" }, columns = { "id", "state", "ipAddress", "vmSize",
    "runningTasksCount", "totalTasksRun" } },
  { kind = "image", when = { "nodeAgentSKUId" }, columns = { "nodeAgentSKUId", "imageReference.publisher",
    "imageReference.offer", "imageReference.sku", "batchSupportEndOfLife", "verificationType" } },
  { kind = "blob", when = { "blob_type" }, columns = { "name", "size", "last_modified", "blob_type", "content_type" } },
  { kind = "arm", when = { "type" }, columns = { "name", "location", "type", "kind", "sku.name",
    "properties.provisioningState" } },
}

local function output() return require "azure.output" end

local function is_record(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return not (mt and mt.__tostring)
end

-- An array of tables (JSON arrays decode with a marker; plain Lua arrays count too).
local function is_record_list(v)
  if not is_record(v) or not is_record(v[1]) then return false end
  local n = #v
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

-- One resource: has a string id or name and only string keys.
local function is_resource(v)
  if not is_record(v) then return false end
  if type(v.id) ~= "string" and type(v.name) ~= "string" then return false end
  for k in pairs(v) do if type(k) ~= "string" then return false end end
  return true
end

-- A lazy iterator returned by a list call: a zero-argument Lua closure made inside an azure module
-- and not itself a module function (so `> azure.progress.clear` shows the function, never calls it).
function M.is_iterator(f)
  if type(f) ~= "function" then return false end
  local info = debug.getinfo(f, "Su")
  if info.what ~= "Lua" or info.nparams ~= 0 or info.isvararg then return false end
  if not info.source:find("azure/", 1, true) then return false end
  for name, mod in pairs(package.loaded) do
    if type(name) == "string" and name:match("^azure") and type(mod) == "table" then
      for _, v in pairs(mod) do if v == f then return false end end
    end
  end
  return true
end

-- → list, complete (false when the iterator had more than `max` items)
-- Pages of a long list take a while: a progress line counts the items (Ctrl-C stops it).
function M.collect(iter, max)
  local list = {}
  local progress = require "azure.progress"
  for item in iter do
    if #list >= max then progress.clear(); return list, false end
    list[#list + 1] = item
    if #list % 100 == 0 then progress.show(("collecting: %d items"):format(#list)) end
  end
  progress.clear()
  return list, true
end

function M.columns(rows)
  local first = rows[1]
  for _, p in ipairs(M.PROFILES) do
    local hit = false
    for _, f in ipairs(p.when) do if first[f] ~= nil then hit = true break end end
    if hit then
      local out = output()
      local cols = {}
      for _, c in ipairs(p.columns) do
        for _, r in ipairs(rows) do
          local v = out.field(r, c)
          if v ~= nil and v ~= require("azure.core.json").null and type(v) ~= "table" then
            cols[#cols + 1] = c
            break
          end
        end
      end
      if #cols >= 2 then return cols, p.kind end
    end
  end
  return nil -- azure.output's default: every scalar field, identity columns first
end

local function width()
  local ok, sys = pcall(require, "azure.core.sys")
  return (ok and sys.term_width and sys.term_width()) or 100
end

-- → text for one value. opts: limit, width, complete (false: the list came from a cut iterator)
function M.format(v, opts)
  opts = opts or {}
  local limit = opts.limit or M.LIMIT
  if is_record_list(v) then
    local rows = v
    if #v > limit then rows = table.move(v, 1, limit, 1, {}) end
    local text = output().format(rows, "table", { columns = M.columns(rows), width = opts.width or width() })
    if opts.complete == false then
      text = text .. ("… %d+ more (the first %d are in _; loop over the iterator for all)\n"):format(#v - #rows, #v)
    elseif #v > limit then
      text = text .. ("… %d more (all %d in _)\n"):format(#v - limit, #v)
    end
    return text
  end
  if is_resource(v) then return pretty.tree(v, { max_items = limit }) .. "\n" end
  return pretty.format(v, { max_items = limit }) .. "\n"
end

function M.show(...)
  local n = select("#", ...)
  if n == 0 then return end
  local vals = table.pack(...)
  local parts, all_scalar = {}, true
  for i = 1, n do
    local v, complete = vals[i], nil
    if M.is_iterator(v) then v, complete = M.collect(v, M.COLLECT) end
    if i == 1 then rawset(_G, "_", v) end
    if type(v) == "table" then all_scalar = false end
    parts[i] = M.format(v, { complete = complete })
  end
  if all_scalar then
    -- several scalars on one line, as Lua's own REPL prints them
    for i = 1, n do parts[i] = parts[i]:gsub("\n$", "") end
    io.stdout:write(table.concat(parts, "\t"), "\n")
  else
    io.stdout:write(table.concat(parts))
  end
  io.stdout:flush()
end

return M
