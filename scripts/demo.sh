#!/bin/bash
# `make demo`: bring up a lab of NetworkManager hosts and run the main job
# against it three times: a dry run with the diff, the apply, the re-run
# (changed=0). Then show a bad change (a DNS server that does not exist)
# being rolled back. The lab stays up afterwards for you to explore.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3}
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
LAB=/run/${HNLAB_PREFIX:-hnlab}
# the by-hand commands printed at the end name this lab when it is not the default one
PFX_ENV=${HNLAB_PREFIX:+HNLAB_PREFIX=$HNLAB_PREFIX }
INV=$LAB/inventory.ini
# ssh's ControlPath hashes user@address:port; every lab uses the same addresses, so keep this
# lab's multiplexed connections apart from any other lab's
export ANSIBLE_SSH_CONTROL_PATH_DIR=$LAB/cp
PLAYBOOK=(.venv/bin/ansible-playbook -i "$INV" demo/site.yml)

# bold headers on a terminal only: no escape codes in a log or a pipe
if [ -t 1 ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else step() { printf '\n== %s\n' "$*"; }; fi
# the runs' output, kept with the lab (not in /tmp), so a failed demo can be read afterwards
LOGS=$LAB/demo
mkdir -p "$LOGS"

step "1/5 bringing up $N lab hosts (each its own netns, D-Bus, NetworkManager, sshd)"
bash tests/lab/up.sh "$N"

step "2/5 dry run: ansible-playbook demo/site.yml --check --diff (changes nothing)"
"${PLAYBOOK[@]}" --check --diff

step "3/5 apply"
"${PLAYBOOK[@]}" | tee "$LOGS/apply.log"

step "4/5 re-run: must report changed=0"
"${PLAYBOOK[@]}" | tee "$LOGS/rerun.log"
if grep -E 'changed=[1-9]' "$LOGS/rerun.log"; then
  echo "demo: the re-run reported changes" >&2; exit 1
fi

step "5/5 a bad change: a DNS server that does not exist, rolled back by itself"
if .venv/bin/ansible-playbook -i "$INV" demo/bad-dns.yml; then
  echo "demo: the bad change was not refused" >&2; exit 1
fi
echo "(the failure above is the point: the change was rolled back and h1's resolv.conf is as before)"
bash tests/lab/exec.sh h1 cat /etc/resolv.conf

cat <<EOT

The lab is up: hosts h1..h$N, inventory $INV
  ssh into a host:        ${PFX_ENV}bash tests/lab/ssh.sh h1
  a command in a host:    ${PFX_ENV}bash tests/lab/exec.sh h1 nmcli device
  the playbook by hand:   ANSIBLE_CONFIG=\$PWD/ansible.cfg ANSIBLE_SSH_CONTROL_PATH_DIR=$LAB/cp .venv/bin/ansible-playbook -i $INV demo/site.yml --check --diff
  read a host's state:    ANSIBLE_CONFIG=\$PWD/ansible.cfg ANSIBLE_SSH_CONTROL_PATH_DIR=$LAB/cp .venv/bin/ansible -i $INV h1 -m hostnet.nm.network_state_info
  tear the lab down:      ${PFX_ENV}make lab-down
EOT
