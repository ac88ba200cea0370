#!/usr/bin/env python3
"""Writes grafana/dashboards/chargeswarm.json, the chargeswarm dashboard for the Redis data
source plugin (redis-datasource).

The dashboard JSON is generated: rates need a few transformations per counter (see rate_chain),
which are tedious and error-prone by hand. Edit this file, then run

    python3 grafana/gen_dashboard.py            # rewrites grafana/dashboards/chargeswarm.json
    python3 grafana/gen_dashboard.py --check    # exit 1 if the JSON is not what this file writes

tests/integration/test_grafana.sh runs --check, then runs every query of the JSON against a
real swarm.

Queries use only the plugin's "Redis" query type (type "command") and its documented fields:
command (hmget, xrange, xrevrange), keyName, field (HMGET: space-separated field names), start,
end and count (streams). Without start/end, XRANGE reads the dashboard's time range.
"""
import json
import os
import sys

DS = {"type": "redis-datasource", "uid": "chargeswarm-redis"}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards", "chargeswarm.json")

# Message types of the catalog (common/src/catalog.c), as out.<Name> counters, and the two other
# kinds of messages a charger sends.
MSG_TYPES = ["BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "Authorize",
             "StartTransaction", "StopTransaction", "DataTransfer", "FirmwareStatusNotification",
             "DiagnosticsStatusNotification"]

# The actions of a charging session, shown by action (conf.<Action>.* of {ns}:stats and
# {ns}:history; docs/stats.md "Per action"). A field exists once its action has had a CALL.
SESSION_ACTIONS = ["BootNotification", "Heartbeat", "StatusNotification", "MeterValues",
                   "Authorize", "StartTransaction", "StopTransaction"]


class Ids:
    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return self.n


next_id = Ids()


# ---- queries ------------------------------------------------------------------------------------

def hmget(key, fields, ref="A"):
    return {"refId": ref, "datasource": DS, "type": "command", "command": "hmget",
            "keyName": key, "field": " ".join(fields), "query": ""}


def xrange(key, ref="A"):
    """XRANGE over the dashboard's time range (the plugin's default without start/end)."""
    return {"refId": ref, "datasource": DS, "type": "command", "command": "xrange",
            "keyName": key, "query": ""}


def xrevrange_last(key, count, ref="A"):
    """The newest COUNT entries, whatever the time range."""
    return {"refId": ref, "datasource": DS, "type": "command", "command": "xrevrange",
            "keyName": key, "start": "-", "end": "+", "count": count, "query": ""}


# ---- transformations ----------------------------------------------------------------------------

def keep(names):
    return {"id": "filterFieldsByName", "options": {"include": {"names": list(names)}}}


def rename(mapping):
    return {"id": "organize",
            "options": {"excludeByName": {}, "indexByName": {}, "renameByName": dict(mapping)}}


# Entries a rate is averaged over (see rate_chain).
RATE_WINDOW = 5


def trailing_mean(field, alias, size=RATE_WINDOW):
    """Mean of the field over the entry and the size-1 before it (fewer at the start)."""
    return {"id": "calculateField",
            "options": {"mode": "windowFunctions", "alias": alias, "replaceFields": False,
                        "window": {"field": field, "reducer": "mean", "windowAlignment": "trailing",
                                   "windowSize": size, "windowSizeMode": "fixed"}}}


def binary(left, op, right, alias):
    return {"id": "calculateField",
            "options": {"mode": "binary", "alias": alias, "replaceFields": False,
                        "binary": {"left": left, "operator": op, "right": right}}}


def drop_rows_unless_positive(field):
    return {"id": "filterByValue",
            "options": {"type": "include", "match": "all",
                        "filters": [{"fieldName": field,
                                     "config": {"id": "greater", "options": {"value": 0}}}]}}


def rate_chain(counters):
    """Per-entry rates (1/s) of cumulative counters in a stream frame.

    Grafana has no derivative transformation. But for a counter x sampled with the writer's
    clock u (updated_ms, in every entry), (x[i] - mean of x over the last N entries) /
    (u[i] - mean of u over the same entries) is a weighted mean of the steps of x divided by the
    same weighted mean of the time steps: the rate over the last N-1 intervals, weighted towards
    the newest (exactly the rate when it is constant). With N = 2 it is the plain step from the
    previous entry; a few more entries smooth out the coordinator's sampling of the workers'
    counters at its own ticks (consecutive {ns}:ts entries can carry the same worker snapshot).
    The first entry of the range has no predecessor (its deviation of u is 0): its row is
    dropped before dividing, so no NaN reaches the chart.
    counters: [(stream field, display name)]."""
    t = [trailing_mean("updated_ms", "_mean updated_ms"),
         binary("updated_ms", "-", "_mean updated_ms", "_dev updated_ms")]
    for field, _ in counters:
        t += [trailing_mean(field, "_mean " + field),
              binary(field, "-", "_mean " + field, "_dev " + field)]
    t += [drop_rows_unless_positive("_dev updated_ms"),
          binary("_dev updated_ms", "/", "1000", "_dev seconds")]
    for field, name in counters:
        t.append(binary("_dev " + field, "/", "_dev seconds", name))
    t.append(keep(["$time"] + [name for _, name in counters]))
    return t


