#!/usr/bin/env bash
# Starts the loopback servers the tests talk to and writes their settings as
# KEY=VALUE lines to $BAKTHAT_SERVERS_ENV (default /tmp/bakthat-servers.env):
#   OpenStack Swift with its S3 API (verifies SigV4) on 127.0.0.1:$SWIFT_PORT,
#   moto (S3 storage classes, RestoreObject, Glacier vaults) on 127.0.0.1:$MOTO_PORT.
# Idempotent; tests/servers/down.sh stops both.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ENVF="${BAKTHAT_SERVERS_ENV:-/tmp/bakthat-servers.env}"
# One at a time: tests run in parallel (ctest -j2) each start the servers
# when they find none; two moto-up.sh at once would both launch moto, and the
# pid file could name the one that lost the port, orphaning the other.
exec 9>"$ENVF.lock"
flock 9
export SWIFT_PORT="${SWIFT_PORT:-18080}"
MOTO_PORT="${MOTO_PORT:-15000}"
swift_info=$("$here/swift-up.sh" 9>&-)  # the servers must not inherit the lock
moto_pid=$("$here/moto-up.sh" "$MOTO_PORT" 9>&-)
{
  echo "$swift_info"
  echo "MOTO_ENDPOINT=http://127.0.0.1:$MOTO_PORT"
  echo "MOTO_PID=$moto_pid"
} > "$ENVF.tmp"
mv "$ENVF.tmp" "$ENVF"
echo "test servers up: swift on $SWIFT_PORT, moto on $MOTO_PORT ($ENVF)" >&2
