"""Read a lab host's live state for assertions (test side: nmcli, ip, busctl
are fine here; the product itself speaks D-Bus only)."""

from __future__ import annotations

import json
from typing import Any, Dict, List


class HostView:
    """What one lab host has now, read through ``lab.run`` (nsenter)."""

    def __init__(self, lab: Any, host: str) -> None:
        self.lab, self.host = lab, host

    def run(self, *argv: str) -> str:
        return self.lab.run(self.host, *argv).stdout

    def addresses(self, dev: str, family: int = 4) -> List[str]:
        """Global addresses on ``dev`` as ``ip/prefix`` (sorted)."""
        data = json.loads(self.run("ip", "-j", "-%d" % family, "addr", "show", "dev", dev) or "[]")
        return sorted("%s/%d" % (a["local"], a["prefixlen"]) for d in data for a in d.get("addr_info", [])
                      if a.get("scope") == "global")

    def routes(self, *selector: str, family: int = 4) -> List[Dict[str, Any]]:
        return json.loads(self.run("ip", "-j", "-%d" % family, "route", "show", *selector) or "[]")

    def link(self, dev: str) -> Dict[str, Any]:
        data = json.loads(self.run("ip", "-j", "-d", "link", "show", "dev", dev) or "[]")
        return data[0] if data else {}

    def links(self) -> List[str]:
        return [d["ifname"] for d in json.loads(self.run("ip", "-j", "link", "show") or "[]")]

    def profiles(self) -> List[Dict[str, str]]:
        """NM profiles: ``[{uuid, name, device, type, timestamp}]``."""
        out = []
        for line in self.run("nmcli", "-t", "-f", "UUID,NAME,DEVICE,TYPE,TIMESTAMP", "connection", "show").splitlines():
            uuid, name, device, ctype, ts = line.split(":")[:5]
            out.append({"uuid": uuid, "name": name, "device": device, "type": ctype, "timestamp": ts})
        return out

    def profile_fields(self, name: str, *fields: str) -> Dict[str, str]:
        out = self.run("nmcli", "-t", "-f", ",".join(fields), "connection", "show", name)
        return dict(line.split(":", 1) for line in out.splitlines())

    def active_path(self, dev: str) -> str:
        """Object path of the device's active connection ("/" when none)."""
        out = self.run("nmcli", "-t", "-f", "GENERAL.CON-PATH", "device", "show", dev).strip()
        path = out.split(":", 1)[1] if ":" in out else ""
        return path or "/"

    def device_state(self, dev: str) -> str:
        out = self.run("nmcli", "-t", "-f", "GENERAL.STATE", "device", "show", dev).strip()
        return out.split(":", 1)[1]

    def checkpoints(self) -> str:
        return self.lab.busctl(self.host, "get-property", "org.freedesktop.NetworkManager",
                               "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager",
                               "Checkpoints").strip()

    def resolv_conf(self) -> str:
        return self.run("cat", "/etc/resolv.conf")

    def nameservers(self) -> List[str]:
        return [line.split()[1] for line in self.resolv_conf().splitlines() if line.startswith("nameserver")]

    def search(self) -> List[str]:
        for line in self.resolv_conf().splitlines():
            if line.startswith("search"):
                return line.split()[1:]
        return []

    def keyfiles(self) -> Dict[str, str]:
        """``{file name: content}`` of /etc/NetworkManager/system-connections."""
        # one shell in the host: a rollback may delete a file between a listing and a read
        out = self.lab.run(self.host, "sh", "-c", 'cd /etc/NetworkManager/system-connections && '
                           'for f in *; do [ -f "$f" ] && printf "\\0%s\\0" "$f" && cat "$f"; done; true').stdout
        parts = out.split("\0")[1:]
        return dict(zip(parts[0::2], parts[1::2]))

    def snapshot(self) -> Dict[str, Any]:
        """Everything a check-mode run must leave identical."""
        return {"profiles": self.profiles(), "keyfiles": self.keyfiles(), "routes": self.run("ip", "route"),
                "routes6": self.run("ip", "-6", "route"), "addr": self.run("ip", "-br", "addr"),
                "resolv": self.resolv_conf(), "checkpoints": self.checkpoints(),
                "active": self.run("nmcli", "-t", "-f", "NAME,UUID,DEVICE,STATE", "connection", "show", "--active")}
