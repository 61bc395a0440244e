-- azure.batch.tasks: tasks, including adding any number of them fast and safely.
--
--   b:add_task(job, body)
--   b:add_tasks(job, list, {chunk=100, concurrency=8, progress=fn(done, total)})
--     → {added=n, total=n, failed={{id=, code=, message=}, …}} — per-task failures are reported,
--       not raised. Chunks of 100 (the service's limit) go several at a time through send_many; a chunk
--       answered 413 RequestBodyTooLarge is halved; servererror tasks are sent again; TaskExists for a
--       task already sent once (a lost response) counts as added, so retries never duplicate tasks.
--   b:get_task(job, id, opts), b:tasks(job, {select=, filter=, expand=}) (lazy), b:list_tasks(job, opts)
--   b:subtasks(job, id), b:delete_task(job, id), b:terminate_task(job, id)
--   b:wait_tasks(job, {timeout=, interval=, progress=true}) → task counts once every task completed
local errors = require "azure.errors"
local url = require "azure.url"
local progress = require "azure.progress"

local M = {}

local function json_of(res)
  local j = res.json
  if j == false then return nil end
  return j
end

function M.install(Client, batch)
  local function tasks_path(job) return "/jobs/" .. url.encode(job) .. "/tasks" end
  local function task_path(job, id) return tasks_path(job) .. "/" .. url.encode(id) end

  function Client:add_task(job, body)
    return self:request("POST", tasks_path(job), { body = body, expect = { 201 }, idempotent = true,
      on_replay = function(e) return e.code == "TaskExists" end })
  end

  function Client:get_task(job, id, opts)
    return json_of(self:request("GET", task_path(job, id), { query = batch.odata(opts) }))
  end

  function Client:tasks(job, opts) return self:list(tasks_path(job), opts) end
  function Client:list_tasks(job, opts) return batch.collect(self:tasks(job, opts)) end

  function Client:subtasks(job, id)
    return batch.collect(self:list(task_path(job, id) .. "/subtasksinfo"))
  end

  function Client:delete_task(job, id)
    local ok, e = pcall(self.request, self, "DELETE", task_path(job, id), { expect = { 200 },
      on_replay = function(err) return err.code == "TaskNotFound" end })
    if not ok then
      if errors.is(e, "TaskNotFound") then return false end
      error(e, 0)
    end
    return true
  end

  function Client:terminate_task(job, id)
    return self:request("POST", task_path(job, id) .. "/terminate", { expect = { 204 }, idempotent = true,
      on_replay = function(e) return e.code == "TaskCompleted" end })
  end

  function Client:add_tasks(job, list, opts)
    opts = opts or {}
    local chunk_size = math.min(opts.chunk or 100, 100)
    local max_rounds = opts.max_rounds or 8
    local json = require "azure.core.json"
    local total = #list
    local sent = {}      -- task id → times sent (TaskExists after the first send = it landed)
    local added, failed = 0, {}
    local pending = {}   -- chunks (arrays of task bodies) still to send
    for i = 1, total, chunk_size do
      local c = {}
      for j = i, math.min(i + chunk_size - 1, total) do c[#c + 1] = list[j] end
      pending[#pending + 1] = c
    end
    local round = 0
    local path = self:url("/jobs/" .. url.encode(job) .. "/addtaskcollection")
    while #pending > 0 do
      round = round + 1
      local reqs = {}
      for i, c in ipairs(pending) do
        reqs[i] = { method = "POST", url = path, body = json.encode{ value = json.array(c) },
                    headers = { ["Content-Type"] = "application/json; odata=minimalmetadata" },
                    idempotent = true, expect = { 200 } }
        for _, task in ipairs(c) do sent[task.id] = (sent[task.id] or 0) + 1 end
      end
      local results = self.pipeline:send_many(reqs, { concurrency = opts.concurrency or 8 })
      local again = {}
      local retry_later = {}
      for i, r in ipairs(results) do
        local c = pending[i]
        if errors.is(r) then
          -- Too large: halve. A 400 for the whole chunk (one malformed task): halve too, until the
          -- bad task stands alone and is reported by itself while the others are added.
          if #c > 1 and (r.code == "RequestBodyTooLarge" or r.status == 400) then
            local half = #c // 2
            again[#again + 1] = table.move(c, 1, half, 1, {})
            again[#again + 1] = table.move(c, half + 1, #c, 1, {})
          else
            for _, task in ipairs(c) do
              failed[#failed + 1] = { id = task.id, code = r.code, message = tostring(r), status = r.status }
            end
          end
        else
          local by_id = {}
          for _, task in ipairs(c) do by_id[task.id] = task end
          local body = json_of(r) or {}
          local seen = {}
          for _, tr in ipairs(body.value or {}) do
            local task = by_id[tr.taskId]
            seen[tr.taskId] = true
            local code = type(tr.error) == "table" and tr.error.code or nil
            if tr.status == "success" then
              added = added + 1
            elseif code == "TaskExists" and ((sent[tr.taskId] or 0) > 1 or r.attempts > 1 or r.resent) then
              added = added + 1 -- an earlier attempt (ours, or libcurl's own resend) landed; its answer was lost
            elseif tr.status == "servererror" and task then
              retry_later[#retry_later + 1] = task
            else
              local msg = type(tr.error) == "table" and tr.error.message or nil
              if type(msg) == "table" then msg = msg.value end
              failed[#failed + 1] = { id = tr.taskId, code = code or tr.status, message = msg and msg:match("^[^\n]*") }
            end
          end
          -- Tasks the answer did not mention were not processed: send them again.
          for _, task in ipairs(c) do
            if not seen[task.id] then retry_later[#retry_later + 1] = task end
          end
        end
      end
      for i = 1, #retry_later, chunk_size do
        again[#again + 1] = table.move(retry_later, i, math.min(i + chunk_size - 1, #retry_later), 1, {})
      end
      if opts.progress then opts.progress(added + #failed, total) end
      if #again > 0 and round >= max_rounds then
        for _, c in ipairs(again) do
          for _, task in ipairs(c) do
            failed[#failed + 1] = { id = task.id, code = "ServerError", message = "still failing after " .. round .. " rounds" }
          end
        end
        again = {}
      elseif #retry_later > 0 then
        self.sleep(math.min(2 ^ round * 0.25, 10) * math.random())
      end
      pending = again
    end
    return { added = added, total = total, failed = failed }
  end

  -- Waits until every task of the job completed. Task counts are cheap but may lag, so a final list
  -- query with $filter confirms before returning.
  function Client:wait_tasks(job, opts)
    opts = opts or {}
    local started = os.time()
    local deadline = started + (opts.timeout or 3600)
    while true do
      local c = self:task_counts(job)
      local active, running = c.active or 0, c.running or 0
      if active + running == 0 then
        local left = self:tasks(job, { filter = "state ne 'completed'", select = "id" })()
        if not left then progress.clear(); return c end
      end
      if os.time() > deadline then
        progress.clear()
        error(errors.new{ service = "batch", code = "Timeout", message = string.format(
          "job %s: %d active, %d running after %d s (%d completed, %d failed)", job, active, running,
          os.time() - started, c.completed or 0, c.failed or 0) }, 0)
      end
      if opts.progress ~= false then
        progress.show(string.format("job %s: %d active, %d running, %d completed (%d failed) — %d s", job, active,
          running, c.completed or 0, c.failed or 0, os.time() - started))
      end
      self.sleep(opts.interval or 1)
    end
  end
end

return M
