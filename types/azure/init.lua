---@meta
-- Generated from lua/azure/docs/azure.lua by azure.docs.stubs: do not edit.

---azlua's top module: every submodule, loaded on first use (azure.batch, azure.arm, …).
---@class azure
---@field version string azlua's version
---@field batch azure.batch
---@field arm azure.arm
---@field blob azure.blob
---@field identity azure.identity
---@field output azure.output
local azure = {}
return azure
