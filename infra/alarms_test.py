"""Checks that the template's alarms reach someone and watch metrics that exist: every CloudWatch
alarm has an action on the alert or the paging topic, and every alarm and dashboard widget on the
Mlops namespace names a metric the code publishes (a MetricSet's `.metric("…")` or
`.values("…")`), so a renamed metric cannot leave an alarm silent. Run by infra/test.sh with the
venv that holds the SAM CLI."""

import json
import pathlib
import re
import sys

from samtranslator.yaml_helper import yaml_parse

TOPICS = {"AlertTopic", "PagingTopic"}
SOURCES = ["functions", "shared"]


def published_metrics():
    names = set()
    for root in SOURCES:
        for path in pathlib.Path(root).rglob("*.rs"):
            if "test" in path.name:
                continue
            text = path.read_text()
            names.update(re.findall(r'\.(?:metric|values)\(\s*"([A-Za-z]+)"', text))
    return names


def dashboard_metrics(body):
    """The Mlops metric names the dashboard's widgets plot."""
    text = body["Fn::Sub"][0] if isinstance(body, dict) else body
    # Fill ${…} placeholders so the body parses; only the metric names are read.
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "0", text))["widgets"]
    return {m[1] for w in widgets for m in w["properties"].get("metrics", []) if m[0] == "Mlops"}


def main():
    template = yaml_parse(open(sys.argv[1] if len(sys.argv) > 1 else "template.yaml").read())
    published = published_metrics()
    problems = []
    alarms = 0
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            alarms += 1
            actions = properties.get("AlarmActions", [])
            if not any(isinstance(a, dict) and a.get("Ref") in TOPICS for a in actions):
                problems.append(f"{name} has no action on {' or '.join(sorted(TOPICS))}")
            if properties.get("Namespace") == "Mlops" and properties["MetricName"] not in published:
                problems.append(f"{name} watches Mlops {properties['MetricName']}, which no code publishes")
        if resource["Type"] == "AWS::CloudWatch::Dashboard":
            for metric in dashboard_metrics(properties["DashboardBody"]) - published:
                problems.append(f"{name} plots Mlops {metric}, which no code publishes")
    for problem in problems:
        print(problem)
    if not problems:
        print(f"all {alarms} alarms act on a topic; every Mlops metric watched or plotted is published")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
