#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Validates tlswatch events against docs/events.schema.json.

  check_events.py [--schema FILE] [--min N] PATH...
      PATH: a file, a directory (every file below it) or - (stdin).
      A file whose first line is a JSON object with an "event" key is an
      event log: every line of it must be a valid event. In other files,
      lines that are such objects are validated, and so are the "body"
      strings of the webhook receiver's request log that hold one; other
      lines are not events and are passed over.
      Prints one line per invalid event (FILE:LINE: where: why) and a last
      line "N events in M files, K invalid". Exit status 1 when an event is
      invalid or fewer than N (default 0) were found, 2 on a usage error.
      With --tap: one TAP line instead (nothing when there is no event), the
      invalid events as TAP comments under a "not ok"; --what TEXT names
      the events in it (default: "the JSON events of this test").

  check_events.py --schema-check LISTS.json
      The schema itself: valid JSON Schema, its enums equal to the code's
      lists (LISTS.json: `build/tests/schema_samples --lists`), and one key
      one type: a key declared in two places has the same type in both.
      Prints TAP lines.

  check_events.py --doc-check EVENTS.md
      The reference (docs/events.md, made into tlswatch-events(5)) names
      every key of the schema: an event's (or a nested object's) key table
      lists exactly the keys of its definition, the common table's aside
      (`handshake`, `cert`, `spike`, `tunnel`); an event described in prose
      (`summary`, `agent`) names each of its keys in backquotes. Prints TAP
      lines.

Only Debian's python3-jsonschema is needed (scripts/install-deps.sh).
"""
import json
import os
import re
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, '..', '..', '..', 'docs', 'events.schema.json')


def load_schema(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


class Checker:
    def __init__(self, schema):
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        self.full = cls(schema)
        self.names = set(schema['$defs']) & set(schema['properties']['event']['enum'])
        # one validator per event type: errors name the key, not "oneOf"
        base = {k: schema[k] for k in ('$schema', '$id', '$defs') if k in schema}
        self.by_event = {n: cls(dict(base, **{'$ref': '#/$defs/' + n}))
                         for n in self.names}
        self.events = self.files = 0
        self.errors = []

    def check(self, ev, where):
        self.events += 1
        v = self.by_event.get(ev.get('event'), self.full)
        for e in sorted(v.iter_errors(ev), key=lambda e: [str(p) for p in e.absolute_path]):
            path = '/'.join(str(p) for p in e.absolute_path) or '(top)'
            self.errors.append('%s: %s: %s' % (where, path, e.message[:300]))

    def check_lines(self, name, raw_lines):
        """@raw_lines: bytes; an event log must be UTF-8 (events.md)."""
        lines = [(i, l.decode('utf-8', 'replace'), l) for i, l in enumerate(raw_lines, 1)
                 if l.strip()]
        if not lines:
            return
        first = as_event(lines[0][1])
        self.files += first is not None or any(event_of(l) for _, l, _ in lines)
        for i, line, raw in lines:
            where = '%s:%d' % (name, i)
            ev = event_of(line)
            if ev is not None:
                self.check(ev, where)
            elif first is not None:
                self.errors.append('%s: not a JSON event: %.120r' % (where, line))
            if first is not None and not is_utf8(raw):
                self.errors.append('%s: not UTF-8' % where)

    def check_path(self, path):
        if path == '-':
            self.check_lines('stdin', sys.stdin.buffer.read().split(b'\n'))
        elif os.path.isdir(path):
            for root, _, names in sorted(os.walk(path)):
                for n in sorted(names):
                    self.check_path(os.path.join(root, n))
        elif os.path.isfile(path):
            with open(path, 'rb') as f:
                self.check_lines(path, f.read().split(b'\n'))


def is_utf8(raw):
    try:
        raw.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False


def as_event(line):
    try:
        v = json.loads(line)
    except ValueError:
        return None
    return v if isinstance(v, dict) and isinstance(v.get('event'), str) else None


def event_of(line):
    """The event a line holds: itself, or a webhook receiver's body."""
    ev = as_event(line)
    if ev is not None:
        return ev
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if isinstance(rec, dict) and isinstance(rec.get('body'), str):
        return as_event(rec['body'])
    return None


# --- --schema-check

