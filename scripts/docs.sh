#!/usr/bin/env bash
# `make docs`: the collection's HTML documentation with antsibull-docs and Sphinx (from .venv-lint),
# in build/docs/build/html (open build/docs/build/html/index.html).
#   1. The release tarball is built and installed into build/docs/collections: the site documents
#      what ships.
#   2. The guides: every docs/<name>.md of the installed copy becomes an extra doc of the collection,
#      docs/docsite/rst/<name>.rst (pandoc; links between guides become Sphinx references through
#      docs/docsite/md-links.lua), listed by docs/docsite/extra-docs.yml (a guide it does not list is
#      added under "More guides"). The Markdown stays the one source; the RST is made here.
#   3. antsibull-docs lint-collection-docs --plugin-docs on that copy (extra docs included).
#   4. antsibull-docs sphinx-init with docs/docsite/index.rst as the landing page, then Sphinx with
#      warnings as errors (-W) and --fail-on-error for plugin or role documentation that does not parse.
# Offline: Sphinx cannot fetch the intersphinx inventories of docs.ansible.com and docs.python.org
# here, so none are configured, and references to labels of the Ansible docs (common_return_values
# and the like) stay plain text instead of failing the build; references between this collection's
# pages must resolve.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv-lint/bin:$PATH ANSIBLE_NOCOLOR=1
dest=$ROOT/build/docs
rm -rf "$dest"
mkdir -p -m 700 "$dest"   # antsibull-docs wants it writable by its owner only
command -v pandoc >/dev/null || { echo "docs: pandoc is missing (scripts/setup.sh installs it)" >&2; exit 2; }

# 1. what ships, installed
ansible-galaxy collection build --output-path "$dest/dist" "$ROOT" >/dev/null
printf '[defaults]\ncollections_path = %s\ncollections_scan_sys_path = false\n' "$dest/collections" > "$dest/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH=$dest/collections ANSIBLE_CONFIG=$dest/ansible.cfg
ansible-galaxy collection install --offline -p "$dest/collections" "$dest"/dist/*.tar.gz >/dev/null
copy=$dest/collections/ansible_collections/hostnet/nm

# 2. the guides as extra docs
mkdir -p "$copy/docs/docsite/rst"
mapfile -t guides < <(find "$copy/docs" -maxdepth 1 -name '*.md' ! -name README.md -printf '%f\n' | sed 's/\.md$//' | sort)
export HOSTNET_GUIDES="${guides[*]}"
cp docs/docsite/extra-docs.yml "$copy/docs/docsite/extra-docs.yml"
more=()
for name in "${guides[@]}"; do
  grep -qx "      - $name" docs/docsite/extra-docs.yml || more+=("$name")
  { printf '.. _ansible_collections.hostnet.nm.docsite.%s:\n\n' "$name"
    pandoc --from gfm-gfm_auto_identifiers --to rst --wrap=preserve --columns=1000 --lua-filter docs/docsite/md-links.lua "$copy/docs/$name.md"
  } > "$copy/docs/docsite/rst/$name.rst"
done
if [ "${#more[@]}" -gt 0 ]; then
  printf '  - title: More guides\n    toctree:\n' >> "$copy/docs/docsite/extra-docs.yml"
  printf '      - %s\n' "${more[@]}" >> "$copy/docs/docsite/extra-docs.yml"
fi
for name in $(sed -n 's/^      - //p' docs/docsite/extra-docs.yml); do
  [ -f "$copy/docs/docsite/rst/$name.rst" ] || { echo "docs: extra-docs.yml lists $name, but docs/$name.md does not exist" >&2; exit 1; }
done

# 3. lint, extra docs included
(cd "$copy" && antsibull-docs lint-collection-docs --plugin-docs .)

# 4. the site
mkdir -m 700 "$dest/site"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$dest/site" \
  --index-rst-source "$ROOT/docs/docsite/index.rst" \
  --title "hostnet.nm" --project "hostnet.nm" --copyright "hostnet.nm contributors" hostnet.nm >/dev/null
cat >> "$dest/site/conf.py" <<'EOF'

# offline build (scripts/docs.sh): no inventories to fetch; references to labels of the Ansible docs
# cannot resolve, those to this collection's pages must
intersphinx_mapping = {}
nitpick_ignore_regex = [('std:ref', r'(?!ansible_collections\.hostnet\.nm\.).*')]
EOF
bash "$dest/site/build.sh"
rm -rf "$dest/build" && mv "$dest/site/build" "$dest/build"
echo "docs: $dest/build/html/index.html"
