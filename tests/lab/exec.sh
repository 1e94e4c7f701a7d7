#!/bin/bash
# exec.sh HOST CMD... : run CMD inside lab host HOST (h1, h2, ...: its netns,
# mount ns and uts ns) or inside the switch/router netns (HOST = sw).
#   tests/lab/exec.sh h1 nmcli device
#   tests/lab/exec.sh sw ping -c1 198.18.0.11
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || die "usage: exec.sh HOST CMD..."
h=$1; shift
{ [ "$h" = sw ] || is_host "$h"; } && [ -e "$(hnet "$h")" ] || die "no such lab host: $h"
enter_argv "$h"
exec "${ENTER[@]}" "$@"
