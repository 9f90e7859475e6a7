#!/usr/bin/env bash
# Drive an authorization-code login against oidc-provider's devInteractions with curl only.
# Usage: tests/harness/oidc-curl-login.sh <app-login-url> <login>   -> prints the final page (the app's callback output)
set -euo pipefail
LOGIN_URL=${1:-http://127.0.0.1:18090/login}; USER_LOGIN=${2:-alice}
jar=$(mktemp); page=$(mktemp); trap 'rm -f "$jar" "$page"' EXIT
# 1) app /login -> IdP /auth -> IdP /interaction/<uid> (login form); -w prints where we landed.
interaction=$(curl -sS -c "$jar" -b "$jar" -L -o /dev/null -w '%{url_effective}' "$LOGIN_URL")
case "$interaction" in */interaction/*) ;; *) echo "unexpected landing page: $interaction" >&2; exit 1;; esac
# 2) submit the dev login form; 303s lead via /auth/<uid> to the app callback (or to the consent page).
curl -sS -c "$jar" -b "$jar" -L --data-urlencode prompt=login --data-urlencode "login=$USER_LOGIN" \
     --data-urlencode password=x -o "$page" "$interaction"
# 3) consent page (only when the IdP runs with SKIP_CONSENT=0): press "Continue".
if grep -q 'name="prompt" value="consent"' "$page"; then
  action=$(grep -o 'action="[^"]*/interaction/[^"]*"' "$page" | head -1 | cut -d'"' -f2)
  curl -sS -c "$jar" -b "$jar" -L --data-urlencode prompt=consent -o "$page" "$action"
fi
cat "$page"
