-- azure.batch: the Batch data plane. Bodies are plain tables with the REST field names
-- (BatchService.json), so the Azure REST reference documents them.
--
--   local batch = require "azure.batch"
--   local b = batch.client{endpoint=url, account=name, key=key}     -- Shared Key
--   local b = batch.client{endpoint=url, credential=cred}           -- Entra ID (Batch audience)
--   batch.sign(req, account, key) → Authorization header value
--   Pools:  b:add_pool(body), b:get_pool(id, {select=, expand=}), b:pool_exists(id), b:pools{filter=, select=}
--           (lazy iterator), b:list_pools(opts), b:delete_pool(id, {wait=true, timeout=}), b:resize_pool(id, body),
--           b:enable_autoscale(id, body), b:disable_autoscale(id), b:evaluate_autoscale(id, formula),
--           b:wait_pool(id, {timeout=, nodes=}), b:node_counts(opts), b:nodes(pool, opts),
--           b:supported_images(opts), b:pick_ubuntu_image(opts)
--   Jobs:   b:add_job(body), b:get_job(id), b:jobs(opts), b:patch_job(id, body), b:delete_job(id, {wait=}),
--           b:terminate_job(id, reason), b:task_counts(job)
--   Tasks:  see azure.batch.tasks (add_task, add_tasks, get_task, tasks, subtasks, delete_task,
--           terminate_task, wait_tasks)
--   Files:  b:files(job, task, {recursive=}), b:download_file(job, task, path, dest), b:read_file(job, task, path),
--           b:file_properties(job, task, path)
--   Bodies: batch.autoscale_pool{…}, batch.job_with_prep{…}, batch.multi_instance_task{…} (azure.batch.bodies)
--   Raw:    b:request(method, path, {query=, body=, expect=, idempotent=, on_replay=, headers=, output=})
local pipeline = require "azure.pipeline"
local errors = require "azure.errors"
local url = require "azure.url"
local sign = require "azure.batch.sign"
local progress = require "azure.progress"

local M = {}

-- The stable version in ../shared/specs (BatchService.json info.version). The GA SDKs of 2026
-- pin 2025-06-01; pass api_version= to use that.
M.api_version = "2026-10-01"
M.sign = sign.sign
M.string_to_sign = sign.string_to_sign

local JSON_TYPE = "application/json; odata=minimalmetadata"

local Client = {}
Client.__index = Client
M.Client = Client

local function normalize_endpoint(ep)
  if not ep:match("^%a[%w+.-]*://") then
    -- ARM's accountEndpoint has no scheme; loopback (the emulator) is plain http.
    if ep:match("^127%.") or ep:match("^localhost[:/]") or ep:match("^%[::1%]") then ep = "http://" .. ep
    else ep = "https://" .. ep end
  end
  return (ep:gsub("/+$", ""))
end

function M.client(opts)
  if type(opts) ~= "table" then error("batch.client: options table expected", 2) end
  if type(opts.endpoint) ~= "string" then error("batch.client: endpoint (string) is required", 2) end
  local self = setmetatable({}, Client)
  self.endpoint = normalize_endpoint(opts.endpoint)
  self.api_version = opts.api_version or M.api_version
  local authorize
  if opts.key then
    local account = opts.account
    if not account then
      -- https://acct.region.batch.azure.com, or the emulator's http://127.0.0.1:port/batch/acct
      account = self.endpoint:match("/batch/([^/]+)$") or self.endpoint:match("^%a+://([^.:/]+)")
    end
    if not account then error("batch.client: account is required with key", 2) end
    self.account = account
    local key = opts.key
    authorize = function(req)
      req.headers["ocp-date"] = require("azure.core.time").rfc1123(os.time())
      req.headers["Authorization"] = (sign.sign(req, account, key))
    end
  else
    local cred = opts.credential
    if not cred then error("batch.client: key= (Shared Key) or credential= is required", 2) end
    local c = require("azure.cloud").get(opts.cloud)
    local scope = opts.scope or c.batch_scope
    authorize = function(req)
      req.headers["ocp-date"] = require("azure.core.time").rfc1123(os.time())
      req.headers["Authorization"] = "Bearer " .. (cred:token(scope))
    end
    self.account = opts.account
  end
  self.pipeline = opts.pipeline or pipeline.new{
    service = "batch", authorize = authorize, retry = opts.retry, timeout = opts.timeout or 60,
    ca_file = opts.ca_file, transport = opts.transport, sleep = opts.sleep,
  }
  self.sleep = opts.sleep or function(s) require("azure.core.time").sleep(s) end
  return self
end

