local t = dofile("tests/lua/lib/testing.lua")
local c = require("azure").crypto

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local FIX = "tests/fixtures/TEST-ONLY-rsa2048-"
local key, cert, pub = read(FIX .. "key.pem"), read(FIX .. "cert.pem"), read(FIX .. "pub.pem")

t.test("known-answer digests", function()
  t.eq(c.hex(c.sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  t.eq(c.hex(c.sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  t.eq(c.hex(c.md5("")), "d41d8cd98f00b204e9800998ecf8427e")
  t.eq(c.hex(c.md5("The quick brown fox jumps over the lazy dog")), "9e107d9d372bb6826bd81d3542a419d6")
  -- RFC 4231 test cases 1 and 2
  t.eq(c.hex(c.hmac_sha256(("\x0b"):rep(20), "Hi There")),
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
  t.eq(c.hex(c.hmac_sha256("Jefe", "what do ya want for nothing?")),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  t.eq(#c.sha256("x"), 32)
  t.eq(c.hex("\0\255\16"), "00ff10")
end)

t.test("base64 of 0x00..0x3f and strictness", function()
  local bytes = {}
  for i = 0, 63 do bytes[#bytes + 1] = string.char(i) end
  local s = table.concat(bytes)
  local want = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
  t.eq(c.base64_encode(s), want)
  t.eq(c.base64_decode(want), s)
  t.eq(c.base64url_encode(s), want:gsub("%+", "-"):gsub("/", "_"):gsub("=", ""), "url alphabet, no padding")
  t.eq(c.base64url_decode(c.base64url_encode(s)), s)
  t.eq(c.base64_encode(""), "")
  t.eq(c.base64_decode(""), "")
  for _, bad in ipairs({ "A", "AA", "AA=", "A===", "AB==", "Zm9v YmFy", "Zm9v\n", "Zm9-", "====" }) do
    local v, err = c.base64_decode(bad)
    t.eq(v, nil, bad)
    t.eq(err, "invalid base64")
  end
  local v, err = c.base64url_decode("Zm9+")
  t.eq(v, nil)
  t.eq(err, "invalid base64url")
end)

t.test("random bytes and uuid4", function()
  t.eq(#c.random_bytes(0), 0)
  t.eq(#c.random_bytes(33), 33)
  t.ok(c.random_bytes(16) ~= c.random_bytes(16))
  local seen = {}
  for _ = 1, 200 do
    local u = c.uuid4()
    t.match(u, "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$")
    t.ok(u == u:lower())
    t.ok(not seen[u])
    seen[u] = true
  end
end)

t.test("incremental and file digests", function()
  t.eq(c.hasher("sha256"):update("a"):update("bc"):digest(), c.sha256("abc"))
  t.eq(c.hasher("md5"):digest(), c.md5(""))
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  local data = string.rep("0123456789abcdef", 10000) .. "tail"
  f:write(data)
  f:close()
  t.eq(c.sha256_file(path), c.sha256(data))
  t.eq(c.md5_file(path), c.md5(data))
  t.eq(c.md5_file(path, 100, 70000), c.md5(data:sub(101, 70100)))
  t.eq(c.md5_file(path, #data - 2), c.md5("il"))
  os.remove(path)
  local v, err = c.sha256_file(path)
  t.eq(v, nil)
  t.match(err, "No such file")
end)

t.test("RS256 and PS256 sign and verify", function()
  local sig = c.sign_rs256(key, "header.payload")
  t.eq(#sig, 256)
  t.eq(c.sign_rs256(key, "header.payload"), sig, "PKCS#1 v1.5 is deterministic")
  t.ok(c.verify_rs256(pub, "header.payload", sig))
  t.ok(c.verify_rs256(cert, "header.payload", sig))
  t.ok(not c.verify_rs256(pub, "header.payloaX", sig))
  local pss = c.sign_ps256(key, "header.payload")
  t.ok(pss ~= c.sign_ps256(key, "header.payload"), "PSS is salted")
  t.ok(c.verify_ps256(cert, "header.payload", pss))
  t.ok(not c.verify_rs256(cert, "header.payload", pss))
end)

t.test("sign agrees with the openssl CLI", function()
  local data = os.tmpname()
  local f = assert(io.open(data, "wb"))
  f:write("header.payload")
  f:close()
  local p = io.popen("openssl dgst -sha256 -sign " .. FIX .. "key.pem " .. data)
  local want = p:read("a")
  p:close()
  os.remove(data)
  t.eq(c.sign_rs256(key, "header.payload"), want)
end)

t.test("thumbprints match openssl x509 -fingerprint", function()
  for _, alg in ipairs({ "sha1", "sha256" }) do
    local p = io.popen("openssl x509 -in " .. FIX .. "cert.pem -noout -fingerprint -" .. alg)
    local line = p:read("a")
    p:close()
    local want = line:match("=([%x:]+)"):gsub(":", ""):lower()
    t.eq(c.hex(c.cert_thumbprint(cert, alg)), want, alg)
  end
  t.eq(c.cert_thumbprint(cert), c.cert_thumbprint(cert, "sha1"))
  local der = c.pem_cert_der(cert)
  t.eq(c.sha256(der), c.cert_thumbprint(cert, "sha256"))
  local body = cert:match("%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-(.-)%-%-%-%-%-END"):gsub("%s", "")
  t.eq(c.base64_encode(der), body)
end)

t.test("errors carry OpenSSL's reason, never the key", function()
  local err = t.raises(function() c.sign_rs256("not a key", "x") end, "^crypto: cannot read private key")
  local broken = key:sub(1, 200) .. "\n-----END PRIVATE KEY-----\n"
  err = t.raises(function() c.sign_rs256(broken, "x") end, "^crypto: ")
  t.ok(not tostring(err):find(key:sub(40, 80), 1, true), "no key material in the message")
  t.raises(function() c.cert_thumbprint(key) end, "^crypto: cannot read certificate")
  t.raises(function() c.cert_thumbprint(cert, "md5") end, "invalid option")
  t.raises(function() c.verify_rs256("junk", "x", "y") end, "^crypto: cannot read public key")
end)

t.run()
