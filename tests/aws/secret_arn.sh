#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Boot secrets from AWS Secrets Manager (ASGARD_DATABASE_URL_SECRET_ARN, ASGARD_SECRET_KEY_SECRET_ARN),
# as the runbook's self-deploy appendix starts Asgard on ECS, against moto with request-signature
# checking ON: moto verifies our SigV4 signature against an IAM user it created, so a wrong signature
# fails the boot. The ECS task-role path is exercised with a local credentials endpoint (the ECS agent
# itself cannot run here; the endpoint speaks its documented protocol).
#
# Usage: tests/aws/secret_arn.sh BIN [PG_URL]
#   PG_URL  a postgres:// URL of an EMPTY database for the ECS-like boot (default: SQLite file)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../harness/lib.sh
. "$ROOT/tests/harness/lib.sh"
BIN=${1:?usage: $0 BIN [PG_URL]}
PG_URL=${2:-}
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(ASGARD_|AWS_)' || true)

WORK=$(mktemp -d /tmp/asgard-arn.XXXXXX)
MOTO_PID= SPID= CPID=
cleanup() {
  stop_pid "$SPID" 5; stop_pid "$CPID" 2; stop_pid "$MOTO_PID" 5
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
PASSED=0
pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() {
  echo "FAIL $1"
  for f in "$WORK"/*.log; do [ -s "$f" ] && { echo "--- $(basename "$f")"; tail -n 20 "$f" | strip_ansi; }; done
  exit 1
}

# Every API call before this count is free; from then on moto checks signatures and IAM policy.
# The setup below makes exactly 5 calls.
eval "$(INITIAL_NO_AUTH_ACTION_COUNT=5 "$ROOT/tests/harness/moto.sh" start "$WORK/moto.log")"
unset TF_CLI_CONFIG_FILE TF_IN_AUTOMATION CHECKPOINT_DISABLE
AWSC=(aws --endpoint-url "$AWS_ENDPOINT_URL" --region us-east-1 --output json)
KEY_HEX=$(random_hex32)
if [ -n "$PG_URL" ]; then DB_URL=$PG_URL; else DB_URL="sqlite://$WORK/data/asgard.db"; fi
DB_SECRET=$(python3 -c 'import json,sys;print(json.dumps({"url":sys.argv[1],"engine":"postgres"}))' "$DB_URL")

"${AWSC[@]}" iam create-user --user-name asgard-boot >/dev/null || fail "moto: create-user"
AK_JSON=$("${AWSC[@]}" iam create-access-key --user-name asgard-boot) || fail "moto: create-access-key"
"${AWSC[@]}" iam put-user-policy --user-name asgard-boot --policy-name read-boot-secrets \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}' \
  >/dev/null || fail "moto: put-user-policy"
KEY_ARN=$("${AWSC[@]}" secretsmanager create-secret --name asgard-key --secret-string "$KEY_HEX" | json_get ARN) \
  || fail "moto: create-secret asgard-key"
DB_ARN=$("${AWSC[@]}" secretsmanager create-secret --name asgard-db --secret-string "$DB_SECRET" | json_get ARN) \
  || fail "moto: create-secret asgard-db"
AK=$(echo "$AK_JSON" | json_get AccessKey AccessKeyId)
SK=$(echo "$AK_JSON" | json_get AccessKey SecretAccessKey)
# From here on the moto root credentials no longer work: only asgard-boot's signed calls do.
if "${AWSC[@]}" secretsmanager get-secret-value --secret-id "$KEY_ARN" >/dev/null 2>&1; then
  fail "moto is not checking signatures (a call with unknown credentials succeeded)"
fi
pass "moto enforces signatures and IAM after setup"

# boot NAME [ENV...]: start `asgard serve` with only these variables (plus PATH and HOME); sets SPID/PORT.
boot() {
  local name=$1; shift
  PORT=$(free_port)
  env -i PATH="$PATH" HOME="$WORK/home" ASGARD_BIND="127.0.0.1:$PORT" AWS_EC2_METADATA_DISABLED=true \
    AWS_ENDPOINT_URL="$AWS_ENDPOINT_URL" "$@" "$BIN" serve >"$WORK/$name.log" 2>&1 &
  SPID=$!
}
# expect_ready NAME: the server answers /readyz = ready.
expect_ready() {
  wait_http "http://127.0.0.1:$PORT/readyz" 40 "$SPID" || fail "$1: not ready"
  [ "$(curl -fsS "http://127.0.0.1:$PORT/readyz")" = ready ] || fail "$1: /readyz is not 'ready'"
}
# expect_refused NAME PATTERN: the boot exits non-zero and its output matches PATTERN.
expect_refused() {
  local i
  for ((i = 0; i < 300; i++)); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SPID" 2>/dev/null; then fail "$1: the boot was not refused"; fi
  wait "$SPID"; local rc=$?; SPID=
  [ "$rc" -ne 0 ] || fail "$1: exit status 0"
  grep -Eq "$2" "$WORK/$1.log" || fail "$1: output does not match /$2/"
}
no_leak() {
  if grep -Fq "$KEY_HEX" "$WORK/$1.log" || grep -Fq "$SK" "$WORK/$1.log"; then fail "$1: a secret value is in the log"; fi
  if [ -n "$PG_URL" ] && grep -Fq "$PG_URL" "$WORK/$1.log"; then fail "$1: the database URL is in the log"; fi
}

mkdir -p "$WORK/home"
boot signed AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" \
  ASGARD_DATABASE_URL_SECRET_ARN="$DB_ARN" ASGARD_SECRET_KEY_SECRET_ARN="$KEY_ARN"
expect_ready signed
no_leak signed
[ ! -e "$WORK/data/asgard.db.key" ] || fail "signed: a key file was generated although the key came from Secrets Manager"
pass "boot with both ARNs and env credentials: ready, nothing secret in the log"
stop_pid "$SPID" 5; SPID=

# The key read from Secrets Manager is the one the database was sealed with: the same value given
# directly opens it, another key is refused by the fingerprint check.
boot direct ASGARD_DATABASE_URL="$DB_URL" ASGARD_SECRET_KEY="$KEY_HEX"
expect_ready direct
stop_pid "$SPID" 5; SPID=
boot other ASGARD_DATABASE_URL="$DB_URL" ASGARD_SECRET_KEY="$(random_hex32)"
expect_refused other "another key"
pass "the database was sealed with the key from Secrets Manager"

# ECS task role: credentials from the container credentials endpoint, with its authorization token.
TOKEN=tok-$RANDOM$RANDOM
CPORT=$(free_port)
python3 - "$CPORT" "$TOKEN" "$AK" "$SK" >"$WORK/creds-endpoint.log" 2>&1 <<'PY' &
import http.server, json, sys
port, token, ak, sk = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/v2/credentials/task" or self.headers.get("Authorization") != token:
            self.send_response(403); self.end_headers(); return
        body = json.dumps({"AccessKeyId": ak, "SecretAccessKey": sk, "Token": None,
                           "Expiration": "2099-01-01T00:00:00Z", "RoleArn": "arn:aws:iam::123456789012:role/asgard"}).encode()
        self.send_response(200); self.send_header("content-type", "application/json"); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): print("creds request", self.path, flush=True)
http.server.HTTPServer(("127.0.0.1", int(port)), H).serve_forever()
PY
CPID=$!
wait_port "$CPORT" 10 "$CPID" || fail "credentials endpoint did not start"
boot ecs AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$CPORT/v2/credentials/task" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN="$TOKEN" \
  ASGARD_DATABASE_URL_SECRET_ARN="$DB_ARN" ASGARD_SECRET_KEY_SECRET_ARN="$KEY_ARN"
expect_ready ecs
grep -q "creds request /v2/credentials/task" "$WORK/creds-endpoint.log" || fail "ecs: the credentials endpoint was not asked"
no_leak ecs
pass "boot with an ECS task role (container credentials endpoint)"
stop_pid "$SPID" 5; SPID=

# Refusals: each names the variable and the cause, and leaks nothing.
BAD_SK=$(echo "$SK" | python3 -c 'import sys;s=sys.stdin.read().strip();print(("A" if s[0]!="A" else "B")+s[1:])')
boot badsig AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$BAD_SK" ASGARD_SECRET_KEY_SECRET_ARN="$KEY_ARN"
expect_refused badsig "ASGARD_SECRET_KEY_SECRET_ARN.*(Signature|403)"
no_leak badsig
pass "a wrong signature refuses the boot with AWS's reason"
boot missing AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" \
  ASGARD_SECRET_KEY_SECRET_ARN="${KEY_ARN%:*}:nope-AbCdEf"
expect_refused missing "ASGARD_SECRET_KEY_SECRET_ARN.*ResourceNotFound"
pass "an unknown secret refuses the boot (ResourceNotFoundException)"
boot badarn AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" ASGARD_DATABASE_URL_SECRET_ARN="asgard-db"
expect_refused badarn "ASGARD_DATABASE_URL_SECRET_ARN.*not a Secrets Manager secret ARN"
pass "a malformed ARN refuses the boot"
boot nocreds ASGARD_SECRET_KEY_SECRET_ARN="$KEY_ARN"
expect_refused nocreds "ASGARD_SECRET_KEY_SECRET_ARN.*no AWS credentials"
pass "no credentials refuses the boot with what to set"

echo "secret-arn: $PASSED passed"
