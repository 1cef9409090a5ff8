#!/bin/sh
# Installs the real proxies the authz-listener tests run against (README,
# "Decisions for nginx, Caddy, Envoy and Traefik"): Debian's nginx and caddy.
# Does nothing when both are already on PATH. The tests skip, saying so, when a
# binary is still missing (no root, no network).
set -eu
missing=""
command -v nginx >/dev/null 2>&1 || missing="$missing nginx"
command -v caddy >/dev/null 2>&1 || missing="$missing caddy"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-proxies: cannot install$missing (needs root and apt-get); their tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
  || echo "ensure-proxies: installing$missing failed; their tests will be skipped" >&2
# The packages start system services; the tests run their own instances on random ports.
for svc in $missing; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
done
exit 0
