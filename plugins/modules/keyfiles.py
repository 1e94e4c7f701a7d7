#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: keyfiles
short_description: NetworkManager keyfiles from a desired state, offline (images, first boot)
version_added: "0.1.0"
description:
  - Turns a desired network state, in the nmstate schema that M(hostnet.nm.network_state) takes, into
    NetworkManager keyfiles, one per profile, without NetworkManager, D-Bus or a running host. For image
    builds (Packer, osbuild, cloud images, PXE installs, containers) and first boot.
  - "Runs where the task runs: usually on the controller (C(delegate_to: localhost)), writing into an image's
    C(/etc/NetworkManager/system-connections), or on a build host."
  - The document goes through the same validation and the same conversion to NetworkManager settings as
    M(hostnet.nm.network_state), so the files hold what that module would write, its ownership mark
    included. Once the host has booted with them, M(hostnet.nm.network_state) with the same document
    reports C(changed=false).
  - Each file is C(<interface>.nmconnection), mode C(0600), written atomically (a temporary file renamed
    into place); only files whose content, mode or owner differs are written. An interface with
    C(state=absent) has its file removed. Other files in O(dest) are left alone; one that binds the same
    interface (and could win at boot) is named in a warning.
  - NetworkManager ignores a keyfile that a user other than root can read. Run the task as root (the files
    are then root's), or the module warns and the image recipe must make them root's.
  - Profile UUIDs are derived from the interface name (UUID version 5), so every run and every image gives
    the same ones.
  - What only a host can tell is taken from the document. An C(ethernet) interface the document lists is
    assumed to exist; one it only names (a bridge or bond port, a VLAN's base) is refused with
    C(OFFLINE_INTERFACE_UNDECLARED), an interface without C(type) with C(OFFLINE_TYPE_REQUIRED).
  - Secrets (values under keys that name one, as for M(hostnet.nm.network_state)) are written to the
    keyfiles only. Results, diffs and logs show them as C(<hidden>); without O(dest) a document with secrets
    is refused (C(KEYFILE_SECRETS_NEED_DEST)).
author:
  - hostnet.nm contributors (@hostnet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  desired_state:
    description:
      - The desired state, as an nmstate document with C(interfaces), C(routes), C(route-rules) and
        C(dns-resolver), exactly as M(hostnet.nm.network_state) takes it.
      - Supported interface types are C(ethernet), C(veth), C(linux-bridge), C(bond), C(vlan), C(dummy),
        C(loopback), C(vrf), C(vxlan), C(mac-vlan), C(mac-vtap), C(ipvlan), C(macsec) and C(hsr) (the host needs
        NetworkManager 1.52 or newer for C(ipvlan), 1.46 for C(hsr)).
    type: dict
    required: true
  dest:
    description:
      - The directory to write the keyfiles into, for example an image's
        C(/etc/NetworkManager/system-connections). It must exist.
      - Without it nothing is written and the keyfiles are returned in RV(keyfiles) only.
    type: path
attributes:
  check_mode:
    support: full
    details: Says which files would be written or removed and how they change; writes nothing.
  diff_mode:
    support: full
    details: One before/after per file that changes, secrets shown as C(<hidden>).
  platform:
    platforms: posix
notes:
  - Differences from C(nmstatectl gc) are listed in the collection's C(docs/keyfiles.md).
  - NetworkManager reads new keyfiles when it starts, or on C(nmcli connection reload) (D-Bus
    C(ReloadConnections)).
seealso:
  - module: hostnet.nm.network_state
  - name: nm-settings-keyfile(5)
    description: NetworkManager's keyfile format.
    link: https://networkmanager.dev/docs/api/latest/nm-settings-keyfile.html
"""

EXAMPLES = r"""
- name: Network of the image, written into its root file system
  hostnet.nm.keyfiles:
    desired_state:
      interfaces:
        - name: eth0
          type: ethernet
          state: up
          ipv4: {enabled: true, dhcp: true}
    dest: /srv/image/rootfs/etc/NetworkManager/system-connections
  delegate_to: localhost

- name: The keyfiles as data only
  hostnet.nm.keyfiles:
    desired_state: "{{ hostnet_state }}"
  register: kf

- name: Show the first one
  ansible.builtin.debug:
    msg: "{{ kf.keyfiles[0].content }}"
"""

RETURN = r"""
changed:
  description: Whether a file was (or, in check mode, would be) written or removed. Always C(false) without O(dest).
  returned: always
  type: bool
  sample: true
keyfiles:
  description: One entry per profile, in the order NetworkManager needs them (controllers before ports).
  returned: always
  type: list
  elements: dict
  contains:
    interface:
      description: The interface the profile configures.
      type: str
      sample: eth0
    filename:
      description: The keyfile's name.
      type: str
      sample: eth0.nmconnection
    uuid:
      description: The profile's UUID (version 5, from the interface name).
      type: str
      sample: 7f0a2a55-40d9-5a8e-9a6c-4f3e4d0c2b11
    content:
      description: The keyfile's text, secret values shown as C(<hidden>).
      type: str
      sample: "[connection]\nid=eth0\nuuid=7f0a2a55-40d9-5a8e-9a6c-4f3e4d0c2b11\ntype=ethernet\n"
    path:
      description: Where the file is. Only with O(dest).
      type: str
      sample: /srv/image/rootfs/etc/NetworkManager/system-connections/eth0.nmconnection
    changed:
      description: Whether this file was (or would be) written. Only with O(dest).
      type: bool
      sample: true
removed:
  description: Files of interfaces with C(state=absent) that were (or would be) removed.
  returned: always
  type: list
  elements: str
  sample: [/srv/image/rootfs/etc/NetworkManager/system-connections/eth9.nmconnection]
diff:
  description: One before/after per file that changes (shown with C(--diff)), secrets as C(<hidden>).
  returned: always
  type: list
  elements: dict
  sample: [{before_header: /dev/null, after_header: /srv/image/eth0.nmconnection, before: "",
            after: "[connection]\nid=eth0\n"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils import bytecode_cache

bytecode_cache.install()  # first: the imports below compile only when their source changed

from ..module_utils.ansible_glue import HostnetModule, run  # noqa: E402
from ..module_utils.keyfiles import run as generate_keyfiles  # noqa: E402

ARGUMENT_SPEC = {
    "desired_state": {"type": "dict", "required": True},
    "dest": {"type": "path"},
}


def main() -> None:
    module: AnsibleModule = HostnetModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run(module, lambda: generate_keyfiles(module.params["desired_state"], module.params["dest"], module.check_mode))


if __name__ == "__main__":
    main()
