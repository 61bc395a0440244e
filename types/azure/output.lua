---@meta
-- Generated from lua/azure/docs/azure.lua by azure.docs.stubs: do not edit.

---Results as json, table or tsv, like az's -o. The module is callable.
---@class azure.output
---@overload fun(value: any, fmt?: "json"|"table"|"tsv", opts?: {columns?: string[], width?: integer})
local output = {}

---The text of value in that format; columns may be dotted ("executionInfo.exitCode").
---@param value any
---@param fmt? "json"|"table"|"tsv"
---@param opts? {columns?: string[], width?: integer}
---@return string
function output.format(value, fmt, opts) end

---Writes format(value, fmt, opts) to stdout.
---@param value any
---@param fmt? string
---@param opts? table
function output.print(value, fmt, opts) end

---Adds -o/--output {json,table,tsv} to an azure.cli parser.
---@param parser table
---@param default? string
---@return table
function output.add_option(parser, default) end
return output