-- OData options → query: select/filter/expand/maxresults, plus anything in opts.query.
local function odata(opts)
  local q = {}
  if opts then
    if opts.select then q["$select"] = type(opts.select) == "table" and table.concat(opts.select, ",") or opts.select end
    if opts.filter then q["$filter"] = opts.filter end
    if opts.expand then q["$expand"] = opts.expand end
    if opts.maxresults then q.maxresults = opts.maxresults end
    for k, v in pairs(opts.query or {}) do q[k] = v end
  end
  return q
end
M.odata = odata

function Client:url(path, query)
  local u = path:match("^%a+://") and path or (self.endpoint .. path)
  local q = {}
  for k, v in pairs(query or {}) do q[k] = v end
  if not url.has_param(u, "api-version") then q["api-version"] = self.api_version end
  return url.with_query(u, q)
end

function Client:request(method, path, opts)
  opts = opts or {}
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local body = opts.raw_body
  if opts.body ~= nil then
    body = require("azure.core.json").encode(opts.body)
    headers["Content-Type"] = JSON_TYPE
  end
  return self.pipeline:send{
    method = method, url = self:url(path, opts.query), headers = headers, body = body, expect = opts.expect,
    idempotent = opts.idempotent, on_replay = opts.on_replay, output = opts.output, timeout = opts.timeout,
  }
end

local function json_of(res)
  local j = res.json
  if j == false then return nil end
  return j
end

local function id_path(s) return url.encode(s) end

-- A create whose id the caller chose can be repeated safely: *Exists on a retry = the first landed.
local function create(self, path, body, exists_code)
  return self:request("POST", path, { body = body, expect = { 201 }, idempotent = true,
    on_replay = function(e) return e.code == exists_code end })
end

-- Lazy iterator over a list's items, following odata.nextLink.
function Client:list(path, opts)
  local next_url = self:url(path, odata(opts))
  local items, i = nil, 0
  return function()
    while true do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      if not next_url then return nil end
      local page = json_of(self.pipeline:send{ method = "GET", url = next_url }) or {}
      local nl = page["odata.nextLink"]
      next_url = (type(nl) == "string" and nl ~= "") and nl or nil
      items, i = page.value or {}, 0
    end
  end
end

