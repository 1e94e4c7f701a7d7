#!/usr/bin/env bash
# The release in a virtualenv that holds ONLY ansible-core, as a new user gets it: anything the
# controller side needs beyond ansible-core and what the collection declares fails here.
#   usage: tests/tools/clean_install.sh TARBALL VERSION|newest
# VERSION "newest" is the newest ansible-core 2.x that PyPI serves for the newest Python here;
# an explicit version runs on the oldest Python that version supports among those here.
# In that virtualenv, from an empty directory, with only the installed copy on the collections path:
#   - ansible-doc of every module, filter and role, with nothing on stderr (no warning);
#   - ansible-playbook --syntax-check of every shipped playbook by its FQCN;
#   - the rollout's preflight (hostnet.nm.fleet_preflight as hostnet.nm.rollout runs it) over the
#     shipped example inventory docs/examples/fleet: every host composed and valid;
#   - the filters compose_state and host_address on that inventory's variables.
# The virtualenv comes from tests/tools/core_venv.sh (kept between runs while it holds only ansible-core).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tarball=$(realpath "$1")
version=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "clean_install($version): $*" >&2; exit 1; }
step() { echo "clean_install($version): $*"; }

venv=$(bash "$ROOT/tests/tools/core_venv.sh" "$version") || fail "no virtualenv with ansible-core $version"
version=$("$venv/bin/python" -c 'import ansible.release; print(ansible.release.__version__)')
step "a virtualenv with only ansible-core==$version ($("$venv/bin/python" --version)): $venv"
export PATH=$venv/bin:/usr/bin:/bin

export ANSIBLE_HOME=$work/home
. "$ROOT/tests/tools/empty_collections.sh"
ansible-galaxy collection install --offline -p "$work/collections" "$tarball" > "$work/galaxy.log" 2>&1 \
  || { cat "$work/galaxy.log" >&2; fail "ansible-galaxy collection install"; }
installed=$work/collections/ansible_collections/hostnet/nm
fleet=$installed/docs/examples/fleet

# quiet: stdout to a file, stderr must stay empty (a warning there is a defect too). Not ours, so
# left out: ansible-core imports DSA from cryptography, and cryptography 51 (what pip picks for a plain
# install) warns about that on every command; ansible-doc -t role of ansible-core 2.21 warns about its
# own internal collection ansible._protomatter.
quiet() {
  local what=$1
  shift
  if ! "$@" > "$work/out.txt" 2> "$work/err.txt"; then cat "$work/out.txt" "$work/err.txt" >&2; fail "$what"; fi
  if grep -vE 'CryptographyDeprecationWarning: DSA is deprecated|^  from cryptography\.hazmat\.primitives\.asymmetric\.dsa import|/ansible_collections/ansible/_protomatter. does not have a MANIFEST\.json' \
       "$work/err.txt"; then
    fail "$what: printed the warnings above"
  fi
}

step "ansible-doc: every module, filter and role"
count=0
for type in module filter role; do
  if [ "$type" = role ]; then
    names=()
    for dir in "$installed"/roles/*/; do names+=("hostnet.nm.$(basename "$dir")"); done
  else
    mapfile -t names < <(ansible-doc -t "$type" -l hostnet.nm 2>/dev/null | awk '{print $1}')
  fi
  [ "${#names[@]}" -gt 0 ] || fail "no $type in hostnet.nm"
  quiet "ansible-doc -t $type ${names[*]}" ansible-doc -t "$type" "${names[@]}"
  for name in "${names[@]}"; do   # each one documented, from the installed copy
    grep -qE "^> ${type^^}:? \\*?$name\\*? \($installed[/)]" "$work/out.txt" || { grep "^> " "$work/out.txt" >&2; fail "ansible-doc -t $type $name: no documentation from $installed"; }
  done
  count=$((count + ${#names[@]}))
done
step "  $count documented"

step "ansible-playbook --syntax-check of every shipped playbook, by FQCN"
for playbook in "$installed"/playbooks/*.yml; do
  quiet "syntax check of hostnet.nm.$(basename "$playbook" .yml)" \
    ansible-playbook --syntax-check -i "$fleet/inventory.yml" "hostnet.nm.$(basename "$playbook" .yml)"
done

step "the rollout's preflight over docs/examples/fleet"
# the preflight task of hostnet.nm.rollout, as it runs there
sed -n '/^- name: Rollout | preflight/,/^$/p' "$installed/playbooks/rollout.yml" > preflight.yml
grep -q 'hostnet.nm.fleet_preflight:' preflight.yml || fail "no preflight play in hostnet.nm.rollout"
cat >> preflight.yml <<'EOF'
- name: Every host of the example passed
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The rollout's state names every host and a passed preflight
      ansible.builtin.assert:
        that:
          - ansible_facts.hostnet_rollout_state.preflight.ok
          - ansible_facts.hostnet_rollout_state.targets | sort == groups['all'] | sort
          - groups['all'] | length == 5
EOF
quiet "the rollout's preflight" ansible-playbook -i "$fleet/inventory.yml" -e "hostnet_rollout_report_dir=$work/report" \
  preflight.yml

step "the filters on the example's variables"
cat > filters.yml <<'EOF'
- name: The filters on every host of the example fleet (the controller only; no host is contacted)
  hosts: all
  gather_facts: false
  vars:
    names: "{{ query('ansible.builtin.varnames', '^hostnet_') }}"
    state: "{{ dict(names | zip(query('ansible.builtin.vars', *names))) | hostnet.nm.compose_state(inventory_hostname, groups) }}"
    index: "{{ hostnet_host_index | default(inventory_hostname | regex_replace('^\\D+', '')) }}"
    vlan10: "{{ state.interfaces | selectattr('name', 'equalto', 'bond0.10') | first }}"
  tasks:
    - name: One document per host, with the management VLAN at the address host_address gives
      ansible.builtin.assert:
        that:
          - state.interfaces | map(attribute='name') | list | length >= 4
          - state['dns-resolver'].config.server == ['198.18.10.1']
          - (vlan10.ipv4.address[0].ip ~ '/' ~ vlan10.ipv4.address[0]['prefix-length'])
            == '198.18.10.0/24' | hostnet.nm.host_address(index | int, hostnet_address_offset)
EOF
quiet "the filters" ansible-playbook -i "$fleet/inventory.yml" filters.yml
step "ok"
