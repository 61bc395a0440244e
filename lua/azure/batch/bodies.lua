-- azure.batch.bodies: builders for the request bodies people write most. They return plain tables
-- with the REST field names, so the result can be edited before it is sent.
--
--   batch.autoscale_pool{id=, vmSize=, image=(from pick_ubuntu_image), formula=, interval="PT5M",
--                        inter_node=true, start_task="cmd" | {…}, max_nodes=2}
--   batch.job_with_prep{id=, pool_id=, prep="cmd" | {…}, release=nil, on_all_tasks_complete="noaction"}
--   batch.multi_instance_task{id=, command=, instances=2, coordination="cmd", common_files={…},
--                             output_container_url=(container SAS URL), output_path=id, output_pattern="../std*.txt"}
local M = {}

-- 0..max dedicated nodes driven by pending work, back to 0 when idle (reference batch.md §6).
function M.autoscale_formula(max_nodes)
  return table.concat({
    "$pct = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 3);",
    "$pending = $pct < 70 ? max(0, $PendingTasks.GetSample(1)) : "
      .. "max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 3)));",
    "$TargetDedicatedNodes = min(" .. tostring(max_nodes or 2) .. ", $pending);",
    "$TargetLowPriorityNodes = 0;",
    "$NodeDeallocationOption = taskcompletion;",
  }, "\n")
end

local function as_task(t)
  if type(t) == "string" then
    return { commandLine = t, waitForSuccess = true,
             userIdentity = { autoUser = { scope = "pool", elevationLevel = "admin" } } }
  end
  return t
end

function M.autoscale_pool(o)
  assert(type(o) == "table" and o.id and o.vmSize, "autoscale_pool: id and vmSize are required")
  assert(o.image and o.image.imageReference, "autoscale_pool: image (from pick_ubuntu_image) is required")
  local inter_node = o.inter_node ~= false
  local body = {
    id = o.id, vmSize = o.vmSize,
    virtualMachineConfiguration = { imageReference = o.image.imageReference, nodeAgentSKUId = o.image.nodeAgentSKUId },
    enableAutoScale = true,
    autoScaleFormula = o.formula or M.autoscale_formula(o.max_nodes),
    autoScaleEvaluationInterval = o.interval or "PT5M",
    enableInterNodeCommunication = inter_node,
    -- multi-instance tasks need one slot per node
    taskSlotsPerNode = inter_node and 1 or o.task_slots,
  }
  if o.start_task then body.startTask = as_task(o.start_task) end
  return body
end

function M.job_with_prep(o)
  assert(type(o) == "table" and o.id and o.pool_id, "job_with_prep: id and pool_id are required")
  local body = { id = o.id, poolInfo = { poolId = o.pool_id }, onAllTasksComplete = o.on_all_tasks_complete or "noaction" }
  if o.prep then
    local p = as_task(o.prep)
    p.rerunOnNodeRebootAfterSuccess = p.rerunOnNodeRebootAfterSuccess ~= false
    body.jobPreparationTask = p
  end
  if o.release then
    local r = as_task(o.release)
    r.waitForSuccess = nil -- not a field of JobReleaseTask
    body.jobReleaseTask = r
  end
  if o.constraints then body.constraints = o.constraints end
  return body
end

function M.multi_instance_task(o)
  assert(type(o) == "table" and o.id and o.command, "multi_instance_task: id and command are required")
  local body = {
    id = o.id, commandLine = o.command, requiredSlots = 1,
    multiInstanceSettings = {
      numberOfInstances = o.instances or 2,
      coordinationCommandLine = o.coordination or "/bin/true",
      commonResourceFiles = o.common_files,
    },
    userIdentity = { autoUser = { scope = "pool", elevationLevel = "nonadmin" } },
    constraints = o.constraints or { maxTaskRetryCount = 0 },
  }
  if o.output_container_url then
    body.outputFiles = { {
      filePattern = o.output_pattern or "../std*.txt",
      destination = { container = { containerUrl = o.output_container_url, path = o.output_path or o.id } },
      uploadOptions = { uploadCondition = o.upload_condition or "taskcompletion" },
    } }
  end
  if o.resource_files then body.resourceFiles = o.resource_files end
  return body
end

return M
