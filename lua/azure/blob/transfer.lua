-- azure.blob.transfer: uploads (one Put Blob, or Put Block × N in parallel + Put Block List) and
-- downloads (parallel x-ms-range GETs written straight into the file at their offsets).
--
-- Memory stays flat whatever the size: a file block is sent as {file=, offset=, length=}, which the
-- transport streams from disk, and a range is written by the transport into the file; Lua never
-- holds a block. Each block/range is one pipeline request, so it is retried on its own by the one
-- retry policy. Requests go out in windows so that each is signed shortly before it is sent (the
-- service refuses an x-ms-date more than ~15 minutes old).
local url = require "azure.blob.url"
local props = require "azure.blob.props"
local meter = require "azure.blob.meter"

local M = {}

local MiB = 1024 * 1024
M.defaults = {
  block_size = 8 * MiB,       -- like azcopy
  max_blocks = 50000,         -- the service's limit on committed blocks
  max_block_size = 4000 * MiB,
  single_put_size = nil,      -- nil: the block size (a file that fits one block goes in one Put Blob)
  concurrency = nil,          -- nil: from the core count (see M.concurrency)
  -- Content-MD5 on every block / single put (the service verifies it). Off by default, as in azcopy
  -- and the SDKs: it costs ~1.4 s of CPU per GiB here and as much again on the server, and TLS
  -- already guards the bytes in transit. md5=true turns it on.
  md5 = false,
  window_bytes = 1024 * MiB,  -- bytes signed per send_many window (bounds signature age)
  -- Downloads written with O_DIRECT, past the page cache: far less kernel CPU for big files (filling
  -- the page cache is most of a download's cost) and nothing else evicted, but the file is not cached
  -- afterwards. "auto": for downloads of at least direct_min_size; true: always; false: never.
  direct = "auto",
  direct_min_size = 256 * MiB,
}

local function crypto() return require "azure.core.crypto" end

-- Online CPUs, asked once and only when a transfer starts.
local ncpu
local function cpus()
  if ncpu then return ncpu end
  local ok, sys = pcall(require, "azure.core.sys")
  if ok and sys.nproc then ncpu = sys.nproc() end
  if not ncpu then
    local f = io.open("/proc/cpuinfo", "r")
    local n = 0
    if f then
      for line in f:lines() do if line:match("^processor%s*:") then n = n + 1 end end
      f:close()
    end
    ncpu = n > 0 and n or 2
  end
  return ncpu
end

-- 4 requests in flight per core, between 4 and 32: a transfer waits on the network, not the CPU.
function M.concurrency(opts)
  if opts.concurrency then return math.max(1, math.floor(opts.concurrency)) end
  return math.max(4, math.min(32, 4 * cpus()))
end

-- The block size for a blob of `size` bytes: the requested size, grown (to whole MiB) when the
-- blob would otherwise need more than 50,000 blocks.
function M.block_size(size, opts)
  -- an integer, so offsets and lengths stay integers (8 * 2^20 is a float in Lua)
  local bs = math.floor(opts.block_size or M.defaults.block_size)
  local need = math.ceil(size / M.defaults.max_blocks)
  if need > bs then bs = math.ceil(need / MiB) * MiB end
  if bs < 1 then error("azure.blob: block_size must be at least 1", 3) end
  if bs > M.defaults.max_block_size then error("azure.blob: blob too large for 50,000 blocks", 3) end
  return bs
end

-- A call's options over the client's (blob.service{block_size=…}) over the defaults.
local function settings(ctx, opts)
  return setmetatable({}, { __index = function(_, k)
    local v = opts[k]
    if v == nil then v = ctx.options[k] end
    if v == nil then v = M.defaults[k] end
    return v
  end })
end

local function b64md5(raw, err)
  if not raw then error("azure.blob: " .. tostring(err), 0) end
  return crypto().base64_encode(raw)
end

local function file_size(path)
  local f, err = io.open(path, "rb")
  if not f then error("azure.blob: cannot open " .. tostring(path) .. ": " .. tostring(err), 4) end
  local size = f:seek("end")
  f:close()
  return size
end

-- Headers common to a Put Blob and a Put Block List: content type, metadata, overwrite guard.
local function blob_headers(opts, h)
  h = h or {}
  if opts.content_type then h["x-ms-blob-content-type"] = opts.content_type end
  if opts.content_encoding then h["x-ms-blob-content-encoding"] = opts.content_encoding end
  if opts.cache_control then h["x-ms-blob-cache-control"] = opts.cache_control end
  props.metadata_headers(opts.metadata, h, "blob upload")
  if opts.overwrite == false then h["If-None-Match"] = "*" end
  return h
end

-- Fixed-length block ids (the service wants every id of a blob to have the same length): a random
-- per-upload tag, so concurrent uploads of one name never mix blocks, and a zero-padded index.
local function block_ids(n)
  local tag = crypto().hex(crypto().random_bytes(5))
  local ids = {}
  for i = 1, n do ids[i] = crypto().base64_encode(tag .. string.format("%08d", i - 1)) end
  return ids
end

-- Runs reqs through the pipeline in windows; meter advances by each request's byte count.
local function run_windows(ctx, reqs, sizes, opts, m)
  local conc = M.concurrency(opts)
  local window_bytes = opts.window_bytes
  local window_count = conc * 64
  local i = 1
  while i <= #reqs do
    local batch, bytes = {}, 0
    while i <= #reqs and (#batch < conc or (bytes + sizes[i] <= window_bytes and #batch < window_count)) do
      batch[#batch + 1] = reqs[i]
      bytes = bytes + sizes[i]
      i = i + 1
    end
    local base = m.done
    -- Bytes moved so far in this window (a retry round counts from 0 again: never move back).
    ctx.on_bytes = function(sent, recv)
      local v = base + math.min(bytes, math.max(sent or 0, recv or 0))
      if v > m.done then m:set(v) end
    end
    local done, ok, err = pcall(ctx.send_many, ctx, batch, { concurrency = conc })
    ctx.on_bytes = nil
    if not done then error(ok, 0) end -- e.g. interrupted
    if not ok then return nil, err end
    m:set(base + bytes)
  end
  return true
end

local function commit(blob, ids, opts)
  local parts = { '<?xml version="1.0" encoding="utf-8"?><BlockList>' }
  for _, id in ipairs(ids) do parts[#parts + 1] = "<Latest>" .. id .. "</Latest>" end
  parts[#parts + 1] = "</BlockList>"
  local body = table.concat(parts)
  local h = blob_headers(opts, { ["Content-Type"] = "application/xml" })
  return blob.ctx:send { method = "PUT", url = blob:_url { { "comp", "blocklist" } }, headers = h, body = body,
    expect = { 201 } }
end

-- source: {string=s} or {file=path}; size known.
local function upload(blob, source, size, opts)
  opts = settings(blob.ctx, opts)
  local md5 = opts.md5
  local bs = M.block_size(size, opts)
  local single = math.floor(opts.single_put_size or bs)
  local m = meter.new("upload " .. blob.name, size, opts.progress)
  local function body(offset, len)
    if source.string then return source.string:sub(offset + 1, offset + len) end
    if len == 0 then return "" end
    return { file = source.file, offset = offset, length = len }
  end
  local function digest(offset, len)
    if not md5 then return nil end
    if source.string then return b64md5(crypto().md5(source.string:sub(offset + 1, offset + len))) end
    return b64md5(crypto().md5_file(source.file, offset, len))
  end
  local res
  if size <= single then
    local h = blob_headers(opts, { ["x-ms-blob-type"] = "BlockBlob", ["Content-MD5"] = digest(0, size),
      ["Content-Type"] = "application/octet-stream" })
    res = blob.ctx:send { method = "PUT", url = blob:_url(), headers = h, body = body(0, size), expect = { 201 } }
    m:set(size)
  else
    local n = math.ceil(size / bs)
    local ids = block_ids(n)
    local reqs, sizes = {}, {}
    for i = 1, n do
      local off = (i - 1) * bs
      local len = math.min(bs, size - off)
      sizes[i] = len
      reqs[i] = { method = "PUT", url = blob:_url { { "comp", "block" }, { "blockid", ids[i] } },
        headers = { ["Content-MD5"] = digest(off, len), ["Content-Type"] = "application/octet-stream" },
        body = body(off, len), expect = { 201 } }
    end
    local ok, err = run_windows(blob.ctx, reqs, sizes, opts, m)
    if not ok then m:finish(); error(err, 0) end
    res = commit(blob, ids, opts)
  end
  m:finish()
  return { etag = res.headers and res.headers.etag, size = size,
    blocks = size > single and math.ceil(size / bs) or 0 }
end

function M.upload_string(blob, s, opts)
  if type(s) ~= "string" then error("blob:upload_string: string expected", 3) end
  return upload(blob, { string = s }, #s, opts)
end

function M.upload_file(blob, path, opts)
  if type(path) ~= "string" then error("blob:upload_file: path expected", 3) end
  return upload(blob, { file = path }, file_size(path), opts)
end

-- Many small blobs at once (task outputs, fixtures): one Put Blob each, several in flight, each
-- retried on its own. items: array of {name=, data=string} or {name=, file=path}; for big files use
-- upload_file, which splits into blocks.
function M.upload_many(container, items, opts)
  opts = settings(container.ctx, opts)
  local reqs, sizes, total = {}, {}, 0
  for i, it in ipairs(items) do
    local b = container:blob(it.name)
    local body, size = it.data or "", #(it.data or "")
    if it.file then
      size = file_size(it.file)
      body = size > 0 and { file = it.file, offset = 0, length = size } or ""
    end
    sizes[i], total = size, total + size
    reqs[i] = { method = "PUT", url = b:_url(), body = body, expect = { 201 },
      headers = blob_headers(it, { ["x-ms-blob-type"] = "BlockBlob", ["Content-Type"] = "application/octet-stream" }) }
  end
  local m = meter.new("upload " .. #items .. " blobs", total, opts.progress)
  local ok, err = run_windows(container.ctx, reqs, sizes, opts, m)
  m:finish()
  if not ok then error(err, 0) end
  return #reqs
end

-- Download into a temp file beside the target, renamed over it only when every range arrived:
-- a failure never leaves a half-written file under the real name.
function M.download_file(blob, path, opts)
  if type(path) ~= "string" then error("blob:download_file: path expected", 3) end
  opts = settings(blob.ctx, opts)
  if opts.direct ~= "auto" and type(opts.direct) ~= "boolean" then
    error("azure.blob: opts.direct must be true, false or \"auto\"", 0)
  end
  local p = blob:properties()
  local size = p.size or 0
  local dir, base = path:match("^(.*/)([^/]+)$")
  if not dir then dir, base = "", path end
  local tmp = string.format("%s.%s.azlua-%s.part", dir, base, crypto().hex(crypto().random_bytes(4)))
  local f, ferr = io.open(tmp, "wb")
  if not f then error("azure.blob: cannot create " .. tmp .. ": " .. tostring(ferr), 3) end
  f:close()
  local ok, err = pcall(function()
    -- Reserve the space first: a download that cannot fit fails now, not after most of it arrived.
    local _, perr = require("azure.core.sys").preallocate(tmp, size)
    if perr then error("azure.blob: " .. perr, 0) end
    local bs = M.block_size(size, opts)
    local direct = opts.direct
    if direct == "auto" then direct = size >= opts.direct_min_size end
    local m = meter.new("download " .. blob.name, size, opts.progress)
    -- If-Match: every range must come from the same version of the blob.
    if size == 0 then
      -- nothing to fetch (a range GET of an empty blob is a 416)
    elseif size <= bs then
      blob.ctx:send { method = "GET", url = blob:_url(), headers = { ["If-Match"] = p.etag },
        output = { file = tmp, offset = 0, direct = direct }, expect = { 200 } }
    else
      local reqs, sizes = {}, {}
      for i = 1, math.ceil(size / bs) do
        local off = (i - 1) * bs
        local len = math.min(bs, size - off)
        sizes[i] = len
        reqs[i] = { method = "GET", url = blob:_url(), expect = { 206 },
          headers = { ["x-ms-range"] = string.format("bytes=%d-%d", off, off + len - 1), ["If-Match"] = p.etag },
          output = { file = tmp, offset = off, direct = direct } }
      end
      local wok, werr = run_windows(blob.ctx, reqs, sizes, opts, m)
      if not wok then m:finish(); error(werr, 0) end
    end
    m:set(size)
    m:finish()
    local got = file_size(tmp)
    if got ~= size then error(string.format("azure.blob: downloaded %d bytes of %d", got, size), 0) end
    local rok, rerr = os.rename(tmp, path)
    if not rok then error("azure.blob: cannot rename to " .. path .. ": " .. tostring(rerr), 0) end
  end)
  if not ok then
    os.remove(tmp)
    error(err, 0)
  end
  return { size = size, etag = p.etag, properties = p }
end

M.url = url
return M