def last_rate_chain(counters):
    """Rates over the newest entries of a stream (xrevrange_last): the range of each counter
    divided by the range of updated_ms."""
    t = [keep([f for f, _ in counters] + ["updated_ms"]),
         {"id": "reduce", "options": {"mode": "reduceFields", "reducers": ["range"],
                                      "includeTimeField": False}},
         binary("updated_ms", "/", "1000", "_dt_s")]
    for field, name in counters:
        t.append(binary(field, "/", "_dt_s", name))
    t.append(keep([name for _, name in counters]))
    return t


# ---- panels -------------------------------------------------------------------------------------

def pos(x, y, w, h):
    return {"x": x, "y": y, "w": w, "h": h}


def row(title, y, repeat=None):
    p = {"type": "row", "id": next_id(), "title": title, "datasource": DS, "collapsed": False,
         "gridPos": pos(0, y, 24, 1), "panels": []}
    if repeat:
        p["repeat"] = repeat
    return p


def by_name(name, props):
    return {"matcher": {"id": "byName", "options": name},
            "properties": [{"id": k, "value": v} for k, v in props.items()]}


def stat(title, desc, gridpos, target, unit="short", transformations=(), overrides=(), decimals=None):
    defaults = {"unit": unit, "color": {"mode": "thresholds"},
                "thresholds": {"mode": "absolute", "steps": [{"color": "blue", "value": None}]}}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {"type": "stat", "id": next_id(), "title": title, "description": desc, "datasource": DS,
            "gridPos": gridpos, "targets": [target], "transformations": list(transformations),
            "fieldConfig": {"defaults": defaults, "overrides": list(overrides)},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "none", "justifyMode": "auto",
                        "orientation": "auto", "textMode": "value_and_name",
                        "wideLayout": True, "showPercentChange": False}}


