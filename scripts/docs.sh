#!/usr/bin/env bash
# `make docs`: the collection's HTML documentation with antsibull-docs and Sphinx (from
# .venv-lint), in build/docs/build/html (open build/docs/build/html/index.html).
# Offline: Sphinx cannot fetch the intersphinx inventories of docs.ansible.com and docs.python.org
# here, so none are configured, and references to labels of the Ansible docs (common_return_values
# and the like) stay plain text instead of failing the build. Every other Sphinx warning fails it
# (-W), references between this collection's pages among them, and so does any plugin or role
# documentation that does not parse (--fail-on-error).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv-lint/bin:$PATH ANSIBLE_CONFIG=$PWD/ansible.cfg
dest=build/docs
rm -rf "$dest"
mkdir -p -m 700 "$dest"   # antsibull-docs wants it writable by its owner only
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$dest" \
  --title "hostnet.nm" --project "hostnet.nm" --copyright "hostnet.nm contributors" hostnet.nm >/dev/null
cat >> "$dest/conf.py" <<'EOF'

# offline build (scripts/docs.sh): no inventories to fetch; references to labels of the Ansible docs
# cannot resolve, those to this collection's pages must
intersphinx_mapping = {}
nitpick_ignore_regex = [('std:ref', r'(?!ansible_collections\.hostnet\.nm\.).*')]
EOF
bash "$dest/build.sh"
echo "docs: $dest/build/html/index.html"
