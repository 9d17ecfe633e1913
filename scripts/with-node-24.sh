#!/usr/bin/env bash
# Runs a command on Node 24 LTS (see node-24.sh): `npm run demo` and `npm run bench` go through it.
set -euo pipefail
# shellcheck source=scripts/node-24.sh
source "$(dirname "$0")/node-24.sh"
exec "$@"
