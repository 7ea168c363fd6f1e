"""Issue 19: the starter dashboard and alert rules (deploy/observability/), checked offline. promtool
cannot be installed here (no binary downloads), so every query is parsed with promql-parser (PyPI: the
Rust parser Prometheus-compatible tools use), every metric it names must be one our processes serve, the
rules and the dashboard have the shape Prometheus and Grafana read, and docs/operations.md lists every
metric. yamllint checks the YAML like every other deployment file (test_deploy_files.py)."""

from __future__ import annotations

import json
import re

import promql_parser
import pytest
import yaml

from bot.settings import PROJECT_ROOT

HERE = PROJECT_ROOT / "deploy" / "observability"
RULES = yaml.safe_load((HERE / "alert-rules.yml").read_text(encoding="utf-8"))
DASHBOARD = json.loads((HERE / "grafana-dashboard.json").read_text(encoding="utf-8"))
SCRAPES = yaml.safe_load((HERE / "prometheus.yml").read_text(encoding="utf-8"))
METRIC = re.compile(r"\bsupport_[a-z_]+")


def served() -> dict[str, str]:
    """Every metric our processes define, by name, with its type (read from the code that defines them)."""
    found: dict[str, str] = {}
    for source in ("bot/metrics.py", "channels/observe.py"):
        text = (PROJECT_ROOT / source).read_text(encoding="utf-8")
        for kind, name in re.findall(r"\b(Counter|Gauge|Histogram)\(\s*\"(support_[a-z_]+)\"", text):
            found[name] = kind
    state = (PROJECT_ROOT / "bot" / "metrics_state.py").read_text(encoding="utf-8")
    found.update({name: "Gauge" for name in re.findall(r"\(\"(support_[a-z_]+)\",", state)})
    return found


def series(name: str, kind: str) -> set[str]:
    """The series names a metric is scraped as."""
    if kind == "Histogram":
        return {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return {name}


SERIES = {each for name, kind in served().items() for each in series(name, kind)}
RULE_LIST = [rule for group in RULES["groups"] for rule in group["rules"]]
QUERIES = [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]


def test_the_metrics_are_found_and_documented():
    metrics = served()
    assert len(metrics) >= 25, sorted(metrics)
    operations = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    undocumented = [name for name in metrics if f"`{name}`" not in operations]
    assert not undocumented, undocumented


@pytest.mark.parametrize("rule", RULE_LIST, ids=[rule["alert"] for rule in RULE_LIST])
def test_each_rule_parses_names_served_metrics_and_says_what_is_wrong(rule):
    assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
    assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
    promql_parser.parse(rule["expr"])  # ValueError for anything Prometheus would refuse
    names = set(METRIC.findall(rule["expr"]))
    assert names and names <= SERIES, names - SERIES
    assert re.fullmatch(r"\d+[smh]", rule["for"])
    assert rule["labels"]["severity"] in ("critical", "warning", "info")
    summary = rule["annotations"]["summary"]
    # A label the summary names must survive the query's aggregation.
    for label in re.findall(r"\{\{ \$labels\.([a-z_]+) \}\}", summary):
        assert re.search(rf"by \([^)]*\b{label}\b", rule["expr"]), (rule["alert"], label)


def test_the_rules_cover_what_the_issue_names():
    watched = " ".join(rule["expr"] for rule in RULE_LIST)
    for metric in ("support_bot_reply_seconds_bucket", "support_bot_fallbacks_total",
                   "support_queue_oldest_wait_seconds", "support_rasa_shard_up", "support_outbox_emails"):
        assert metric in watched, metric
    assert len({rule["alert"] for rule in RULE_LIST}) == len(RULE_LIST)


@pytest.mark.parametrize("query", QUERIES)
def test_each_dashboard_query_parses_and_names_served_metrics(query):
    promql_parser.parse(query)
    names = set(METRIC.findall(query))
    assert names and names <= SERIES, names - SERIES


def test_the_dashboard_is_one_grafana_reads():
    assert DASHBOARD["title"] and DASHBOARD["uid"] and isinstance(DASHBOARD["schemaVersion"], int)
    [variable] = DASHBOARD["templating"]["list"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids)) >= 10
    for panel in DASHBOARD["panels"]:
        assert panel["type"] in ("timeseries", "stat") and panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24 and position["h"] > 0
        assert [target["refId"] for target in panel["targets"]] == [chr(65 + i) for i in range(len(panel["targets"]))]
    shown = {name for query in QUERIES for name in METRIC.findall(query)}
    every = {name for name, kind in served().items()}
    # Every metric is on the dashboard (a histogram by its buckets).
    assert every <= {name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for name in shown}


def test_prometheus_scrapes_every_process_with_the_token_and_loads_the_rules():
    assert SCRAPES["rule_files"] == ["alert-rules.yml"]
    jobs = {job["job_name"]: job for job in SCRAPES["scrape_configs"]}
    assert set(jobs) == {"support-api", "support-actions", "support-rasa"}
    assert jobs["support-rasa"]["metrics_path"] == "/webhooks/rest/metrics"
    for job in jobs.values():
        assert job["authorization"]["credentials_file"]  # /metrics answers only METRICS_TOKEN
