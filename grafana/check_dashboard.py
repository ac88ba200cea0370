#!/usr/bin/env python3
"""Runs every query of the chargeswarm dashboard against a Redis, the way the redis-datasource
plugin would, and checks that each panel gets the numbers it shows.

    python3 grafana/check_dashboard.py --redis-cli 'redis-cli -h 10.0.0.7 -p 6379' \\
        [--var namespace=swarm] [--positive 'Messages/s=sent' ...]

For every panel (repeats expanded with the values of their variable, resolved from Redis like
Grafana does) and every target, it
  - translates the target into the Redis command the plugin runs (pkg/redis-hash.go,
    pkg/redis-stream.go of grafana-redis-datasource 2.x: HMGET key f1 f2 ...; XRANGE key
    <from>-0 <to>-0 over the dashboard's time range unless start/end are set; XREVRANGE key end
    start; COUNT n) and runs it with redis-cli;
  - builds the data frame the plugin returns (stream entries: $streamId, $time and one field per
    entry field) and applies the panel's transformations to it (those this dashboard uses:
    filterFieldsByName, filterByValue, organize, calculateField binary/window mean, reduce);
  - fails when the key is missing or empty, when a field the panel uses is missing from the hash
    or from any stream entry or is not a number, when a transformation or a field override names
    a field that does not exist at that point, or when a field the panel ends up showing is
    empty or holds anything but finite numbers.
Static checks: the JSON parses, every panel and target uses the provisioned data source (its
uid from --datasource-yaml), every ${VAR} of that file is defined in --env-file, and --readme
describes every panel title.

Exit status 0 when everything holds; otherwise every problem is printed, naming the panel, the
query, the Redis command and what Redis returned, and the exit status is 1.
"""
import argparse
import difflib
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = "redis-datasource"
VAR_RE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")

problems = []
notes = []


def problem(msg):
    problems.append(msg)


def short(v, n=400):
    s = v if isinstance(v, str) else json.dumps(v)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


# ---- Redis -------------------------------------------------------------------------------------

class RedisError(Exception):
    pass


def redis(cli, args):
    """Runs one command with redis-cli (RESP2, like the plugin's radix client) and returns the
    decoded reply."""
    p = subprocess.run(cli + ["-2", "--json"] + args, capture_output=True, text=True, timeout=10)
    out = p.stdout.strip()
    if p.returncode != 0 or out.startswith("error:") or not out:
        raise RedisError((out or p.stderr.strip() or f"redis-cli exit status {p.returncode}"))
    try:
        return json.loads(out)
    except ValueError:
        raise RedisError(f"not JSON: {short(out)}")


def flat_strings(v):
    if v is None:
        return []
    if isinstance(v, list):
        r = []
        for x in v:
            r += flat_strings(x)
        return r
    return [str(v)]


# ---- numbers -----------------------------------------------------------------------------------

def parse_float(s):
    """strconv.ParseFloat as the plugin uses it: a number or None."""
    if not isinstance(s, str):
        return None
    try:
        return float(s.strip()) if s.strip() == s and s else None
    except ValueError:
        return None


def finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def js_div(a, b):
    if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return float("nan")
    if b == 0:
        return float("nan") if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


VALUE_MATCHERS = {"greater": lambda a, b: a > b, "greaterOrEqual": lambda a, b: a >= b,
                  "lower": lambda a, b: a < b, "lowerOrEqual": lambda a, b: a <= b,
                  "equal": lambda a, b: a == b, "notEqual": lambda a, b: a != b}

BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": js_div}


# ---- frames ------------------------------------------------------------------------------------
# A frame: ordered dict name -> {"type": number|string|time, "values": [...], "origin":
# redis|plugin|calc}


def frame_hmget(fields, reply, ctx):
    if not isinstance(reply, list) or len(reply) != len(fields):
        ctx.fail(f"HMGET answered {short(reply)}")
        return None
    if fields and all(v is None for v in reply):
        ctx.fail(f"none of the fields exists: the hash is missing or empty (HMGET answered "
                 f"{short(reply)})")
        return None
    frame = {}
    for name, v in zip(fields, reply):
        if v is None:
            ctx.fail(f"field '{name}' does not exist in the hash (HMGET answered {short(reply)})")
            continue
        x = parse_float(v)
        if x is None:
            ctx.fail(f"field '{name}' is not a number: {v!r}")
            frame[name] = {"type": "string", "values": [v], "origin": "redis"}
        else:
            frame[name] = {"type": "number", "values": [x], "origin": "redis"}
    return frame


