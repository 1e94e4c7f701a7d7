#!/usr/bin/env bash
# The collection as a user gets it. Builds the release tarball, checks that it holds what a user
# needs and no development or test junk, installs it with `ansible-galaxy collection install` into
# an empty collections path, and then uses only that copy (from an empty directory, with a config
# naming only that path; the checkout's build/collections link is out of reach):
#   - ansible-doc renders every module and every role from the installed copy;
#   - a playbook, and the collection's own playbooks, pass --syntax-check;
#   - hostnet.nm.network_state on localhost (connection: local) with an INVALID desired_state
#     fails with the validation errors from the controller: the installed action plugin and
#     module_utils import, and no host is contacted;
#   - a host whose Python has neither dbus-fast nor dbus-next (both hidden by stand-ins first on
#     PYTHONPATH, which the respawn probes inherit too) gets Ansible's missing-library message
#     naming the packages, without a traceback -- run on the oldest host Python supported (3.9),
#     through AnsiballZ, from the installed copy;
#   - `ansible-builder introspect` accepts the collection's execution-environment dependencies;
#   - a clean install (tests/tools/clean_install.sh): a fresh virtualenv with ONLY ansible-core, at the
#     lowest version meta/runtime.yml's requires_ansible allows and at the newest 2.x PyPI serves,
#     where every module, filter and role documents, every shipped playbook passes --syntax-check by
#     its FQCN, the rollout's preflight passes over the shipped example inventory docs/examples/fleet
#     and the filters compose every host of it: anything that needs an undeclared package fails.
# usage: tests/tools/check_install.sh [tarball]   (builds one when none is given)
#   HOSTNET_CLEAN_INSTALL_CORE="2.19.0 2.21.5" picks the ansible-core versions of the clean install
#   (default: the two above, the newest asked from PyPI); "" skips it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${HOSTNET_LINT_VENV:-$ROOT/.venv-lint}
export PATH=$VENV/bin:$PATH

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_install: $*" >&2; exit 1; }
step() { echo "check_install: $*"; }

tarball=${1:-}
if [ -z "$tarball" ]; then
  ansible-galaxy collection build --output-path "$work/dist" "$ROOT" >/dev/null
  tarball=$(echo "$work"/dist/hostnet-nm-*.tar.gz)
fi

step "contents of $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"
tar -tzf "$tarball" | sed 's#^\./##; s#/$##' | sort > "$work/contents"
junk='^(\.venv|\.venv-lint|build|\.ci|\.ansible|\.git|bench|scripts|extensions|tests|demo)(/|$)'
junk+='|(^|/)(__pycache__|\.pytest_cache|\.hypothesis|\.benchmarks)(/|$)'
junk+='|\.(pyc|tar\.gz|log)$|^(Makefile|ansible\.cfg|requirements-(dev|lint)\.txt|galaxy\.yml|README\.md)$'
if grep -E "$junk" "$work/contents"; then fail "the tarball holds the files above, which build_ignore must leave out"; fi
# no empty folders: every directory holds a file
tar -tzf "$tarball" | sed 's#^\./##' | grep -v '/$' | sed -n 's#/[^/]*$##p' | sort -u > "$work/filled"
while read -r dir; do
  grep -q -x -e "$dir" -e "$dir/.*" "$work/filled" || fail "the tarball holds the empty folder $dir"
done < <(tar -tzf "$tarball" | sed 's#^\./##' | grep '/$' | sed 's#/$##')
# every shipped playbook is reachable by its FQCN (hostnet.nm.<name>: letters, digits, underscores)
if grep -E '^playbooks/' "$work/contents" | grep -E '\.ya?ml$' | grep -vE '^playbooks/[a-z_][a-z0-9_]*\.yml$'; then
  fail "the playbooks above have no FQCN (hostnet.nm.<name> takes letters, digits and underscores)"
fi
for need in MANIFEST.json FILES.json docs/README.md LICENSE CHANGELOG.md changelogs/changelog.yaml meta/runtime.yml \
            meta/execution-environment.yml requirements.txt bindep.txt plugins/action/network_state.py \
            plugins/modules/network_state.py plugins/modules/network_state_info.py plugins/modules/checkpoint.py \
            plugins/doc_fragments/networkmanager.py plugins/module_utils/ansible_glue.py; do
  grep -qx "$need" "$work/contents" || fail "the tarball lacks $need"
done

step "ansible-galaxy collection install into an empty collections path"
. "$ROOT/tests/tools/empty_collections.sh"
# (with only the empty path configured: ansible-galaxy skips a collection it finds installed anywhere)
ansible-galaxy collection install --offline -p "$work/collections" "$tarball" >/dev/null
installed=$work/collections/ansible_collections/hostnet/nm
[ -f "$installed/MANIFEST.json" ] || fail "not installed at $installed"

