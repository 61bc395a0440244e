-- azure.output: json, table and tsv renderings of resources.
local t = dofile("tests/lua/lib/testing.lua")
local output = require "azure.output"
local json = require "azure.core.json"

local pools = {
  { id = "mpi-pool", state = "active", vmSize = "standard_d2s_v3", currentDedicatedNodes = 2,
    virtualMachineConfiguration = { nodeAgentSKUId = "batch.node.ubuntu 22.04" } },
  { id = "p2", state = "deleting", vmSize = "standard_a1", currentDedicatedNodes = 0, resizeErrors = json.null },
}

t.test("table: identity columns first, scalar fields only, aligned", function()
  local s = output.format(pools, "table")
  t.eq(s, table.concat({
    "id        state     currentDedicatedNodes  vmSize",
    "--------  --------  ---------------------  ---------------",
    "mpi-pool  active    2                      standard_d2s_v3",
    "p2        deleting  0                      standard_a1",
  }, "\n") .. "\n")
end)

t.test("table: one record as field/value, nested shown as compact JSON, null empty", function()
  local s = output.format({ id = "j1", poolInfo = { poolId = "p" }, onAllTasksComplete = json.null }, "table")
  t.eq(s, "field               value\n------------------  --------------\nid                  j1\nonAllTasksComplete  \npoolInfo            {\"poolId\":\"p\"}\n")
end)

t.test("table: wide columns are cut to the width with an ellipsis", function()
  local s = output.format({ { id = string.rep("x", 60), state = "ok" } }, "table", { width = 30 })
  for line in s:gmatch("[^\n]+") do t.ok(utf8.len(line) <= 30, "line fits: " .. line) end
  t.match(s, "x…  ok")
end)

t.test("table: unicode aligns by code points; empty list says so", function()
  local s = output.format({ { id = "é", n = 1 }, { id = "ab", n = 2 } }, "table", { columns = { "id", "n" } })
  t.match(s, "\né   1\n")
  t.eq(output.format(json.array({}), "table"), "(no items)\n")
end)

t.test("tsv: no header, tabs, one line per record, newlines flattened", function()
  t.eq(output.format(pools, "tsv"), "mpi-pool\tactive\t2\tstandard_d2s_v3\np2\tdeleting\t0\tstandard_a1\n")
  t.eq(output.format({ "a", "b\nc" }, "tsv"), "a\nb c\n")
end)

t.test("json: indented, round-trips, nulls kept", function()
  local s = output.format(pools, "json")
  local back = json.decode(s)
  t.eq(back[2].resizeErrors, json.null)
  t.eq(back[1].virtualMachineConfiguration.nodeAgentSKUId, "batch.node.ubuntu 22.04")
  t.match(s, "\n  ")
end)

t.test("unknown format is an error naming the choices", function()
  t.raises(function() output.format({}, "xml") end, "must be json, table or tsv")
end)

t.run()
