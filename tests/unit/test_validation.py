# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semantic validation: for every rule code, a document that triggers it (code
and path asserted) and a close neighbour that is valid; then the validation
cases of ../shared/cases/CASES.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.module_utils import validation
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
from ansible_collections.hostnet.nm.plugins.module_utils.schema import CODES as SCHEMA_CODES

ETH1 = "{name: eth1, type: ethernet, state: up, ipv4: {enabled: true, dhcp: false, " \
       "address: [{ip: 198.18.1.5, prefix-length: 24}]}}"
ETH1_V6 = "{name: eth1, type: ethernet, state: up, ipv6: {enabled: true, dhcp: false, autoconf: false, " \
          "address: [{ip: '2001:db8:1::5', prefix-length: 64}]}}"
ETH2 = "{name: eth2, type: ethernet, state: up, ipv4: {enabled: true, dhcp: false, " \
       "address: [{ip: 198.18.2.5, prefix-length: 24}]}}"


def route(extra: str) -> str:
    """A document with eth1 (198.18.1.5/24) and eth2 (198.18.2.5/24) and one route."""
    return "interfaces: [%s, %s]\nroutes: {config: [%s]}" % (ETH1, ETH2, extra)


def bond(extra: str, mode: str = "active-backup") -> str:
    """A document with bond0 (given mode, ports eth1 and eth2) and its link-aggregation extras."""
    return "interfaces: [{name: bond0, type: bond, link-aggregation: {mode: %s, port: [eth1, eth2]%s}}]" % (
        mode, extra)


def dns(config: str) -> str:
    """A document with eth1 (IPv4 and IPv6) and the given dns-resolver config."""
    return ("interfaces: [{name: eth1, type: ethernet, ipv4: {enabled: true, dhcp: false, address: "
            "[{ip: 198.18.1.5, prefix-length: 24}]}, ipv6: {enabled: true, dhcp: false, autoconf: false, "
            "address: [{ip: '2001:db8:1::5', prefix-length: 64}]}}]\ndns-resolver: {config: %s}" % config)


