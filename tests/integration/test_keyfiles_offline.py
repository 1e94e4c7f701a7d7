"""hostnet.nm.keyfiles against NetworkManager's own keyfile parser: ``nmcli --offline`` (no daemon), then a lab
host that boots from the generated files and that ``network_state`` then finds in the declared state (issue:
offline keyfiles for images and first boot; case RC-34)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.module_utils import keyfiles

SYSTEM_CONNECTIONS = "/etc/NetworkManager/system-connections"
#: keys we write explicitly that NetworkManager leaves out of its own files because they are its defaults
NM_OMITS = {("connection", "autoconnect"): "true", ("ipv4", "ignore-auto-dns"): "false",
            ("ipv4", "ignore-auto-routes"): "false", ("ipv4", "never-default"): "false",
            ("ipv6", "ignore-auto-dns"): "false", ("ipv6", "ignore-auto-routes"): "false",
            ("ipv6", "never-default"): "false"}
#: keys NetworkManager adds when it writes a profile (normalisation of what the profile leaves unset)
NM_ADDS = {("vlan", "flags"), ("ipv6", "addr-gen-mode")}
#: what NM logs when it cannot (fully) read a keyfile (src/core/settings/plugins/keyfile, libnm-core keyfile reader)
PARSE_TROUBLE = re.compile(r"keyfile.*(warn|error|invalid|fail|ignor|unknown)|<warn>.*keyfile|<error>.*keyfile", re.I)


def offline_nmcli():
    """``nmcli`` when it can read and write keyfiles without NetworkManager (``--offline``, NM 1.40+)."""
    nmcli = shutil.which("nmcli")
    if not nmcli:
        return None
    probe = subprocess.run([nmcli, "--offline", "connection", "add", "type", "ethernet", "ifname", "eth0"],
                           capture_output=True, text=True)
    return nmcli if probe.returncode == 0 and probe.stdout.startswith("[connection]") else None


def parsed(text):
    cp = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    cp.optionxform = str
    cp.read_string(text)
    return {(s, k): v for s in cp.sections() for k, v in cp[s].items()}


def lab_doc(lab, host):
    """A bridge over eth1 with static IPv4/IPv6, routes in two tables, a blackhole route (lo's profile, lo
    not listed), a rule and DNS; eth2 on DHCP (RC-34)."""
    return {
        "interfaces": [
            {"name": "br1", "type": "linux-bridge", "state": "up",
             "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "eth1"}]},
             "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": lab.data_ip(host, 1), "prefix-length": 24}]},
             "ipv6": {"enabled": True, "dhcp": False, "autoconf": False,
                      "address": [{"ip": lab.data_ip6(host, 1), "prefix-length": 64}]}},
            {"name": "eth1", "type": "ethernet", "state": "up"},
            {"name": "eth2", "type": "ethernet", "state": "up", "ipv4": {"enabled": True, "dhcp": True}},
        ],
        "routes": {"config": [
            {"destination": "198.19.34.0/24", "next-hop-address": "198.18.1.1", "next-hop-interface": "br1",
             "metric": 150},
            {"destination": "198.19.35.0/24", "next-hop-address": "198.18.1.1", "next-hop-interface": "br1",
             "table-id": 134},
            {"destination": "198.19.36.0/24", "route-type": "blackhole"}]},  # lo's keyfile holds it (issue 15)
        "route-rules": {"config": [{"ip-from": "198.18.34.0/24", "route-table": 134}]},
        "dns-resolver": {"config": {"server": ["198.18.1.1"], "search": ["lab.test"]}},
    }


def test_networkmanager_reads_every_generated_keyfile_as_written():
    # RC-34: NetworkManager's own keyfile parser (nmcli --offline) reads each file without a warning and writes
    # back the same settings, apart from the defaults it leaves out and the ones it adds
    nmcli = offline_nmcli()
    if nmcli is None:
        pytest.skip("this nmcli has no --offline (NetworkManager < 1.40)")
    every_kind = yaml.safe_load((Path(__file__).parents[1] / "unit" / "keyfiles_every_kind.yml").read_text())
    for f in keyfiles.generate(every_kind).files:
        proc = subprocess.run([nmcli, "--offline", "connection", "modify", "connection.id", f.interface],
                              input=f.text, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0 and proc.stderr == "", (f.filename, proc.stderr)
        ours, nm = parsed(f.text), parsed(proc.stdout)
        ours = {k: v for k, v in ours.items() if NM_OMITS.get(k) != v}
        nm = {k: v for k, v in nm.items() if k not in NM_ADDS or k in ours}
        assert ours == nm, f.filename


def test_a_secret_goes_into_the_keyfile_and_nowhere_else(tmp_path):
    # through ansible-playbook on the controller, with --diff -vvv: the secret (from a vars file, as from a
    # vault) is in the file, and in no output, result or diff
    from ansible_run import Runner
    canary = "kf-canary-5d1e77"
    (tmp_path / "secrets.yml").write_text("bond_secret: %s\n" % canary)
    (tmp_path / "inventory.ini").write_text("localhost ansible_connection=local\n")
    dest = tmp_path / "system-connections"
    dest.mkdir()
    doc = {"interfaces": [{"name": "bond9", "type": "bond", "state": "up", "link-aggregation": {
        "mode": "active-backup", "options": {"miimon": "100", "password": "{{ bond_secret }}"}}}]}
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "keyfiles", "hostnet.nm.keyfiles": {"desired_state": doc, "dest": str(dest)}}]}]
    run = Runner(SimpleNamespace(inventory=str(tmp_path / "inventory.ini"))).play(
        play, "--diff", "-vvv", "-e", "@%s" % (tmp_path / "secrets.yml"))
    result = run.task("keyfiles")
    assert result["status"] == "ok" and result["changed"], result
    assert "password=%s" % canary in (dest / "bond9.nmconnection").read_text()
    assert "password=<hidden>" in run.stdout
    assert [line for line in run.stdout.splitlines() if canary in line] == [] and canary not in repr(run.tasks)


@pytest.mark.lab
@pytest.mark.nm_versions
def test_a_host_boots_from_generated_keyfiles_and_network_state_finds_nothing_to_do(
        lab, lab_host, runner, view, tmp_path):
    doc = lab_doc(lab, lab_host)
    play = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
             "tasks": [{"name": "keyfiles", "hostnet.nm.keyfiles": {"desired_state": doc, "dest": str(tmp_path)}}]}]
    check = runner.play(play, "--check", "--diff").task("keyfiles")
    assert check["status"] == "ok" and check["changed"] and list(tmp_path.iterdir()) == []
    assert {Path(d["after_header"]).name for d in check["diff"]} == {"br1.nmconnection", "eth1.nmconnection",
                                                                     "eth2.nmconnection", "lo.nmconnection"}
    made = runner.play(play).task("keyfiles")
    assert made["status"] == "ok" and made["changed"], made
    assert runner.play(play).task("keyfiles")["changed"] is False
    for entry in made["keyfiles"]:
        text = Path(entry["path"]).read_text()
        assert all(re.match(r"^(\[[^\]]+\]|[A-Za-z0-9._-]+=.*|)$", line) for line in text.splitlines()), text
        lab.run(lab_host, "sh", "-c", 'umask 077 && cat > "$1"', "sh", "%s/%s" % (SYSTEM_CONNECTIONS, entry["filename"]),
                input=text)

    log = lab.log_path(lab_host)
    start = log.stat().st_size
    lab.restart_nm(lab_host)   # first boot: NetworkManager starts with the files in place and autoconnects them
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        states = lab.device_states(lab_host)
        if all(states.get(d) == "connected" for d in ("br1", "eth1", "eth2")) and view.addresses("eth2") \
                and "tentative" not in view.run("ip", "-6", "addr", "show", "dev", "br1"):
            break
        time.sleep(0.5)
    assert all(lab.device_states(lab_host).get(d) == "connected" for d in ("br1", "eth1", "eth2")), \
        lab.device_states(lab_host)

    assert view.addresses("br1") == [lab.data_ip(lab_host, 1) + "/24"]
    assert view.addresses("br1", 6) == [lab.data_ip6(lab_host, 1) + "/64"]
    assert view.link("eth1").get("master") == "br1"
    assert view.addresses("eth2")[0].startswith("198.18.2.")
    assert view.routes("198.19.34.0/24")[0]["metric"] == 150
    assert view.routes("198.19.35.0/24", "table", "134")[0]["gateway"] == "198.18.1.1"
    assert "from 198.18.34.0/24 lookup 134" in view.run("ip", "rule", "show")
    assert "blackhole 198.19.36.0/24" in view.run("ip", "route", "show", "type", "blackhole")
    assert view.nameservers()[0] == "198.18.1.1" and "lab.test" in view.search()
    uuids = {p["name"]: p["uuid"] for p in view.profiles()}
    assert {n: uuids.get(n) for n in ("br1", "eth1", "eth2", "lo")} == {n: keyfiles.profile_uuid(n)
                                                                        for n in ("br1", "eth1", "eth2", "lo")}
    trouble = [line for line in log.read_text(errors="replace")[start:].splitlines() if PARSE_TROUBLE.search(line)]
    assert trouble == []

    again = runner.apply(lab_host, doc)
    assert again["status"] == "ok", again.get("msg", again)
    assert again["changed"] is False and again["writes"] == 0 and again["plan"] == [], again