def frame_stream(reply, ctx):
    """pkg/redis-stream.go createFrameFromRangeResponse; entries keep their raw values for the
    per-entry checks (ctx.entries)."""
    if not isinstance(reply, list):
        ctx.fail(f"answered {short(reply)}")
        return None
    ids, times, entries = [], [], []
    for e in reply:
        ids.append(e[0])
        times.append(int(e[0].split("-")[0]))
        kv = e[1]
        entries.append({kv[i]: kv[i + 1] for i in range(0, len(kv), 2)})
    ctx.entries = entries
    frame = {"$streamId": {"type": "string", "values": ids, "origin": "plugin"},
             "$time": {"type": "time", "values": times, "origin": "plugin"}}
    names = []
    for e in entries:
        for k in e:
            if k not in names:
                names.append(k)
    for k in names:
        first = next(e[k] for e in entries if k in e)
        if parse_float(first) is not None:
            vals = [parse_float(e.get(k)) if parse_float(e.get(k)) is not None else 0.0
                    for e in entries]
            frame[k] = {"type": "number", "values": vals, "origin": "redis"}
        else:
            frame[k] = {"type": "string", "values": [e.get(k, "") for e in entries],
                        "origin": "redis"}
    return frame


class Ctx:
    """One query of one (expanded) panel: collects problems with a full description."""

    def __init__(self, panel_title, panel_id, ref, command):
        self.where = f"panel '{panel_title}' (id {panel_id}), query {ref}: `{' '.join(command)}`"
        self.entries = None
        self.used = set()  # fields from Redis the transformations read
        self.failed = False

    def fail(self, msg):
        self.failed = True
        problem(f"{self.where}: {msg}")


def field_list(frame, name):
    close = difflib.get_close_matches(name, list(frame), n=3)
    names = list(frame)
    listed = ", ".join(names[:12]) + (f", ... ({len(names)} fields)" if len(names) > 12 else "")
    return (f"did you mean {' or '.join(repr(c) for c in close)}? " if close else "") + \
        f"fields: {listed or 'none'}"


def need(frame, name, ctx, what):
    if name not in frame:
        ctx.fail(f"{what} names field '{name}', which is not in the data at that point "
                 f"({field_list(frame, name)})")
        return None
    f = frame[name]
    if f["origin"] == "redis":
        ctx.used.add(name)
    return f


def operand(frame, v, ctx, what):
    """A binary operand: a field name, a number (checkBinaryValueType), {fixed} or
    {matcher: {id: byName, options}}."""
    n = len(next(iter(frame.values()))["values"]) if frame else 0
    if isinstance(v, dict):
        if "fixed" in v:
            x = parse_float(str(v["fixed"]))
            if x is None:
                ctx.fail(f"{what}: fixed operand {v['fixed']!r} is not a number")
                return None
            return [x] * n
        m = v.get("matcher") or {}
        if m.get("id") != "byName":
            ctx.fail(f"{what}: operand matcher {m.get('id')!r} not supported by this check")
            return None
        v = m.get("options", "")
    v = str(v)
    if v in frame:
        f = need(frame, v, ctx, what)
        if f["type"] != "number":
            ctx.fail(f"{what}: field '{v}' is not numeric")
            return None
        return f["values"]
    x = parse_float(v)
    if x is None:
        need(frame, v, ctx, what)
        return None
    return [x] * n


