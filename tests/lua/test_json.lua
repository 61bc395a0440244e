local t = dofile("tests/lua/lib/testing.lua")
local json = require("azure").json

t.test("done criterion", function() t.eq(json.encode({ a = { 1, 2 } }), '{"a":[1,2]}') end)

t.test("int64 extremes and 2^53+1 stay exact", function()
  for _, s in ipairs({ "9223372036854775807", "-9223372036854775808", "9007199254740993", "0", "-1" }) do
    local v = json.decode(s)
    t.eq(math.type(v), "integer", s)
    t.eq(json.encode(v), s)
  end
  t.eq(json.decode("9223372036854775807"), math.maxinteger)
  t.eq(json.decode("-9223372036854775808"), math.mininteger)
end)

t.test("floats round-trip", function()
  for _, x in ipairs({ 1.5, 0.1, 1e300, -1e-300, 123456.789, 2 ^ 60 + 0.0, 1 / 3 }) do
    local back = json.decode(json.encode(x))
    t.eq(math.type(back), "float")
    t.ok(back == x, "round trip of " .. tostring(x))
  end
  t.eq(json.encode(0.1), "0.1")
  t.eq(json.encode(1e300), "1e+300")
  t.eq(json.encode(-0.0), "-0.0")
  t.ok(1 / json.decode("-0.0") < 0, "negative zero keeps its sign")
  t.raises(function() json.encode(0 / 0) end, "NaN")
  t.raises(function() json.encode({ x = -math.huge }) end, "infinity")
end)

t.test("null inside arrays and objects", function()
  local v = json.decode('[1,null,3,{"a":null}]')
  t.eq(#v, 4)
  t.ok(v[2] == json.null)
  t.ok(v[4].a == json.null)
  t.eq(json.encode(v), '[1,null,3,{"a":null}]')
  t.eq(json.decode("null"), json.null)
end)

t.test("empty array and object markers round-trip", function()
  t.eq(json.encode({}), "{}")
  t.eq(json.encode(json.array({})), "[]")
  t.eq(json.encode(json.array()), "[]")
  t.eq(json.encode(json.object({})), "{}")
  t.eq(json.encode(json.decode("[]")), "[]")
  t.eq(json.encode(json.decode('{"a":[],"b":{}}'), { sort_keys = true }), '{"a":[],"b":{}}')
  t.ok(json.is_array(json.decode("[]")))
  t.ok(json.is_array({ 1, 2 }))
  t.ok(not json.is_array({}))
  t.ok(not json.is_array({ a = 1 }))
  local own = setmetatable({}, { __jsontype = "array" })
  t.eq(json.encode(own), "[]")
  t.raises(function() json.array(setmetatable({}, {})) end, "already has a metatable")
end)

t.test("mixed and sparse tables are refused", function()
  t.raises(function() json.encode({ 1, 2, x = 3 }) end, "both array and object keys")
  t.raises(function() json.encode({ [1] = 1, [3] = 3 }) end, "sparse array")
  t.raises(function() json.encode({ [1.5] = 1 }) end, "key of type number")
  t.raises(function() json.encode(json.object({ 1 })) end, "key must be a string")
  t.raises(function() json.encode({ f = print }) end, "cannot encode a function")
end)

t.test("unicode escapes, surrogate pairs, UTF-8 pass-through", function()
  t.eq(json.decode('"\\u00e9\\u20ac\\ud83d\\ude00"'), "é€😀")
  t.eq(json.decode('"\\u0000"'), "\0")
  t.eq(json.decode('"a\\/b\\n\\t\\"\\\\"'), 'a/b\n\t"\\')
  t.eq(json.encode("é€😀/"), '"é€😀/"')
  t.eq(json.encode("\1\n\"\\\127"), '"\\u0001\\n\\"\\\\\127"')
  t.raises(function() json.decode('"\\ud83d"') end, "lone high surrogate")
  t.raises(function() json.decode('"\\ude00"') end, "lone low surrogate")
  t.raises(function() json.decode('"\\u12g4"') end, "invalid \\u escape")
end)

t.test("invalid UTF-8 is rejected", function()
  t.raises(function() json.decode('"\xC0\xAF"') end, "invalid UTF%-8 in string at line 1 column 2")
  t.raises(function() json.decode('"\xED\xA0\x80"') end, "invalid UTF%-8")
  t.raises(function() json.decode('"\xF4\x90\x80\x80"') end, "invalid UTF%-8")
  t.raises(function() json.encode("\xFF") end, "invalid UTF%-8")
end)

t.test("strict grammar", function()
  for _, bad in ipairs({ "", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "[1 2]", "{a:1}", "'x'", "tru",
    "nul", "1e", "\"a\nb\"", "[1]x", "NaN", "Infinity" }) do
    t.raises(function() json.decode(bad) end, "^json: ")
  end
  t.eq(json.decode(" \t\r\n[ 1 , 2 ]\n"), json.array({ 1, 2 }))
  t.eq(json.decode("\239\187\191{}"), {})
  t.eq(json.decode("1E+2"), 100.0)
end)

t.test("error positions", function()
  t.raises(function() json.decode('{\n  "a": 1,\n  "b": x\n}') end,
    "^json: unexpected character 'x' at line 3 column 8 %(byte 20%)$")
  t.raises(function() json.decode("[1,2") end, "unexpected end of input at line 1 column 5")
end)

t.test("depth limit", function()
  t.raises(function() json.decode(string.rep("[", 5000) .. string.rep("]", 5000)) end, "nesting deeper than 1000")
  t.eq(#json.encode(json.decode(string.rep("[", 1000) .. string.rep("]", 1000))), 2000)
  t.raises(function() json.decode("[[[]]]", { max_depth = 2 }) end, "nesting deeper than 2")
  local cyc = {}
  cyc.self = cyc
  t.raises(function() json.encode(cyc) end, "contains itself")
end)

t.test("indent and sort_keys", function()
  t.eq(json.encode({ b = 1, a = { 1, json.array() } }, { indent = true, sort_keys = true }),
    '{\n  "a": [\n    1,\n    []\n  ],\n  "b": 1\n}')
  t.eq(json.encode({ z = 1, y = 2, x = 3 }, { sort_keys = true }), '{"x":3,"y":2,"z":1}')
end)

t.test("a 50 MB document decodes and encodes", function()
  local item = '{"id":"task-%d","state":"completed","exitCode":0,"nodeInfo":{"poolId":"mpi-pool",'
    .. '"nodeUrl":"https://acct.centralus.batch.azure.com/pools/mpi-pool/nodes/tvm-%d"},"tags":["a","b",null]}'
  local parts = {}
  local n = 0
  local size = 0
  while size < 50 * 1024 * 1024 do
    n = n + 1
    local s = item:format(n, n)
    parts[n] = s
    size = size + #s + 1
  end
  local doc = "[" .. table.concat(parts, ",") .. "]"
  parts = nil
  local v = json.decode(doc)
  t.eq(#v, n)
  t.eq(v[n].id, "task-" .. n)
  local again = json.encode(v)
  t.eq(#again, #doc)
  t.eq(json.decode(again)[1].nodeInfo.poolId, "mpi-pool")
end)

t.run()
