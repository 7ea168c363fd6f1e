"""Issue 17: schemathesis against the running API, with every check and every phase (examples,
coverage, fuzzing, stateful), once for each kind of caller: an admin, an agent, a manager and nobody.
The API runs as in production (uvicorn, its own database, the real Rasa server of the end-to-end
stack) with seeded data so that the ids the fuzzer tries exist (tests/e2e/fuzz_seed.py). Rate limits
are raised for this API only: the fuzzer sends thousands of requests from one address, and 429s
would end each run early (the limits have their own tests). Any failure fails the test, with
schemathesis's report and a curl line to reproduce it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot import migrate
from bot.settings import PROJECT_ROOT
from harness.stack import WS_MAX_BYTES, Stack, free_port

HERE = Path(__file__).parent
PASSWORD = "a long enough password"
SEEDED = {"admin@example.com": "admin", "agent@example.com": "agent", "manager@example.com": "manager"}
CALLERS = ["admin@example.com", "agent@example.com", "manager@example.com", ""]
# Test cases per operation and phase; FUZZ_MAX_EXAMPLES raises it for a longer hunt by hand.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))
SEED = os.environ.get("FUZZ_SEED", "1")
NO_LIMIT = "100000/minute"


def _config(path: Path, seeded: dict) -> None:
    """The checked-in settings plus the seeded ids, each tried in half the generated cases."""
    pools = {"handoffs": seeded["handoffs"], "recovery_items": seeded["recovery_items"],
             "feedback": seeded["feedback"], "users": list(seeded["users"].values()),
             "conversations": seeded["conversations"], "tickets": seeded["tickets"]}
    lines = [(HERE / "schemathesis.toml").read_text(encoding="utf-8")]
    for name, values in pools.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for parameter, pool in (("handoff_id", "handoffs"), ("item_id", "recovery_items"), ("number", "feedback"),
                            ("user_id", "users"), ("conversation_id", "conversations"), ("reference", "tickets")):
        lines.append(f'"path.{parameter}" = {{ dictionary = "{pool}", probability = 0.5 }}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def contract_api(stack: Stack, tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{folder / 'api.db'}"
    migrate.upgrade(url=url)
    env = {**os.environ, "DATABASE_URL": url, "FUZZ_PASSWORD": PASSWORD, "PYTHONPATH": str(PROJECT_ROOT)}
    seeded = json.loads(subprocess.run([sys.executable, "-m", "tests.e2e.fuzz_seed"], env=env, cwd=PROJECT_ROOT,
                                       capture_output=True, text=True, check=True).stdout)
    port = free_port()
    env.update({"RASA_URL": f"http://{stack.host}:{stack.rasa_port}", "RASA_TOKEN": stack.rasa_token,
                "SECRET_KEY": "contract-" + "k" * 40, "API_HOST": "127.0.0.1", "API_PORT": str(port),
                "CHAT_RATE_PER_SESSION": NO_LIMIT, "CHAT_RATE_PER_ADDRESS": NO_LIMIT,
                "CHAT_SESSIONS_PER_ADDRESS": NO_LIMIT, "SIGNIN_FAILURES_PER_ACCOUNT": NO_LIMIT,
                "SIGNIN_FAILURES_PER_ADDRESS": NO_LIMIT, "RASA_TELEMETRY_ENABLED": "false"})
    log = folder / "api.log"
    with open(log, "w", encoding="utf-8") as out:
        api = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host",
                                "127.0.0.1", "--port", str(port), "--ws-max-size", str(WS_MAX_BYTES)],
                               cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if api.poll() is not None:
                raise AssertionError(f"the API exited:\n{log.read_text()[-3000:]}")
            subprocess.run(["sleep", "0.5"], check=True)
        config = folder / "schemathesis.toml"
        _config(config, seeded)
        yield {"base": base, "env": env, "config": config, "folder": folder, "log": log,
               "ticket_link": seeded["ticket_link"]}
    finally:
        api.terminate()
        api.wait(timeout=15)


@pytest.mark.parametrize("caller", CALLERS, ids=["admin", "agent", "manager", "anonymous"])
def test_schemathesis_finds_nothing(contract_api, caller):
    env = {**contract_api["env"], "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks", "FUZZ_BASE_URL": contract_api["base"],
           "FUZZ_USER": caller, "FUZZ_SEEDED": json.dumps(SEEDED), "FUZZ_TICKET_LINK": contract_api["ticket_link"],
           "NO_COLOR": "1"}
    reports = contract_api["folder"] / (caller.split("@")[0] or "anonymous")
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(schemathesis), "--no-color", "--config-file", str(contract_api["config"]), "run",
         f"{contract_api['base']}/openapi.json", "--checks", "all",
         "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", str(MAX_EXAMPLES), "--seed", SEED,
         "--request-timeout", "30", "--report", "junit", "--report-dir", str(reports)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=1200)
    output = result.stdout + result.stderr
    operations = re.search(r"Operations:\s+(\d+) selected / (\d+) total", output)
    cases = re.search(r"(\d+) generated, (.*)", output)
    print(f"\nschemathesis as {caller or 'nobody'}: {operations.group(1) if operations else '?'} operations, "
          f"{cases.group(1) + ' cases generated, ' + cases.group(2) if cases else output[-2000:]}")
    if result.returncode != 0:
        print(output[-20000:])
        print("API log:\n" + contract_api["log"].read_text(encoding="utf-8", errors="replace")[-5000:])
    assert result.returncode == 0, "schemathesis found failures (the report is printed above)"
    assert operations and int(operations.group(1)) == int(operations.group(2)) >= 51