def apply_transformations(frame, transformations, ctx):
    for i, t in enumerate(transformations):
        tid, o = t.get("id"), t.get("options", {})
        what = f"transformation {i + 1} ({tid})"
        if t.get("disabled"):
            continue
        if tid == "filterFieldsByName":
            inc = o.get("include", {})
            if set(inc) - {"names"} or o.get("exclude"):
                ctx.fail(f"{what}: only include.names is supported by this check")
                return None
            names = inc.get("names", [])
            for n in names:
                need(frame, n, ctx, what)
            frame = {k: v for k, v in frame.items() if k in names}
        elif tid == "organize":
            for part in ("excludeByName", "renameByName", "indexByName"):
                for n in o.get(part, {}):
                    need(frame, n, ctx, what)
            excl = {k for k, v in o.get("excludeByName", {}).items() if v}
            ren = o.get("renameByName", {})
            frame = {ren.get(k) or k: v for k, v in frame.items() if k not in excl}
        elif tid == "calculateField":
            mode, alias = o.get("mode", "reduceRow"), o.get("alias")
            if not alias:
                ctx.fail(f"{what}: no alias (the generated name is not checked here)")
                return None
            n = len(next(iter(frame.values()))["values"]) if frame else 0
            if mode == "windowFunctions":
                w = o.get("window", {})
                f = need(frame, w.get("field", ""), ctx, what)
                if f is None:
                    return None
                if (w.get("reducer"), w.get("windowAlignment"), w.get("windowSizeMode")) != \
                        ("mean", "trailing", "fixed") or f["type"] != "number":
                    ctx.fail(f"{what}: only a trailing mean of a fixed size over a number is "
                             f"supported by this check: {w}")
                    return None
                size, vals, out, s, c = int(w.get("windowSize", 0)), f["values"], [], 0.0, 0
                for j in range(n):  # getTrailingWindowValues of calculateField.ts
                    c += 1
                    s += vals[j]
                    if j > size - 1:
                        s -= vals[j - size]
                        c -= 1
                    out.append(s / c if c else 0)
            elif mode == "binary":
                b = o.get("binary", {})
                op = BINARY.get(b.get("operator"))
                left = operand(frame, b.get("left", ""), ctx, what)
                right = operand(frame, b.get("right", ""), ctx, what)
                if op is None:
                    ctx.fail(f"{what}: operator {b.get('operator')!r} not supported")
                if op is None or left is None or right is None:
                    return None
                out = [op(x, y) for x, y in zip(left, right)]
            else:
                ctx.fail(f"{what}: mode {mode!r} not supported by this check")
                return None
            new = {"type": "number", "values": out, "origin": "calc"}
            if o.get("replaceFields"):
                frame = {k: v for k, v in frame.items() if v["type"] == "time"}
            frame[alias] = new
        elif tid == "filterByValue":
            filters = o.get("filters", [])
            tests = []
            for flt in filters:
                f = need(frame, flt.get("fieldName", ""), ctx, what)
                cfg = flt.get("config", {})
                cmp = VALUE_MATCHERS.get(cfg.get("id"))
                if f is None:
                    return None
                if cmp is None or f["type"] != "number":
                    ctx.fail(f"{what}: only numeric comparisons ({', '.join(VALUE_MATCHERS)}) "
                             f"are supported by this check: {flt}")
                    return None
                ref = (cfg.get("options") or {}).get("value")
                tests.append(lambda j, f=f, cmp=cmp, ref=ref: cmp(f["values"][j], float(ref)))
            n = len(next(iter(frame.values()))["values"]) if frame else 0
            match_all = o.get("match") == "all"
            rows = [j for j in range(n) if tests and
                    (all(tst(j) for tst in tests) if match_all else any(tst(j) for tst in tests))]
            if o.get("type", "include") != "include":
                rows = [j for j in range(n) if j not in set(rows)]
            frame = {k: dict(v, values=[v["values"][j] for j in rows]) for k, v in frame.items()}
        elif tid == "reduce":
            if o.get("mode") != "reduceFields" or o.get("fields") or o.get("includeTimeField"):
                ctx.fail(f"{what}: only mode reduceFields over the non-time fields is supported")
                return None
            reducers = o.get("reducers", [])
            if len(reducers) != 1 or reducers[0] not in ("range", "max", "min", "last",
                                                          "lastNotNull", "mean", "sum"):
                ctx.fail(f"{what}: reducers {reducers} not supported by this check")
                return None
            out = {}
            for k, f in frame.items():
                if f["type"] == "time":
                    continue
                if f["type"] != "number":
                    ctx.fail(f"{what}: reduces field '{k}', which is not numeric")
                    return None
                if f["origin"] == "redis":
                    ctx.used.add(k)
                v = [x for x in f["values"] if finite(x)]
                r = reducers[0]
                val = (float("nan") if not v else max(v) - min(v) if r == "range" else
                       max(v) if r == "max" else min(v) if r == "min" else
                       v[-1] if r in ("last", "lastNotNull") else sum(v) / len(v) if r == "mean"
                       else sum(v))
                out[k] = {"type": "number", "values": [val], "origin": "calc"}
            frame = out
        else:
            ctx.fail(f"{what}: transformation not supported by this check (extend "
                     f"grafana/check_dashboard.py)")
            return None
    return frame


