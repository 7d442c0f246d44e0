#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reads the DOM of an HTML report as Chromium serialised it (--dump-dom)
and prints what it shows as key=value lines, for the HTML report tests:

    html_dom.py DOM_FILE > facts

  ov.<id>=N                       overview cells (ov-handshakes, ov-ok ...)
  section.<id>=1                  sections present
  timeline.columns, timeline.handshakes, timeline.failures
                                  columns drawn and the sums of their
                                  data-handshakes / data-failures
  timeline.col.<time>=H,F         each column
  lane.<name>=C1,C2,C1            the certificate labels of a name's lane
  lane.<name>.<i>.x=X0,X1         where run i is drawn
  lane.<name>.<i>.y=Y             its row (the y of its bar)
  lane.<name>.<i>.label=X,ANCHOR  where its label is (start or end)
  spike_area.<i>=S1-S4            shaded spike areas, and
  spike_area.<i>.x=X0,X1          where
  cert.<label>.<field>=...        certificate table: sha256, subject,
                                  handshakes, failures, findings
                                  (severity:kind, comma-separated)
  served.<name>=C2:28:24,...      served-per-name rows: label:handshakes:failed
  served_at.<name>=ADDR:PORT,...  their server addresses
  alert.<description>.<from>=N    alerts table
  client.<i>=JA4:H:F              clients table, in order
  spikes.rows=N                   rows of the spike table
  name.<i>=TEXT                   the server-name headings, as text
  title=TEXT                      the document title
  unsafe.scripts, unsafe.handlers, unsafe.external
                                  script elements, on* attributes, and
                                  references outside the page (must be 0)
  page.footer=1                   the page's footer was reached: the page
                                  was rendered whole (so zeros above mean
                                  something)