def timeseries(title, desc, gridpos, target, unit, transformations=(), overrides=(), min0=True,
               stack=False):
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
              "spanNulls": True, "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
    defaults = {"unit": unit, "custom": custom, "color": {"mode": "palette-classic"}}
    if min0:
        # Rates dip below zero when a worker restarts (its counters start again from 0): clip.
        defaults["min"] = 0
    return {"type": "timeseries", "id": next_id(), "title": title, "description": desc,
            "datasource": DS, "gridPos": gridpos, "targets": [target],
            "transformations": list(transformations),
            "fieldConfig": {"defaults": defaults, "overrides": list(overrides)},
            "options": {"legend": {"displayMode": "table", "placement": "right", "showLegend": True,
                                   "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def table(title, desc, gridpos, target, overrides=()):
    return {"type": "table", "id": next_id(), "title": title, "description": desc, "datasource": DS,
            "gridPos": gridpos, "targets": [target], "transformations": [],
            "fieldConfig": {"defaults": {"unit": "short", "custom": {"align": "auto"}},
                            "overrides": list(overrides)},
            "options": {"showHeader": True, "cellHeight": "sm"}}


def latency(kind, title, desc, gridpos):
    """Each point: the percentiles over the stats_window_s before it (the <kind>_win_* fields),
    so a change shows when it happens instead of fading into the run's since-start figures."""
    fields = [f"{kind}_win_p50_ms", f"{kind}_win_p90_ms", f"{kind}_win_p99_ms",
              f"{kind}_win_max_ms"]
    return timeseries(title, desc + WINDOW_NOTE, gridpos, xrange("$namespace:ts"), "ms",
                      [keep(["$time"] + fields),
                       rename({f: f.split("_")[2] for f in fields})])


WINDOW_NOTE = (" Each point covers the stats_window_s seconds before it (a fleet setting, "
               "default 10).")


def build():
    panels = []
    stats = "$namespace:stats"
    ts = "$namespace:ts"
    msgs = [("msgs_out", "sent"), ("msgs_in", "received")]
    by_type = [(f"out.{m}", m) for m in MSG_TYPES] + [("out_custom", "custom (catalog)"),
                                                      ("out_answers", "answers to the platform")]
    errors = [("publish_errors", "publish errors"), ("connect_failures", "connect failures"),
              ("conn_lost", "connections lost (reconnects)"), ("msgs_dropped", "messages dropped"),
              ("call_timeouts", "CALL timeouts")]

    # ---- fleet ----
    y = 0
    panels.append(row("Fleet", y))
    y += 1
    panels.append(stat(
        "Chargers", "Fleet totals now, from the coordinator's hash {ns}:stats.",
        pos(0, y, 12, 4),
        hmget(stats, ["fleet_size", "assigned", "connected", "connecting", "offline", "disabled",
                      "unassigned", "workers"])))
    panels.append(stat(
        "Messages/s now", "Sent and received messages per second over the newest 11 entries of "
        "{ns}:ts (counter range / updated_ms range).",
        pos(12, y, 5, 4), xrevrange_last(ts, 11), "mps", last_rate_chain(msgs), decimals=1))
    panels.append(stat(
        "Errors since start", "Cumulative error counters of the fleet ({ns}:stats); the Errors/s "
        "chart shows when they happened.",
        pos(17, y, 7, 4),
        hmget(stats, [f for f, _ in errors])))
    y += 4
    panels.append(timeseries(
        "Chargers by link state", "connected, connecting (waiting for the ramp or connecting) and "
        "offline (waiting to reconnect), from {ns}:ts.",
        pos(0, y, 12, 8), xrange(ts), "short",
        [keep(["$time", "assigned", "connected", "connecting", "offline", "disabled"])]))
    panels.append(timeseries(
        "Messages/s", "Messages published by the chargers and received from the platform, per "
        "second, derived from the cumulative counters msgs_out and msgs_in of {ns}:ts.",
        pos(12, y, 12, 8), xrange(ts), "mps", rate_chain(msgs)))
    y += 8
    panels.append(timeseries(
        "Messages/s by type", "Messages sent per second by message type (out.<Message> counters "
        "of {ns}:ts), user-defined catalog messages and answers to the platform's CALLs.",
        pos(0, y, 12, 9), xrange(ts), "mps", rate_chain(by_type), stack=True))
    panels.append(timeseries(
        "Errors/s", "Publish errors, failed MQTT connects, established connections that dropped "
        "(each one is followed by a reconnect), messages dropped and CALLs the platform left "
        "unanswered, per second, from {ns}:ts.",
        pos(12, y, 12, 9), xrange(ts), "eps", rate_chain(errors)))
    y += 9

    # ---- latency ----
    panels.append(row("Latency", y))
    y += 1
    lat_now = [f"{k}_win_{p}_ms" for k in ("ack", "cmd", "cfg", "conf") for p in ("p50", "p99")]
    panels.append(stat(
        "Latency now", "Fleet percentiles over the last stats_window_s seconds, merged from the "
        "workers' histograms ({ns}:stats): ack = publish -> PUBACK, cmd = command -> applied, "
        "cfg = config write -> applied, conf = our CALL -> the platform's CALLRESULT.",
        pos(0, y, 24, 4), hmget(stats, lat_now), "ms", decimals=1))
    y += 4
    panels.append(latency(
        "ack", "PUBACK latency (publish -> PUBACK)", "Time from an MQTT publish (QoS 1) to its "
        "PUBACK: the broker's latency under the load.",
        pos(0, y, 12, 8)))
    panels.append(latency(
        "conf", "Platform latency (CALL -> CALLRESULT)", "Time from a charger's OCPP CALL to the "
        "platform's CALLRESULT or CALLERROR: the latency of the platform under test.",
        pos(12, y, 12, 8)))
    y += 8
    panels.append(latency(
        "cmd", "Command apply latency", "Time from a command's timestamp (swarm-cli, the "
        "dashboard of the coordinator) to the moment a worker applied it.",
        pos(0, y, 12, 8)))
    panels.append(latency(
        "cfg", "Config apply latency", "Time from a config write (swarm-cli config set) to the "
        "moment a worker applied it.",
        pos(12, y, 12, 8)))
    y += 8

    # ---- the platform, by action ----
    panels.append(row("Platform by action", y))
    y += 1
    panels.append(stat(
        "Response time by action now (p95)", "The platform's response time to the chargers' "
        "CALLs, 95th percentile over the last stats_window_s, by action (conf.<Action>.win_p95_ms "
        "of {ns}:stats, merged from the workers' histograms).",
        pos(0, y, 14, 5),
        hmget(stats, [f"conf.{a}.win_p95_ms" for a in SESSION_ACTIONS]), "ms",
        [rename({f"conf.{a}.win_p95_ms": a for a in SESSION_ACTIONS})], decimals=1))
    panels.append(stat(
        "Failures by action", "CALLERRORs and CALLs left unanswered since the workers started, by "
        "action (conf.<Action>.errors and .timeouts of {ns}:stats; swarm-cli report breaks them "
        "down by code).",
        pos(14, y, 10, 5),
        hmget(stats, [f"conf.{a}.{k}" for a in ("Authorize", "StartTransaction",
                                                "StopTransaction", "MeterValues")
                      for k in ("errors", "timeouts")]),
        transformations=[rename({f"conf.{a}.{k}": f"{a} {k}" for a in
                                 ("Authorize", "StartTransaction", "StopTransaction", "MeterValues")
                                 for k in ("errors", "timeouts")})]))
    y += 5
    panels.append(timeseries(
        "Requests/s by action", "The chargers' CALLs per second by action, from the fleet's "
        "cumulative conf.<Action>.calls in {ns}:history (one entry every history_interval_s).",
        pos(0, y, 12, 8), xrange("$namespace:history"), "reqps",
        rate_chain([(f"conf.{a}.calls", a) for a in SESSION_ACTIONS])))
    panels.append(timeseries(
        "Charger states", "What matters during a test: connectors charging, connectors faulted, "
        "open transactions, chargers offline, from {ns}:ts.",
        pos(12, y, 12, 8), xrange(ts), "short",
        [keep(["$time", "charging", "faulted", "transactions", "offline"])]))
    y += 8

    # ---- one row per worker ----
    panels.append(row("Worker $worker", y, repeat="worker"))
    y += 1
    wk = ["assigned", "connected", "connecting", "offline", "msgs_out", "msgs_in",
          "publish_errors", "connect_failures", "conn_lost", "cmds", "ack_win_p99_ms",
          "cmd_win_p99_ms", "cfg_win_p99_ms", "conf_win_p99_ms", "rss_kb", "loop_lag_ms",
          "updated_ms"]
    panels.append(table(
        "Worker $worker", "The worker's own hash {ns}:stats:{worker} (counters since the worker "
        "started, latency p99 over the last stats_window_s seconds). updated_ms is its last write: a worker that stopped writing is gone "
        "120 s later.",
        pos(0, y, 24, 4), hmget("$namespace:stats:$worker", wk),
        [by_name(f, {"unit": "ms", "decimals": 1}) for f in wk if f.endswith("_ms") and
         f != "updated_ms"] +
        [by_name("rss_kb", {"unit": "deckbytes"}), by_name("updated_ms", {"unit": "dateTimeAsIso"})]))
    y += 4
    panels.append(timeseries(
        "$worker: messages/s", "The worker's messages per second, from its stream "
        "{ns}:ts:{worker}.",
        pos(0, y, 12, 7), xrange("$namespace:ts:$worker"), "mps", rate_chain(msgs)))
    panels.append(timeseries(
        "$worker: chargers", "The worker's chargers by link state, from {ns}:ts:{worker}.",
        pos(12, y, 12, 7), xrange("$namespace:ts:$worker"), "short",
        [keep(["$time", "assigned", "connected", "connecting", "offline"])]))

    templating = [
        {"name": "namespace", "label": "Namespace", "type": "textbox", "query": "swarm",
         "current": {"selected": False, "text": "swarm", "value": "swarm"},
         "options": [{"selected": True, "text": "swarm", "value": "swarm"}], "hide": 0,
         "description": "The fleet's Redis namespace (--namespace / SWARM_NAMESPACE)."},
        {"name": "worker", "label": "Worker", "type": "query", "datasource": DS,
         "query": "ZRANGE $namespace:agents 0 -1", "definition": "ZRANGE $namespace:agents 0 -1",
         # Not "All" by default: each selected worker is a row of 3 panels, and a fleet of
         # 2,000 workers would make every refresh 6,000 queries (docs/scaling.md).
         "refresh": 2, "multi": True, "includeAll": False, "sort": 1, "regex": "", "hide": 0,
         "current": {}, "options": [],
         "description": "Registered workers ({ns}:agents): pick the ones to show, a row each."},
    ]
    return {
        "uid": "chargeswarm",
        "title": "chargeswarm",
        "description": "A chargeswarm fleet, read from Redis: generated by grafana/gen_dashboard.py.",
        "tags": ["chargeswarm", "redis"],
        "editable": True,
        "graphTooltip": 1,
        "timezone": "browser",
        "time": {"from": "now-15m", "to": "now"},
        "refresh": "5s",
        "schemaVersion": 39,
        "version": 1,
        "links": [],
        "annotations": {"list": []},
        "templating": {"list": templating},
        "panels": panels,
    }


def render():
    return json.dumps(build(), indent=2) + "\n"


def main():
    text = render()
    if sys.argv[1:] == ["--check"]:
        try:
            with open(OUT, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            print(f"{OUT}: {e}", file=sys.stderr)
            return 1
        if current != text:
            print(f"{OUT} is not what {sys.argv[0]} writes: run python3 grafana/gen_dashboard.py",
                  file=sys.stderr)
            return 1
        return 0
    if sys.argv[1:]:
        print(f"usage: {sys.argv[0]} [--check]", file=sys.stderr)
        return 2
    with open(OUT + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(OUT + ".tmp", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