def key_types(node, defs, out, where, seen=()):
    """Collects (key -> set of type descriptions) over every "properties"."""
    if isinstance(node, list):
        for x in node:
            key_types(x, defs, out, where, seen)
        return
    if not isinstance(node, dict):
        return
    if '$ref' in node:
        name = node['$ref'].split('/')[-1]
        if name not in seen:
            key_types(defs[name], defs, out, where, seen + (name,))
        return
    for k, sub in node.get('properties', {}).items():
        out.setdefault(k, {}).setdefault(type_of(sub, defs), set()).add(where)
    for k, sub in node.items():
        # if/then/else only narrow what "properties" typed (the agent's
        # summary leaves keys out): no types of their own
        if k not in ('properties', 'if', 'then', 'else'):
            key_types(sub, defs, out, where, seen)
    for sub in node.get('properties', {}).values():
        key_types(sub, defs, out, where, seen)


def type_of(sub, defs):
    """A JSON type, with the item type of arrays: "array of object"."""
    while '$ref' in sub:
        sub = defs[sub['$ref'].split('/')[-1]]
    if 'type' in sub:
        t = sub['type']
        if t == 'array':
            return 'array of ' + type_of(sub.get('items', {}), defs)
        return t
    vals = sub.get('enum', [sub['const']] if 'const' in sub else [])
    kinds = {type(v).__name__ for v in vals}
    return {'str': 'string', 'int': 'integer', 'bool': 'boolean'}.get(kinds.pop(), '?') \
        if len(kinds) == 1 else 'mixed'


def schema_check(schema, lists):
    results = []
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
        results.append((True, 'docs/events.schema.json is a valid JSON Schema', []))
    except jsonschema.SchemaError as e:
        results.append((False, 'docs/events.schema.json is a valid JSON Schema', [e.message]))
    defs = schema['$defs']
    for name, code in sorted(lists.items()):
        if name == 'event':
            ours = schema['properties']['event']['enum']
        elif name == 'spike_scope':
            ours = list(defs['spike_scope']['properties'])
        elif name == 'agent_summary_omits':
            ours = agent_summary_omits(schema)
        else:
            ours = defs.get(name, {}).get('enum', [])
        results.append((sorted(ours) == sorted(code),
                        'schema %s lists what the code has (%d names)' % (name, len(code)),
                        ['only in the schema: %s' % sorted(set(ours) - set(code)),
                         'only in the code: %s' % sorted(set(code) - set(ours))]))
    types = {}
    for ev in schema['properties']['event']['enum']:
        key_types(defs[ev], defs, types, ev)
    clash = ['%s: %s' % (k, '; '.join('%s in %s' % (t, ','.join(sorted(w)))
                                       for t, w in sorted(v.items())))
             for k, v in sorted(types.items()) if len(v) > 1]
    results.append((not clash, 'one key, one type: %d keys over every event' % len(types),
                    clash))
    return tap_results(results)


def tap_results(results):
    """Prints (good, name, detail lines) as TAP lines; whether all are good."""
    for good, name, detail in results:
        print('%s - %s' % ('ok' if good else 'not ok', name))
        if not good:
            for d in detail:
                print('#   ' + d)
    return all(r[0] for r in results)


def doc_sections(path):
    """{section: (keys of its key tables, its text)} of events.md: a
    section is a heading "## `name`" or "### `name`" (before the first:
    'common'); a key table is one headed "| key |", its keys the
    backquoted names of its rows' first cells."""
    sections, name, in_keys = {}, 'common', False
    with open(path, encoding='utf-8') as f:
        for line in f:
            m = re.match(r'^#{2,3} `([a-z_]+)`', line)
            if m or line.startswith('## '):
                name, in_keys = (m.group(1) if m else None), False
                continue
            keys, text = sections.setdefault(name, (set(), []))
            text.append(line)
            if line.startswith('| key |'):
                in_keys = True
            elif not line.startswith('|'):
                in_keys = False
            elif in_keys and not line.startswith('| ---'):
                keys.update(re.findall(r'`([a-z_0-9]+)`', line.split('|')[1]))
    return {n: (k, ''.join(t)) for n, (k, t) in sections.items() if n}


