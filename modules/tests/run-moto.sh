#!/usr/bin/env bash
# End-to-end test of the Terraform modules against the moto AWS emulator.
#
#   modules/tests/run-moto.sh
#
# Needs: terraform (>= 1.5), moto_server, aws CLI, openssl, python3 and the
# hashicorp/aws 5.100.0 provider unpacked in a filesystem mirror
# (TF_PROVIDER_MIRROR, default /opt/tf-plugins). Starts moto on a free loopback
# port, applies every module (demo/token, ecr, rds, secret, s3, ecs-service with
# the self-deploy appendix spec), checks the created resources with the aws CLI,
# checks a second plan is empty, destroys, and stops moto. Runs sequentially
# (about 5 minutes; RDS and the ALB dominate). Prints `SUMMARY N passed, M failed`.
set -uo pipefail
MODULES=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/asgard-moto.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

cat > "$WORK/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "${TF_PROVIDER_MIRROR:-/opt/tf-plugins}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$WORK/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
unset TF_PLUGIN_CACHE_DIR
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
MOTO_ECS_SERVICE_RUNNING=1 MOTO_ACM_VALIDATION_WAIT=0 moto_server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/" 2>/dev/null && break; sleep 0.2; done

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/cert.key" -out "$WORK/cert.pem" -days 30 -subj "/CN=asgard.example.com" 2>/dev/null

# prep MODULE -> a fresh copy in $WORK/run/<module> without backend.tf (local state)
prep() { local d="$WORK/run/$1"; rm -rf "$d"; mkdir -p "$d"; cp -r "$MODULES/$1/." "$d/"; rm -f "$d/backend.tf"; echo "$d"; }

E="--endpoint-url $AWS_ENDPOINT_URL"
PASS=0; FAIL=0
ok()  { echo "PASS $*"; PASS=$((PASS+1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL+1)); }
check() { local msg=$1; shift; if "$@" >/dev/null 2>&1; then ok "$msg"; else bad "$msg"; fi; }
TAGS='{"asgard:project":"proj-0001-0002","asgard:owner":"owner@corp.example","asgard:cost-center":"CC-100","asgard:classification":"light-operational"}'
tv() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["tags"]=json.loads(sys.argv[2]); print(json.dumps(d))' "$1" "$TAGS"; }
secs() { local s=$(date +%s.%N); "$@"; local rc=$?; LAST=$(python3 -c "print(round($(date +%s.%N)-$s,1))"); return $rc; }

curl -fsS -X POST $AWS_ENDPOINT_URL/moto-api/reset >/dev/null

check "terraform fmt -check -recursive modules" terraform fmt -check -recursive "$MODULES"

# setup $1=module $2=json ; leaves cwd in the work dir
setup() { D=$(prep $1) || return 1; cd "$D"; tv "$2" > terraform.tfvars.json; terraform init -input=false -no-color >init.log 2>&1 || bad "$1 init"; check "$1 validate" terraform validate -no-color; }
apply() { if secs terraform apply -auto-approve -input=false -no-color >apply.log 2>&1; then ok "$1 apply (${LAST}s)"; echo "TIMING $1 apply ${LAST}"; else bad "$1 apply"; tail -20 apply.log; fi; }
noop()  { terraform plan -detailed-exitcode -input=false -no-color >plan2.log 2>&1; local rc=$?; if [ $rc = 0 ]; then ok "$1 second plan = no changes"; else bad "$1 second plan rc=$rc"; grep -E '^\s+[~+-]|Plan:' plan2.log | head -20; fi; }
destroy() { if secs terraform destroy -auto-approve -input=false -no-color >destroy.log 2>&1; then ok "$1 destroy (${LAST}s)"; echo "TIMING $1 destroy ${LAST}"; else bad "$1 destroy"; tail -20 destroy.log; fi; }
out() { terraform output -raw $1; }

