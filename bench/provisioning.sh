# Provisioning figures (issue 4), sourced by run.sh. SQLite, moto on loopback.
# Nothing is pinned in this phase: Terraform (the floor and Asgard's children)
# uses both cores either way.

TAGS_JSON='{"asgard:project":"proj-bench","asgard:owner":"owner@corp.example","asgard:cost-center":"CC-100","asgard:classification":"poc"}'

# floor_run MODULE NAME DIR -> seconds of `terraform init && terraform apply`
floor_run() {
  local module=$1 name=$2 d=$3
  rm -rf "$d"; mkdir -p "$d"; cp -r "$REPO/modules/$module/." "$d/"; rm -f "$d/backend.tf"
  printf '{"name":"%s","tags":%s}\n' "$name" "$TAGS_JSON" >"$d/terraform.tfvars.json"
  python3 - "$d" <<'PY'
import json, os, subprocess, sys, time
d = sys.argv[1]
steps = {}
with open(f"{d}/run.log", "wb") as log:
    cmds = [["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]]
    # Asgard reads outputs from the state it stores and runs no `output`; the batch floor skips it too.
    if os.environ.get("FLOOR_NO_OUTPUT") != "1":
        cmds.append(["output", "-json"])
    for args in cmds:
        t0 = time.perf_counter()
        r = subprocess.run(["terraform", *args], cwd=d, stdout=log, stderr=log)
        steps[args[0]] = round(time.perf_counter() - t0, 3)
        if r.returncode:
            raise SystemExit(f"terraform {args[0]} failed in {d}: see run.log")
# The floor is init + apply; `output -json` (which Asgard no longer runs) is reported beside it.
print(json.dumps({"seconds": round(steps["init"] + steps["apply"], 3), "init_s": steps["init"],
                  "apply_s": steps["apply"], "output_s": steps.get("output", 0.0)}))
PY
}

# floor_batch PAR DIR RUN: 20 plain demo/token runs (init, apply: the commands
# Asgard runs), PAR at a time, fresh dirs; records the wall time.
floor_batch() {
  local par=$1 dir=$2 run=$3 t0 t1 fails
  log "provisioning: floor 20 x demo/token, $par at a time"
  t0=$(date +%s.%N)
  fails=$(for i in $(seq 20); do echo "$i"; done | xargs -P "$par" -I@N@ bash -c \
    "$(declare -f floor_run); FLOOR_NO_OUTPUT=1 REPO='$REPO' TAGS_JSON='$TAGS_JSON' floor_run demo/token floor-${run}-p${par}-@N@ '$dir/floorpar/p${par}-@N@' >/dev/null || echo FLOOR-FAIL" | grep -c FLOOR-FAIL)
  t1=$(date +%s.%N)
  fact "{\"kind\":\"tf_floor_batch\",\"label\":\"floor demo/token x20 ($par at a time)\",\"wall_s\":$(python3 -c "print(round($t1-$t0,2))"),\"failed\":$fails}"
}

phase_provisioning() {
  local dir="$BENCH_TMP/prov" n=${BENCH_PROV_N:-3}
  mkdir -p "$dir"
  command -v terraform >/dev/null || { log "provisioning: terraform not found"; return 1; }
  command -v moto_server >/dev/null || { log "provisioning: moto_server not found"; return 1; }
  cat >"$dir/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "${TF_PROVIDER_MIRROR:-/opt/tf-plugins}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
RC
  local mport; mport=$(free_port)
  moto_server -H 127.0.0.1 -p "$mport" >"$dir/moto.log" 2>&1 &
  BENCH_PIDS+=($!)
  wait_http "http://127.0.0.1:$mport/moto-api/" "" 30 || { log "moto did not start"; return 1; }
  export AWS_ENDPOINT_URL="http://127.0.0.1:$mport" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
         AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 TF_CLI_CONFIG_FILE="$dir/terraformrc" \
         CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
  unset TF_PLUGIN_CACHE_DIR
  local run; run=$(date +%H%M%S)

  # Asgard armed, default max_concurrent (4).
  local wd="$dir/tfwork"; mkdir -p "$wd"
  log "provisioning: starting Asgard armed (work dir $wd)"
  start_asgard "$dir/asgard" ASGARD_TF_MODULES_DIR="$REPO/modules" ASGARD_TF_WORK_DIR="$wd" \
      ASGARD_TF_ALLOWED=aws:123456789012
  local tok pid key
  tok=$(login "$ASG_URL"); pid=$(register "$ASG_URL" "$tok" "Prov bench"); key=$(mint_key "$ASG_URL" "$tok" "$pid"); export BENCH_ADMIN_TOKEN=$tok

  # Floor and Asgard alternate run by run (floor #1, Asgard #1, floor #2, ...)
  # so both see the same machine. Floor: terraform by hand in a prepared fresh
  # directory (local state). Asgard: request_resource -> fulfilled.
  local i s mod svc
  for mod in demo/token aws/ecr-repository; do
    if [ "$mod" = demo/token ]; then svc=demo-token; else svc=ecr-repository; fi
    for i in $(seq "$n"); do
      log "provisioning: floor terraform init+apply $mod #$i"
      s=$(floor_run "$mod" "floor-${run}-${mod##*/}-$i" "$dir/floor/${mod##*/}-$i") || return 1
      fact "$(python3 -c 'import sys,json;d=json.loads(sys.argv[1]);d.update(kind="tf_floor",label=sys.argv[2],dir_mb=float(sys.argv[3]));print(json.dumps(d))' \
              "$s" "floor $mod" "$(du -sk "$dir/floor/${mod##*/}-$i" | awk '{printf "%.2f", $1/1024}')")"
      log "provisioning: asgard request_resource $svc #$i -> fulfilled"
      fact "$(jq_label "asgard $svc x1" "$(python3 "$PY/provision.py" "$ASG_URL" "$key" "$svc" 1 "a${run}-${svc%%-*}-$i" "$wd")")"
    done
  done

  # The concurrency figure, each batch right after its floor: 20 plain
  # demo/token runs by hand (4 at a time), then 20 requests at once to Asgard.
  floor_batch 4 "$dir" "$run"
  log "provisioning: 20 concurrent demo-token requests (max_concurrent 4)"
  fact "$(jq_label "asgard demo-token x20 (max_concurrent 4)" "$(python3 "$PY/provision.py" "$ASG_URL" "$key" demo-token 20 "c4-${run}" "$wd")")"
  stop_pid "$ASG_PID"

  # The same with max_concurrent 20.
  mkdir -p "$dir/asgard20"
  printf 'groups:\n  - { key: platform, display_name: Platform, cost_center: CC-100 }\nprovisioning:\n  terraform:\n    max_concurrent: 20\n' >"$dir/asgard20/asgard.yaml"
  start_asgard "$dir/asgard20" ASGARD_TF_MODULES_DIR="$REPO/modules" ASGARD_TF_WORK_DIR="$wd" \
      ASGARD_TF_ALLOWED=aws:123456789012
  tok=$(login "$ASG_URL"); pid=$(register "$ASG_URL" "$tok" "Prov bench 20"); key=$(mint_key "$ASG_URL" "$tok" "$pid"); export BENCH_ADMIN_TOKEN=$tok
  log "provisioning: 1 then 20 concurrent demo-token requests (max_concurrent 20)"
  fact "$(jq_label "asgard demo-token x1 (max_concurrent 20)" "$(python3 "$PY/provision.py" "$ASG_URL" "$key" demo-token 1 "one-${run}" "$wd")")"
  floor_batch 20 "$dir" "$run"
  fact "$(jq_label "asgard demo-token x20 (max_concurrent 20)" "$(python3 "$PY/provision.py" "$ASG_URL" "$key" demo-token 20 "c20-${run}" "$wd")")"
  stop_pid "$ASG_PID"
  fact "{\"kind\":\"tf_left\",\"label\":\"work dir entries left after all runs\",\"entries\":$(find "$wd" -mindepth 1 | wc -l)}"
}
