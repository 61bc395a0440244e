-- Listing 12,000 blobs against Azurite: uploaded fast (empty Put Blobs, many in flight), then listed
-- over three pages of NextMarker, lazily (a page is fetched only when the previous one is used up).
local t = dofile("tests/lua/lib/testing.lua")
local azurite = dofile("tests/lua/lib/azurite.lua")
local blob = require "azure.blob"
local http = require "azure.core.http"

local N = 12000

t.test("12,000 blobs listed lazily over NextMarker", function()
  local srv = azurite.start_or_skip(t)
  local c = blob.service { connection_string = srv.connection_string }:container("many")
  c:create()
  local items = {}
  for i = 1, N do items[i] = { name = string.format("p/%05d", i), data = "" } end
  local t0 = os.time()
  t.eq(c:upload_many(items, { concurrency = 32 }), N)
  print(string.format("uploaded %d empty blobs in ~%d s", N, os.time() - t0))
  local before = http.stats().requests
  local it = c:blobs { prefix = "p/" }
  local first = it()
  t.eq(first.name, "p/00001")
  t.eq(http.stats().requests - before, 1, "one page fetched for the first item")
  local n, prev = 1, first.name
  for b in it do
    n = n + 1
    t.ok(b.name > prev, "sorted")
    prev = b.name
    t.eq(b.size, 0)
  end
  t.eq(n, N)
  t.eq(http.stats().requests - before, 3, "three pages of 5000")
  t.eq(#c:list { prefix = "p/1", page_size = 1000 }, 2001) -- p/1, p/10000 … p/12000 (names are %05d)
end)

t.run()
