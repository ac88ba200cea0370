#!/usr/bin/python3
"""validate.py - check captured charger messages against the OCPP 1.6 JSON schemas (or 2.0.1).

Usage:
  validate.py [--version 1.6|2.0.1] [--require ACTION,...] [--schemas DIR] FILE...
  validate.py --frames [--version 1.6|2.0.1] [--require ACTION,...] FILE...

Captures (default): one MQTT message per line, either
  <unix seconds.ns> <topic> <payload>          (mosquitto_sub -F '%U %t %p'; lines starting
                                                "Client " or "Subscribed " are skipped), or
  {"t":..., "topic":"...", "frame":...}        (fake-csms log; frame is a JSON value or a string).
Only messages on topics with an "up" level (".../up/...") are checked; the rest (the platform's
own downlink) are ignored.

--frames: each FILE holds a single frame and no topic (the golden files in tests/data): the
action is read from the frame itself (a CALL, or a json-profile envelope).

Profiles, told apart by the payload's shape:
  ocpp16j  [2,uid,"Action",{..}]  CALL       -> <Action>.json
           [3,uid,{..}]           CALLRESULT -> <last topic level>.json ("<Action>Response")
           [4,uid,code,desc,{..}] CALLERROR  -> shape check (5 elements, OCPP-J error code)
  json     {"id","ts","type","data"}: type "X" -> X.json, "XResponse" -> XResponse.json,
           "Error" -> shape check of data {"code","description"}.
Actions without a schema file (user-defined messages) are counted as skipped (no schema).

--version 2.0.1: the official OCPP 2.0.1 schemas of v201/ (draft-07), named as the
specification names them: a CALL "Action" -> <Action>Request.json, answers <Action>Response.json;
CALLERROR codes are those of OCPP-J 2.0.1. Everything else is as for 1.6.

multipleOf: checked on the decimal values as written (JSON 11.1 is a multiple of 0.1), not by
jsonschema's float division (11.1 / 0.1 is 110.99999999999999 in binary floating point, so its
own check rejects a third of the one-decimal values, e.g. a charging limit of 11.1 A).

Date-time: the "date-time" format is checked by a checker registered here (RFC 3339 shape by
regular expression - 'T' separator, seconds, optional fraction of any length, 'Z' or +hh:mm -
then datetime.fromisoformat for the ranges), so it does not depend on optional libraries.

Exit status: 0 all checked messages valid (and every --require action seen), 1 otherwise,
2 usage error (missing file, python3-jsonschema not installed, bad schema file).
Uses only the standard library and python3-jsonschema (Debian package, >= 3.2).
"""

import argparse
import json
import os
import re
import sys
from collections import OrderedDict
from datetime import datetime
from fractions import Fraction

try:
    import jsonschema
except ImportError:
    sys.stderr.write("validate.py: python3-jsonschema is not installed "
                     "(apt-get install -y python3-jsonschema)\n")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))

# OCPP-J 1.6 section 4.2.3 (CallError): the valid ErrorCode values. "Occurence" is spelled as
# in the specification.
ERROR_CODES = frozenset([
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
    "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
    "TypeConstraintViolation", "GenericError",
])
# OCPP-J 2.0.1 section 4.3 (CallError): its ErrorCode values.
ERROR_CODES_201 = frozenset([
    "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported",
    "NotImplemented", "NotSupported", "OccurrenceConstraintViolation",
    "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError", "SecurityError",
    "TypeConstraintViolation",
])
UID_MAX = 36  # OCPP-J 1.6 and 2.0.1: UniqueId is a string of at most 36 characters

CALLERROR = "CALLERROR"
JSON_ERROR = "Error"
ENVELOPE_KEYS = ("id", "ts", "type", "data")

RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def is_datetime(value):
    """RFC 3339 date-time (JSON Schema "date-time"). Non-strings are not this format's concern."""
    if not isinstance(value, str):
        return True
    m = RFC3339.match(value)
    if not m:
        raise ValueError("not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm))")
    date, time, frac, zone = m.groups()
    frac = (frac or "")[:7]  # '.' + at most 6 digits: fromisoformat in 3.10 wants <= 6
    zone = "+00:00" if zone in ("Z", "z") else zone
    datetime.fromisoformat("%sT%s%s%s" % (date, time, frac, zone))  # raises on bad ranges
    return True


def make_format_checker():
    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=(ValueError, TypeError))(is_datetime)
    # Make sure the format really is checked (a checker that silently accepts all would hide
    # every bad timestamp).
    if checker.conforms("2026-01-01 00:00", "date-time") or \
            not checker.conforms("2026-01-01T00:00:00.000Z", "date-time"):
        sys.stderr.write("validate.py: the date-time format checker is not in effect\n")
        sys.exit(2)
    return checker


