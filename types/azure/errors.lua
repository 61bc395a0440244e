---@meta
-- Generated from lua/azure/docs/azure.lua by azure.docs.stubs: do not edit.

---The error object: status, code, message, request_id, details, retry_after.
---@class azure.errors
local errors = {}

---Whether e is an azure error (with that code or status).
---@param e any
---@param code? string|integer|string[]
---@return boolean
function errors.is(e, code) end

---A new error object.
---@param t table
---@return table
function errors.new(t) end
return errors
