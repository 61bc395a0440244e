-- Listing without a server (the pipeline's transport seam answers with canned XML): NextMarker
-- paging is lazy and passes the marker back, names with Encoded="true" are decoded, prefixes and
-- metadata come through, and the query is signed as sent.
local t = dofile("tests/lua/lib/testing.lua")
local blob = require "azure.blob"

local KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="

local function page(names, next_marker, prefixes)
  local parts = { '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://a.blob.core.windows.net/" ContainerName="c"><Blobs>' }
  for _, n in ipairs(prefixes or {}) do parts[#parts + 1] = "<BlobPrefix><Name>" .. n .. "</Name></BlobPrefix>" end
  for _, n in ipairs(names) do
    local name = type(n) == "table" and ('<Name Encoded="true">' .. n[1] .. "</Name>") or ("<Name>" .. n .. "</Name>")
    parts[#parts + 1] = "<Blob>" .. name .. "<Properties><Content-Length>3</Content-Length><Etag>0x1</Etag>" ..
        "<BlobType>BlockBlob</BlobType></Properties><Metadata><k>v</k></Metadata></Blob>"
  end
  parts[#parts + 1] = "</Blobs><NextMarker>" .. (next_marker or "") .. "</NextMarker></EnumerationResults>"
  return table.concat(parts)
end

local function fake(pages)
  local log = {}
  local transport = {
    request = function(req)
      log[#log + 1] = req
      local marker = req.url:match("[?&]marker=([^&]*)") or ""
      return { status = 200, headers = { ["content-type"] = "application/xml" }, body = pages[marker] }
    end,
  }
  return log, transport
end

t.test("lazy paging over NextMarker, marker sent back, Encoded names decoded", function()
  local log, transport = fake {
    [""] = page({ "a", { "b%01c" } }, "2!m/x"),
    ["2%21m%2Fx"] = page({ "d" }, "", { "dir/" }),
  }
  local c = blob.container { url = "https://a.blob.core.windows.net/c", key = KEY, transport = transport }
  local it = c:blobs { prefix = "p q", include = { "metadata", "snapshots" }, page_size = 2 }
  local first = it()
  t.eq(#log, 1, "one request for the first item")
  t.eq(first.name, "a"); t.eq(first.size, 3); t.eq(first.metadata, { k = "v" }); t.eq(first.etag, "0x1")
  t.eq(it().name, "b\1c", "Encoded=true name decoded")
  t.eq(#log, 1)
  local third = it()
  t.eq(#log, 2, "second page fetched when the first ran out")
  t.eq(third, { name = "dir/", prefix = true })
  t.eq(it().name, "d")
  t.eq(it(), nil)
  t.eq(#log, 2)
  local u = log[1].url
  t.match(u, "restype=container"); t.match(u, "comp=list"); t.match(u, "prefix=p%%20q")
  t.match(u, "include=metadata%%2Csnapshots"); t.match(u, "maxresults=2")
  t.match(log[2].url, "marker=2%%21m%%2Fx")
  -- every attempt is signed with the query as sent
  t.match(log[2].headers.Authorization, "^SharedKey a:")
  t.eq(log[2].headers["x-ms-version"], "2025-11-05")
end)

t.test("x-ms-version is configurable", function()
  local log, transport = fake { [""] = page({}, "") }
  local c = blob.container { url = "https://a.blob.core.windows.net/c", key = KEY, transport = transport,
    version = "2021-12-02" }
  t.eq(#c:list(), 0)
  t.eq(log[1].headers["x-ms-version"], "2021-12-02")
  t.match(c:sas { permissions = "r", expiry = 0 }, "sv=2021%-12%-02")
end)

t.run()