# (code, path, document that triggers it, valid neighbour)
RULE_CASES: List[Tuple[str, str, str, str]] = [
    ("INTERFACE_NAME_INVALID", "interfaces[0].name",
     "interfaces: [{name: br-storage-long0, type: linux-bridge}]",
     "interfaces: [{name: br-storage-lng0, type: linux-bridge}]"),
    ("INTERFACE_NAME_INVALID", "interfaces[0].vlan.base-iface",
     "interfaces: [{name: v10, type: vlan, vlan: {base-iface: enp1s0f0np0abcde, id: 10}}]",
     "interfaces: [{name: v10, type: vlan, vlan: {base-iface: enp1s0f0np0abcd, id: 10}}]"),
    ("INTERFACE_NAME_INVALID", "interfaces[0].name",
     "interfaces: [{name: 'eth1:0', type: ethernet}]", "interfaces: [{name: eth1_0, type: ethernet}]"),
    ("INTERFACE_DUPLICATE", "interfaces[1].name",
     "interfaces: [{name: eth1}, {name: eth1}]", "interfaces: [{name: eth1}, {name: eth2}]"),
    ("INTERFACE_SECTION_MISMATCH", "interfaces[0].vlan",
     "interfaces: [{name: eth1.5, type: ethernet, vlan: {base-iface: eth1, id: 5}}]",
     "interfaces: [{name: eth1.5, type: vlan, vlan: {base-iface: eth1, id: 5}}]"),
    ("MAC_DUPLICATE", "interfaces[1].mac-address",
     "interfaces: [{name: eth1, mac-address: '02:00:00:00:00:0a'}, {name: eth2, mac-address: '02:00:00:00:00:0A'}]",
     "interfaces: [{name: bond0, type: bond, mac-address: '02:00:00:00:00:0a', link-aggregation: {mode: "
     "active-backup, port: [eth1]}}, {name: eth1, mac-address: '02:00:00:00:00:0A'}]"),
    ("IPV6_MTU_TOO_SMALL", "interfaces[0].mtu",
     "interfaces: [{name: eth1, mtu: 1200, ipv6: {enabled: true}}]",
     "interfaces: [{name: eth1, mtu: 1280, ipv6: {enabled: true}}]"),
    ("ADDRESS_IS_NETWORK", "interfaces[0].ipv4.address[0]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, address: [{ip: 198.18.1.0, prefix-length: 24}]}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, address: [{ip: 198.18.1.0, prefix-length: 31}]}}]"),
    ("ADDRESS_IS_BROADCAST", "interfaces[0].ipv4.address[0]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, address: [{ip: 198.18.1.255, prefix-length: 24}]}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, address: [{ip: 198.18.1.255, prefix-length: 22}]}}]"),
    ("ADDRESS_NOT_UNICAST", "interfaces[0].ipv4.address[0]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, address: [{ip: 224.0.0.5, prefix-length: 24}]}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, address: [{ip: 198.18.0.5, prefix-length: 24}]}}]"),
    ("ADDRESS_DUPLICATE", "interfaces[1].ipv4.address[0]",
     "interfaces: [%s, {name: eth2, ipv4: {enabled: true, address: [{ip: 198.18.1.5, prefix-length: 24}]}}]" % ETH1,
     "interfaces: [{name: eth1, ipv6: {enabled: true, address: [{ip: 'fe80::1', prefix-length: 64}]}}, "
     "{name: eth2, ipv6: {enabled: true, address: [{ip: 'fe80::1', prefix-length: 64}]}}]"),
    ("ADDRESS_DUPLICATE", "interfaces[0].ipv4.address[1]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, address: [{ip: 198.18.1.5, prefix-length: 24}, "
     "{ip: 198.18.1.5, prefix-length: 25}]}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, address: [{ip: 198.18.1.5, prefix-length: 24}, "
     "{ip: 198.18.1.6, prefix-length: 24}]}}]"),
    ("ADDRESS_SUBNET_OVERLAP", "interfaces[1].ipv4.address[0]",
     "interfaces: [%s, {name: eth2, ipv4: {enabled: true, address: [{ip: 198.18.1.6, prefix-length: 25}]}}]" % ETH1,
     "interfaces: [%s, {name: eth2, ipv4: {enabled: true, address: [{ip: 198.18.1.6, prefix-length: 32}]}}]" % ETH1),
    ("ADDRESS_SUBNET_OVERLAP", "interfaces[1].ipv6.address[0]",
     "interfaces: [%s, {name: eth2, ipv6: {enabled: true, address: [{ip: '2001:db8:1::6', prefix-length: 48}]}}]"
     % ETH1_V6,
     "interfaces: [%s, {name: eth2, ipv6: {enabled: true, address: [{ip: '2001:db8:2::6', prefix-length: 64}]}}]"
     % ETH1_V6),
    ("BOND_MODE_REQUIRED", "interfaces[0].link-aggregation.mode",
     "interfaces: [{name: bond0, type: bond, link-aggregation: {port: [eth1]}}]",
     "interfaces: [{name: bond0, type: bond, link-aggregation: {options: {miimon: 100}}}]"),
    ("BOND_OPTION_MODE_MISMATCH", "interfaces[0].link-aggregation.options.lacp_rate",
     bond(", options: {lacp_rate: fast}"), bond(", options: {lacp_rate: fast}", mode="802.3ad")),
    ("BOND_OPTION_MODE_MISMATCH", "interfaces[0].link-aggregation.options.primary",
     bond(", options: {primary: eth1}", mode="802.3ad"), bond(", options: {primary: eth1}")),
    ("BOND_OPTION_MODE_MISMATCH", "interfaces[0].link-aggregation.options.arp_interval",
     bond(", options: {arp_interval: 100, arp_ip_target: 198.18.1.1}", mode="balance-alb"),
     bond(", options: {arp_interval: 100, arp_ip_target: 198.18.1.1}")),
    ("BOND_MONITOR_CONFLICT", "interfaces[0].link-aggregation.options.arp_interval",
     bond(", options: {miimon: 100, arp_interval: 100}"), bond(", options: {miimon: 100, arp_interval: 0}")),
    ("BOND_OPTION_UNKNOWN", "interfaces[0].link-aggregation.options.vendor_knob",
     bond(", options: {vendor_knob: 1}"), bond(", options: {miimon: 100}")),
    ("PORT_MULTIPLE_CONTROLLERS", "interfaces[1].link-aggregation.port[0]",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: eth1}]}}, "
     "{name: bond0, type: bond, link-aggregation: {mode: active-backup, port: [eth1]}}]",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: eth2}]}}, "
     "{name: bond0, type: bond, link-aggregation: {mode: active-backup, port: [eth1]}}]"),
    ("PORT_HAS_IP", "interfaces[1].ipv4.enabled",
     "interfaces: [{name: bond0, type: bond, link-aggregation: {mode: active-backup, port: [eth1]}}, %s]" % ETH1,
     "interfaces: [{name: bond0, type: bond, link-aggregation: {mode: active-backup, port: [eth1]}}, "
     "{name: eth1, ipv4: {enabled: false}}]"),
    ("CONTROLLER_CYCLE", "interfaces[0]",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: bond0}]}}, "
     "{name: bond0, type: bond, link-aggregation: {mode: active-backup, port: [br0]}}]",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: bond0}]}}, "
     "{name: bond0, type: bond, link-aggregation: {mode: active-backup, port: [eth1]}}]"),
    ("CONTROLLER_CYCLE", "interfaces[0]",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: br0.5}]}}, "
     "{name: br0.5, type: vlan, vlan: {base-iface: br0, id: 5}}]",
     "interfaces: [{name: br1, type: linux-bridge, bridge: {port: [{name: br0.5}]}}, "
     "{name: br0.5, type: vlan, vlan: {base-iface: br0, id: 5}}]"),
    ("VLAN_DUPLICATE", "interfaces[1].vlan.id",
     "interfaces: [{name: v10, type: vlan, vlan: {base-iface: eth1, id: 10}}, "
     "{name: eth1.10, type: vlan, vlan: {base-iface: eth1, id: 10}}]",
     "interfaces: [{name: v10, type: vlan, vlan: {base-iface: eth1, id: 10}}, "
     "{name: eth2.10, type: vlan, vlan: {base-iface: eth2, id: 10}}]"),
    ("IPVLAN_L3_GATEWAY", "routes.config[0].next-hop-address",
     "interfaces: [{name: ipv0, type: ipvlan, ipvlan: {base-iface: eth1, mode: l3}}]\n"
     "routes: {config: [{destination: 0.0.0.0/0, next-hop-interface: ipv0, next-hop-address: 198.18.1.1}]}",
     "interfaces: [{name: ipv0, type: ipvlan, ipvlan: {base-iface: eth1, mode: l3}}]\n"
     "routes: {config: [{destination: 0.0.0.0/0, next-hop-interface: ipv0}]}"),
    ("IPVLAN_L3_GATEWAY", "interfaces[0].ipv4.dhcp",
     "interfaces: [{name: ipv0, type: ipvlan, ipvlan: {base-iface: eth1, mode: l3s}, ipv4: {enabled: true, dhcp: true}}]",
     "interfaces: [{name: ipv0, type: ipvlan, ipvlan: {base-iface: eth1, mode: l2}, ipv4: {enabled: true, dhcp: true}}]"),
    ("VLAN_MTU_ABOVE_BASE", "interfaces[1].mtu",
     "interfaces: [{name: eth1, mtu: 1500}, {name: eth1.5, type: vlan, mtu: 9000, vlan: {base-iface: eth1, id: 5}}]",
     "interfaces: [{name: eth1, mtu: 9000}, {name: eth1.5, type: vlan, mtu: 9000, vlan: {base-iface: eth1, id: 5}}]"),
    ("HSR_MTU_ABOVE_PORTS", "interfaces[0].mtu",
     "interfaces: [{name: hsr0, type: hsr, mtu: 1500, hsr: {port1: eth1, port2: eth2}}, {name: eth1, mtu: 9000}, "
     "{name: eth2}]",
     "interfaces: [{name: hsr0, type: hsr, mtu: 1494, hsr: {port1: eth1, port2: eth2}}, {name: eth1, mtu: 9000}, "
     "{name: eth2}]"),
    ("HSR_PRP_MAC_MISMATCH", "interfaces[2].mac-address",
     "interfaces: [{name: prp0, type: hsr, hsr: {port1: eth1, port2: eth2, protocol: prp}}, "
     "{name: eth1, mac-address: '02:6b:00:00:00:01'}, {name: eth2, mac-address: '02:6b:00:00:00:02'}]",
     "interfaces: [{name: prp0, type: hsr, hsr: {port1: eth1, port2: eth2, protocol: prp}}, "
     "{name: eth1, mac-address: '02:6b:00:00:00:01'}, {name: eth2, mac-address: '02:6B:00:00:00:01'}]"),
    # an HSR's ports are ports to the kernel: one controller, no IP, no loop
    ("PORT_MULTIPLE_CONTROLLERS", "interfaces[1].bridge.port[0].name",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2}}, "
     "{name: br0, type: linux-bridge, bridge: {port: [{name: eth2}]}}]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2}}, "
     "{name: br0, type: linux-bridge, bridge: {port: [{name: eth3}]}}]"),
    ("PORT_MULTIPLE_CONTROLLERS", "interfaces[0].hsr.port2",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth1}}]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2}}]"),
    ("PORT_HAS_IP", "interfaces[1].ipv6.enabled",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2}}, {name: eth2, ipv6: {enabled: true}}]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2}}, {name: eth2, ipv6: {enabled: false}}]"),
    ("CONTROLLER_CYCLE", "interfaces[0]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: v5}}, "
     "{name: v5, type: vlan, vlan: {base-iface: hsr0, id: 5}}]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: v5}}, "
     "{name: v5, type: vlan, vlan: {base-iface: eth3, id: 5}}]"),
    ("LOOPBACK_NAME", "interfaces[0].name", "interfaces: [{name: lo1, type: loopback}]",
     "interfaces: [{name: lo1, type: dummy}]"),
    ("LOOPBACK_NAME", "interfaces[0].type", "interfaces: [{name: lo, type: ethernet}]",
     "interfaces: [{name: lo, type: loopback}]"),
    ("LOOPBACK_STATE", "interfaces[0].state", "interfaces: [{name: lo, type: loopback, state: down}]",
     "interfaces: [{name: lo, type: loopback, state: absent}]"),
    ("LOOPBACK_IP", "interfaces[0].ipv6.enabled", "interfaces: [{name: lo, type: loopback, ipv6: {enabled: false}}]",
     "interfaces: [{name: lo, type: loopback, ipv6: {enabled: true, address: [{ip: '::1', prefix-length: 128}, "
     "{ip: '2001:db8:99::1', prefix-length: 128}]}}]"),
    ("LOOPBACK_IP", "interfaces[0].ipv4.dhcp", "interfaces: [{name: lo, ipv4: {enabled: true, dhcp: true}}]",
     "interfaces: [{name: lo, ipv4: {enabled: true, dhcp: false, address: [{ip: 127.0.0.1, prefix-length: 8}]}}]"),
    ("LOOPBACK_LINK_KEY", "interfaces[0].mtu", "interfaces: [{name: lo, type: loopback, mtu: 9000}]",
     "interfaces: [{name: d0, type: dummy, mtu: 9000}]"),
    ("VRF_TABLE_RESERVED", "interfaces[0].vrf.route-table-id",
     "interfaces: [{name: vrf0, type: vrf, vrf: {route-table-id: 254}}]",
     "interfaces: [{name: vrf0, type: vrf, vrf: {route-table-id: 100}}]"),
    ("VRF_TABLE_DUPLICATE", "interfaces[1].vrf.route-table-id",
     "interfaces: [{name: vrf0, type: vrf, vrf: {route-table-id: 100}}, "
     "{name: vrf1, type: vrf, vrf: {route-table-id: 100}}]",
     "interfaces: [{name: vrf0, type: vrf, vrf: {route-table-id: 100}}, "
     "{name: vrf1, type: vrf, vrf: {route-table-id: 101}}]"),
    ("VRF_TABLE_IN_USE", "routes.config[0].table-id",
     "interfaces: [{name: vrf0, type: vrf, vrf: {route-table-id: 100, port: [eth1]}}]\n"
     "routes: {config: [{destination: 198.19.0.0/24, next-hop-interface: eth2, next-hop-address: 198.18.2.1, "
     "table-id: 100}]}",
     "interfaces: [{name: vrf0, type: vrf, vrf: {route-table-id: 100, port: [eth1]}}]\n"
     "routes: {config: [{destination: 198.19.0.0/24, next-hop-interface: eth2, next-hop-address: 198.18.2.1, "
     "table-id: 101}]}"),
    ("VRF_ROUTE_TABLE", "routes.config[0].table-id",
     "interfaces: [{name: vrf0, type: vrf, vrf: {route-table-id: 100, port: [eth1]}}]\n"
     "routes: {config: [{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.1.1}]}",
     "interfaces: [{name: vrf0, type: vrf, vrf: {route-table-id: 100, port: [eth1]}}]\n"
     "routes: {config: [{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.1.1, "
     "table-id: 100}]}"),
    ("ROUTE_DESTINATION_REQUIRED", "routes.config[0].destination",
     route("{next-hop-interface: eth1, next-hop-address: 198.18.1.1}"),
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.1.1}")),
    ("ROUTE_INTERFACE_REQUIRED", "routes.config[0].next-hop-interface",
     route("{destination: 198.19.0.0/24, next-hop-address: 198.18.1.1}"),
     route("{destination: 198.19.0.0/24, next-hop-address: 198.18.1.1, next-hop-interface: eth1}")),
    ("ROUTE_LINK_LOCAL_NEEDS_INTERFACE", "routes.config[0].next-hop-interface",
     "interfaces: [%s]\nroutes: {config: [{destination: '::/0', next-hop-address: 'fe80::1'}]}" % ETH1_V6,
     "interfaces: [%s]\nroutes: {config: [{destination: '::/0', next-hop-address: 'fe80::1', "
     "next-hop-interface: eth1}]}" % ETH1_V6),
    ("ROUTE_FAMILY_MISMATCH", "routes.config[0].next-hop-address",
     route("{destination: 0.0.0.0/0, next-hop-interface: eth1, next-hop-address: '2001:db8:1::1'}"),
     route("{destination: 0.0.0.0/0, next-hop-interface: eth1, next-hop-address: 198.18.1.1}")),
    ("ROUTE_ABSENT_MATCHES_ALL", "routes.config[0]",
     route("{state: absent}"), route("{next-hop-interface: eth1, state: absent}")),
    ("ROUTE_RULE_ABSENT_MATCHES_ALL", "route-rules.config[0]",
     "route-rules: {config: [{state: absent}]}", "route-rules: {config: [{priority: 100, state: absent}]}"),
    ("ROUTE_NEXT_HOP_OFF_LINK", "routes.config[0].next-hop-address",
     route("{destination: 0.0.0.0/0, next-hop-interface: eth1, next-hop-address: 198.19.1.1}"),
     route("{destination: 0.0.0.0/0, next-hop-interface: eth1, next-hop-address: 198.19.1.1, on-link: true}")),
    ("ROUTE_NEXT_HOP_OFF_LINK", "routes.config[0].next-hop-address",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.2.1}"),
     route("{destination: 198.19.0.0/24, next-hop-interface: eth2, next-hop-address: 198.18.2.1}")),
    ("ROUTE_NEXT_HOP_IS_LOCAL", "routes.config[0].next-hop-address",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.1.5}"),
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.1.1}")),
    ("ROUTE_FAMILY_DISABLED", "routes.config[0].next-hop-interface",
     "interfaces: [{name: eth1, ipv6: {enabled: false}}]\n"
     "routes: {config: [{destination: '2001:db8:9::/64', next-hop-interface: eth1}]}",
     "interfaces: [{name: eth1, ipv6: {enabled: true}}]\n"
     "routes: {config: [{destination: '2001:db8:9::/64', next-hop-interface: eth1}]}"),
    ("ROUTE_VIA_PORT", "routes.config[0].next-hop-interface",
     "interfaces: [{name: bond0, type: bond, link-aggregation: {mode: active-backup, port: [eth1]}}]\n"
     "routes: {config: [{destination: 198.19.0.0/24, next-hop-interface: eth1}]}",
     "interfaces: [{name: bond0, type: bond, link-aggregation: {mode: active-backup, port: [eth1]}}]\n"
     "routes: {config: [{destination: 198.19.0.0/24, next-hop-interface: bond0}]}"),
    ("ROUTE_INTERFACE_ABSENT", "routes.config[0].next-hop-interface",
     "interfaces: [{name: eth3, state: absent}]\n"
     "routes: {config: [{destination: 198.19.0.0/24, next-hop-interface: eth3}]}",
     "interfaces: [{name: eth3, state: absent}]\n"
     "routes: {config: [{destination: 198.19.0.0/24, next-hop-interface: eth3, state: absent}]}"),
    ("ROUTE_TABLE_LOCAL", "routes.config[0].table-id",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, table-id: 255}"),
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, table-id: 252}")),
    ("ROUTE_TABLE_DEFAULT", "routes.config[0].table-id",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, table-id: 253}"),
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, table-id: 0}")),
    ("ROUTE_DUPLICATE", "routes.config[1]",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1}, "
           "{destination: 198.19.0.0/24, next-hop-interface: eth1, table-id: 254, next-hop-address: 0.0.0.0}"),
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1}, "
           "{destination: 198.19.0.0/24, next-hop-interface: eth1, metric: 200}")),
    ("ROUTE_DEFAULT_CONFLICT", "routes.config[1].metric",
     route("{destination: 0.0.0.0/0, next-hop-interface: eth1, next-hop-address: 198.18.1.1, metric: 100}, "
           "{destination: 0.0.0.0/0, next-hop-interface: eth2, next-hop-address: 198.18.2.1, metric: 100}"),
     route("{destination: 0.0.0.0/0, next-hop-interface: eth1, next-hop-address: 198.18.1.1, metric: 100}, "
           "{destination: 0.0.0.0/0, next-hop-interface: eth2, next-hop-address: 198.18.2.1, metric: 200}")),
    ("ROUTE_RULE_FAMILY_MISMATCH", "route-rules.config[0].ip-to",
     "route-rules: {config: [{ip-from: 198.18.0.0/24, ip-to: '2001:db8::/64'}]}",
     "route-rules: {config: [{ip-from: 198.18.0.0/24, ip-to: 198.19.0.0/24}]}"),
    ("ROUTE_RULE_FAMILY_MISMATCH", "route-rules.config[0].family",
     "route-rules: {config: [{ip-from: 198.18.0.0/24, family: ipv6}]}",
     "route-rules: {config: [{ip-from: 198.18.0.0/24, family: ipv4}]}"),
    ("ROUTE_RULE_TABLE_EMPTY", "route-rules.config[0].route-table",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1}") + "\n"
     "route-rules: {config: [{ip-from: 198.18.1.0/24, route-table: 200}]}",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, table-id: 200}") + "\n"
     "route-rules: {config: [{ip-from: 198.18.1.0/24, route-table: 200}]}"),
    # issue 15 item 8: a weight belongs to the hops of an ECMP route, and only IPv4 has them
    ("ROUTE_WEIGHT_WITHOUT_ECMP", "routes.config[0].weight",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.1.1, weight: 2}"),
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.1.1, weight: 2}, "
           "{destination: 198.19.0.0/24, next-hop-interface: eth1, next-hop-address: 198.18.1.2, weight: 1}")),
    ("ROUTE_WEIGHT_IPV6", "routes.config[0].weight",
     route("{destination: '2001:db8:9::/64', next-hop-interface: eth1, weight: 2}"),
     route("{destination: '2001:db8:9::/64', next-hop-interface: eth1}")),
    ("ROUTE_SOURCE_FAMILY_MISMATCH", "routes.config[0].source",
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, source: '2001:db8::1'}"),
     route("{destination: 198.19.0.0/24, next-hop-interface: eth1, source: 198.18.1.11}")),
    # 0.0.0.0/8 is "this network" (RFC 1122, RFC 6890): never a unicast destination; a wider prefix is
    ("ROUTE_DESTINATION_RESERVED", "routes.config[0].destination",
     route("{destination: 0.1.0.0/16, next-hop-interface: eth1, next-hop-address: 198.18.1.1}"),
     route("{destination: 0.0.0.0/1, next-hop-interface: eth1, next-hop-address: 198.18.1.1}")),
    ("ROUTE_DESTINATION_RESERVED", "routes.config[0].destination",
     route("{destination: 0.0.0.0/8, next-hop-interface: eth1}"),
     route("{destination: 0.0.0.0/8, route-type: blackhole}")),
    # RFC 8200: an IPv6 link carries at least 1280 bytes
    ("ROUTE_MTU_BELOW_IPV6_MINIMUM", "routes.config[0].mtu",
     route("{destination: '2001:db8:9::/64', next-hop-interface: eth1, mtu: 1279}"),
     route("{destination: '2001:db8:9::/64', next-hop-interface: eth1, mtu: 1280}")),
    # issue 15 item 8: a blackhole/unreachable/prohibit route has no next hop; lo's profile holds it
    ("ROUTE_TYPE_NEXT_HOP", "routes.config[0].next-hop-address",
     route("{destination: 198.51.100.0/24, route-type: blackhole, next-hop-address: 198.18.1.1}"),
     route("{destination: 198.51.100.0/24, route-type: blackhole}")),
    ("ROUTE_TYPE_NEXT_HOP", "routes.config[0].next-hop-interface",
     route("{destination: '2001:db8:77::/48', route-type: unreachable, next-hop-interface: eth1}"),
     route("{destination: '2001:db8:77::/48', route-type: unreachable, next-hop-interface: lo}")),
    ("ROUTE_TYPE_ATTRIBUTE", "routes.config[0].weight",
     route("{destination: 198.51.100.0/24, route-type: prohibit, weight: 2}"),
     route("{destination: 198.51.100.0/24, route-type: prohibit, mtu: 1400}")),
    ("ROUTE_TYPE_ATTRIBUTE", "routes.config[0].on-link",
     route("{destination: 198.51.100.0/24, route-type: blackhole, on-link: true}"),
     route("{destination: 198.51.100.0/24, route-type: blackhole, on-link: false}")),
    ("ROUTE_TYPE_CONFLICT", "routes.config[1]",
     route("{destination: 198.51.100.0/24, route-type: blackhole}, "
           "{destination: 198.51.100.0/24, route-type: unreachable}"),
     route("{destination: 198.51.100.0/24, route-type: blackhole}, "
           "{destination: 198.51.100.0/24, route-type: unreachable, table-id: 100}")),
    ("ROUTE_TYPE_CONFLICT", "routes.config[1]",
     route("{destination: 198.51.100.0/24, next-hop-interface: eth1, metric: 50}, "
           "{destination: 198.51.100.0/24, route-type: blackhole, metric: 50}"),
     route("{destination: 198.51.100.0/24, next-hop-interface: eth1, metric: 50}, "
           "{destination: 198.51.100.0/24, route-type: blackhole, metric: 4000}")),
    ("ROUTE_INTERFACE_ABSENT", "routes.config[0].route-type",
     "interfaces: [{name: lo, type: loopback, state: absent}]\n"
     "routes: {config: [{destination: 198.51.100.0/24, route-type: blackhole}]}",
     "interfaces: [{name: lo, type: loopback, state: up}]\n"
     "routes: {config: [{destination: 198.51.100.0/24, route-type: blackhole}]}"),
    ("DNS_LINK_LOCAL_NO_SCOPE", "dns-resolver.config.server[0]",
     dns("{server: ['fe80::53']}"), dns("{server: ['fe80::53%eth1']}")),
    ("DNS_SCOPE_UNKNOWN", "dns-resolver.config.server[0]",
     dns("{server: ['fe80::53%eth9']}"), dns("{server: ['fe80::53%eth1']}")),
    ("DNS_SCOPE_CONFLICT", "dns-resolver.config.server[1]",
     dns("{server: ['fe80::53%eth1', 'fe80::54%eth2']}"), dns("{server: ['fe80::53%eth1', 'fe80::54%eth1']}")),
    ("DNS_TOO_MANY_SERVERS", "dns-resolver.config.server[3]",
     dns("{server: [198.18.0.53, 198.18.0.54, 198.18.0.55, 198.18.0.56]}"),
     dns("{server: [198.18.0.53, 198.18.0.54, 198.18.0.55]}")),
    # issue 17 item 7: NetworkManager writes each family's servers as one block
    ("DNS_FAMILY_INTERLEAVED", "dns-resolver.config.server[2]",
     dns("{server: [198.18.1.1, '2001:db8:1::1', 198.18.0.1]}"),
     dns("{server: [198.18.1.1, 198.18.0.1, '2001:db8:1::1']}")),
    ("DNS_FAMILY_INTERLEAVED", "dns-resolver.config.server[2]",
     dns("{server: ['2001:db8::53', 198.18.0.99, '2001:db8::54']}"),
     dns("{server: ['2001:db8::53', '2001:db8::54', 198.18.0.99]}")),
    # issue 17 item 7: NetworkManager has no SLAAC-only method
    ("IPV6_AUTOCONF_WITHOUT_DHCP", "interfaces[0].ipv6.dhcp",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: false, autoconf: true}}]",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true}}]"),
    # issue 17 item 7: NetworkManager's ipv4.method manual needs an address
    ("IPV4_STATIC_WITHOUT_ADDRESS", "interfaces[0].ipv4.address",
     "interfaces: [{name: eth1, ipv4: {enabled: true, dhcp: false, address: []}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: false}}]"),
    ("DNS_SEARCH_INVALID", "dns-resolver.config.search[1]",
     dns("{search: [corp.example, 'corp example']}"), dns("{search: [corp.example, lab-1.corp.example.]}")),
    ("DNS_SEARCH_INVALID", "dns-resolver.config.search[0]",
     dns("{search: [%s.example]}" % ("a" * 64)), dns("{search: [%s.example]}" % ("a" * 63))),
    ("DNS_OPTION_UNKNOWN", "dns-resolver.config.options[1]",
     dns("{options: [rotate, 'ndots:x']}"), dns("{options: [rotate, 'ndots:2']}")),
    ("HOSTNAME_RUNNING_DIFFERS", "hostname.running", "hostname: {config: web-01, running: web-02}",
     "hostname: {config: web-01, running: web-01}"),
    ("OPTION_NO_EFFECT", "interfaces[0].ipv4.auto-dns",
     "interfaces: [{name: eth1, ipv4: {enabled: true, dhcp: false, auto-dns: false}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, dhcp: true, auto-dns: false}}]"),
    # issue 15 item 8: DHCP options without DHCP, a custom host name that is not sent
    ("OPTION_NO_EFFECT", "interfaces[0].ipv4.dhcp-client-id",
     "interfaces: [{name: eth1, ipv4: {enabled: true, dhcp: false, dhcp-client-id: ll, address: []}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: true, dhcp: true, dhcp-client-id: ll}}]"),
    ("OPTION_NO_EFFECT", "interfaces[0].ipv6.auto-route-table-id",
     "interfaces: [{name: eth1, ipv6: {enabled: true, dhcp: false, autoconf: false, auto-route-table-id: 100}}]",
     "interfaces: [{name: eth1, ipv6: {enabled: true, dhcp: true, autoconf: true, auto-route-table-id: 100}}]"),
    ("OPTION_NO_EFFECT", "interfaces[0].ipv4.dhcp-custom-hostname",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, dhcp-send-hostname: false, "
     "dhcp-custom-hostname: h1}}]",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, dhcp-send-hostname: true, "
     "dhcp-custom-hostname: h1}}]"),
    # issue 15 item 8: NetworkManager uses a token only with eui64, nmstate only with autoconf
    ("IPV6_TOKEN_WITHOUT_AUTOCONF", "interfaces[0].ipv6.token",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: false, token: '::fac1'}}]",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: false, token: ''}}]"),
    ("IPV6_TOKEN_NEEDS_EUI64", "interfaces[0].ipv6.addr-gen-mode",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true, token: '::fac1', "
     "addr-gen-mode: stable-privacy}}]",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true, token: '::fac1', "
     "addr-gen-mode: eui64}}]"),
    ("ROUTE_RULE_TABLE_EMPTY", "route-rules.config[0].route-table",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: false, auto-route-table-id: 1000, address: "
     "[{ip: 198.18.2.5, prefix-length: 24}]}}]\nroute-rules: {config: [{ip-to: 198.18.2.0/24, route-table: 1000}]}",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, auto-route-table-id: 1000}}]\n"
     "route-rules: {config: [{ip-to: 198.18.2.0/24, route-table: 1000}]}"),
    ("DHCP_HOSTNAME_INVALID", "interfaces[0].ipv4.dhcp-custom-hostname",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, dhcp-custom-hostname: 'h1 lab'}}]",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, dhcp-custom-hostname: h1.lab.test}}]"),
    ("OPTION_NO_EFFECT", "interfaces[0].ipv4.address",
     "interfaces: [{name: eth1, ipv4: {enabled: false, address: [{ip: 198.18.1.5, prefix-length: 24}]}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: false, address: []}}]"),
    ("OPTION_NO_EFFECT", "interfaces[0].bridge.options.stp.priority",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {options: {stp: {enabled: false, priority: 128}}}}]",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {options: {stp: {enabled: true, priority: 128}}}}]"),
]