"""
import sys
from html.parser import HTMLParser

# HTML elements without an end tag: never on the stack.
VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link',
        'meta', 'source', 'track', 'wbr'}


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []          # (tag, attrs dict)
        self.facts = {}
        self.cols = []
        self.lanes = {}          # name -> [(label, x0, x1, y, text x, anchor)]
        self.areas = []
        self.table = None        # id of the table being read
        self.row = None          # cells of the row being read
        self.cell = None         # text of the cell being read
        self.cell_kinds = None   # severity:kind badges of the cell
        self.rows = {}           # table id -> [[cells], ...], kinds
        self.text_target = None  # ('name'|'title'|'lane'|'run', buffer)
        self.lane = None
        self.run_rect = None
        self.unsafe = {'scripts': 0, 'handlers': 0, 'external': 0}
        self.sections = []
        self.names = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.check_safe(tag, a)
        if tag in VOID:
            return
        self.stack.append((tag, a))
        cls = (a.get('class') or '').split()
        if tag == 'footer':
            self.facts['page.footer'] = 1
        if tag == 'section' and a.get('id'):
            self.sections.append(a['id'])
        if tag == 'title' and len(self.stack) <= 3:
            self.text_target = ['title', '']
        if tag == 'h3' and 'name' in cls:
            self.text_target = ['name', '']
        if tag == 'g' and 'col' in cls:
            self.cols.append((a['data-t'], int(a['data-handshakes']),
                              int(a['data-failures'])))
        if tag == 'g' and 'lane' in cls:
            self.lane = ['', []]
        if tag == 'text' and self.lane is not None and self.run_rect is None:
            self.text_target = ['lane', '']
        if tag == 'g' and 'run' in cls:
            self.run_rect = [None]
        if tag == 'rect' and self.run_rect is not None and self.run_rect[0] is None:
            x0 = float(a['x'])
            self.run_rect = [x0, x0 + float(a['width']), float(a['y'])]
        if tag == 'text' and self.run_rect is not None:
            self.text_target = ['run', '']
            self.run_rect[3:] = [float(a['x']), a.get('text-anchor', 'start')]
        if tag == 'g' and 'spike' in cls:
            self.areas.append([a.get('data-spikes'), None, None])
        if tag == 'rect' and self.areas and self.areas[-1][1] is None and \
                self.in_tag('g', 'spike'):
            x0 = float(a['x'])
            self.areas[-1][1:] = [x0, x0 + float(a['width'])]
        if tag == 'table' and a.get('id'):
            self.table = a['id']
            self.rows.setdefault(self.table, [])
        if tag == 'table' and 'served' in cls:
            self.table = 'served:%d' % (len(self.names) - 1)
            self.rows.setdefault(self.table, [])
        if tag == 'tr' and self.table:
            self.row = []
        if tag == 'td' and self.row is not None:
            self.cell = ''
            self.cell_kinds = []
        if tag == 'span' and 'sev' in cls and self.cell_kinds is not None:
            sev = [c[4:] for c in cls if c.startswith('sev-')]
            self.cell_kinds.append('%s:%s' % (sev[0] if sev else '?',
                                              a.get('data-kind')))

    def in_tag(self, tag, cls):
        return any(t == tag and cls in (x.get('class') or '').split()
                   for t, x in self.stack)

    def check_safe(self, tag, a):
        if tag == 'script':
            self.unsafe['scripts'] += 1
        for k, v in a.items():
            if k.startswith('on'):
                self.unsafe['handlers'] += 1
            if k in ('src', 'href', 'xlink:href', 'action', 'srcset') and v and \
                    not v.startswith('#'):
                self.unsafe['external'] += 1
            if k == 'style' or k == 'fill':
                if v and 'url(' in v and 'url(#' not in v:
                    self.unsafe['external'] += 1
        if tag in ('link', 'iframe', 'object', 'embed', 'img', 'image'):
            self.unsafe['external'] += 1

    def handle_endtag(self, tag):
        while self.stack:
            t, a = self.stack.pop()
            if t == tag:
                break
        else:
            return
        cls = (a.get('class') or '').split()
        if self.text_target and tag in ('title', 'h3', 'text'):
            kind, buf = self.text_target
            if kind == 'title':
                self.facts['title'] = buf
            elif kind == 'name':
                self.names.append(buf.split(' at ')[0].strip())
            elif kind == 'lane':
                self.lane[0] = buf
            elif kind == 'run':
                self.lane[1].append((buf.replace(' !', ''),) + tuple(self.run_rect))
            self.text_target = None
        if tag == 'g' and 'run' in cls:
            self.run_rect = None
        if tag == 'g' and 'lane' in cls and self.lane is not None:
            self.lanes[self.lane[0]] = self.lane[1]
            self.lane = None
        if tag == 'td' and self.cell is not None:
            self.row.append((self.cell.strip(), self.cell_kinds))
            self.cell = None
            self.cell_kinds = None
        if tag == 'tr' and self.row is not None:
            if self.row:
                self.rows[self.table].append(self.row)
            self.row = None
        if tag == 'table':
            self.table = None

    def handle_data(self, data):
        if self.text_target:
            self.text_target[1] += data
        if self.cell is not None:
            self.cell += data
        if self.stack and self.stack[-1][0] in ('td', 'b') and \
                self.stack[-1][1].get('id', '').startswith('ov-'):
            self.facts['ov.' + self.stack[-1][1]['id'][3:]] = data.strip()


def main():
    d = Dom()
    d.feed(open(sys.argv[1], encoding='utf-8').read())
    f = d.facts
    for s in d.sections:
        f['section.' + s] = 1
    f['timeline.columns'] = len(d.cols)
    f['timeline.handshakes'] = sum(c[1] for c in d.cols)
    f['timeline.failures'] = sum(c[2] for c in d.cols)
    for t, h, fl in d.cols:
        f['timeline.col.' + t] = '%d,%d' % (h, fl)
    for name, runs in d.lanes.items():
        f['lane.' + name] = ','.join(r[0] for r in runs)
        for i, r in enumerate(runs):
            f['lane.%s.%d.x' % (name, i)] = '%.1f,%.1f' % (r[1], r[2])
            f['lane.%s.%d.y' % (name, i)] = '%.0f' % r[3]
            f['lane.%s.%d.label' % (name, i)] = '%.1f,%s' % (r[4], r[5])
    for i, (label, x0, x1) in enumerate(d.areas):
        f['spike_area.%d' % i] = label
        f['spike_area.%d.x' % i] = '%.1f,%.1f' % (x0, x1)
    for row in d.rows.get('certificates', []):
        label = row[0][0]
        f['cert.%s.sha256' % label] = row[1][0]
        f['cert.%s.subject' % label] = row[2][0].split('issuer ')[0].strip()
        f['cert.%s.serial' % label] = row[3][0]
        f['cert.%s.handshakes' % label] = row[6][0]
        f['cert.%s.failures' % label] = row[7][0]
        f['cert.%s.findings' % label] = ','.join(sorted(row[8][1]))
    for i, name in enumerate(d.names):
        f['name.%d' % i] = name
        rows = d.rows.get('served:%d' % i, [])
        if rows:
            f['served.' + name] = ','.join(
                '%s:%s:%s' % (r[3][0], r[5][0], r[6][0]) for r in rows)
            f['served_at.' + name] = ','.join(r[2][0] for r in rows)
    for row in d.rows.get('alerts', []):
        f['alert.%s.%s' % (row[0][0], row[1][0])] = row[2][0]
    for i, row in enumerate(d.rows.get('clients', [])):
        f['client.%d' % i] = '%s:%s:%s' % (row[0][0], row[1][0], row[2][0])
    f['spikes.rows'] = len(d.rows.get('spikes', []))
    for k, v in d.unsafe.items():
        f['unsafe.' + k] = v
    for k, v in f.items():
        print('%s=%s' % (k, str(v).replace('\n', '\\n')))


if __name__ == '__main__':
    main()