# ---- demo/token
setup demo/token '{"name":"demo-tok","label":"first"}'
apply demo/token; noop demo/token
T1=$(out token); check "demo token is 32 hex" bash -c "[[ '$T1' =~ ^[0-9a-f]{32}$ ]]"
sed -i 's/"first"/"second"/' terraform.tfvars.json; apply "demo/token update"
check "demo label updated, token kept" bash -c "[ '$(out label)' = second ] && [ '$(out token)' = '$T1' ]"
noop "demo/token after update"; destroy demo/token

# ---- ecr
setup aws/ecr-repository '{"name":"asgard"}'
apply aws/ecr-repository; noop aws/ecr-repository
check "ecr describe-repositories" aws $E ecr describe-repositories --repository-names asgard
check "ecr url output" bash -c "[ '$(out repository_url)' = 123456789012.dkr.ecr.us-east-1.amazonaws.com/asgard ]"
ECR_DIR=$PWD

# ---- rds
setup aws/rds-postgres '{"name":"asgard-db","engine_version":"16"}'
apply aws/rds-postgres; noop aws/rds-postgres
check "rds describe-db-instances encrypted" bash -c "[ \"\$(aws $E rds describe-db-instances --db-instance-identifier asgard-db --query 'DBInstances[0].StorageEncrypted' --output text)\" = True ]"
DB_SECRET_ARN=$(out secret_arn); URL=$(out connection_url)
check "rds connection secret holds url" bash -c "aws $E secretsmanager get-secret-value --secret-id '$DB_SECRET_ARN' --query SecretString --output text | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"url\"]==sys.argv[1]' '$URL'"
RDS_DIR=$PWD

# ---- secret
setup aws/secretsmanager-secret '{"name":"asgard-key","byte_length":32}'
apply aws/secretsmanager-secret; noop aws/secretsmanager-secret
KEY_SECRET_ARN=$(out secret_arn); KMS_ARN=$(out kms_key_arn); V=$(out value)
check "secret value = get-secret-value, 64 hex" bash -c "[ \"\$(aws $E secretsmanager get-secret-value --secret-id '$KEY_SECRET_ARN' --query SecretString --output text)\" = '$V' ] && [[ '$V' =~ ^[0-9a-f]{64}$ ]]"
check "secret wrapped by its kms key" bash -c "[ \"\$(aws $E secretsmanager describe-secret --secret-id '$KEY_SECRET_ARN' --query KmsKeyId --output text)\" = '$KMS_ARN' ]"
SEC_DIR=$PWD

# ---- s3
setup aws/s3-bucket '{"name":"asgard-data"}'
apply aws/s3-bucket; noop aws/s3-bucket
check "s3 head-bucket" aws $E s3api head-bucket --bucket "$(out bucket)"
check "s3 versioning enabled" bash -c "[ \"\$(aws $E s3api get-bucket-versioning --bucket '$(out bucket)' --query Status --output text)\" = Enabled ]"
destroy aws/s3-bucket