step "ansible-doc from the installed copy"
mapfile -t modules < <(ansible-doc -t module -l hostnet.nm | awk '{print $1}')
[ "${#modules[@]}" -ge 3 ] || fail "ansible-doc lists ${#modules[@]} modules: ${modules[*]}"
for name in "${modules[@]}"; do
  ansible-doc -t module "$name" > "$work/doc.txt" 2> "$work/doc.err" || { cat "$work/doc.err" >&2; fail "ansible-doc $name"; }
  if [ -s "$work/doc.err" ]; then cat "$work/doc.err" >&2; fail "ansible-doc $name warns"; fi
  grep -q "($installed/plugins/modules/" "$work/doc.txt" || fail "ansible-doc $name did not read the installed copy"
  for section in EXAMPLES "RETURN VALUES"; do
    grep -q "^$section" "$work/doc.txt" || fail "ansible-doc $name has no $section"
  done
done
roles=()
for dir in "$installed"/roles/*/; do [ -d "$dir" ] && roles+=("hostnet.nm.$(basename "$dir")"); done
for role in "${roles[@]}"; do
  ansible-doc -t role "$role" > "$work/doc.txt" 2> "$work/doc.err" || { cat "$work/doc.err" >&2; fail "ansible-doc -t role $role"; }
  if [ -s "$work/doc.err" ]; then cat "$work/doc.err" >&2; fail "ansible-doc -t role $role warns (meta/argument_specs.yml?)"; fi
done
step "  ${#modules[@]} modules, ${#roles[@]} roles: ${modules[*]} ${roles[*]}"

cat > invalid.yml <<'EOF'
- name: An invalid desired state is refused on the controller
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Apply a document with an unsupported key and a bad address
      hostnet.nm.network_state:
        desired_state:
          interfaces:
            - {name: eth1, type: ethernet, ovs-db: {external_ids: {}},
               ipv4: {enabled: true, address: [{ip: 198.18.1.300, prefix-length: 24}]}}
      register: result
      ignore_errors: true
    - name: Both errors, from the action plugin, before any host contact
      ansible.builtin.assert:
        that:
          - result is failed
          - result.validation_errors | map(attribute='code') | list == ['UNSUPPORTED', 'BAD_ADDRESS']
          - result.validation_errors | map(attribute='path') | list ==
            ['interfaces[0].ovs-db', 'interfaces[0].ipv4.address[0].ip']
          - "'no host was contacted' in result.msg"
          - "'Traceback' not in result | to_json"
EOF
cat > nodbus.yml <<'EOF'
- name: A host Python without a D-Bus library
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Read the state with neither dbus-fast nor dbus-next importable
      hostnet.nm.network_state_info:
      environment:
        PYTHONPATH: "{{ hidden }}"
      vars:
        ansible_python_interpreter: "{{ host_python }}"
      register: result
      ignore_errors: true
    - name: Ansible's missing-library message, naming the packages, and no traceback
      ansible.builtin.assert:
        that:
          - result is failed
          - result.msg is search('^Failed to import the required Python library \(dbus-fast or dbus-next\)')
          - "'python3-dbus-fast' in result.msg"
          - "'dbus-fast' in result.msg"
          - "'Traceback' not in result | to_json"
          - result.module_stderr is not defined
          - result.error_kind == "dependency"
EOF

step "ansible-playbook --syntax-check"
syntax() { ansible-playbook --syntax-check "$@" > "$work/syntax.log" 2>&1 || { cat "$work/syntax.log" >&2; return 1; }; }
syntax invalid.yml nodbus.yml || fail "syntax check"
for playbook in "$installed"/playbooks/*.yml; do
  target=hostnet.nm.$(basename "$playbook" .yml)
  syntax "$target" || fail "$target: syntax check"
done

step "an invalid desired_state fails on the controller with validation errors"
ansible-playbook invalid.yml > "$work/invalid.log" 2>&1 || { cat "$work/invalid.log"; fail "invalid.yml"; }

step "no D-Bus library on the host: the missing-library message"
host_python=
for python in /root/.pyenv/versions/3.9.*/bin/python3.9 /usr/bin/python3.9 /usr/bin/python3; do
  if [ -x "$python" ]; then host_python=$python; break; fi
done
mkdir -p "$work/hidden/dbus_fast" "$work/hidden/dbus_next"
echo "raise ImportError('hidden by check_install.sh')" | tee "$work/hidden/dbus_fast/__init__.py" \
  > "$work/hidden/dbus_next/__init__.py"
ansible-playbook nodbus.yml -e "host_python=$host_python hidden=$work/hidden" > "$work/nodbus.log" 2>&1 \
  || { cat "$work/nodbus.log"; fail "nodbus.yml"; }
step "  (host Python: $host_python)"

step "ansible-builder introspect"
ansible-builder introspect --sanitize "$work/collections" > "$work/introspect.txt" \
  || fail "ansible-builder introspect"
grep -q "dbus-fast" "$work/introspect.txt" || { cat "$work/introspect.txt"; fail "introspect: no dbus-fast"; }

# the clean install, on the lowest and the newest ansible-core
lowest=$(grep -oP '^requires_ansible:\s*"?>=\s*\K[0-9.]+' "$installed/meta/runtime.yml")
versions=${HOSTNET_CLEAN_INSTALL_CORE-"$lowest newest"}
for version in $versions; do
  bash "$ROOT/tests/tools/clean_install.sh" "$tarball" "$version" || fail "clean install with ansible-core $version"
done
echo "check_install: ok"
