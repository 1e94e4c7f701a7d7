#!/bin/bash
# ssh.sh HOST [CMD...] : ssh to root@HOST over the lab management network,
# from the root netns.  The ProxyCommand runs nc inside the switch netns, so
# the root netns needs no interface, route or address.  HOST: h1, 198.18.0.11, ...
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -ge 1 ] || die "usage: ssh.sh HOST [CMD...]"
[ -f "$LAB/ssh/config" ] || die "lab $PFX is not up (no $LAB/ssh/config)"
exec ssh -F "$LAB/ssh/config" "$@"