def multiple_of(validator, dB, instance, schema):
    """multipleOf on the numbers' decimal spelling (str() of a float is the shortest text that
    reads back as it, i.e. what the JSON said): 11.1 / 0.1 = 111 exactly."""
    if not validator.is_type(instance, "number"):
        return
    try:
        failed = (Fraction(str(instance)) / Fraction(str(dB))).denominator != 1
    except (ValueError, ZeroDivisionError, OverflowError):  # inf, nan, a zero divisor
        failed = True
    if failed:
        yield jsonschema.ValidationError("%r is not a multiple of %r" % (instance, dB))


# Draft 4 (1.6) and draft 7 (2.0.1) with the exact multipleOf above.
Draft4 = jsonschema.validators.extend(jsonschema.Draft4Validator, {"multipleOf": multiple_of})
Draft7 = jsonschema.validators.extend(jsonschema.Draft7Validator, {"multipleOf": multiple_of})
for draft in (Draft4, Draft7):
    if not draft({"multipleOf": 0.1}).is_valid(11.1) or draft({"multipleOf": 0.1}).is_valid(16.05):
        sys.stderr.write("validate.py: the exact multipleOf check is not in effect\n")
        sys.exit(2)


class Schemas:
    """Schema files of a directory, loaded on first use: name -> validator of the draft the
    schema names ($schema: draft-07 for 2.0.1, draft-04 for 1.6)."""

    def __init__(self, directory):
        self.dir = directory
        self.names = set(f[:-5] for f in os.listdir(directory) if f.endswith(".json"))
        self.checker = make_format_checker()
        self.cache = {}

    def get(self, name):
        if name not in self.names:
            return None
        if name not in self.cache:
            path = os.path.join(self.dir, name + ".json")
            try:
                with open(path, encoding="utf-8") as f:
                    schema = json.load(f)
                draft = Draft7 if "draft-07" in str(schema.get("$schema", "")) else Draft4
                draft.check_schema(schema)
            except (OSError, ValueError, jsonschema.SchemaError) as e:
                sys.stderr.write("validate.py: bad schema %s: %s\n" % (path, e))
                sys.exit(2)
            self.cache[name] = draft(schema, format_checker=self.checker)
        return self.cache[name]


def json_path(error):
    p = "$"
    for part in error.absolute_path:
        p += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return p


def short(value, n=200):
    s = json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value
    return s if len(s) <= n else s[:n] + "..."


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_uid(uid, problems):
    if not isinstance(uid, str) or not uid:
        problems.append("UniqueId %s is not a non-empty string" % short(uid))
    elif len(uid) > UID_MAX:
        problems.append("UniqueId is longer than %d characters" % UID_MAX)


class Message:
    """One message to check: where it came from and what it carries."""

    def __init__(self, where, topic, payload):
        self.where = where      # "file:line"
        self.topic = topic      # None in --frames mode
        self.payload = payload  # decoded JSON value
        self.error_codes = ERROR_CODES  # the CALLERROR codes of the version checked


