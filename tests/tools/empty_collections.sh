# Sourced by check_install.sh and clean_install.sh: an ansible.cfg in "$work" whose only collections
# path is the empty "$work/collections" (no system path scanned), exported with quiet output
# settings, then "$work/run" as the working directory. Needs: $work (a fresh temporary directory).
mkdir -p "$work/collections" "$work/run"
cat > "$work/ansible.cfg" <<CFG
[defaults]
collections_path = $work/collections
collections_scan_sys_path = false
stdout_callback = ansible.builtin.default
callback_result_format = yaml
retry_files_enabled = false
CFG
export ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_NOCOLOR=1
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
cd "$work/run"
