-- azure.blob.xmlutil: reading Blob Storage's XML answers (list results, delegation keys) from the
-- element tables of azure.core.xml ({name=, attrs=, text=, [i]=child}).
local M = {}

function M.parse(body)
  return require("azure.core.xml").parse(body)
end

function M.child(el, name)
  if not el then return nil end
  for _, c in ipairs(el) do if type(c) == "table" and c.name == name then return c end end
end

function M.text(el, name)
  local c = M.child(el, name)
  return c and c.text or nil
end

function M.each(el, name)
  local i = 0
  return function()
    while el do
      i = i + 1
      local c = el[i]
      if c == nil then return nil end
      if type(c) == "table" and c.name == name then return c end
    end
  end
end

-- <Properties><A>x</A>...</Properties> → {A="x", ...}
function M.map(el)
  local t = {}
  if el then
    for _, c in ipairs(el) do if type(c) == "table" then t[c.name] = c.text or "" end end
  end
  return t
end

-- A name element; Encoded="true" means the text is percent-encoded (characters XML cannot carry).
function M.name(el)
  if not el then return nil end
  local s = el.text or ""
  if el.attrs and el.attrs.Encoded == "true" then
    s = s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return s
end

-- Lazy paging over NextMarker: fetch(marker) → array of items, next marker ("" or nil at the end).
-- Returns an iterator; a page is fetched only when the previous one is used up.
function M.pages(fetch, marker)
  local buf, i, done = {}, 0, false
  return function()
    while true do
      i = i + 1
      if buf[i] ~= nil then return buf[i] end
      if done then return nil end
      buf, i = {}, 0
      buf, marker = fetch(marker)
      if not marker or marker == "" then done = true end
    end
  end
end

function M.escape(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&apos;" }))
end

return M