def classify(msg):
    """-> (action, payload to validate or None, [shape problems]).

    action is the schema name ("BootNotification", "ResetResponse"), CALLERROR / "Error" for
    errors, or None when it cannot be told (then problems says why)."""
    p = msg.payload
    problems = []
    if isinstance(p, list):
        if not p or not is_int(p[0]):
            return None, None, ["not an OCPP-J frame: MessageTypeId is missing or not an integer"]
        t = p[0]
        if t == 2:
            if len(p) != 4:
                return None, None, ["CALL must have 4 elements [2, uid, \"Action\", {...}], "
                                    "has %d" % len(p)]
            check_uid(p[1], problems)
            if not isinstance(p[2], str) or not p[2]:
                return None, None, problems + ["CALL action %s is not a string" % short(p[2])]
            if not isinstance(p[3], dict):
                problems.append("CALL payload is not an object")
            return p[2], p[3], problems
        if t == 3:
            if len(p) != 3:
                return None, None, ["CALLRESULT must have 3 elements [3, uid, {...}], "
                                    "has %d" % len(p)]
            check_uid(p[1], problems)
            if not isinstance(p[2], dict):
                problems.append("CALLRESULT payload is not an object")
            if msg.topic is None:
                return None, None, problems + ["a CALLRESULT does not name its action: it needs "
                                               "a topic ending in <Action>Response"]
            last = msg.topic.rsplit("/", 1)[-1]
            if len(last) <= len("Response") or not last.endswith("Response"):
                return None, None, problems + ["CALLRESULT on topic whose last level %r is not "
                                               "<Action>Response" % last]
            return last, p[2], problems
        if t == 4:
            if len(p) != 5:
                problems.append("CALLERROR must have 5 elements [4, uid, \"ErrorCode\", "
                                "\"description\", {...}], has %d" % len(p))
                return CALLERROR, None, problems
            check_uid(p[1], problems)
            if p[2] not in msg.error_codes:
                problems.append("CALLERROR code %s is not an OCPP-J error code" % short(p[2]))
            if not isinstance(p[3], str):
                problems.append("CALLERROR description %s is not a string" % short(p[3]))
            if not isinstance(p[4], dict):
                problems.append("CALLERROR details %s is not an object" % short(p[4]))
            return CALLERROR, None, problems
        return None, None, ["MessageTypeId %d is not 2, 3 or 4" % t]
    if isinstance(p, dict):
        missing = [k for k in ENVELOPE_KEYS if k not in p]
        extra = sorted(k for k in p if k not in ENVELOPE_KEYS)
        typ = p.get("type")
        if not isinstance(typ, str) or not typ:
            return None, None, ["json envelope: \"type\" %s is not a non-empty string"
                                % short(typ)]
        if missing:
            problems.append("json envelope: missing key(s) %s" % ", ".join(missing))
        if extra:
            problems.append("json envelope: unexpected key(s) %s" % ", ".join(extra))
        if "id" in p and (not isinstance(p["id"], str) or not p["id"]):
            problems.append("json envelope: \"id\" %s is not a non-empty string" % short(p["id"]))
        if "ts" in p:
            if not isinstance(p["ts"], str):
                problems.append("json envelope: \"ts\" %s is not a string" % short(p["ts"]))
            else:
                try:
                    is_datetime(p["ts"])
                except ValueError as e:
                    problems.append("json envelope: \"ts\" %s: %s" % (short(p["ts"]), e))
        data = p.get("data")
        if "data" in p and not isinstance(data, dict):
            problems.append("json envelope: \"data\" is not an object")
            data = None
        if typ == JSON_ERROR:
            if isinstance(data, dict):
                if data.get("code") not in msg.error_codes:
                    problems.append("Error code %s is not an OCPP-J error code"
                                    % short(data.get("code")))
                if not isinstance(data.get("description"), str):
                    problems.append("Error description is missing or not a string")
                more = sorted(k for k in data if k not in ("code", "description"))
                if more:
                    problems.append("Error data: unexpected key(s) %s" % ", ".join(more))
            return JSON_ERROR, None, problems
        return typ, data, problems
    return None, None, ["payload is neither an OCPP-J array nor a json-profile object"]


def is_uplink(topic):
    return "up" in topic.split("/")[:-1]


