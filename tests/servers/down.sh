#!/usr/bin/env bash
# Stops the servers tests/servers/up.sh started.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ENVF="${BAKTHAT_SERVERS_ENV:-/tmp/bakthat-servers.env}"
exec 9>"$ENVF.lock"  # not while up.sh runs (see there)
flock 9
export SWIFT_PORT="${SWIFT_PORT:-18080}"
"$here/swift-down.sh" >/dev/null
"$here/moto-down.sh" "${MOTO_PORT:-15000}" >/dev/null
rm -f "$ENVF"
exit 0