def run(text: str):
    """``(errors, warnings)`` of a YAML document, each a list of ``(code, path)``."""
    _doc, errors, warnings = validation.validate(yaml.safe_load(text))
    return [(p.code, p.path) for p in errors], [(p.code, p.path) for p in warnings]


def case_id(case: Tuple[str, str, str, str]) -> str:
    return "%s@%s" % (case[0], case[1])


@pytest.mark.parametrize("code,path,bad,good", RULE_CASES, ids=[case_id(c) for c in RULE_CASES])
def test_rule_triggers_with_path(code, path, bad, good):
    errors, warnings = run(bad)
    found = warnings if code in validation.WARNING_CODES else errors
    assert (code, path) in found, (errors, warnings)


@pytest.mark.parametrize("code,path,bad,good", RULE_CASES, ids=[case_id(c) for c in RULE_CASES])
def test_neighbour_is_valid(code, path, bad, good):
    errors, warnings = run(good)
    assert errors == []
    assert code not in [c for c, _p in warnings]


def test_every_rule_code_has_a_case():
    rule_codes = {c for codes, _f in validation.RULES for c in codes}
    assert rule_codes - {c[0] for c in RULE_CASES} == set()


def test_rule_codes_are_distinct_from_schema_codes():
    rule_codes = [c for codes, _f in validation.RULES for c in codes]
    assert len(rule_codes) == len(set(rule_codes))
    assert set(rule_codes) & set(SCHEMA_CODES) == set()


