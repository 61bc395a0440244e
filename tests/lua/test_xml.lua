local t = dofile("tests/lua/lib/testing.lua")
local xml = require("azure").xml

local function blob_list(n, marker)
  local parts = { '\239\187\191<?xml version="1.0" encoding="utf-8"?>',
    '<EnumerationResults ServiceEndpoint="https://acct.blob.core.windows.net/" ContainerName="results">',
    "<Prefix>out/</Prefix><MaxResults>5000</MaxResults><Blobs>" }
  for i = 1, n do
    parts[#parts + 1] = ("<Blob><Name>out/part &amp; %05d.bin</Name><Properties>"
      .. "<Creation-Time>Mon, 01 Jan 2024 00:00:00 GMT</Creation-Time><Last-Modified>Mon, 01 Jan 2024 00:00:00 GMT</Last-Modified>"
      .. "<Etag>0x8DC0000%05d</Etag><Content-Length>%d</Content-Length><Content-Type>application/octet-stream</Content-Type>"
      .. "<Content-MD5>1B2M2Y8AsgTpgAmY7PhCfg==</Content-MD5><BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus>"
      .. "</Properties><Metadata><run>%d</run></Metadata></Blob>"):format(i, i, i * 10, i)
  end
  parts[#parts + 1] = "</Blobs><NextMarker>" .. (marker or "") .. "</NextMarker></EnumerationResults>"
  return table.concat(parts)
end

t.test("Blob list result", function()
  local r = xml.parse(blob_list(3, "2!72!MDAwMDE"))
  t.eq(r.name, "EnumerationResults")
  t.eq(r.attrs, { ServiceEndpoint = "https://acct.blob.core.windows.net/", ContainerName = "results" })
  t.eq(xml.text(r, "Prefix"), "out/")
  t.eq(xml.text(r, "NextMarker"), "2!72!MDAwMDE")
  local blobs = xml.children(xml.find(r, "Blobs"), "Blob")
  t.eq(#blobs, 3)
  t.eq(xml.text(blobs[2], "Name"), "out/part & 00002.bin")
  t.eq(tonumber(xml.text(xml.find(blobs[3], "Properties"), "Content-Length")), 30)
  t.eq(xml.text(xml.find(blobs[1], "Metadata"), "run"), "1")
  t.eq(xml.text(r, "Missing"), nil)
  t.eq(xml.find(r, "Missing"), nil)
end)

t.test("12,000 entries", function()
  local doc = blob_list(12000)
  local a = os.clock()
  local r = xml.parse(doc)
  local blobs = xml.children(xml.find(r, "Blobs"), "Blob")
  t.eq(#blobs, 12000)
  t.eq(xml.text(blobs[12000], "Name"), "out/part & 12000.bin")
  t.eq(xml.text(r, "NextMarker"), "")
  t.ok(os.clock() - a < 10, "parsed in " .. (os.clock() - a) .. " s")
end)

t.test("elements, attributes, direct text", function()
  local r = xml.parse('<a x="1" y="&lt;2&gt;">one<b/>two<![CDATA[<three>]]><c>inner</c></a>')
  t.eq(r.attrs.y, "<2>")
  t.eq(r.text, "onetwo<three>")
  t.eq(#r, 2)
  t.eq(r[1].name, "b")
  t.eq(r[1].text, "")
  t.eq(r[1].attrs, {})
  t.eq(#xml.children(r), 2)
  t.eq(xml.text(r, "c"), "inner")
  t.eq(xml.parse("<é>ü</é>").text, "ü")
end)

t.test("service error body", function()
  local r = xml.parse('<?xml version="1.0" encoding="utf-8"?><Error><Code>ContainerNotFound</Code>'
    .. "<Message>The specified container does not exist.\nRequestId:abc\nTime:2024-01-01T00:00:00.0000000Z</Message></Error>")
  t.eq(xml.text(r, "Code"), "ContainerNotFound")
  t.match(xml.text(r, "Message"), "RequestId:abc")
end)

t.test("BOM tolerated", function()
  t.eq(xml.parse("\239\187\191<a>x</a>").text, "x")
end)

t.test("entity bomb and DTDs refused", function()
  local bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
  local prev = "lol"
  for i = 1, 9 do
    bomb = bomb .. ('<!ENTITY lol%d "%s">'):format(i, ("&" .. prev .. ";"):rep(10))
    prev = "lol" .. i
  end
  bomb = bomb .. "]><lolz>&lol9;</lolz>"
  t.raises(function() xml.parse(bomb) end, "^xml: DOCTYPE not allowed at line 1")
  t.raises(function() xml.parse('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>') end, "DOCTYPE not allowed")
  t.raises(function() xml.parse("<a>&ext;</a>") end, "undefined entity")
end)

t.test("errors say where", function()
  t.raises(function() xml.parse("<a>\n  <b></a>") end, "^xml: mismatched tag at line 2 column 8$")
  t.raises(function() xml.parse("") end, "^xml: no element found")
  t.raises(function() xml.parse("<a></a><b/>") end, "junk after document element")
  t.raises(function() xml.parse(string.rep("<a>", 300)) end, "nesting too deep")
end)

t.test("escape", function()
  t.eq(xml.escape([[<Block>a&b"c'd</Block>]]), "&lt;Block&gt;a&amp;b&quot;c&apos;d&lt;/Block&gt;")
  t.eq(xml.escape("plain é"), "plain é")
  local body = "<BlockList><Latest>" .. xml.escape("x&y") .. "</Latest></BlockList>"
  t.eq(xml.text(xml.parse(body), "Latest"), "x&y")
end)

t.run()
