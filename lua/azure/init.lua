-- The top-level module: `require "azure"` gives the version and every submodule, each loaded
-- on first use so that start-up costs nothing a script does not touch.
local M = { version = "0.1.0" }

-- Public name → module that implements it.
local submodules = {
  json = "azure.json",
  http = "azure.core.http",
  xml = "azure.core.xml",
  crypto = "azure.core.crypto",
  time = "azure.core.time",
  pretty = "azure.pretty",
  output = "azure.output", -- callable: azure.output(value, "json"|"table"|"tsv")
  identity = "azure.identity",
  arm = "azure.arm",
  batch = "azure.batch",
  blob = "azure.blob",
  cloud = "azure.cloud",
  pipeline = "azure.pipeline",
  errors = "azure.errors",
}

return setmetatable(M, {
  __complete = submodules, -- lets the REPL offer azure.<Tab> names without loading them
  __index = function(t, k)
    local name = submodules[k]
    if not name then return nil end
    local mod = require(name)
    rawset(t, k, mod)
    return mod
  end,
})
