"""The end state every benchmark applies, in the dialect of each tool compared.

``Topology(profiles)`` is ``profiles // 2`` bridges ``br<i>``, each with one
veth port ``ve<i>`` (its peer ``vp<i>`` stays outside the bridge): so
``profiles`` NetworkManager profiles. Each bridge has STP off, IPv6 off, the
address ``198.19.<i>.1/24`` and one static route
``198.18.<64 + i // 4>.<64 * (i % 4)>/26 via 198.19.<i>.254``. Everything
stays inside the lab's 198.18.0.0/15 and clear of its own nets
(198.18.0-16.x).

The ports come one of two ways:

* ``created=True``: NetworkManager creates each veth pair (type ``veth``
  with ``veth.peer``): nothing but the lab exists before the apply.
* ``created=False``: the veth pairs exist before the apply
  (:meth:`Topology.links_batch`) and the tools only make them bridge ports,
  because ``community.general.nmcli`` has no veth type.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Dict, List, Set, Tuple

MAX_PAIRS = 250                        # 198.19.<i>.0/24 must stay a valid octet
NAME_RE = re.compile(r"^(br|ve|vp)[0-9]+$")  # every link the benchmark makes

#: shell: wait (up to $2 seconds) until $1 bench devices (bridges and ports) are connected
WAIT_CONNECTED = r"""
wait_connected() {
  local deadline=$((SECONDS + $2))
  until [ "$(nmcli -t -f DEVICE,STATE device | grep -cE '^(br|ve)[0-9]+:connected$')" -ge "$1" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "not all $1 bench devices connected after $2 s" >&2; return 1; }
    sleep 0.1
  done
}
"""


class Topology:
    """``profiles`` NM profiles (an even number, 2..2*MAX_PAIRS), see the module doc."""

    def __init__(self, profiles: int, created: bool = True) -> None:
        if profiles % 2 or not 2 <= profiles <= 2 * MAX_PAIRS:
            raise ValueError("profiles must be even, 2..%d: %r" % (2 * MAX_PAIRS, profiles))
        self.profiles = profiles
        self.pairs = range(profiles // 2)
        self.created = created

    def __repr__(self) -> str:
        return "Topology(%d, created=%s)" % (self.profiles, self.created)

    @staticmethod
    def route(i: int) -> Tuple[str, str]:
        """``(destination, next hop)`` of bridge ``i``'s static route."""
        return "198.18.%d.%d/26" % (64 + i // 4, 64 * (i % 4)), "198.19.%d.254" % i

    # ------------------------------------------------------------ hostnet.nm
    def document(self) -> Dict[str, Any]:
        """The desired state for ``hostnet.nm.network_state`` (nmstate schema)."""
        interfaces: List[Dict[str, Any]] = []
        routes = []
        for i in self.pairs:
            interfaces.append({
                "name": "br%d" % i, "type": "linux-bridge", "state": "up",
                "ipv4": {"enabled": True, "address": [{"ip": "198.19.%d.1" % i, "prefix-length": 24}]},
                "ipv6": {"enabled": False},
                "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "ve%d" % i}]}})
            port: Dict[str, Any] = {"name": "ve%d" % i, "type": "ethernet", "state": "up"}
            if self.created:
                port.update(type="veth", veth={"peer": "vp%d" % i})
            interfaces.append(port)
            dest, hop = self.route(i)
            routes.append({"destination": dest, "next-hop-address": hop, "next-hop-interface": "br%d" % i})
        return {"interfaces": interfaces, "routes": {"config": routes}}

    # ------------------------------------------------------------ plain nmcli
    def nmcli_script(self, timeout: int) -> str:
        """A shell script of plain ``nmcli connection add`` commands (autoconnect
        activates each profile), then a wait until every bench device is
        connected (at most ``timeout`` seconds)."""
        lines = ["set -e", WAIT_CONNECTED]
        for i in self.pairs:
            dest, hop = self.route(i)
            lines.append("nmcli connection add type bridge con-name br%d ifname br%d bridge.stp no "
                         "ipv4.method manual ipv4.addresses 198.19.%d.1/24 ipv4.routes %s ipv6.method disabled"
                         % (i, i, i, shlex.quote("%s %s" % (dest, hop))))
            port = "type veth con-name ve%d ifname ve%d veth.peer vp%d" % (i, i, i) if self.created else \
                "type ethernet con-name ve%d ifname ve%d" % (i, i)
            lines.append("nmcli connection add %s master br%d slave-type bridge" % (port, i))
        lines.append("wait_connected %d %d" % (self.profiles, timeout))
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------ community.general.nmcli
    def peer_tasks(self) -> List[Dict[str, Any]]:
        """One ``community.general.nmcli`` task per profile, as its documentation
        shows (``type: bridge`` and ``type: bridge-slave``). Needs ``created=False``."""
        if self.created:
            raise ValueError("community.general.nmcli cannot create veth pairs: use created=False")
        tasks = []
        for i in self.pairs:
            dest, hop = self.route(i)
            tasks.append({"name": "bridge br%d" % i, "community.general.nmcli": {
                "conn_name": "br%d" % i, "ifname": "br%d" % i, "type": "bridge", "stp": False,
                "ip4": ["198.19.%d.1/24" % i], "routes4": ["%s %s" % (dest, hop)], "method6": "disabled",
                "state": "present"}})
            tasks.append({"name": "port ve%d" % i, "community.general.nmcli": {
                "conn_name": "ve%d" % i, "ifname": "ve%d" % i, "type": "bridge-slave", "master": "br%d" % i,
                "state": "present"}})
        return tasks

    # ------------------------------------------------------------ the kernel
    def links_batch(self) -> str:
        """``ip -batch`` input that creates the veth pairs (for ``created=False``), both ends up."""
        out = []
        for i in self.pairs:
            out += ["link add ve%d type veth peer name vp%d" % (i, i), "link set ve%d up" % i, "link set vp%d up" % i]
        return "\n".join(out) + "\n"

    def expected(self) -> Dict[str, Any]:
        """What the kernel must have afterwards, in the form of ``run.kernel_state``:
        ``{"links": {name: (master, addresses)}, "routes": {(dest, via, dev)}}``."""
        links: Dict[str, Tuple[str, Tuple[str, ...]]] = {}
        routes: Set[Tuple[str, str, str]] = set()
        for i in self.pairs:
            links["br%d" % i] = ("", ("198.19.%d.1/24" % i,))
            links["ve%d" % i] = ("br%d" % i, ())
            links["vp%d" % i] = ("", ())
            dest, hop = self.route(i)
            routes.add((dest, hop, "br%d" % i))
        return {"links": links, "routes": routes}
