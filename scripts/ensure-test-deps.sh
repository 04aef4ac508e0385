#!/usr/bin/env bash
# What `npm test` needs beyond node_modules, from Debian's packages (root only: CI and these
# development machines run as root): Chromium for the browser tests, PostgreSQL for the
# storage tests of the tuner (a real server, started per test file by scripts/postgres-test-server.sh).
set -euo pipefail
here=$(dirname "$0")
bash "$here/ensure-chromium.sh"
if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-test-deps: PostgreSQL is missing; install Debian's postgresql package (apt-get install postgresql)" >&2
  exit 1
fi
echo "ensure-test-deps: installing Debian's postgresql"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
