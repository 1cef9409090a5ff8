#!/bin/sh
# Installs, from Debian, the real programs the tests and the bench run against:
# nginx and caddy (authz-listener tests, README "Decisions for nginx, Caddy,
# Envoy and Traefik"), chromium (the browser tests of CORS and the admin page),
# haproxy and wrk (the bench's peers and load generator).
# Does nothing for a program already on PATH. The tests skip, saying so, when a
# binary is still missing (no root, no network).
set -eu
missing=""
for pair in nginx:nginx caddy:caddy chromium:chromium haproxy:haproxy wrk:wrk; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: cannot install$missing (needs root and apt-get); their tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
  || echo "ensure-tools: installing$missing failed; their tests will be skipped" >&2
# The server packages start system services; the tests run their own instances on random ports.
for svc in nginx caddy haproxy; do
  case " $missing " in *" $svc "*)
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi ;;
  esac
done
exit 0