def test_every_rule_names_its_source():
    for _codes, func in validation.RULES:
        assert "Source:" in (func.__doc__ or ""), func.__name__


def test_messages_and_hints_are_filled():
    for _code, _path, bad, _good in RULE_CASES:
        _doc, errors, warnings = validation.validate(yaml.safe_load(bad))
        for problem in errors + warnings:
            assert problem.message and problem.hint, problem


def test_all_errors_at_once():
    text = ("interfaces: [{name: br-storage-long0, type: linux-bridge}, %s]\n"
            "routes: {config: [{destination: 0.0.0.0/0, next-hop-interface: eth1, next-hop-address: 198.19.1.1},"
            " {destination: 198.19.0.0/24, next-hop-interface: eth1, table-id: 255}]}\n"
            "dns-resolver: {config: {server: ['fe80::53']}}" % ETH1)
    errors, _warnings = run(text)
    assert [c for c, _p in errors] == ["INTERFACE_NAME_INVALID", "ROUTE_NEXT_HOP_OFF_LINK", "ROUTE_TABLE_LOCAL",
                                       "DNS_LINK_LOCAL_NO_SCOPE"]


def test_check_raises_with_every_error_and_returns_warnings():
    with pytest.raises(InvalidStateError) as err:
        validation.check(yaml.safe_load(RULE_CASES[0][2]))
    assert [p.code for p in err.value.problems] == ["INTERFACE_NAME_INVALID"]
    doc, warnings = validation.check(yaml.safe_load(bond(", options: {vendor_knob: 1}")))
    assert doc["interfaces"][0]["name"] == "bond0"
    assert [w.code for w in warnings] == ["BOND_OPTION_UNKNOWN"] and warnings[0].severity == "warning"


