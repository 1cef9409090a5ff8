#!/bin/sh
# Usage: scripts/with-node.sh MAJOR COMMAND [ARG...]
#
# Runs COMMAND with Node.js MAJOR first on PATH, so `npm`, `npx` and every
# `#!/usr/bin/env node` script in it run on that Node. When the machine's node
# already is MAJOR, COMMAND runs as it is. Otherwise the Node binary comes from
# the npm registry package node-linux-<arch> (it ships the official build), installed
# once into a cache directory and reused (~35 s the first time, nothing after):
#   $SCOPEGATE_NODE_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/scopegate.
# .ci/run uses it to install and test on Node 22 beside the machine's Node
# (README, Development).
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 MAJOR COMMAND [ARG...]" >&2
  exit 2
fi
major=$1
shift
case $major in
  ''|*[!0-9]*) echo "with-node: MAJOR must be a number, got '$major'" >&2; exit 2 ;;
esac

current=$(node --version 2>/dev/null || true)
case $current in
  "v$major".*) exec "$@" ;;
esac

case $(uname -m) in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "with-node: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
cache=${SCOPEGATE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scopegate}/node-$major-$arch
bin=$cache/node_modules/node-linux-$arch/bin

if ! "$bin/node" --version 2>/dev/null | grep -q "^v$major\."; then
  echo "with-node: installing Node $major (node-linux-$arch@$major) into $cache" >&2
  mkdir -p "$cache"
  # --prefix: an install of its own, never the project's node_modules; no lockfile or audit to write.
  npm install --prefix "$cache" --no-audit --no-fund --no-package-lock --loglevel=error "node-linux-$arch@$major" >&2
  if ! "$bin/node" --version 2>/dev/null | grep -q "^v$major\."; then
    echo "with-node: $bin/node is not Node $major after the install" >&2
    exit 1
  fi
fi
PATH=$bin:$PATH
export PATH
exec "$@"
