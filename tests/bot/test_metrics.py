"""Issue 19: several API processes (API_WORKERS) answer a scrape as one (PROMETHEUS_MULTIPROC_DIR): their
counters add up, and a process that died stops counting in the live gauges (its open WebSockets)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from prometheus_client.parser import text_string_to_metric_families

from bot.settings import PROJECT_ROOT

WORKER = textwrap.dedent("""
    import os, sys, time
    from bot.metrics import CUSTOMER_LINES, WEBSOCKETS
    CUSTOMER_LINES.inc(int(sys.argv[1]))
    WEBSOCKETS.labels("customer").inc(int(sys.argv[1]))
    if sys.argv[2] == "stay":
        print("ready", flush=True)
        time.sleep(60)
""")
SCRAPE = textwrap.dedent("""
    from bot.metrics import exposition
    print(exposition(with_state=False)[0].decode())
""")


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_api_processes_add_up_and_a_dead_one_leaves_the_live_gauges(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def python(code: str, *args: str, **kwargs):
        return subprocess.Popen([sys.executable, "-c", code, *args], cwd=PROJECT_ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, **kwargs)

    python(WORKER, "3", "exit").wait(timeout=60)  # a worker that handled 3 lines with 3 sockets, then died
    living = python(WORKER, "2", "stay")
    try:
        assert living.stdout.readline().strip() == "ready"
        scrape = python(SCRAPE)
        text, _ = scrape.communicate(timeout=60)
    finally:
        living.kill()
        living.wait(timeout=30)
    found = samples(text)
    assert found[("support_customer_lines_total", ())] == 5  # counters: every process, the dead one too
    assert found[("support_websocket_connections", (("side", "customer"),))] == 2  # the living one's only
