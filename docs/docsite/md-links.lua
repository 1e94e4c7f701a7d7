-- pandoc filter for scripts/docs.sh: a link to another guide (name.md, name.md#part) becomes a
-- Sphinx reference to that guide's page; any other link but a URL (an anchor, a file that is no
-- guide) becomes its text.
local guides = {}
for name in (os.getenv("HOSTNET_GUIDES") or ""):gmatch("%S+") do guides[name] = true end

function Link(link)
  if link.target:match("^%a[%w+.-]*:") then return nil end   -- http:, https:, mailto:
  local name = link.target:match("^([%w_.-]+)%.md") or link.target:match("^%./([%w_.-]+)%.md")
  if name and guides[name] then
    local text = pandoc.utils.stringify(link.content):gsub("[<>`]", "")
    return pandoc.RawInline("rst", ":ref:`" .. text .. " <ansible_collections.hostnet.nm.docsite." .. name .. ">`")
  end
  return link.content                                          -- an anchor, a file that is no guide
end
