#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version (22, 24…), taken from the npm
# registry's `node` package the first time (about 5 s, ~190 MB) into a cache outside the checkout
# (~/.cache/n3-callback/node/<major>, or $N3_NODE_CACHE/<major>) that later clones and CI runs reuse.
# Used by CI to run the tests on several Node versions, and by the deployed-bundle tests to run the
# bundle on Lambda's own Node (nodejs24.x).
set -euo pipefail
major="${1:?usage: dev/scripts/node-version.sh <major version, e.g. 24>}"
cache="${N3_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n3-callback/node}/$major"
bin="$cache/node_modules/node/bin/node"
if ! "$bin" --version >/dev/null 2>&1; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$major" >&2
fi
"$bin" --version >/dev/null
echo "$bin"