def test_a_crashing_rule_is_reported_not_raised(monkeypatch):
    def broken(doc, problems):
        """Broken."""
        raise KeyError("boom")
    monkeypatch.setattr(validation, "RULES", validation.RULES + [(("BROKEN",), broken)])
    _doc, errors, _warnings = validation.validate({"interfaces": [{"name": "eth1"}]})
    assert [p.code for p in errors] == ["INTERNAL_RULE_ERROR"]


def test_codes_table_lists_every_code_once_with_severity():
    table = validation.codes()
    names = [c for c, _s, _t in table]
    assert names == sorted(set(names))
    assert set(SCHEMA_CODES) <= set(names)
    assert all(s in ("error", "warning") and t for _c, s, t in table)
    assert dict((c, s) for c, s, _t in table)["DNS_TOO_MANY_SERVERS"] == "warning"


# ----------------------------------------------------------- cases from CASES.md

ETH1_UP = "\ninterfaces:\n  - name: eth1\n    type: ethernet\n    state: up\n"

BC26 = ETH1_UP + """    ipv4: {enabled: true, dhcp: false, address: [{ip: 198.18.26.10, prefix-length: 24}]}
routes:
  config:
    - {destination: 0.0.0.0/0, next-hop-address: 198.19.26.1, next-hop-interface: eth1%s}
"""


