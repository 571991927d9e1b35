#!/usr/bin/env bash
# Validates the deployment files as far as a machine without Docker or Kubernetes allows:
# - every YAML file parses;
# - docker-compose.yml against the Compose specification's schema;
# - the Kubernetes manifests against Kubernetes' own schemas (Strimzi's custom resources have
#   no schema here: they are only parsed, and checked for the settings the design depends on);
# - the beaconport binary accepts every configuration shipped: deploy/*.toml, deploy/config/*.toml
#   and the files inside the Kubernetes ConfigMap.
# Tools come from PyPI into a virtual environment of their own (BEACONPORT_VALIDATE_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${BEACONPORT_VALIDATE_VENV:-target/deploy-validate-venv}"
if [ ! -x "$venv/bin/check-jsonschema" ] || [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check check-jsonschema kubernetes-validate pyyaml
fi
py="$venv/bin/python"

echo "== YAML parses"
"$py" - <<'PY'
import glob, sys, yaml
files = sorted(glob.glob("deploy/**/*.yml", recursive=True) + glob.glob("deploy/**/*.yaml", recursive=True))
assert files, "no YAML files under deploy/"
for f in files:
    docs = [d for d in yaml.safe_load_all(open(f)) if d is not None]
    assert docs, f"{f}: empty"
    print(f"{f}: {len(docs)} document(s)")
PY

echo "== docker-compose.yml against the Compose specification"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/docker-compose.yml
"$py" - <<'PY'
import yaml
c = yaml.safe_load(open("deploy/docker-compose.yml"))
s = c["services"]
brokers = [n for n in s if n.startswith("kafka-")]
assert len(brokers) == 3, brokers
for b in brokers:
    env = s[b]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller", b  # KRaft
    assert int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == 3, b
    assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2, b
    assert str(env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"]).lower() == "false", b
for role, n in (("ingest", 2), ("query", 2)):
    replicas = [k for k in s if k.startswith(role + "-")]
    assert len(replicas) == n, (role, replicas)
    for r in replicas:
        assert f"/etc/beaconport/config/{role}.toml" in s[r]["command"], r
assert "prometheus" in s
print("compose: 3 KRaft brokers (replication 3, min.insync.replicas 2, no unclean election), 2 ingest, 2 query, prometheus")
PY

echo "== Kubernetes manifests"
"$venv/bin/kubernetes-validate" --strict --quiet deploy/k8s/beaconport.yaml
"$py" - <<'PY'
import yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open("deploy/k8s/kafka.yaml")) if d}
k = docs["Kafka"]["spec"]["kafka"]["config"]
assert k["default.replication.factor"] == 3 and k["min.insync.replicas"] == 2 and k["unclean.leader.election.enable"] is False
pool = docs["KafkaNodePool"]["spec"]
assert pool["replicas"] == 3 and set(pool["roles"]) == {"controller", "broker"}
t = docs["KafkaTopic"]["spec"]
assert t["replicas"] == 3 and t["config"]["min.insync.replicas"] == 2
print("strimzi (parsed, no schema here): KRaft node pool of 3, replication 3, min.insync.replicas 2, no unclean election")
PY

echo "== the binary accepts every configuration shipped"
cargo build --quiet -p beaconport-cli
bin=target/debug/beaconport
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$py" - "$tmp" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open("deploy/k8s/beaconport.yaml")):
    if d and d["kind"] == "ConfigMap":
        for name, text in d["data"].items():
            open(f"{sys.argv[1]}/k8s-{name}", "w").write(text)
PY
for f in deploy/*.toml deploy/config/*.toml "$tmp"/k8s-*.toml; do
  # The PKI is made at deployment time: the files' identities_file is checked where it exists.
  BEACONPORT_TLS__IDENTITIES_FILE="" "$bin" serve --config "$f" --check-config | sed "s|^|$f: |"
done
echo "deploy files valid"