# ---- dashboard walk ----------------------------------------------------------------------------

def interpolate(s, values, ctx_desc):
    """Grafana's templateSrv.replace for single values; a variable that is not in `values`
    (unknown, or multi-valued outside a repeat) is a problem, and the result is None."""
    bad = []

    def sub(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in values:
            bad.append(name)
            return m.group(0)
        return values[name]
    out = VAR_RE.sub(sub, s)
    for name in bad:
        problem(f"{ctx_desc}: '{s}' uses ${name}, which has no single value here (unknown "
                f"variable, or a multi-value variable outside a repeat over it)")
    return None if bad else out


def time_range(dash, now_ms):
    def parse(s):
        if s == "now":
            return now_ms
        m = re.fullmatch(r"now-(\d+)([smhd])", s)
        if not m:
            raise ValueError(f"time {s!r} not supported by this check")
        return now_ms - int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)] * 1000
    t = dash.get("time", {})
    return parse(t.get("from", "now-6h")), parse(t.get("to", "now"))


def plugin_command(t, frm, to):
    """The Redis command the plugin runs for a target (query.go: a non-empty `query` is a raw
    command line, else `command`)."""
    if t.get("type", "command") != "command":
        return None, f"query type {t.get('type')!r} not supported by this check"
    if t.get("query"):
        return shlex.split(t["query"]), None
    cmd, key = t.get("command"), t.get("keyName", "")
    count = int(t.get("count") or 0)
    tail = ["COUNT", str(count)] if count > 0 else []
    if cmd == "hmget":
        return ["HMGET", key] + shlex.split(t.get("field", "")), None
    if cmd == "hget":
        return ["HGET", key, t.get("field", "")], None
    if cmd == "xrange":
        return ["XRANGE", key, t.get("start") or f"{frm}-0", t.get("end") or f"{to}-0"] + tail, None
    if cmd == "xrevrange":
        return ["XREVRANGE", key, t.get("end") or f"{to}-0", t.get("start") or f"{frm}-0"] + tail, None
    return None, f"command {cmd!r} not supported by this check (extend grafana/check_dashboard.py)"


def expand(panels):
    """Yields (panel, [repeat variable names]) for every panel, rows included, with the scope of
    repeated rows (the panels after a non-collapsed row, or a collapsed row's own panels)."""
    row_repeat = []
    for p in panels:
        if p.get("type") == "row":
            row_repeat = [p["repeat"]] if p.get("repeat") else []
            yield p, row_repeat
            for q in p.get("panels", []):
                yield q, row_repeat + ([q["repeat"]] if q.get("repeat") else [])
            if p.get("collapsed"):
                row_repeat = []
            continue
        yield p, row_repeat + ([p["repeat"]] if p.get("repeat") else [])


def combos(repeat, multi):
    out = [{}]
    for v in repeat:
        out = [dict(c, **{v: x}) for c in out for x in multi.get(v, [])]
    return out