def test_bc26_gateway_outside_every_subnet():
    errors, _warnings = run(BC26 % "")
    assert errors == [("ROUTE_NEXT_HOP_OFF_LINK", "routes.config[0].next-hop-address")]
    _doc, problems, _w = validation.validate(yaml.safe_load(BC26 % ""))
    assert "198.19.26.1" in problems[0].message and "198.18.26.0/24" in problems[0].message
    assert "on-link" in problems[0].hint
    assert run(BC26 % ", on-link: true") == ([], [])


def test_off_link_is_not_judged_with_dhcp_or_without_the_interface():
    dhcp = (BC26 % "").replace("dhcp: false", "dhcp: true")
    assert run(dhcp)[0] == []
    elsewhere = "routes: {config: [{destination: 0.0.0.0/0, next-hop-address: 198.19.26.1, next-hop-interface: eth1}]}"
    assert run(elsewhere)[0] == []
    no_addresses = "interfaces: [{name: eth1, ipv4: {enabled: true, dhcp: false}}]\n" + elsewhere
    assert run(no_addresses)[0] == []


def test_off_link_accepts_a_next_hop_behind_a_direct_route():
    text = BC26 % "" + "    - {destination: 198.19.26.1/32, next-hop-interface: eth1}\n"
    assert run(text) == ([], [])