# ---- ecs (runbook appendix spec, real ARNs from the modules above)
VPC=$(aws $E ec2 create-vpc --cidr-block 10.42.0.0/16 --query Vpc.VpcId --output text)
SA=$(aws $E ec2 create-subnet --vpc-id $VPC --cidr-block 10.42.0.0/24 --availability-zone us-east-1a --query Subnet.SubnetId --output text)
SB=$(aws $E ec2 create-subnet --vpc-id $VPC --cidr-block 10.42.1.0/24 --availability-zone us-east-1b --query Subnet.SubnetId --output text)
CERT=$(aws $E acm import-certificate --certificate fileb://$WORK/cert.pem --private-key fileb://$WORK/cert.key --query CertificateArn --output text)
IMAGE="123456789012.dkr.ecr.us-east-1.amazonaws.com/asgard:sha-abc1234"
SPEC=$(python3 - "$IMAGE" "$VPC" "$SA" "$SB" "$CERT" "$DB_SECRET_ARN" "$KEY_SECRET_ARN" "$KMS_ARN" <<'PY'
import json,sys
img,vpc,a,b,cert,db,key,kms=sys.argv[1:]
print(json.dumps({"name":"asgard","image":img,"vpc_id":vpc,"subnet_ids":[a,b],"cpu":"512","memory":"1024","container_port":8080,
 "health_path":"/readyz","certificate_arn":cert,"idle_timeout":900,"desired_count":1,
 "env":{"ASGARD_DATABASE_URL_SECRET_ARN":db,"ASGARD_SECRET_KEY_SECRET_ARN":key},
 "grants":{"secrets_read":[db,key],"kms_decrypt":[kms]}}))
PY
)
setup aws/ecs-service "$SPEC"
apply aws/ecs-service; noop aws/ecs-service
check "ecs url is https" bash -c "[[ '$(out url)' == https://* ]]"
check "ecs describe-services ACTIVE desired 1" bash -c "[ \"\$(aws $E ecs describe-services --cluster asgard --services asgard --query 'services[0].[status,desiredCount]' --output text)\" = \$'ACTIVE\t1' ]"
aws $E iam get-role-policy --role-name asgard-task --policy-name asgard-grants --query PolicyDocument --output json > taskpolicy.json
check "task role policy = exactly the grants" python3 - "$DB_SECRET_ARN" "$KEY_SECRET_ARN" "$KMS_ARN" <<'PY'
import json,sys
db,key,kms=sys.argv[1:]
st=json.load(open('taskpolicy.json'))['Statement']
norm=lambda x: sorted(x) if isinstance(x,list) else [x]
got={s['Sid']:(norm(s['Action']),norm(s['Resource'])) for s in st}
assert got=={'SecretsRead':(['secretsmanager:GetSecretValue'],sorted([db,key])),'KmsDecrypt':(['kms:Decrypt'],[kms])}, got
PY
LB=$(aws $E elbv2 describe-load-balancers --names asgard --query 'LoadBalancers[0].LoadBalancerArn' --output text)
check "listeners 80 redirect + 443 https" bash -c "aws $E elbv2 describe-listeners --load-balancer-arn $LB --query 'Listeners[].[Port,DefaultActions[0].Type]' --output text | sort | tr '\n\t' '  ' | grep -q '443 forward 80 redirect'"
check "idle timeout 900" bash -c "aws $E elbv2 describe-load-balancer-attributes --load-balancer-arn $LB --query 'Attributes[?Key==\`idle_timeout.timeout_seconds\`].Value' --output text | grep -qx 900"
check "target group health path /readyz" bash -c "aws $E elbv2 describe-target-groups --query 'TargetGroups[0].HealthCheckPath' --output text | grep -qx /readyz"
# stop_vars: desired_count=0
python3 -c 'import json; d=json.load(open("terraform.tfvars.json")); d["desired_count"]=0; json.dump(d,open("terraform.tfvars.json","w"))'
apply "aws/ecs-service stop"
check "ecs stopped (desired 0)" bash -c "[ \"\$(aws $E ecs describe-services --cluster asgard --services asgard --query 'services[0].desiredCount' --output text)\" = 0 ]"
noop "aws/ecs-service after stop"
destroy aws/ecs-service

cd $SEC_DIR && destroy aws/secretsmanager-secret
cd $RDS_DIR && destroy aws/rds-postgres
check "rds final snapshot kept" bash -c "aws $E rds describe-db-snapshots --query 'DBSnapshots[].DBSnapshotIdentifier' --output text | grep -q '^asgard-db-final-'"
cd $ECR_DIR && destroy aws/ecr-repository
check "nothing left: ecr" bash -c "[ \"\$(aws $E ecr describe-repositories --query 'length(repositories)')\" = 0 ]"
check "nothing left: secrets" bash -c "[ \"\$(aws $E secretsmanager list-secrets --query 'length(SecretList)')\" = 0 ]"
check "nothing left: iam roles" bash -c "[ \"\$(aws $E iam list-roles --query 'length(Roles)')\" = 0 ]"
echo "SUMMARY $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