def doc_check(schema, path):
    defs, results = schema['$defs'], []
    sections = doc_sections(path)
    common = sections.get('common', (set(), ''))[0]
    events = schema['properties']['event']['enum']
    for name in events + sorted(set(sections) - set(events) - {'common'}):
        props = set(defs.get(name, {}).get('properties', {}))
        uncommon = set()
        if name in events:
            uncommon = common - props    # "common to every event"
            props -= common
        keys, text = sections.get(name, (set(), ''))
        if keys:
            good = keys == props and not uncommon
            detail = ['not in events.md: %s' % sorted(props - keys),
                      'in events.md, not in the schema: %s' % sorted((keys - props) | uncommon)]
        else:
            missing = sorted(k for k in props if '`%s`' % k not in text)
            good = bool(props) and not missing and not uncommon
            detail = ['not in events.md: %s' % missing,
                      'in events.md, not in the schema: %s' % sorted(uncommon)]
        results.append((good, 'events.md documents every key of %s (%d)' % (name, len(props)),
                        detail))
    results.append(doc_check_problems(schema, sections.get('summary', (set(), ''))[1]))
    return tap_results(results)


def agent_summary_omits(schema):
    """The problem_counts reasons the agent's summary may not have."""
    agent = schema['$defs']['summary']['then']['properties']
    return agent['problem_counts']['propertyNames']['not']['enum']


def doc_check_problems(schema, text):
    """The summary's table of problem_counts reasons ("| problem |"): each
    reason of the schema once, of "captures only" exactly when the agent's
    summary leaves it out. Of the other name-keyed counts, the groups and
    ALPN IDs are IANA's registries and the agent's counters are README's
    /metrics table, so only this list is the contract's own."""
    rows, in_table = {}, False
    for line in text.splitlines():
        if line.startswith('| problem |'):
            in_table = True
        elif not line.startswith('|'):
            in_table = False
        elif in_table and not line.startswith('| ---'):
            cells = [c.strip() for c in line.split('|')[1:3]]
            for name in re.findall(r'`([a-z_0-9]+)`', cells[0]):
                rows.setdefault(name, []).append(cells[1] == 'captures only')
    names = schema['$defs']['summary_problem']['enum']
    capture = set(agent_summary_omits(schema))
    missing = [n for n in names if n not in rows]
    extra = sorted(set(rows) - set(names))
    twice = sorted(n for n, r in rows.items() if len(r) > 1)
    marks = sorted(n for n in names if n in rows and rows[n][0] != (n in capture))
    return (not (missing or extra or twice or marks),
            'events.md lists every problem_counts reason (%d)' % len(names),
            ['not in events.md: %s' % missing,
             'in events.md, not in the schema: %s' % extra,
             'listed twice: %s' % twice,
             '"captures only" where the agent summary disagrees: %s' % marks])


def main(argv):
    schema_path, minimum, paths, lists, tap = DEFAULT_SCHEMA, 0, [], None, False
    doc = None
    what = 'the JSON events of this test'
    args = iter(argv)
    for a in args:
        if a == '--schema':
            schema_path = next(args, None)
        elif a == '--min':
            minimum = int(next(args, '0'))
        elif a == '--schema-check':
            lists = next(args, None)
        elif a == '--doc-check':
            doc = next(args, None)
        elif a == '--tap':
            tap = True
        elif a == '--what':
            what = next(args, what)
        else:
            paths.append(a)
    if not schema_path or (lists is None and doc is None and not paths):
        sys.stderr.write(__doc__)
        return 2
    schema = load_schema(schema_path)
    if doc is not None:
        return 0 if doc_check(schema, doc) else 1
    if lists is not None:
        with open(lists, encoding='utf-8') as f:
            return 0 if schema_check(schema, json.load(f)) else 1
    c = Checker(schema)
    for p in paths:
        c.check_path(p)
    failed = bool(c.errors) or c.events < minimum
    total = '%d events in %d files, %d invalid' % (c.events, c.files, len(c.errors))
    if tap and c.events:
        name = '%s match docs/events.schema.json' % what
        print('not ok - %s' % name if failed else 'ok - %s (%s)' % (name, total))
        for e in c.errors[:12] if failed else []:
            print('#   ' + e)
    elif not tap:
        print('\n'.join(c.errors + [total]))
    return 1 if failed else 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # a TAP reader must see the failure
        print('not ok - the JSON events of this test match docs/events.schema.json')
        print('#   check_events.py failed: %s: %s' % (type(e).__name__, e))
        sys.exit(1)