@pytest.mark.parametrize("name", ["enp1s0f0np0.3001", "br-storage-long0"])
def test_bc38_sixteen_character_names(name):
    text = "interfaces: [{name: %s, type: %s, state: up%s}]" % (
        name, "vlan" if "." in name else "linux-bridge",
        ", vlan: {base-iface: enp1s0f0np0, id: 3001}" if "." in name else "")
    _doc, errors, _w = validation.validate(yaml.safe_load(text))
    assert [(p.code, p.path) for p in errors] == [("INTERFACE_NAME_INVALID", "interfaces[0].name")]
    assert "15" in errors[0].message and name in errors[0].message


def test_bc38_name_length_counts_bytes():
    errors, _warnings = run("interfaces: [{name: 'eth1\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9', type: ethernet}]")
    assert errors == [("INTERFACE_NAME_INVALID", "interfaces[0].name")]  # 10 characters but 16 bytes


def test_bc34_link_local_name_server():
    text = ETH1_UP + """    ipv6: {enabled: true, dhcp: false, autoconf: false,
           address: [{ip: "2001:db8:34::2", prefix-length: 64}]}
dns-resolver:
  config:
    server: [%s, "2001:db8::53", 198.18.0.53]
"""
    assert run(text % '"fe80::53"')[0] == [("DNS_LINK_LOCAL_NO_SCOPE", "dns-resolver.config.server[0]")]
    assert run(text % '"fe80::53%eth1"') == ([], [])
    two = text % '"fe80::53%eth1", "fe80::54%eth2"'
    assert run(two)[0] == [("DNS_SCOPE_CONFLICT", "dns-resolver.config.server[1]")]


def test_bc24_rule_to_a_table_without_routes():
    text = """
interfaces:
  - {name: eth1, type: ethernet, state: up,
     ipv4: {enabled: true, dhcp: false, address: [{ip: 198.18.24.10, prefix-length: 24}]}}
route-rules:
  config:
    - {ip-from: 198.18.24.0/24, priority: 1000, route-table: 200}
"""
    _doc, errors, _w = validation.validate(yaml.safe_load(text))
    assert [(p.code, p.path) for p in errors] == [("ROUTE_RULE_TABLE_EMPTY", "route-rules.config[0].route-table")]
    assert "200" in errors[0].message and "table-id 200" in errors[0].hint
    fixed = text + "routes:\n  config:\n    - {destination: 0.0.0.0/0, next-hop-interface: eth1, " \
                   "next-hop-address: 198.18.24.1, table-id: 200}\n"
    assert run(fixed) == ([], [])