def check_panel_query(cli, panel, target, values, frm, to, positive, stats):
    title = interpolate(panel.get("title", ""), values, f"panel {panel.get('id')}")
    if title is None:
        return
    t = {k: (interpolate(v, values, f"panel '{title}' (id {panel.get('id')}), query "
                                    f"{target.get('refId')}, {k}") if isinstance(v, str) else v)
         for k, v in target.items()}
    if None in t.values():
        return
    command, err = plugin_command(t, frm, to)
    ref = t.get("refId", "?")
    if command is None:
        problem(f"panel '{title}' (id {panel.get('id')}), query {ref}: {err}")
        return
    ctx = Ctx(title, panel.get("id"), ref, command)
    try:
        reply = redis(cli, command)
    except (RedisError, subprocess.TimeoutExpired) as e:
        ctx.fail(f"Redis answered an error: {e}")
        return
    if command[0] == "HMGET":
        frame = frame_hmget(command[2:], reply, ctx)
        rows = 1
    elif command[0] in ("XRANGE", "XREVRANGE"):
        if not reply:
            ctx.fail(f"no stream entries (Redis answered {short(reply)}; XLEN and TYPE of the key "
                     f"would tell whether it exists)")
            return
        frame = frame_stream(reply, ctx)
        rows = len(reply)
        if rows < 2:
            ctx.fail(f"only {rows} stream entry: rates and charts need at least 2")
    else:
        ctx.fail(f"the check does not know the frame of {command[0]}")
        return
    if frame is None:
        return
    out = apply_transformations(dict(frame), panel.get("transformations", []), ctx)
    # Stream fields the panel reads must be in every entry, as numbers: the plugin would
    # silently put 0 where one is missing. A stream panel that names no field shows them all.
    if ctx.entries is not None:
        used = ctx.used or {k for k, f in frame.items() if f["origin"] == "redis"}
        for name in sorted(used):
            bad = [i for i, e in enumerate(ctx.entries) if parse_float(e.get(name)) is None]
            if bad:
                e = ctx.entries[bad[0]]
                ctx.fail(f"field '{name}' is missing or not a number in {len(bad)} of {rows} "
                         f"entries, e.g. entry {reply[bad[0]][0]}: {short(e, 300)}")
    if out is None:
        return
    shown = {k: f for k, f in out.items() if f["type"] != "time"}
    if not shown:
        ctx.fail("the panel shows no field after its transformations")
    for k, f in shown.items():
        if f["type"] != "number":
            ctx.fail(f"field '{k}' shown by the panel is not numeric")
        elif not f["values"]:
            ctx.fail(f"field '{k}' shown by the panel has no value (Redis answered "
                     f"{short(reply, 300)})")
        elif not all(finite(x) for x in f["values"]):
            ctx.fail(f"field '{k}' shown by the panel has values that are not finite numbers "
                     f"(NaN or infinite: gaps, or broken scales): {short(f['values'], 200)}")
    for ov in panel.get("fieldConfig", {}).get("overrides", []):
        m = ov.get("matcher", {})
        if m.get("id") == "byName" and m.get("options") not in out:
            ctx.fail(f"field override names '{m.get('options')}', which the panel does not show "
                     f"({field_list(out, m.get('options', ''))})")
    for want_title, field in positive:
        if want_title == panel.get("title"):
            stats["positive_seen"].add((want_title, field))
            vals = [x for x in out.get(field, {}).get("values", []) if finite(x)]
            if not vals or max(vals) <= 0:
                ctx.fail(f"expected field '{field}' to be > 0 somewhere, got {short(vals, 200)}")
    stats["queries"] += 1
    if not ctx.failed:
        detail = (f"{rows} entries" if ctx.entries is not None else "1 row")
        last = ", ".join(f"{k}={f['values'][-1]:.6g}" for k, f in shown.items())
        notes.append(f"ok  {title!r}, {ref}: `{' '.join(command)}` -> {detail}; shows (last) "
                     f"{last}")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def static_checks(dash, args):
    uid = None
    try:
        import yaml  # python3-yaml: optional
    except ImportError:
        yaml = None
    ds_text = read(args.datasource_yaml)
    if yaml:
        ds = yaml.safe_load(ds_text)["datasources"]
        mine = [d for d in ds if d.get("type") == PLUGIN]
        if len(mine) != 1:
            problem(f"{args.datasource_yaml}: want exactly one data source of type {PLUGIN}")
        else:
            uid = mine[0].get("uid")
    else:
        m = re.search(r"^\s*uid:\s*(\S+)", ds_text, re.M)
        uid = m.group(1) if m else None
        notes.append("python3-yaml is not installed: the provisioning YAML was not parsed")
    if not uid:
        problem(f"{args.datasource_yaml}: no uid for the {PLUGIN} data source")
    if yaml:
        prov = (yaml.safe_load(read(args.provider_yaml)) or {}).get("providers") or [{}]
        if prov[0].get("type") != "file" or not (prov[0].get("options") or {}).get("path"):
            problem(f"{args.provider_yaml}: want a provider of type file with options.path")
    if args.env_file:
        defined = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", read(args.env_file), re.M))
        for v in sorted(set(re.findall(r"\$\{?([A-Za-z_]\w*)", re.sub(r"#.*", "", ds_text)))):
            if v not in defined:
                problem(f"{args.datasource_yaml} uses ${v}, which {args.env_file} does not define")
    want = {"type": PLUGIN, "uid": uid}
    ids, titles = set(), []
    for p, _ in expand(dash.get("panels", [])):
        desc = f"panel '{p.get('title')}' (id {p.get('id')})"
        if p.get("id") in ids:
            problem(f"{desc}: duplicate panel id")
        ids.add(p.get("id"))
        if p.get("datasource") != want:
            problem(f"{desc}: datasource is {json.dumps(p.get('datasource'))}, want {json.dumps(want)}")
        if p.get("type") == "row":
            continue
        titles.append(p.get("title", ""))
        targets = p.get("targets") or []
        if not targets:
            problem(f"{desc}: no query")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            problem(f"{desc}: duplicate refIds {refs}")
        for t in targets:
            if "datasource" in t and t["datasource"] != want:
                problem(f"{desc}, query {t.get('refId')}: datasource is "
                        f"{json.dumps(t['datasource'])}, want {json.dumps(want)}")
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query" and v.get("datasource") != want:
            problem(f"variable '{v.get('name')}': datasource is {json.dumps(v.get('datasource'))}, "
                    f"want {json.dumps(want)}")
    if args.readme:
        readme = read(args.readme)
        for t in titles:
            if t not in readme:
                problem(f"{args.readme} does not describe panel '{t}'")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dashboard", default=os.path.join(HERE, "dashboards", "chargeswarm.json"))
    ap.add_argument("--datasource-yaml",
                    default=os.path.join(HERE, "provisioning", "datasources", "chargeswarm.yaml"))
    ap.add_argument("--provider-yaml",
                    default=os.path.join(HERE, "provisioning", "dashboards", "chargeswarm.yaml"))
    ap.add_argument("--env-file", default=os.path.join(HERE, "chargeswarm.env"))
    ap.add_argument("--readme", default=os.path.join(HERE, "README.md"))
    ap.add_argument("--redis-cli", default="redis-cli",
                    help="the redis-cli command line to use (host, port, --user/--pass)")
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="value of a textbox/custom variable (default: its default)")
    ap.add_argument("--positive", action="append", default=[], metavar="PANEL TITLE=FIELD",
                    help="also require FIELD of that panel (title as in the JSON) to be > 0")
    ap.add_argument("--static-only", action="store_true", help="no Redis: the static checks only")
    ap.add_argument("--max-repeat", type=int, default=0, metavar="N",
                    help="check repeated panels for the first N values of their variable only "
                         "(0: every value); 1 is what a dashboard showing one worker queries")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every query checked")
    args = ap.parse_args()

    try:
        dash = json.loads(read(args.dashboard))
    except (OSError, ValueError) as e:
        print(f"FAIL: {args.dashboard}: {e}", file=sys.stderr)
        return 1
    static_checks(dash, args)
    stats = {"queries": 0, "positive_seen": set()}
    if not args.static_only:
        cli = shlex.split(args.redis_cli)
        given = dict(v.split("=", 1) for v in args.var)
        values, multi = {}, {}
        for v in dash.get("templating", {}).get("list", []):
            name = v.get("name")
            if v.get("type") in ("textbox", "constant", "custom"):
                values[name] = given.get(name, v.get("query", ""))
            elif v.get("type") == "query":
                q = interpolate(v.get("query", ""), values, f"variable '{name}'") or ""
                try:
                    vals = flat_strings(redis(cli, shlex.split(q)))
                except (RedisError, subprocess.TimeoutExpired) as e:
                    problem(f"variable '{name}': `{q}`: Redis answered an error: {e}")
                    vals = []
                if not vals:
                    problem(f"variable '{name}': `{q}` returned no value")
                notes.append(f"variable {name}: `{q}` -> {', '.join(vals)}")
                if v.get("multi") or v.get("includeAll"):
                    multi[name] = vals[:args.max_repeat] if args.max_repeat > 0 else vals
                elif vals:
                    values[name] = vals[0]
            else:
                problem(f"variable '{name}': type {v.get('type')!r} not supported by this check")
        now_ms = int(time.time() * 1000)
        frm, to = time_range(dash, now_ms)
        positive = [tuple(p.rsplit("=", 1)) for p in args.positive]
        for p, repeat in expand(dash.get("panels", [])):
            if p.get("type") == "row":
                continue
            for combo in combos(repeat, multi):
                for t in p.get("targets", []):
                    if t.get("hide"):
                        continue
                    check_panel_query(cli, p, t, dict(values, **combo), frm, to, positive, stats)
        for pt in positive:
            if pt not in stats["positive_seen"]:
                problem(f"--positive '{pt[0]}={pt[1]}': no such panel")
    if args.verbose or problems:
        for n in notes:
            print(n)
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {stats['queries']} queries checked" if not args.static_only else "ok: static checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
