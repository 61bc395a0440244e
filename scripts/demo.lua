-- A first look at azlua: the built-in modules, no network needed.
local azure = require "azure"
print(("azlua %s on %s"):format(azure.version, _VERSION))
local doc = azure.json.decode('{"pool":{"id":"mpi-pool","targetDedicatedNodes":2,"vmSize":"Standard_D2s_v3"}}')
print("decoded pool id:", doc.pool.id, "nodes:", doc.pool.targetDedicatedNodes)
print("re-encoded:", azure.json.encode(doc))
local crypto = azure.crypto
print("sha256('abc') =", crypto.hex(crypto.sha256("abc")))
print("x-ms-date:", azure.time.rfc1123(0))
azure.pretty.print({ resource_group = "group-centrale-supelec", storage = "as03centralesupelec", batch = "ab03centralesupelec" })