def test_bc37_global_and_link_local_default_routes_are_valid():
    text = ETH1_UP + """    ipv6: {enabled: true, dhcp: false, autoconf: false,
           address: [{ip: "2001:db8:37::10", prefix-length: 64}]}
routes:
  config:
    - {destination: "::/0", next-hop-interface: eth1, next-hop-address: "2001:db8:37::1",
       metric: 100, table-id: 254}
    - {destination: "::/0", next-hop-interface: eth1, next-hop-address: "fe80::200:ff:fe00:3701",
       metric: 100, table-id: 254}
"""
    assert run(text) == ([], [])
    no_iface = text.replace('next-hop-interface: eth1, next-hop-address: "fe80', 'next-hop-address: "fe80')
    assert run(no_iface)[0] == [("ROUTE_LINK_LOCAL_NEEDS_INTERFACE", "routes.config[1].next-hop-interface")]


BC43 = """
interfaces:
  - name: bond0
    type: bond
    state: up%s
    link-aggregation: {mode: 802.3ad, options: {miimon: 100}, port: [eth1, eth2]}
  - {name: eth1, type: ethernet, state: up, mtu: 9000}
  - {name: eth2, type: ethernet, state: up, mtu: 9000}
  - name: bond0.100
    type: vlan
    state: up
    mtu: 9000
    vlan: {base-iface: bond0, id: 100}
    ipv4: {enabled: true, dhcp: false, address: [{ip: 198.18.43.51, prefix-length: 24}]}
"""


def test_bc43_vlan_mtu_above_its_bond():
    assert run(BC43 % "\n    mtu: 9000") == ([], [])
    for variant, base_mtu in (("", 1500), ("\n    mtu: 1500", 1500)):
        _doc, errors, _w = validation.validate(yaml.safe_load(BC43 % variant))
        assert [(p.code, p.path) for p in errors] == [("VLAN_MTU_ABOVE_BASE", "interfaces[3].mtu")]
        assert all(s in errors[0].message for s in ("bond0.100", "bond0", "9000", str(base_mtu)))


def test_bc44_mistaken_vlan_as_ethernet_is_left_to_the_host():
    # {name: vlan20, type: ethernet} names a NIC that may or may not exist: only the host
    # can tell, so the controller accepts it; plan.py reports INTERFACE_NOT_FOUND with the
    # "type: vlan" hint on the host.
    assert run("interfaces: [{name: vlan20, type: ethernet, state: up}]") == ([], [])


def test_bc44_full_stack_in_reverse_order_is_valid():
    text = """
interfaces:
  - name: vmbr0
    type: linux-bridge
    state: up
    bridge: {options: {stp: {enabled: false}}, port: [{name: bond0.20}]}
  - name: bond0.10
    type: vlan
    state: up
    vlan: {base-iface: bond0, id: 10}
    ipv4: {enabled: true, dhcp: false, address: [{ip: 198.18.44.10, prefix-length: 24}]}
  - {name: bond0.20, type: vlan, state: up, vlan: {base-iface: bond0, id: 20}}
  - name: bond0
    type: bond
    state: up
    link-aggregation: {mode: active-backup, options: {miimon: 100}, port: [eth1, eth2]}
"""
    assert run(text) == ([], [])


def test_bc04_options_without_effect_warn():
    text = ETH1_UP + """    ipv4: {enabled: false, auto-dns: false}
    ipv6:
      enabled: true
      dhcp: false
      autoconf: false
      auto-gateway: false
      address: [{ip: "2001:db8:22::10", prefix-length: 64}]
"""
    errors, warnings = run(text)
    assert errors == []
    assert warnings == [("OPTION_NO_EFFECT", "interfaces[0].ipv4.auto-dns"),
                        ("OPTION_NO_EFFECT", "interfaces[0].ipv6.auto-gateway")]


# ------------------------------------------------------------ docs/validation.md

DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
#: no short document triggers them (see the doc): OPTION_OUT_OF_RANGE is about the task's options
NO_EXAMPLE = {"INTERNAL_RULE_ERROR", "BAD_FORMAT", "VALUE_TOO_LONG", "OPTION_OUT_OF_RANGE"}


def doc_sections():
    """``{code: text of its ### section}`` from docs/validation.md."""
    parts = re.split(r"^### ([A-Z0-9_]+)\n", DOC.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_codes_table_in_the_doc_is_current(gen_schema_tool):
    text = DOC.read_text()
    assert gen_schema_tool.with_table(text) == text, "run: python tests/tools/gen_schema.py"


def test_every_code_has_a_section_in_the_doc():
    assert {c for c, _s, _t in validation.codes()} - set(doc_sections()) == set()


def test_every_rule_code_has_its_own_summary():
    for codes_, func in validation.RULES:
        for code in codes_:
            assert re.search(r"^\s*%s: " % code, func.__doc__, re.M), code


@pytest.mark.parametrize("code", sorted(set(doc_sections()) - NO_EXAMPLE))
def test_doc_example_triggers_its_code(code):
    example = re.search(r"```yaml\n(.*?)```", doc_sections()[code], re.S)
    assert example, "docs/validation.md: %s has no yaml example" % code
    _doc, errors, warnings = validation.validate(yaml.safe_load(example.group(1)))
    assert code in [p.code for p in errors + warnings]


def test_a_rule_with_an_action_needs_no_table_with_routes():
    # issue 15 item 8: blackhole/unreachable/prohibit rules end the lookup; no table is consulted
    errors = run("route-rules: {config: [{ip-from: 198.18.1.0/24, action: blackhole, priority: 100}]}")[0]
    assert errors == []
