-- azure.repl.names: Tab completion of resource names as string arguments —
--   batch:get_pool("<Tab>   pool ids          batch:tasks("<Tab>      job ids
--   batch:get_task("job-1", "<Tab>   task ids of that job
--   blob:download("<Tab>    blob names (blob = a container)   blob:container("<Tab>  containers
-- Only for clients that already exist (a lazy global never gets built by a Tab), with one quick
-- request (one attempt, 2 s timeout) whose answer is kept until the next line runs, so pressing
-- Tab again costs nothing and the REPL never hangs on a slow network.
local M = { TIMEOUT = 2, TTL = 30 }

-- method → what its first string argument names
local POOL = { "get_pool", "pool", "pool_exists", "delete_pool", "resize_pool", "stop_resize", "patch_pool",
  "enable_autoscale", "disable_autoscale", "evaluate_autoscale", "wait_pool", "nodes", "pool_node_counts" }
local JOB = { "get_job", "job", "delete_job", "patch_job", "terminate_job", "task_counts", "tasks", "list_tasks",
  "add_task", "add_tasks", "wait_tasks", "get_task", "delete_task", "terminate_task", "subtasks", "files",
  "read_file", "download_file", "file_properties" }
-- method → its second string argument is a task id (of the job in the first)
local TASK = { "get_task", "delete_task", "terminate_task", "subtasks", "files", "read_file", "download_file",
  "file_properties" }
local BLOB = { "blob", "download", "download_string", "delete_blob" }

local function set(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end
local POOL_S, JOB_S, TASK_S, BLOB_S = set(POOL), set(JOB), set(TASK), set(BLOB)

local cache = {} -- key → {at = monotonic seconds, names = {…}}

function M.invalidate() cache = {} end

local function now() return require("azure.core.time").monotonic() end

local function quick_pipeline(p)
  return require("azure.pipeline").new{
    service = p.service, authorize = p.authorize, retry = { max_attempts = 1 }, timeout = M.TIMEOUT,
    connect_timeout = M.TIMEOUT, ca_file = p.ca_file, headers = p.headers, transport = p.transport,
  }
end

-- The client as it is, but sending through a one-attempt, short-timeout pipeline.
local function quick_batch(b)
  return setmetatable({ pipeline = quick_pipeline(b.pipeline) }, { __index = b })
end

local function quick_ctx(ctx)
  return setmetatable({ _pipeline = quick_pipeline(ctx:pipeline()) }, { __index = ctx })
end

local function cached(key, fetch)
  local c = cache[key]
  if c and now() - c.at < M.TTL then return c.names end
  local ok, names = pcall(fetch)
  -- a failure is cached too: the next Tab must not wait another 2 s for the same answer
  names = ok and names or {}
  cache[key] = { at = now(), names = names }
  return names
end

local function ids(iter, field, max)
  local out = {}
  for item in iter do
    out[#out + 1] = item[field]
    if #out >= (max or 1000) then break end
  end
  return out
end

local function class_of(v, modname, classname)
  local mod = package.loaded[modname]
  return mod and type(v) == "table" and getmetatable(v) == mod[classname]
end

-- before: the line up to the word being completed (ending in the opening quote).
function M.complete(before, env)
  local obj, method, rest = before:match("([%a_][%w_]*)%s*:%s*([%a_][%w_]*)%s*%((.*)[\"']$")
  if not obj then return nil end
  local client = rawget(env, obj)
  if client == nil then return nil end
  local first = rest:match("^%s*$") and "" or rest:match("^%s*[\"']([^\"']*)[\"']%s*,%s*$")
  if first == nil then return nil end
  if class_of(client, "azure.batch", "Client") then
    if first == "" then
      if POOL_S[method] then
        return cached(tostring(client) .. " pools", function()
          return ids(quick_batch(client):list("/pools", { select = "id" }), "id")
        end)
      elseif JOB_S[method] then
        return cached(tostring(client) .. " jobs", function()
          return ids(quick_batch(client):list("/jobs", { select = "id" }), "id")
        end)
      end
    elseif TASK_S[method] then
      return cached(tostring(client) .. " tasks " .. first, function()
        return ids(quick_batch(client):tasks(first, { select = "id" }), "id")
      end)
    end
  elseif class_of(client, "azure.blob.container", "Container") and first == "" and BLOB_S[method] then
    return cached(tostring(client) .. " blobs", function()
      local c = require("azure.blob.container").wrap(quick_ctx(client.ctx), client.name)
      return ids(c:blobs(), "name")
    end)
  elseif class_of(client, "azure.blob.service", "Service") and first == "" and method == "container" then
    return cached(tostring(client) .. " containers", function()
      local s = require("azure.blob.service").wrap(quick_ctx(client.ctx))
      return ids(s:containers(), "name")
    end)
  end
  return nil
end

local installed = false
function M.install()
  if installed then return end
  installed = true
  local completers = require("azure.complete").string_completers
  completers[#completers + 1] = M.complete
end

return M