local function collect(iter)
  local out = {}
  for x in iter do out[#out + 1] = x end
  return out
end
M.collect = collect

-- A delete that may be replayed: NotFound/BeingDeleted after a retry means it was done.
local function delete(self, path, gone_codes, opts)
  opts = opts or {}
  local ok, e = pcall(self.request, self, "DELETE", path, { expect = { 200, 202 },
    query = opts.query, on_replay = function(err) return gone_codes[err.code] end })
  if not ok then
    if errors.is(e) and gone_codes[e.code] and opts.missing_ok ~= false then return false end
    error(e, 0)
  end
  return true
end

-- Poll get() until it raises 404 (deleted) or the timeout passes.
function Client:_wait_gone(what, get, timeout)
  local started = os.time()
  local deadline = started + (timeout or 900)
  while true do
    local ok, e = pcall(get)
    if not ok then
      if errors.is(e) and e.status == 404 then progress.clear(); return true end
      error(e, 0)
    end
    if os.time() > deadline then
      progress.clear()
      error(errors.new{ service = "batch", code = "Timeout",
        message = what .. " still exists after " .. (os.time() - started) .. " s" }, 0)
    end
    progress.show(string.format("waiting for %s to be deleted (%d s)", what, os.time() - started))
    self.sleep(1)
  end
end

-- ---- pools -------------------------------------------------------------------------------------------

function Client:add_pool(body) return create(self, "/pools", body, "PoolExists") end
function Client:get_pool(id, opts) return json_of(self:request("GET", "/pools/" .. id_path(id), { query = odata(opts) })) end

function Client:pool_exists(id)
  return self:request("HEAD", "/pools/" .. id_path(id), { expect = { 200, 404 } }).status == 200
end

function Client:pools(opts) return self:list("/pools", opts) end
function Client:list_pools(opts) return collect(self:pools(opts)) end
function Client:patch_pool(id, body)
  return self:request("PATCH", "/pools/" .. id_path(id), { body = body, expect = { 200 } })
end

function Client:delete_pool(id, opts)
  opts = opts or {}
  local found = delete(self, "/pools/" .. id_path(id), { PoolNotFound = true, PoolBeingDeleted = true }, opts)
  if opts.wait ~= false then
    self:_wait_gone("pool " .. id, function() return self:get_pool(id, { select = "id,state" }) end, opts.timeout)
  end
  return found
end

function Client:resize_pool(id, body)
  if type(body) == "number" then body = { targetDedicatedNodes = body } end
  return self:request("POST", "/pools/" .. id_path(id) .. "/resize", { body = body, expect = { 202 },
    idempotent = true, on_replay = function(e) return e.code == "PoolBeingResized" end })
end

function Client:stop_resize(id)
  return self:request("POST", "/pools/" .. id_path(id) .. "/stopresize", { expect = { 202 }, idempotent = true })
end

function Client:enable_autoscale(id, body)
  if type(body) == "string" then body = { autoScaleFormula = body } end
  return self:request("POST", "/pools/" .. id_path(id) .. "/enableautoscale", { body = body, expect = { 200 },
    idempotent = true })
end

function Client:disable_autoscale(id)
  return self:request("POST", "/pools/" .. id_path(id) .. "/disableautoscale", { expect = { 200 }, idempotent = true })
end

-- → AutoScaleRun {timestamp, results="$TargetDedicatedNodes=…;…", error?}
function Client:evaluate_autoscale(id, formula)
  return json_of(self:request("POST", "/pools/" .. id_path(id) .. "/evaluateautoscale",
    { body = { autoScaleFormula = formula }, expect = { 200 }, idempotent = true }))
end

function Client:node_counts(opts) return collect(self:list("/nodecounts", opts)) end

function Client:pool_node_counts(pool_id)
  local all = self:node_counts{ filter = "poolId eq '" .. pool_id .. "'" }
  return all[1]
end

function Client:nodes(pool_id, opts) return self:list("/pools/" .. id_path(pool_id) .. "/nodes", opts) end
function Client:supported_images(opts) return self:list("/supportedimages", opts) end

-- The newest verified Ubuntu LTS image Batch still supports (batchSupportEndOfLife in the future,
-- or absent), with its node agent SKU. opts.generation = 1 picks Gen1 SKUs ("server-gen1"/Gen1)
-- for Gen1-only VM sizes; opts.min_days_left (default 30) skips images about to be retired.
function Client:pick_ubuntu_image(opts)
  opts = opts or {}
  local now = os.time()
  local min_left = (opts.min_days_left or 30) * 86400
  local ptime = require "azure.core.time"
  local best, best_rank
  for img in self:supported_images{ filter = "osType eq 'linux'" } do
    local ref = img.imageReference or {}
    local ver = tostring(img.nodeAgentSKUId or ""):match("^batch%.node%.ubuntu (%d+)%.04$")
    local eol = img.batchSupportEndOfLife
    local eol_t = (type(eol) == "string" and ptime.parse_iso8601(eol)) or nil
    local supported = eol_t == nil or eol_t - now > min_left
    local verified = img.verificationType == nil or img.verificationType == "verified"
    local canonical = tostring(ref.publisher):lower() == "canonical"
    if ver and supported and verified and canonical then
      local sku = tostring(ref.sku or "")
      local gen1 = sku:find("gen1", 1, true) ~= nil
      local gen2 = sku:find("gen2", 1, true) ~= nil or sku == "server"
      local want_gen1 = opts.generation == 1
      local gen_ok = want_gen1 and (gen1 or not gen2) or (not want_gen1 and not gen1)
      local rank = tonumber(ver) * 10 + (gen_ok and 1 or 0)
      if not best_rank or rank > best_rank then best, best_rank = img, rank end
    end
  end
  if not best then
    error(errors.new{ service = "batch", code = "NoSupportedImage",
      message = "no verified Ubuntu LTS image with Batch support left in supportedimages" }, 0)
  end
  local r = best.imageReference
  return { imageReference = { publisher = r.publisher, offer = r.offer, sku = r.sku, version = r.version or "latest" },
           nodeAgentSKUId = best.nodeAgentSKUId }, best
end

-- Waits until the pool is steady (and, with opts.nodes, has that many idle/running nodes).
-- A pool that cannot get nodes says why: its resizeErrors as one line, not a silent wait.
function Client:wait_pool(id, opts)
  opts = opts or {}
  local started = os.time()
  local deadline = started + (opts.timeout or 1800)
  while true do
    local p = self:get_pool(id, { select = "id,allocationState,currentDedicatedNodes,currentLowPriorityNodes,resizeErrors,state" })
    local errs = p.resizeErrors
    if type(errs) == "table" and #errs > 0 then
      progress.clear()
      local parts = {}
      for _, re in ipairs(errs) do parts[#parts + 1] = tostring(re.code) .. ": " .. tostring(re.message) end
      error(errors.new{ service = "batch", code = "PoolResizeError", message = "pool " .. id .. " could not get nodes: "
        .. table.concat(parts, "; ") }, 0)
    end
    local n = (p.currentDedicatedNodes or 0) + (p.currentLowPriorityNodes or 0)
    local ready = p.allocationState == "steady"
    if ready and opts.nodes then
      ready = false
      local usable = 0
      for node in self:nodes(id, { select = "id,state,errors" }) do
        if node.state == "idle" or node.state == "running" then usable = usable + 1 end
        if node.state == "starttaskfailed" or node.state == "unusable" then
          progress.clear()
          error(errors.new{ service = "batch", code = "NodeUnusable", message = "node " .. tostring(node.id) .. " of pool "
            .. id .. " is " .. node.state }, 0)
        end
      end
      ready = usable >= opts.nodes
    end
    if ready then progress.clear(); return p end
    if os.time() > deadline then
      progress.clear()
      error(errors.new{ service = "batch", code = "Timeout", message = string.format(
        "pool %s still %s with %d nodes after %d s", id, tostring(p.allocationState), n, os.time() - started) }, 0)
    end
    progress.show(string.format("pool %s: %s, %d nodes (%d s)", id, tostring(p.allocationState), n, os.time() - started))
    self.sleep(opts.interval or 2)
  end
end

-- ---- jobs --------------------------------------------------------------------------------------------

function Client:add_job(body) return create(self, "/jobs", body, "JobExists") end
function Client:get_job(id, opts) return json_of(self:request("GET", "/jobs/" .. id_path(id), { query = odata(opts) })) end
-- Short names for the REPL: batch:pool("mpi-pool"), batch:job("mpi-job").
-- (wrappers, not the same functions, so help() tells the names apart)
function Client:pool(id, opts) return self:get_pool(id, opts) end
function Client:job(id, opts) return self:get_job(id, opts) end
function Client:jobs(opts) return self:list("/jobs", opts) end
function Client:list_jobs(opts) return collect(self:jobs(opts)) end

function Client:patch_job(id, body)
  return self:request("PATCH", "/jobs/" .. id_path(id), { body = body, expect = { 200 }, idempotent = true })
end

function Client:delete_job(id, opts)
  opts = opts or {}
  local found = delete(self, "/jobs/" .. id_path(id), { JobNotFound = true, JobBeingDeleted = true }, opts)
  if opts.wait then
    self:_wait_gone("job " .. id, function() return self:get_job(id, { select = "id,state" }) end, opts.timeout)
  end
  return found
end

function Client:terminate_job(id, reason)
  return self:request("POST", "/jobs/" .. id_path(id) .. "/terminate", {
    body = reason and { terminateReason = reason } or nil, expect = { 202 }, idempotent = true,
    on_replay = function(e) return e.code == "JobCompleted" or e.code == "JobBeingTerminated" end })
end

-- → taskCounts {active, running, completed, succeeded, failed}, taskSlotCounts
function Client:task_counts(job)
  local r = json_of(self:request("GET", "/jobs/" .. id_path(job) .. "/taskcounts")) or {}
  return r.taskCounts or {}, r.taskSlotCounts
end

-- ---- files ------------------------------------------------------------------------------------------

local function file_path(job, task, path)
  -- keep "/" in the file path: it names a file under the task directory (wd/out.txt)
  return "/jobs/" .. id_path(job) .. "/tasks/" .. id_path(task) .. "/files/" .. url.encode(path, "/")
end

function Client:files(job, task, opts)
  opts = opts or {}
  local q = odata(opts)
  if opts.recursive then q.recursive = "true" end
  return self:list("/jobs/" .. id_path(job) .. "/tasks/" .. id_path(task) .. "/files", { query = q })
end

function Client:read_file(job, task, path)
  return self:request("GET", file_path(job, task, path), { expect = { 200, 206 } }).body
end

-- Streams the file to dest (never whole in memory); returns the byte count.
function Client:download_file(job, task, path, dest)
  local res = self:request("GET", file_path(job, task, path), { output = dest, expect = { 200, 206 } })
  return res.bytes_received or tonumber(res.headers["content-length"])
end

-- → {content_length=, last_modified=, creation_time=, is_directory=, file_mode=, url=, headers=}
function Client:file_properties(job, task, path)
  local res = self:request("HEAD", file_path(job, task, path), { expect = { 200 } })
  local h = res.headers
  return { content_length = tonumber(h["content-length"]), last_modified = h["last-modified"],
           creation_time = h["ocp-creation-time"], is_directory = h["ocp-batch-file-isdirectory"] == "true",
           file_mode = h["ocp-batch-file-mode"], url = h["ocp-batch-file-url"], headers = h }
end

require("azure.batch.tasks").install(Client, M)
local bodies = require "azure.batch.bodies"
for k, v in pairs(bodies) do M[k] = v end

return M
