#!/usr/bin/env bash
# A browserless SSO round trip against tests/sso/idp.mjs (dev login form), with curl and a cookie jar:
# Asgard /api/auth/oidc/login → IdP login form → callback → "/"; then prints GET /api/auth/me.
# Usage: tests/sso/curl-login.sh BASE LOGIN      (BASE = http://127.0.0.1:PORT of Asgard)
set -euo pipefail
BASE=${1:?usage: $0 BASE LOGIN}; USER_LOGIN=${2:?usage: $0 BASE LOGIN}
jar=$(mktemp); trap 'rm -f "$jar"' EXIT
# 1) Asgard → IdP /auth → /interaction/<uid> (the login form); -w prints where we landed.
interaction=$(curl -sS --max-time 15 -c "$jar" -b "$jar" -L -o /dev/null -w '%{url_effective}' "$BASE/api/auth/oidc/login")
case "$interaction" in */interaction/*) ;; *) echo "unexpected landing page: $interaction" >&2; exit 1 ;; esac
# 2) submit the form; the 303s lead through the IdP to Asgard's callback, which redirects to "/".
final=$(curl -sS --max-time 15 -c "$jar" -b "$jar" -L --data-urlencode prompt=login --data-urlencode "login=$USER_LOGIN" \
  --data-urlencode password=x -o /dev/null -w '%{url_effective}' "$interaction")
[ "$final" = "$BASE/" ] || { echo "landed on $final instead of $BASE/" >&2; exit 1; }
# 3) the session cookie in the jar is the user's.
curl -sS --max-time 10 -b "$jar" "$BASE/api/auth/me"
