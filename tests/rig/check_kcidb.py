#!/usr/bin/python3
"""Validates a KCIDB JSON document against a KCIDB I/O schema.

Usage: check_kcidb.py SCHEMA FILE

Prints each violation with the JSON path of the value at fault, then exits 1; exits 0 when FILE
is valid, 2 when SCHEMA or FILE cannot be read. Formats are checked: jsonschema checks
"date-time" and "uri" only with optional modules Debian 12 does not install, so this script
brings its own checks for those two, or a bad log_url or start_time would pass unseen.
"""

import datetime
import json
import re
import sys

import jsonschema

# RFC 3339 section 5.6's date-time; the 'T' and 'Z' may be lower case.
DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")

# RFC 3986's URI (absolute, a fragment allowed): a scheme, then only characters a URI may hold,
# with '%' always starting an escape.
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:"
                 r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


def is_date_time(value):
    if not isinstance(value, str):
        return True
    m = DATE_TIME.fullmatch(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


def is_uri(value):
    return not isinstance(value, str) or URI.fullmatch(value) is not None


def format_checker():
    checker = jsonschema.FormatChecker()
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(is_date_time)
    if "uri" not in checker.checkers:
        checker.checks("uri")(is_uri)
    return checker


def json_path(error):
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def load(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        print(f"check_kcidb: cannot read the {what} {path}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    except (ValueError, UnicodeDecodeError) as e:
        print(f"check_kcidb: the {what} {path} is not JSON: {e}", file=sys.stderr)
        sys.exit(2 if what == "schema" else 1)


def main(argv):
    if len(argv) != 3:
        print("usage: check_kcidb.py SCHEMA FILE", file=sys.stderr)
        return 2
    schema = load(argv[1], "schema")
    document = load(argv[2], "document")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        print(f"check_kcidb: {argv[1]} is not a valid schema: {e.message}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema, format_checker=format_checker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        print(f"{argv[2]}: {json_path(error)}: {error.message}")
    if errors:
        print(f"{argv[2]}: {len(errors)} error(s) against {argv[1]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
