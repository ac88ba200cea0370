#!/usr/bin/python3
"""check201.py - check OCPP 2.0.1 payloads against the official JSON schemas.

Usage: check201.py [--schemas DIR] [--require ACTION,...] FILE|DIR...

Each file holds one payload (a JSON object, no OCPP-J frame) and is named
<Action>.<req|conf>[-anything].json, e.g. NotifyReport.req-0.json: the schema is
<Action>.<req|conf>.json in DIR (default: ocpp201/ beside this script, extracted unchanged
from ocpp-rpc's ocpp2_0_1.json). A directory stands for the *.json files in it.

"date-time" is checked here (RFC 3339 by regular expression, then datetime.fromisoformat
for the ranges), so no optional library is needed.

Exit status: 0 all valid (and every --require action seen), 1 otherwise, 2 usage error,
77 (skip) without python3-jsonschema.
"""

import argparse
import json
import os
import re
import sys
from datetime import datetime

try:
    import jsonschema
except ImportError:
    sys.stderr.write("check201.py: python3-jsonschema is not installed\n")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

formats = jsonschema.FormatChecker(formats=())


@formats.checks("date-time")
def is_datetime(value):
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(re.sub(r"\.\d+", "", value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schemas", default=os.path.join(HERE, "ocpp201"))
    ap.add_argument("--require", default="")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()

    files = []
    for p in a.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".json"))
        elif os.path.isfile(p):
            files.append(p)
        else:
            sys.stderr.write("check201.py: no such file: %s\n" % p)
            return 2
    validators, seen, problems = {}, set(), 0
    for f in files:
        base = os.path.basename(f)
        m = re.match(r"^([A-Za-z0-9]+\.(?:req|conf))(?:-.*)?\.json$", base)
        if not m:
            sys.stderr.write("check201.py: %s: name is not <Action>.<req|conf>[-x].json\n" % f)
            return 2
        action = m.group(1)
        if action not in validators:
            path = os.path.join(a.schemas, action + ".json")
            try:
                with open(path) as fh:
                    schema = json.load(fh)
            except OSError as e:
                sys.stderr.write("check201.py: no schema for %s: %s\n" % (action, e))
                return 2
            validators[action] = jsonschema.Draft7Validator(schema, format_checker=formats)
        try:
            with open(f) as fh:
                doc = json.load(fh)
        except ValueError as e:
            print("FAIL %s: not JSON: %s" % (f, e))
            problems += 1
            continue
        errs = sorted(validators[action].iter_errors(doc), key=lambda e: list(e.path))
        for e in errs:
            where = "$" + "".join("[%d]" % p if isinstance(p, int) else ".%s" % p for p in e.path)
            print("FAIL %s: %s.json: at %s: %s" % (f, action, where, e.message))
        problems += len(errs)
        seen.add(action)
    for r in filter(None, a.require.split(",")):
        if r not in seen:
            print("FAIL required %s never appeared" % r)
            problems += 1
    print("check201.py: %d file(s), %s" % (len(files),
                                          "OK" if not problems else "%d problem(s)" % problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