def read_capture(path, bad):
    """Yield Messages of a capture file; unreadable lines go to bad as (where, topic, text)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            where = "%s:%d" % (path, n)
            if not line.strip() or line.startswith("Client ") or line.startswith("Subscribed "):
                continue
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    bad.append((where, "-", "line is not JSON: %s" % e))
                    continue
                if not isinstance(obj, dict) or "topic" not in obj or "frame" not in obj:
                    bad.append((where, "-", "JSON line without \"topic\" and \"frame\" keys"))
                    continue
                topic, frame = obj["topic"], obj["frame"]
                if not isinstance(topic, str):
                    bad.append((where, "-", "\"topic\" is not a string"))
                    continue
                if not is_uplink(topic):
                    yield Message(where, topic, None)
                    continue
                if isinstance(frame, str):
                    try:
                        frame = json.loads(frame)
                    except ValueError as e:
                        bad.append((where, topic, "frame is not JSON: %s" % e))
                        continue
                yield Message(where, topic, frame)
                continue
            parts = line.split(" ", 2)
            if len(parts) < 2 or not re.match(r"^\d+(\.\d+)?$", parts[0]):
                bad.append((where, "-", "not '<unix time> <topic> <payload>': %s" % short(line)))
                continue
            topic = parts[1]
            if not is_uplink(topic):
                yield Message(where, topic, None)
                continue
            text = parts[2] if len(parts) == 3 else ""
            try:
                payload = json.loads(text)
            except ValueError as e:
                bad.append((where, topic, "payload is not JSON (%s): %s" % (e, short(text))))
                continue
            yield Message(where, topic, payload)


def read_frame(path, bad):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        yield Message(path, None, json.loads(text))
    except ValueError as e:
        bad.append((path, "-", "file is not one JSON value: %s" % e))


def main(argv):
    ap = argparse.ArgumentParser(
        prog="validate.py",
        description="Validate captured charger messages against the OCPP 1.6 JSON schemas.")
    ap.add_argument("--require", action="append", default=[], metavar="ACTION,...",
                    help="fail unless each of these actions (schema names, e.g. "
                         "BootNotification,ResetResponse, or CALLERROR/Error) appeared")
    ap.add_argument("--frames", action="store_true",
                    help="each FILE is a single frame without topic (e.g. tests/data/*.json)")
    ap.add_argument("--version", choices=("1.6", "2.0.1"), default="1.6",
                    help="OCPP version of the messages (default 1.6); 2.0.1 reads "
                         "<Action>Request.json schemas, by default from v201/")
    ap.add_argument("--schemas", metavar="DIR",
                    help="directory of <Action>.json schemas (default: this script's, "
                         "v201/ under it for 2.0.1)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print failures and result only")
    ap.add_argument("files", nargs="+", metavar="FILE")
    args = ap.parse_args(argv)

    required = [a for r in args.require for a in r.split(",") if a.strip()]
    required = [a.strip() for a in required]
    for path in args.files:
        if not os.path.isfile(path):
            sys.stderr.write("validate.py: %s: no such file\n" % path)
            return 2
    v201 = args.version == "2.0.1"
    schemas = Schemas(args.schemas or (os.path.join(HERE, "v201") if v201 else HERE))

    stats = OrderedDict()  # action -> [checked, valid]
    skipped = OrderedDict()  # action -> count (no schema)
    failures = []  # (where, topic, text)
    seen = set()
    ignored = 0
    total = 0

    for path in args.files:
        bad = []
        msgs = read_frame(path, bad) if args.frames else read_capture(path, bad)
        for msg in msgs:
            if msg.payload is None and msg.topic is not None and not is_uplink(msg.topic):
                ignored += 1
                continue
            total += 1
            topic = msg.topic if msg.topic is not None else "-"
            if v201:
                msg.error_codes = ERROR_CODES_201
            action, payload, problems = classify(msg)
            if action is None:
                failures.extend((msg.where, topic, p) for p in problems)
                stats.setdefault("(unrecognised)", [0, 0])[0] += 1
                continue
            seen.add(action)
            if action in (CALLERROR, JSON_ERROR):
                st = stats.setdefault(action, [0, 0])
                st[0] += 1
                if problems:
                    failures.extend((msg.where, topic, "%s: %s" % (action, p)) for p in problems)
                else:
                    st[1] += 1
                continue
            # 2.0.1 names a CALL's schema <Action>Request (answers are <Action>Response already)
            schema = action + "Request" if v201 and not action.endswith("Response") else action
            validator = schemas.get(schema)
            if validator is None:
                skipped[action] = skipped.get(action, 0) + 1
                failures.extend((msg.where, topic, "%s: %s" % (action, p)) for p in problems)
                continue
            st = stats.setdefault(action, [0, 0])
            st[0] += 1
            errors = []
            if isinstance(payload, dict):
                errors = sorted(validator.iter_errors(payload),
                                key=lambda e: (list(map(str, e.absolute_path)), e.message))
            for p in problems:
                failures.append((msg.where, topic, "%s: %s" % (action, p)))
            for e in errors:
                failures.append((msg.where, topic, "%s.json: at %s: %s"
                                 % (schema, json_path(e), e.message)))
            if not problems and not errors:
                st[1] += 1
        failures.extend(bad)
        for where, topic, text in bad:
            total += 1
            stats.setdefault("(unreadable)", [0, 0])[0] += 1

    missing = [a for a in required if a not in seen]
    ok = not failures and not missing
    n_valid = sum(v for _, v in stats.values())
    n_checked = sum(c for c, _ in stats.values())
    n_skipped = sum(skipped.values())

    if not args.quiet:
        print("validate.py: %d file(s), %d message(s): %d checked, %d valid, %d invalid, "
              "%d skipped (no schema), %d ignored (not uplink)"
              % (len(args.files), total, n_checked, n_valid, n_checked - n_valid, n_skipped,
                 ignored))
        width = max([len(a) for a in list(stats) + list(skipped)] + [10])
        for action, (checked, valid) in sorted(stats.items()):
            print("  %-*s %5d/%-5d valid" % (width, action, valid, checked))
        for action, count in sorted(skipped.items()):
            print("  %-*s %5d       skipped (no schema)" % (width, action, count))
    for where, topic, text in failures:
        print("FAIL %s %s: %s" % (where, topic, text))
    for a in missing:
        print("FAIL required action %s never appeared" % a)
    if total == 0 and not args.quiet:
        print("note: no uplink message found")
    print("validate.py: %s" % ("OK" if ok else "FAILED (%d problem(s))"
                               % (len(failures) + len(missing))))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
