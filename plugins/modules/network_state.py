#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: network_state
short_description: Apply a declarative network state through NetworkManager
version_added: "0.1.0"
description:
  - Applies a desired network state, written in nmstate's YAML schema, to a host through
    NetworkManager's D-Bus API.
  - The document is validated on the controller before the host is contacted, then on the host
    against what only the host knows. Invalid input changes nothing.
  - What the document does not mention stays as it is; C(state=absent) removes.
  - Every apply runs inside a NetworkManager checkpoint. NetworkManager itself rolls the change
    back after O(rollback_timeout) seconds unless it is committed, so a killed module or a cut
    SSH session still reverts. After applying, the live state (addresses, routes, resolv.conf)
    is verified; a mismatch rolls back and fails the task with every difference listed.
  - A second run with the same document reports C(changed=false) and makes no D-Bus write.
  - Supports check mode (the same plan and diff, zero writes) and diff mode (a YAML before/after
    of exactly what changes).
author:
  - hostnet.nm contributors (@hostnet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - hostnet.nm.networkmanager
options:
  desired_state:
    description:
      - The desired state, as an nmstate document with C(interfaces), C(routes),
        C(route-rules), C(dns-resolver) and C(hostname).
      - C(hostname.config) is the static host name, saved through NetworkManager (C("") removes it);
        C(hostname.running) the kernel's running name of the host. NetworkManager's checkpoint does not
        cover the host name, so it is written only once the network change is committed (at once when the
        document changes nothing else; with O(confirm), by the controller's confirmation; in a group, by
        the commit of M(hostnet.nm.checkpoint)), then verified. A change that is rolled back or never
        confirmed never sets it. Names follow RFC 1123, at most 64 bytes.
      - Supported interface types are C(ethernet), C(veth), C(linux-bridge), C(bond), C(vlan),
        C(dummy), C(loopback) (only C(lo)), C(vrf), C(vxlan), C(mac-vlan), C(mac-vtap), C(ipvlan) (on NetworkManager
        1.52 or newer), C(macsec) and C(hsr) (HSR and PRP, on NetworkManager 1.46 or newer). Any other nmstate
        feature is refused as C(unsupported), with its path; none is silently ignored.
    type: dict
    required: true
  rollback_timeout:
    description:
      - Seconds NetworkManager waits for the commit before it rolls the change back by itself.
      - The window restarts once activation is done, so it covers verification too.
      - From 5 to 86400. NetworkManager takes 0 as "never roll back" and below 5 s the controller could not
        confirm, so values outside these bounds are refused on the controller (C(OPTION_OUT_OF_RANGE)) before
        the host is contacted, with C(changed=false).
    type: int
    default: 60
  wait_timeout:
    description: Seconds to wait for activations to finish (1 to 86400).
    type: int
    default: 30
  verify_timeout:
    description:
      - Seconds verification retries for the live state to match (carrier, DHCP, autoconf); 0 to 86400.
    type: int
    default: 10
  lock_timeout:
    description:
      - Seconds to wait when another hostnet.nm run holds the host; C(0) fails at once. At most 86400.
      - A run holds the host from its lock until its change is confirmed, or until the change's
        rollback window ends (NetworkManager then reverts it). A run that waits never rolls back
        or commits another run's change.
    type: int
    default: 0
  persistent:
    description:
      - Write profiles to disk (C(true)) or keep them in memory only, lost at reboot (C(false)).
    type: bool
    default: true
  verify:
    description:
      - Connectivity probes run after the change is applied and verified. Each probe runs once
        before the change too (the baseline); a probe that already failed before does not block
        the change and is reported as such. A probe that passed before and fails after rolls
        the change back.
      - By default the default gateway of each address family, every configured name server
        (any answer counts, even a refusal) and the controller's reachability are probed.
    type: dict
    suboptions:
      enabled:
        description: Run the probes at all.
        type: bool
        default: true
      gateway:
        description: The default gateway of each address family answers (ICMP echo or a complete neighbour entry).
        type: bool
        default: true
      dns:
        description: Every name server in resolv.conf answers a query.
        type: bool
        default: true
      dns_names:
        description: Names that must resolve (NOERROR with an answer) through each name server.
        type: list
        elements: str
        default: []
      targets:
        description: Extra targets, each C(host) (an IP address) with C(port) (TCP connect) or without (ICMP echo).
        type: list
        elements: dict
        default: []
      controller:
        description: The controller of this SSH session can still reach the host.
        type: bool
        default: true
      timeout:
        description: Seconds per probe attempt.
        type: float
        default: 2.0
      interval:
        description: Seconds between attempts.
        type: float
        default: 0.5
      attempts:
        description: Attempts per probe.
        type: int
        default: 3
  confirm:
    description:
      - Confirmed commit. The module returns with the checkpoint still pending; the action plugin
        then opens a fresh connection to the host (to the new address when the change moves the
        host's management address) and commits. If it cannot within O(rollback_timeout),
        NetworkManager rolls the change back by itself and the task fails.
      - The confirmation is made only while the C(ansible-playbook) process that ran the task is
        alive. If it is killed or interrupted (Ctrl-C) after the module returned, nothing commits
        and NetworkManager rolls the change back when O(rollback_timeout) ends.
    type: bool
    default: true
  allow_management_change:
    description:
      - Allow a change that removes the address the controller's SSH session uses. Without it such
        a change is refused before anything is touched.
      - With O(confirm), the apply then runs detached on the host, and the controller reconnects to
        the interface's new address to confirm it.
    type: bool
    default: false
  allow_route_flush:
    description:
      - Allow a change that removes routes NetworkManager did not create (those of a routing daemon, of
        C(ip route), in any table) through an interface the change must re-activate (for example to move it
        under a controller, or on NetworkManager before 1.52 to drop a route of a table other than main), or
        whose addresses it must replace (addresses NetworkManager did not configure go with the main table's
        routes of protocol C(boot) and C(static)).
      - Without it such a change is refused before anything is touched (C(FOREIGN_ROUTES_FLUSHED)), naming the
        routes. Every other change is applied with NetworkManager's Reapply, which keeps routes of others.
      - When NetworkManager refuses to reapply a change live and a re-activation would remove routes of others,
        the run fails and is rolled back unless this is set.
    type: bool
    default: false
  prune:
    description:
      - Remove the profiles this collection made (they carry the C(org.hostnet.nm.owner) mark in their C(user)
        setting) whose interface the document no longer names, as if it said C(state=absent) for them. They are
        deactivated and deleted inside the same checkpoint, with the same verification and probes, and a
        software device (bridge, bond, VLAN) goes with its profile.
      - An interface counts as named when it is in the C(interfaces) of O(desired_state), a port of an
        interface there, the base of a VLAN there, or the next hop interface of a route there.
      - Profiles made by anyone else (other tools, people, NetworkManager's auto-default and boot-time
        profiles) are never pruned, only listed in C(foreign_kept) of RV(profiles).
      - The routes and routing rules kept in profiles this collection made that the document does not list (in
        C(routes) and C(route-rules) of O(desired_state)) are removed too, as if listed with C(state=absent);
        those of profiles made by others, and rules no profile holds, are never pruned.
      - Check mode and diff show what would be pruned.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  action_group:
    support: full
    membership: [hostnet.nm.network]
  action:
    support: full
    details:
      - The action plugin validates O(desired_state) on the controller before the host is contacted, and
        confirms the change over a fresh connection (O(confirm)).
  async:
    support: none
  bypass_host_loop:
    support: none
notes:
  - Runs the host's interface changes through NetworkManager only; interfaces NetworkManager
    does not manage are left alone and refused when named.
  - The value of every key of O(desired_state) that names a secret (C(password), C(psk), C(secret),
    C(key), C(cak)... wherever it sits, bond options included) is shown as C(<hidden>) in the result,
    the diff, warnings and messages, and is handed to Ansible as a C(no_log) value.
seealso:
  - module: hostnet.nm.network_state_info
  - module: hostnet.nm.checkpoint
"""

EXAMPLES = r"""
- name: Static address, a route and DNS on eth1
  hostnet.nm.network_state:
    desired_state:
      interfaces:
        - name: eth1
          type: ethernet
          state: up
          ipv4:
            enabled: true
            dhcp: false
            address:
              - ip: 198.18.1.11
                prefix-length: 24
      routes:
        config:
          - destination: 198.19.0.0/16
            next-hop-address: 198.18.1.1
            next-hop-interface: eth1
      dns-resolver:
        config:
          server: [198.18.1.1]
          search: [lab.test]

- name: A bridge with one port
  hostnet.nm.network_state:
    desired_state:
      interfaces:
        - name: br0
          type: linux-bridge
          state: up
          bridge:
            options:
              stp:
                enabled: false
            port:
              - name: eth2
          ipv4:
            enabled: true
            dhcp: false
            address:
              - ip: 198.18.2.11
                prefix-length: 24

- name: Remove the bridge again
  hostnet.nm.network_state:
    desired_state:
      interfaces:
        - name: br0
          state: absent
"""

RETURN = r"""
changed:
  description:
    - Whether the host's network configuration changed (or would, in check mode).
    - A failed run that was rolled back reports C(false) when the host compared equal to the state read before
      the apply (RV(restored)), and C(true) when something differs (listed in RV(differences)).
  returned: always
  type: bool
  sample: true
diff:
  description:
    - The part of the state that changes, before and after, as nmstate documents rendered as YAML text
      (shown with C(--diff)).
  returned: always
  type: dict
  sample:
    before: ""
    after: |
      interfaces:
      - name: eth1
        type: ethernet
        state: up
    before_header: current state
    after_header: desired state
plan:
  description: The operations, in order, each with its disruption class.
  returned: always
  type: list
  elements: dict
  sample: [{"op": "update", "interface": "eth1", "disruption": "reapply", "reason": "changes: ipv4"}]
timings:
  description: Seconds spent per phase (read, plan, write, activate, verify, probe, commit).
  returned: always
  type: dict
  sample: {"read": 0.01, "plan": 0.001, "write": 0.02, "activate": 0.3, "verify": 0.05, "commit": 0.001}
writes:
  description: Number of D-Bus calls that changed something on the host (0 for a no-op or check mode).
  returned: always
  type: int
  sample: 0
rolled_back:
  description:
    - Whether the change was rolled back, and the live state compared equal to the one before the apply
      afterwards (see RV(restored)). C(false) when nothing had to be undone or the host is not back.
  returned: always
  type: bool
  sample: false
rollback_reason:
  description:
    - Why the change was rolled back, with the values that did not match; also when NetworkManager lost its
      checkpoint (a restart or crash during the apply).
  returned: when rolled back
  type: str
  sample: "probe dns:198.18.1.253 failed after the change (passed before): no answer within 2.0 s"
probes:
  description: Probe results after the change, each with its baseline before the change.
  returned: when probes ran
  type: list
  elements: dict
  sample: [{"name": "dns:198.18.1.1", "kind": "dns", "target": "198.18.1.1", "ok": true, "latency": 0.001,
            "baseline": "ok", "detail": "answered (REFUSED)", "attempts": 1}]
checkpoint:
  description: The NetworkManager checkpoint of this apply.
  returned: when something was applied
  type: str
  sample: /org/freedesktop/NetworkManager/Checkpoint/3
apply_id:
  description: The identifier of this apply, which M(hostnet.nm.checkpoint) takes to confirm or roll back exactly it.
  returned: when something was applied
  type: str
  sample: 8f14e45fceea167a5a36dedd4bea2543
detached:
  description: The apply ran detached on the host because it moves the controller's management address.
  returned: when it did
  type: bool
  sample: true
hostname:
  description:
    - The host name as the host reports it after writing it (C(config), NetworkManager's static name; C(running),
      the kernel's).
  returned: when the document changed the host name and it was written
  type: dict
  sample: {config: web-01.example.org, running: web-01.example.org}
hostname_pending:
  description:
    - The keys of the host name that are written at the commit of the pending or group checkpoint, never before.
  returned: when the host name waits for that commit
  type: dict
  sample: {config: web-01.example.org}
confirmed:
  description: Whether the controller confirmed the change over a fresh connection.
  returned: when O(confirm) and something was applied
  type: bool
  sample: true
management_move:
  description:
    - The change moves the address the controller's SSH session uses; C(new) is the interface's new
      address of the same family, or C(null) when it has none.
  returned: when it does
  type: dict
  sample: {"interface": "eth0", "old": "198.18.1.11", "new": "198.18.1.21"}
restored:
  description:
    - After a rollback, C(true) when the live state (profiles and their storage, the active profile of each
      device, addresses, routes with metric and table, rules, resolv.conf, the winning default route per
      family) equals the one before the apply, once the devices are activated again and past IPv6 duplicate
      address detection; else C(false), with RV(differences).
  returned: when rolled back, or when the checkpoint was lost
  type: bool
  sample: true
differences:
  description: What still differs from before the apply after a rollback, each with C(what), C(before) and C(now).
  returned: when RV(restored) is false
  type: list
  elements: dict
  sample: [{"what": "default route ipv4 (winner)", "before": ["eth0", "198.18.1.1", 100], "now": ["eth1", "198.18.2.1", 100]}]
repairs:
  description:
    - The D-Bus calls made to put the host back after a rollback left it different (or after NetworkManager
      lost the checkpoint, in a restart or crash), one line each.
  returned: when some were made
  type: list
  elements: str
  sample: ["delete profile 0f3c2a4e-5b4d-4f7e-9d6a-2b1c3d4e5f60", "activate 6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d on eth1"]
mismatches:
  description: Every difference found by verification, with desired and actual values.
  returned: when verification failed
  type: list
  elements: dict
  sample: [{"what": "eth1 ipv4 address", "desired": ["198.18.1.11/24"], "actual": []}]
profiles:
  description:
    - What the apply found and did about profile ownership, each entry a profile
      (C(uuid), C(id), C(interface), C(owner), C(origin), C(active), C(autoconnect)).
    - C(pruned) profiles of ours no longer named, deleted by O(prune); C(prunable) the same without O(prune)
      (or kept because a profile of someone else is bound to that interface too).
    - C(deleted) removed by C(state=absent), or a second profile of ours for one interface.
    - C(blocked) profiles of others that could activate on an interface the document manages (bound to it, bound
      by MAC address, unbound, NetworkManager's auto-default or boot-time ones), kept and never deleted, but blocked
      on that device only (C(connection.autoconnect) off when bound to it by name, else C(!<interface>) added to
      C(match.interface-name)) and deactivated there, so the document's profile is the one that activates, at
      every boot. Multi-connect profiles are blocked only for C(state=absent).
    - C(foreign_kept) profiles of others on interfaces the document does not name, left alone.
  returned: always
  type: dict
  sample:
    pruned: [{uuid: 5b3c0d9e-4d6a-4f8e-9a43-0a1f2b3c4d5e, id: br2, interface: br2, owner: ours,
              origin: hostnet.nm, active: true, autoconnect: true}]
    prunable: []
    deleted: []
    blocked: []
    foreign_kept: []
validation_errors:
  description: Every problem in the document, each with code, path, message, hint and severity.
  returned: when the document is invalid
  type: list
  elements: dict
  sample: [{"code": "BAD_ADDRESS", "path": "interfaces[0].ipv4.address[0].ip",
            "message": "'198.18.1.300' is not an IP address",
            "hint": "write an IPv4 (198.18.1.10) or IPv6 (2001:db8::10) address", "severity": "error"}]
error_kind:
  description: >-
    The kind of failure: C(invalid) (the document), C(conflict) (another run or tool holds the host),
    C(verification) (the live state or a probe, after rollback), C(timeout), C(dependency) (a library or
    NetworkManager missing) or C(backend) (NetworkManager refused an operation).
  returned: on failure
  type: str
  sample: verification
warnings:
  description: Non-blocking findings (options without effect, more than three DNS servers...).
  returned: when there are some
  type: list
  elements: str
  sample: ["dns-resolver.config.server[3]: 4 name servers; the resolver uses only the first 3 [DNS_TOO_MANY_SERVERS]
            (hint: keep the three you want first)"]
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils import bytecode_cache

bytecode_cache.install()  # first: the imports below compile only when their source changed

from ..module_utils.ansible_glue import HostnetModule, ensure_dbus_library, run  # noqa: E402
from ..module_utils.transaction import Options, apply  # noqa: E402

ARGUMENT_SPEC = dict(
    desired_state=dict(type="dict", required=True),
    rollback_timeout=dict(type="int", default=60),
    wait_timeout=dict(type="int", default=30),
    verify_timeout=dict(type="int", default=10),
    lock_timeout=dict(type="int", default=0),
    persistent=dict(type="bool", default=True),
    verify=dict(type="dict", options=dict(
        enabled=dict(type="bool", default=True),
        gateway=dict(type="bool", default=True),
        dns=dict(type="bool", default=True),
        dns_names=dict(type="list", elements="str", default=[]),
        targets=dict(type="list", elements="dict", default=[]),
        controller=dict(type="bool", default=True),
        timeout=dict(type="float", default=2.0),
        interval=dict(type="float", default=0.5),
        attempts=dict(type="int", default=3),
    )),
    confirm=dict(type="bool", default=True),
    allow_management_change=dict(type="bool", default=False),
    allow_route_flush=dict(type="bool", default=False),
    prune=dict(type="bool", default=False),
)


def main() -> None:
    module: AnsibleModule = HostnetModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    ensure_dbus_library(module)
    params = module.params

    def action() -> dict:
        return apply(params["desired_state"], Options.from_params(params, check_mode=module.check_mode))

    run(module, action)


if __name__ == "__main__":
    main()
