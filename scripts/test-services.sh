#!/usr/bin/env bash
# Runs before `npm test`: the suites start their own services on 127.0.0.1, so the programs must be
# on this machine. Installs what is missing with Debian's apt-get when it can (root on Debian, as
# CI and a fresh developer machine of this project's kind are); otherwise stops at once and names
# the one command that installs them.
#   redis-server  the Redis runtime tests (BullMQ queues, worker processes)
#   chromium      the web UI's browser tests (driven by playwright-core)
#   postgresql    the PostgreSQL store's suites (a private cluster: initdb into a temporary folder)
#   openssl       the team server's TLS test (a self-signed certificate made for the test)
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0

install="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test needs ${missing[*]}, which this machine does not have. Install them with:" >&2
  if command -v apt-get >/dev/null 2>&1; then
    echo "  sudo apt-get update && sudo $install" >&2
  else
    echo "  your package manager's redis-server, chromium (at /usr/bin/chromium) postgresql (initdb under /usr/lib/postgresql/*/bin) and openssl, e.g. on Debian: $install" >&2
  fi
  exit 1
fi

echo "npm test: installing ${missing[*]} (apt-get) for the suites that start them…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "npm test: installed ${missing[*]}"
