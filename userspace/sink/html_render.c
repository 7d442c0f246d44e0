// SPDX-License-Identifier: MIT
/*
 * The HTML incident report page: one file, inline CSS, inline SVG, no
 * script and no external resource, readable printed and in black and
 * white (failures, spikes and critical certificates carry a pattern and a
 * label, never only a colour). Every string that came off the wire (SNI,
 * subjects, JA4, finding details) or from the command line goes through
 * tw_html_write().
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/html_escape.h"
#include "common/strmap.h"
#include "common/timefmt.h"
#include "common/version.h"
#include "detect/spike.h"
#include "history_store.h"
#include "html_report.h"

/* The SVG's geometry, in its own units (it scales to the page width). */
#define SVG_W 1000
#define SVG_LEFT 170                /* lane labels */
#define SVG_PLOT_W (SVG_W - SVG_LEFT - 10)
#define SVG_TOP 20
#define SVG_PLOT_H 170
#define SVG_AXIS_H 30
#define SVG_LANE_H 26

static const char page_css[] =
"body{font-family:sans-serif;margin:1.5em;color:#111;background:#fff;max-width:75em}\n"
"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #444}\n"
"table{border-collapse:collapse;margin:.5em 0;font-size:.9em;max-width:100%}\n#spikes{font-size:.8em}\n"
"th,td{border:1px solid #888;padding:.2em .45em;text-align:left;vertical-align:top}\n"
"th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
".fp{font-family:monospace;font-size:.85em;overflow-wrap:anywhere;min-width:17ch}\n"
".detail{overflow-wrap:anywhere}td.findings{min-width:14em}td.t{font-size:.85em}\n"
".mono{font-family:monospace;font-size:.85em;overflow-wrap:anywhere}\n"
".sev{display:inline-block;padding:0 .3em;margin:.1em 0;border:1px solid #000;font-size:.85em}\n"
".sev-critical{font-weight:bold;border-width:2px;background:#fdd}\n"
".sev-warning{border-style:dashed;background:#ffd}\n"
".sev-info{border-style:dotted}\n"
".note{font-size:.85em;color:#333}\n"
"svg{width:100%;height:auto;border:1px solid #ccc}\n"
"svg text{font-family:sans-serif;font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}\n"
"@media print{body{margin:0;max-width:none;font-size:9.5pt}"
"section{break-inside:avoid}h2{break-after:avoid}"
"th{background:none}.sev-critical,.sev-warning{background:none}"
"svg{border:none}details{display:block}}\n";

/* Fills that read without colour: hatching for failures, dots for spike
 * windows, cross-hatching for certificates with a critical finding. */
static const char svg_defs[] =
"<defs>"
"<pattern id=\"p-fail\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
"<rect width=\"6\" height=\"6\" fill=\"#d33\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#000\" stroke-width=\"2.5\"/></pattern>"
"<pattern id=\"p-spike\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
"<rect width=\"8\" height=\"8\" fill=\"#fe9\" fill-opacity=\"0.6\"/><circle cx=\"4\" cy=\"4\" r=\"1.2\" fill=\"#000\"/></pattern>"
"<pattern id=\"p-crit\" width=\"7\" height=\"7\" patternUnits=\"userSpaceOnUse\">"
"<rect width=\"7\" height=\"7\" fill=\"#f99\"/><path d=\"M0 0L7 7M7 0L0 7\" stroke=\"#000\" stroke-width=\"1.2\"/></pattern>"
"</defs>";

static void put(FILE *f, const char *s)
{
	tw_html_write(f, s, strlen(s));
}

static void put_n(FILE *f, const char *s, size_t n)
{
	tw_html_write(f, s, n);
}

static void put_name(FILE *f, const struct html_name *nr)
{
	if (nr->sni_len)
		put_n(f, nr->sni, nr->sni_len);
	else
		fputs("(no SNI)", f);
}

static const char *time_us(uint64_t us, char *buf)
{
	return us ? tw_time_format_us(us, buf) : "-";
}

/* "08:30:01" of a second, for axis labels. */
static void put_clock(FILE *f, uint64_t s)
{
	fprintf(f, "%02u:%02u:%02u", (unsigned)(s / 3600 % 24),
		(unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* "C3": the label of a certificate in every section. */
static void put_cert_label(FILE *f, int cert)
{
	if (cert < 0)
		fputs("(untracked)", f);
	else
		fprintf(f, "<a href=\"#cert-%d\">C%d</a>", cert + 1, cert + 1);
}

static bool cert_is_critical(const struct html_cert *c)
{
	int i;

	for (i = 0; i < c->n_findings; i++)
		if (finding_kind_severity(c->findings[i].kind) == SEV_CRITICAL)
			return true;
	return false;
}

static void put_severity_badge(FILE *f, const struct html_finding *fi)
{
	const char *sev = finding_severity_name(finding_kind_severity(fi->kind));
	char upper[16];
	size_t i;

	for (i = 0; sev[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char)toupper((unsigned char)sev[i]);
	upper[i] = '\0';
	fprintf(f, "<span class=\"sev sev-%s\" data-kind=\"%s\">%s %s</span>", sev,
		finding_kind_name(fi->kind), upper, finding_kind_name(fi->kind));
}

/* Critical first, then warnings, then info. */
/* The findings of @c whose kind is in @only (bits per enum finding_kind;
 * HTML_RUN_FINDINGS_UNKNOWN: every one), most severe first. */
static void put_findings(FILE *f, const struct html_cert *c, bool details,
			 uint32_t only)
{
	int sev, i, shown = 0;

	for (i = 0; i < c->n_findings; i++)
		shown += (only >> c->findings[i].kind) & 1;
	if (!shown)
		fputs("none", f);
	for (sev = SEV_CRITICAL; sev <= SEV_INFO; sev++) {
		for (i = 0; i < c->n_findings; i++) {
			const struct html_finding *fi = &c->findings[i];

			if ((int)finding_kind_severity(fi->kind) != sev ||
			    !((only >> fi->kind) & 1))
				continue;
			fputs("<div>", f);
			put_severity_badge(f, fi);
			if (details && fi->detail[0]) {
				fputs(" <span class=\"detail\">", f);
				put(f, fi->detail);
				fputs("</span>", f);
			}
			fputs("</div>", f);
		}
	}
}

/* --- header and overview */

static void render_head(const struct html_agg *a, FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"tlswatch " TLSWATCH_VERSION "\">\n"
	      "<title>tlswatch report: ", f);
	put(f, a->title);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", page_css);
	fputs("<h1>tlswatch incident report: ", f);
	put(f, a->title);
	fputs("</h1>\n", f);
}

/* Of @handshakes with @outcomes counted, how many have none (names a
 * history written before schema 6 folded past a second's bound). */
static uint64_t outcomes_unrecorded(const uint64_t outcomes[HS_OUTCOME__COUNT],
				    uint64_t handshakes)
{
	uint64_t known = 0;
	int o;

	for (o = 0; o < HS_OUTCOME__COUNT; o++)
		known += outcomes[o];
	return known < handshakes ? handshakes - known : 0;
}

static void render_unrecorded_outcomes(const struct summary *s, FILE *f)
{
	uint64_t n = outcomes_unrecorded(s->outcomes, s->handshakes);

	if (n)
		fprintf(f, "; <span id=\"ov-unrecorded\">%llu</span> with no outcome recorded "
			"(names past the bound, history written before schema 6)",
			(unsigned long long)n);
}

/* The --since/--until window the page was asked for; the inventory's
 * page (no history in it) is not narrowed. */
static void render_window(const struct html_agg *a, FILE *f)
{
	char t1[TW_TIME_STRLEN], t2[TW_TIME_STRLEN];

	fprintf(f, "<tr><th>Window</th><td id=\"ov-window\">%s .. %s%s</td></tr>\n",
		a->since_us ? tw_time_format_us(a->since_us, t1) : "-",
		a->until_us != UINT64_MAX ? tw_time_format_us(a->until_us, t2) : "-",
		a->from_inventory ? " (no history in it: the inventory's rows, not "
				    "narrowed to it)" : "");
}

static void render_overview(const struct html_agg *a, FILE *f)
{
	const struct summary *s = &a->sum;
	char t1[TW_TIME_STRLEN], t2[TW_TIME_STRLEN];

	fputs("<section id=\"overview\">\n<table>\n", f);
	fprintf(f, "<tr><th>Period</th><td>%s .. %s</td></tr>\n",
		time_us(a->first_us, t1), time_us(a->last_us, t2));
	if (a->since_us || a->until_us != UINT64_MAX)
		render_window(a, f);
	if (a->has_summary) {
		/* The agent's history counts handshakes, not packets. */
		if (!a->from_history)
			fprintf(f, "<tr><th>Packets</th><td class=\"n\" id=\"ov-packets\">%llu</td></tr>\n"
				"<tr><th>TLS connections</th><td class=\"n\">%llu</td></tr>\n",
				(unsigned long long)s->packets, (unsigned long long)s->flows);
		fprintf(f, "<tr><th>Handshakes</th><td class=\"n\" id=\"ov-handshakes\">%llu</td></tr>\n",
			(unsigned long long)s->handshakes);
		fprintf(f, "<tr><th>Outcomes</th><td>ok <b id=\"ov-ok\">%llu</b>, failed <b id=\"ov-failed\">%llu</b>, "
			"aborted <b id=\"ov-aborted\">%llu</b>, incomplete <b id=\"ov-incomplete\">%llu</b>",
			(unsigned long long)s->outcomes[HS_OK],
			(unsigned long long)s->outcomes[HS_FAILED],
			(unsigned long long)s->outcomes[HS_ABORTED],
			(unsigned long long)s->outcomes[HS_INCOMPLETE]);
		render_unrecorded_outcomes(s, f);
		fputs("</td></tr>\n", f);
		fprintf(f, "<tr><th>Failure spikes</th><td class=\"n\" id=\"ov-spikes\">%llu</td></tr>\n",
			(unsigned long long)s->spikes);
	}
	fprintf(f, "<tr><th>Server names</th><td class=\"n\">%d%s</td></tr>\n"
		"<tr><th>Distinct leaf certificates</th><td class=\"n\" id=\"ov-certs\">%d%s</td></tr>\n",
		a->n_names, a->other_names_handshakes ? " (and others, not listed)" : "",
		a->n_certs, a->certs_untracked ? " (and others, not listed)" : "");
	fputs("</table>\n", f);
	if (s->truncated_file)
		fputs("<p><b>Warning:</b> the capture is truncated; the report covers what was read.</p>\n", f);
	fputs("</section>\n", f);
}

/* --- the timeline SVG */

struct tl_geom {
	const struct html_timeline *tl;
	uint32_t cols;
	double colw;
	uint32_t ymax;
};

static double tl_x(const struct tl_geom *g, uint64_t ts_us)
{
	uint64_t s = ts_us / 1000000;
	double col;

	if (s < g->tl->start_s)
		s = g->tl->start_s;
	col = (double)(s - g->tl->start_s) / g->tl->width_s;
	if (col > g->cols)
		col = g->cols;
	return SVG_LEFT + col * g->colw;
}

/* The resolved event of the firing spike @i, or -1 (still firing at the
 * end, or not kept). */
static int spike_resolution(const struct html_agg *a, int i)
{
	const struct html_spike *s = &a->spikes[i];
	int j;

	for (j = i + 1; j < a->n_spikes; j++) {
		const struct html_spike *r = &a->spikes[j];

		if (r->kind == s->kind && !strcmp(r->key, s->key))
			return r->state == SPIKE_RESOLVED ? j : -1;
	}
	return -1;
}

static void put_spike_scope(const struct html_agg *a, FILE *f,
			    const struct html_spike *s)
{
	int cert = s->kind == SPIKE_SCOPE_CERT ? html_agg_find_cert(a, s->key) : -1;

	if (s->kind == SPIKE_SCOPE_ALL) {
		fputs("all traffic", f);
		return;
	}
	fprintf(f, "%s=", spike_kind_key(s->kind));
	if (cert >= 0) {
		put_cert_label(f, cert);
		fprintf(f, " <span class=\"fp\">%.16s...</span>", a->certs[cert].sha256);
		return;
	}
	fprintf(f, "<span class=\"fp\">");
	put(f, s->key);
	fputs("</span>", f);
}

/* Spike episodes that overlap (all traffic, its name, its certificate,
 * its client: one incident) share one shaded area, labelled "S1-S4". */
struct spike_area {
	double x0, x1;
	int first, last, n;
};

/* The start of the first column from @from_us to @to_us with a failure,
 * or @from_us: where a spike's window starts to matter. */
static uint64_t first_failure_us(const struct html_timeline *tl, uint64_t from_us,
				 uint64_t to_us)
{
	uint64_t s = from_us / 1000000, col, last;

	if (to_us / 1000000 < tl->start_s)
		return from_us;
	if (s < tl->start_s)
		s = tl->start_s;
	col = (s - tl->start_s) / tl->width_s;
	last = (to_us / 1000000 - tl->start_s) / tl->width_s;
	for (; col <= last && col < tl->n; col++)
		if (tl->b[col].failures)
			return (tl->start_s + col * tl->width_s) * 1000000;
	return from_us;
}

static void svg_spike_area(const struct spike_area *ar, FILE *f)
{
	char label[32];

	if (ar->n == 1)
		snprintf(label, sizeof(label), "S%d", ar->first);
	else
		snprintf(label, sizeof(label), "S%d-S%d", ar->first, ar->last);
	fprintf(f, "<g class=\"spike\" data-spikes=\"%s\"><title>failure spike %s</title>"
		"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		"fill=\"url(#p-spike)\" stroke=\"#000\" stroke-dasharray=\"4 2\"/>"
		"<text x=\"%.1f\" y=\"%d\" font-weight=\"bold\">%s</text></g>\n",
		label, label, ar->x0, SVG_TOP, ar->x1 - ar->x0, SVG_PLOT_H, ar->x0 + 2,
		SVG_TOP - 6, label);
}

static void svg_spikes(const struct html_agg *a, const struct tl_geom *g, FILE *f)
{
	struct spike_area ar = { 0 };
	int i, episode = 0;

	for (i = 0; i < a->n_spikes; i++) {
		const struct html_spike *s = &a->spikes[i];
		uint64_t win = (uint64_t)(s->window_s ? s->window_s - 1 : 0) * 1000000;
		double x0, x1;
		int r;

		if (s->state != SPIKE_FIRING)
			continue;
		episode++;
		/* From the first failing second of the window judged to the
		 * second it resolved in (or the end). */
		r = spike_resolution(a, i);
		x0 = tl_x(g, first_failure_us(g->tl, s->ts_us > win ? s->ts_us - win : 0,
					      s->ts_us));
		x1 = r < 0 ? SVG_LEFT + SVG_PLOT_W : tl_x(g, a->spikes[r].ts_us);
		if (x1 < x0 + g->colw)
			x1 = x0 + g->colw;
		if (ar.n && x0 <= ar.x1) {
			ar.x1 = x1 > ar.x1 ? x1 : ar.x1;
			ar.last = episode;
			ar.n++;
			continue;
		}
		if (ar.n)
			svg_spike_area(&ar, f);
		ar = (struct spike_area){ .x0 = x0, .x1 = x1, .first = episode,
					  .last = episode, .n = 1 };
	}
	if (ar.n)
		svg_spike_area(&ar, f);
}

static void svg_bars(const struct tl_geom *g, FILE *f)
{
	const struct html_timeline *tl = g->tl;
	uint32_t i;

	for (i = 0; i < g->cols; i++) {
		const struct html_bucket *b = &tl->b[i];
		double x = SVG_LEFT + i * g->colw, w = g->colw > 2 ? g->colw - 1 : g->colw;
		double h = (double)SVG_PLOT_H * b->handshakes / g->ymax;
		double hf = (double)SVG_PLOT_H * b->failures / g->ymax;
		char t[TW_TIME_STRLEN];

		if (!b->handshakes)
			continue;
		fprintf(f, "<g class=\"col\" data-t=\"%s\" data-handshakes=\"%u\" data-failures=\"%u\">"
			"<title>%s: %u handshakes, %u failed</title>"
			"<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#9bd\" stroke=\"#000\" stroke-width=\"0.5\"/>",
			tw_time_format_s((int64_t)(tl->start_s + (uint64_t)i * tl->width_s), t),
			b->handshakes, b->failures, t, b->handshakes, b->failures,
			x, SVG_TOP + SVG_PLOT_H - h, w, h);
		if (b->failures)
			fprintf(f, "<rect class=\"fail\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"url(#p-fail)\" stroke=\"#000\" stroke-width=\"0.5\"/>",
				x, SVG_TOP + SVG_PLOT_H - hf, w, hf);
		fputs("</g>\n", f);
	}
}

static void svg_axes(const struct tl_geom *g, FILE *f)
{
	const struct html_timeline *tl = g->tl;
	int y0 = SVG_TOP + SVG_PLOT_H, k;

	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n",
		SVG_LEFT, y0, SVG_LEFT + SVG_PLOT_W, y0);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n",
		SVG_LEFT, SVG_TOP, SVG_LEFT, y0);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%u</text>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">handshakes per %llu s</text>\n",
		SVG_LEFT - 4, SVG_TOP + 10, g->ymax, SVG_LEFT - 4, y0,
		SVG_LEFT - 4, SVG_TOP + SVG_PLOT_H / 2, (unsigned long long)tl->width_s);
	for (k = 0; k <= 4; k++) {
		uint64_t col = (uint64_t)g->cols * (uint64_t)k / 4;
		double x = SVG_LEFT + (double)col * g->colw;

		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">", x, y0 + 14,
			k == 0 ? "start" : k == 4 ? "end" : "middle");
		put_clock(f, tl->start_s + col * tl->width_s);
		fputs("</text>\n", f);
	}
}

/* A lane's bar: a serving period, or the periods of one leaf that
 * overlap on the plot (served from several addresses at once). */
struct lane_bar {
	double x0, x1;
	int row;                      /* the lane's row it is drawn in */
	int cert;
	int periods;
	uint64_t first_us, last_us;
	uint64_t handshakes, failures;
};

/* A name's lane: bars in rows, none over another; a period that begins
 * where another leaf's bar has not ended (a change within one column,
 * two leaves served at once) goes to the next row. */
struct lane {
	int n_bars, rows;
	int last[HTML_NAME_MAX_RUNS];     /* per row: its rightmost bar */
	struct lane_bar bars[HTML_NAME_MAX_RUNS];
};

/* Bars closer than this touch, they do not overlap (the same column
 * edge, computed two ways). */
#define SVG_EPSILON 1e-6

/* A bar's label ("C2", "C2 !"), at most this wide, this far from a bar
 * it is beside: inside the bar when it fits, else after it, or before it
 * at the plot's right edge. */
#define SVG_LABEL_W 31
#define SVG_LABEL_GAP 2

enum bar_label_at { LABEL_INSIDE, LABEL_AFTER, LABEL_BEFORE };

static enum bar_label_at bar_label_at(double x0, double x1)
{
	if (x1 - x0 >= SVG_LABEL_W + 3)
		return LABEL_INSIDE;
	if (x1 + SVG_LABEL_GAP + SVG_LABEL_W > SVG_LEFT + SVG_PLOT_W)
		return LABEL_BEFORE;
	return LABEL_AFTER;
}

/* Where a bar from @x0 to @x1 and its label begin and end in its row:
 * a row's next bar starts past both, so no label is drawn over another
 * bar or label (narrow bars' labels did). */
static double bar_left(double x0, double x1)
{
	return bar_label_at(x0, x1) == LABEL_BEFORE ? x0 - SVG_LABEL_GAP - SVG_LABEL_W : x0;
}

static double bar_right(double x0, double x1)
{
	return bar_label_at(x0, x1) == LABEL_AFTER ? x1 + SVG_LABEL_GAP + SVG_LABEL_W : x1;
}

/* The bar @run extends (the last of a row, its leaf's, not ended at
 * @x0), or NULL. */
static struct lane_bar *lane_same_leaf(struct lane *ln, const struct html_run *run,
				       double x0)
{
	int i;

	for (i = 0; i < ln->rows; i++) {
		struct lane_bar *b = &ln->bars[ln->last[i]];

		if (b->cert == run->cert && x0 >= b->x0 && x0 < b->x1 - SVG_EPSILON)
			return b;
	}
	return NULL;
}

/* The first row whose bars and labels end at or before @left: a new one
 * when none. */
static int lane_free_row(const struct lane *ln, double left)
{
	const struct lane_bar *b;
	int i;

	for (i = 0; i < ln->rows; i++) {
		b = &ln->bars[ln->last[i]];
		if (bar_right(b->x0, b->x1) <= left + SVG_EPSILON)
			return i;
	}
	return ln->rows;
}

static void lane_add(struct lane *ln, const struct html_run *run, double x0,
		     double x1)
{
	struct lane_bar *b = lane_same_leaf(ln, run, x0);

	if (b) {
		b->x1 = x1 > b->x1 ? x1 : b->x1;
		b->first_us = run->first_us < b->first_us ? run->first_us : b->first_us;
		b->last_us = run->last_us > b->last_us ? run->last_us : b->last_us;
		b->handshakes += run->handshakes;
		b->failures += run->failures;
		b->periods++;
		return;
	}
	b = &ln->bars[ln->n_bars];
	*b = (struct lane_bar){
		.x0 = x0, .x1 = x1, .row = lane_free_row(ln, bar_left(x0, x1)),
		.cert = run->cert,
		.periods = 1, .first_us = run->first_us, .last_us = run->last_us,
		.handshakes = run->handshakes, .failures = run->failures,
	};
	if (b->row == ln->rows)
		ln->rows++;
	/* it begins where the row's last bar ends, or later: the rightmost */
	ln->last[b->row] = ln->n_bars++;
}

/* The bars of @nr's serving periods, in rows (none without a period). */
static void lane_layout(const struct html_name *nr, const struct tl_geom *g,
			struct lane *ln)
{
	int r;

	ln->n_bars = ln->rows = 0;
	for (r = 0; r < nr->n_runs; r++) {
		const struct html_run *run = &nr->runs[r];
		double x0 = tl_x(g, run->first_us), x1 = tl_x(g, run->last_us) + g->colw;

		/* a period past the last column ends at the plot's edge */
		if (x1 > SVG_LEFT + SVG_PLOT_W)
			x1 = SVG_LEFT + SVG_PLOT_W;
		lane_add(ln, run, x0, x1);
	}
}

static void svg_bar_label(const struct lane_bar *b, int y, bool crit, FILE *f)
{
	double x = b->x0 + 3;
	const char *anchor = "";

	switch (bar_label_at(b->x0, b->x1)) {
	case LABEL_INSIDE:
		break;
	case LABEL_AFTER:
		x = b->x1 + SVG_LABEL_GAP;
		break;
	case LABEL_BEFORE:
		x = b->x0 - SVG_LABEL_GAP;
		anchor = " text-anchor=\"end\"";
		break;
	}
	fprintf(f, "<text x=\"%.2f\" y=\"%d\"%s font-weight=\"bold\">C%d%s</text>",
		x, y + 17, anchor, b->cert + 1, crit ? " !" : "");
}

static void svg_bar(const struct html_agg *a, const struct lane_bar *b, int y,
		    FILE *f)
{
	bool crit = b->cert >= 0 && cert_is_critical(&a->certs[b->cert]);

	y += b->row * SVG_LANE_H;
	fprintf(f, "<g class=\"run\" data-cert=\"%d\"><title>C%d from ", b->cert + 1,
		b->cert + 1);
	put_clock(f, b->first_us / 1000000);
	fputs(" to ", f);
	put_clock(f, b->last_us / 1000000);
	fprintf(f, ": %llu handshakes, %llu failed", (unsigned long long)b->handshakes,
		(unsigned long long)b->failures);
	if (b->periods > 1)
		fprintf(f, " in %d serving periods", b->periods);
	fprintf(f, "%s</title>", crit ? "; critical findings" : "");
	fprintf(f, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" stroke=\"#000\"/>",
		b->x0, y + 3, b->x1 - b->x0, SVG_LANE_H - 6,
		crit ? "url(#p-crit)" : "#cec");
	svg_bar_label(b, y, crit, f);
	fputs("</g>\n", f);
}

/* One lane per server name: which leaf it served when, under the bars. */
static void svg_lanes(const struct html_agg *a, const struct tl_geom *g, FILE *f)
{
	int y = SVG_TOP + SVG_PLOT_H + SVG_AXIS_H, n, i;
	struct lane ln;

	for (n = 0; n < a->n_names; n++) {
		const struct html_name *nr = &a->names[n];

		lane_layout(nr, g, &ln);
		if (!ln.n_bars)
			continue;
		fprintf(f, "<g class=\"lane\"><text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			SVG_LEFT - 4, y + 16);
		put_n(f, nr->sni, nr->sni_len > 28 ? 28 : nr->sni_len);
		if (!nr->sni_len)
			fputs("(no SNI)", f);
		fputs("</text>\n", f);
		for (i = 0; i < ln.n_bars; i++)
			svg_bar(a, &ln.bars[i], y, f);
		fputs("</g>\n", f);
		y += ln.rows * SVG_LANE_H;
	}
}

/* The rows of every lane. */
static int lanes_rows(const struct html_agg *a, const struct tl_geom *g)
{
	struct lane ln;
	int n, rows = 0;

	for (n = 0; n < a->n_names; n++) {
		lane_layout(&a->names[n], g, &ln);
		rows += ln.rows;
	}
	return rows;
}

static void render_timeline_svg(const struct html_agg *a, FILE *f)
{
	struct tl_geom g = { .tl = &a->tl, .cols = a->tl.n ? a->tl.n : 1, .ymax = 1 };
	uint32_t i;

	g.colw = (double)SVG_PLOT_W / g.cols;
	for (i = 0; i < g.cols; i++)
		if (a->tl.b[i].handshakes > g.ymax)
			g.ymax = a->tl.b[i].handshakes;
	fprintf(f, "<svg id=\"timeline-chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
		"aria-label=\"handshakes and failures over time, certificates served per name\">\n%s\n",
		SVG_W, SVG_TOP + SVG_PLOT_H + SVG_AXIS_H + lanes_rows(a, &g) * SVG_LANE_H + 6,
		svg_defs);
	svg_spikes(a, &g, f);
	svg_bars(&g, f);
	svg_axes(&g, f);
	svg_lanes(a, &g, f);
	fputs("</svg>\n", f);
}

static void render_legend(FILE *f)
{
	fputs("<p class=\"note\">Bars: handshakes (ok, failed and aborted; plain) with the "
	      "failed and aborted ones hatched over them. Dotted areas marked S1, S2 ...: "
	      "failure spikes, from the first failure of the window judged to the end "
	      "of the episode (see the table below). Under the axis, one lane per server name: "
	      "the certificate served (C1, C2 ... as in the certificate table), "
	      "cross-hatched and marked '!' when it has a critical finding; a certificate "
	      "that begins where another's bar has not ended is on a row of its own. "
	      "Times are UTC.</p>\n", f);
}

static void render_timeline_table(const struct html_agg *a, FILE *f)
{
	const struct html_timeline *tl = &a->tl;
	char t[TW_TIME_STRLEN];
	uint32_t i;

	fprintf(f, "<details><summary>Timeline data (%llu s columns with handshakes)</summary>\n"
		"<table id=\"timeline-data\"><tr><th>Time (UTC)</th><th>Handshakes</th><th>Failed or aborted</th></tr>\n",
		(unsigned long long)tl->width_s);
	for (i = 0; i < tl->n; i++) {
		if (!tl->b[i].handshakes)
			continue;
		fprintf(f, "<tr><td>%s</td><td class=\"n\">%u</td><td class=\"n\">%u</td></tr>\n",
			tw_time_format_s((int64_t)(tl->start_s + (uint64_t)i * tl->width_s), t),
			tl->b[i].handshakes, tl->b[i].failures);
	}
	fputs("</table></details>\n", f);
}

static void render_top(FILE *f, const struct html_top *t, bool fp)
{
	if (!t->count) {
		fputs("<td>-</td>", f);
		return;
	}
	fprintf(f, "<td%s>", fp ? " class=\"fp\"" : "");
	put(f, t->key);
	if (t->from[0])
		fprintf(f, " (from %s)", t->from);
	fprintf(f, " &times;%llu</td>", (unsigned long long)t->count);
}

static void render_spike_cert(const struct html_agg *a, const struct html_spike *s,
			      FILE *f)
{
	int cert = s->cert.count ? html_agg_find_cert(a, s->cert.key) : -1;

	if (cert < 0) {
		render_top(f, &s->cert, true);
		return;
	}
	fputs("<td>", f);
	put_cert_label(f, cert);
	fprintf(f, " &times;%llu", (unsigned long long)s->cert.count);
	if (s->cert_findings[0]) {
		fputs(" (", f);
		put(f, s->cert_findings);
		fputs(")", f);
	}
	fputs("</td>", f);
}

/* One row per episode: when it fired (and what explained it), when it
 * resolved. */
static void render_spike_row(const struct html_agg *a, int i, int episode, FILE *f)
{
	const struct html_spike *s = &a->spikes[i];
	int r = spike_resolution(a, i);
	char t1[TW_TIME_STRLEN], t2[TW_TIME_STRLEN];

	fprintf(f, "<tr class=\"spike\"><td>S%d</td><td>", episode);
	put_spike_scope(a, f, s);
	fprintf(f, "</td><td>%s</td><td>%s</td>",
		tw_time_format_s((int64_t)(s->ts_us / 1000000), t1),
		r >= 0 ? tw_time_format_s((int64_t)(a->spikes[r].ts_us / 1000000), t2) :
		"still firing at the end");
	fprintf(f, "<td class=\"n\">%llu / %llu in %u s</td><td class=\"n\">%.0f%%",
		(unsigned long long)s->failures, (unsigned long long)s->handshakes,
		s->window_s, 100.0 * s->rate);
	if (s->has_baseline)
		fprintf(f, " (%.1f%%)", 100.0 * s->baseline_rate);
	fputs("</td>", f);
	render_top(f, &s->alert, false);
	render_top(f, &s->sni, false);
	render_spike_cert(a, s, f);
	render_top(f, &s->client, true);
	fputs("</tr>\n", f);
}

static void render_spikes(const struct html_agg *a, FILE *f)
{
	int i, episode = 0;

	if (!a->n_spikes) {
		fputs("<p id=\"spikes-none\">No failure spike was detected.</p>\n", f);
		return;
	}
	fputs("<table id=\"spikes\"><tr><th>#</th><th>Scope</th><th>Fired (UTC)</th>"
	      "<th>Resolved</th><th>Failed / handshakes in window</th><th>Rate (normal)</th>"
	      "<th>Top alert</th><th>Top name</th><th>Top certificate</th>"
	      "<th>Top client (JA4)</th></tr>\n", f);
	for (i = 0; i < a->n_spikes; i++)
		if (a->spikes[i].state == SPIKE_FIRING)
			render_spike_row(a, i, ++episode, f);
	fputs("</table>\n", f);
	if (a->spikes_dropped)
		fprintf(f, "<p class=\"note\" id=\"spikes-dropped\">%llu earlier spike episodes "
			"not listed (at most %d events kept, whole episodes, the latest).</p>\n",
			(unsigned long long)a->spikes_dropped, HTML_MAX_SPIKES);
}

static void render_timeline(const struct html_agg *a, FILE *f)
{
	fputs("<section id=\"timeline\">\n<h2>Timeline</h2>\n", f);
	if (a->from_inventory) {
		fputs("<p id=\"timeline-none\">The inventory keeps served certificates "
		      "(first and last seen, count), not individual handshakes or "
		      "events: no timeline, and no knowing whether failure spikes or "
		      "alerts happened. Run <code>tlswatch analyze --html</code> on a "
		      "capture, or keep the agent's history (<code>tlswatch run "
		      "--db</code>), for them.</p>\n</section>\n", f);
		return;
	}
	if (a->from_history)
		fprintf(f, "<p class=\"note\" id=\"history-note\">From the agent's event "
			"history: the last %u hours it keeps, in the columns of the "
			"seconds it wrote.</p>\n", HISTORY_KEEP_S / 3600);
	if (a->counts_clamped)
		fprintf(f, "<p class=\"note\" id=\"history-clamped\">%llu counts of "
			"the history are over %llu, which no agent writes (a damaged "
			"file?): they are counted as %llu.</p>\n",
			(unsigned long long)a->counts_clamped, HTML_COUNT_MAX,
			HTML_COUNT_MAX);
	if (!a->tl.n)
		fputs("<p>No completed handshake.</p>\n", f);
	else {
		render_timeline_svg(a, f);
		render_legend(f);
		render_timeline_table(a, f);
	}
	fputs("<h3>Failure spikes</h3>\n", f);
	render_spikes(a, f);
	fputs("</section>\n", f);
}

/* --- certificates per name, and the certificate table */

/* A failure count cell: the inventory does not count failures. */
static void put_failures(const struct html_agg *a, uint64_t failures, FILE *f)
{
	if (a->from_inventory)
		fputs("<td class=\"n\">n/a</td>", f);
	else
		fprintf(f, "<td class=\"n\">%llu</td>", (unsigned long long)failures);
}

static int run_cmp(const void *x, const void *y)
{
	const struct html_run *a = x, *b = y;

	return a->first_us < b->first_us ? -1 : a->first_us > b->first_us;
}

static void render_name_heading(const struct html_agg *a,
				const struct html_name *nr, FILE *f)
{
	int i;

	fputs("<h3 class=\"name\">", f);
	put_name(f, nr);
	fputs(" <span class=\"note\">at ", f);
	for (i = 0; i < nr->n_servers; i++) {
		fputs(i ? ", " : "", f);
		put(f, nr->servers[i]);
	}
	fprintf(f, "%s</span></h3>\n", nr->more_servers ? " and others" : "");
	if (!a->from_inventory)
		fprintf(f, "<p>%llu handshakes: ok %llu, failed %llu, aborted %llu, incomplete %llu; failure rate %.1f%%</p>\n",
			(unsigned long long)nr->handshakes,
			(unsigned long long)nr->outcomes[HS_OK],
			(unsigned long long)nr->outcomes[HS_FAILED],
			(unsigned long long)nr->outcomes[HS_ABORTED],
			(unsigned long long)nr->outcomes[HS_INCOMPLETE],
			/* incomplete ones did not end: out of the rate */
			pct(nr->outcomes[HS_FAILED] + nr->outcomes[HS_ABORTED],
			    nr->handshakes - nr->outcomes[HS_INCOMPLETE]));
}

static void render_run(const struct html_agg *a, const struct html_name *nr,
		       const struct html_run *run, FILE *f)
{
	const struct html_cert *c = run->cert >= 0 ? &a->certs[run->cert] : NULL;
	char t1[TW_TIME_STRLEN], t2[TW_TIME_STRLEN];

	fprintf(f, "<tr><td class=\"t\">%s</td><td class=\"t\">%s</td><td>",
		time_us(run->first_us, t1), time_us(run->last_us, t2));
	put(f, run->server >= 0 ? nr->servers[run->server] : "other");
	fputs("</td><td>", f);
	put_cert_label(f, run->cert);
	/* The full fingerprint is in the certificate table. */
	fprintf(f, "</td><td class=\"fp\">%.16s%s</td><td class=\"n\">%llu</td>",
		c ? c->sha256 : "", c ? "..." : "", (unsigned long long)run->handshakes);
	put_failures(a, run->failures, f);
	fputs("<td>", f);
	/* what the period showed, not what its leaf got later */
	if (c)
		put_findings(f, c, false, run->findings);
	fputs("</td></tr>\n", f);
}

/* A sentence of no_cert_say() as a paragraph: capitalised, a period. */
static void say_note(void *f, const char *sentence)
{
	fprintf(f, "<p class=\"note\">%c%s.</p>\n", toupper((unsigned char)sentence[0]),
		sentence + 1);
}

/* Why handshakes of @nr showed no certificate, each reason counted (the
 * text report's). The inventory keeps no reasons; the event history keeps
 * them since schema 5, so a name without any there may have rows written
 * before: the general words then. */
static void render_no_cert(const struct html_agg *a, const struct html_name *nr,
			   FILE *f)
{
	if (!a->from_inventory &&
	    (!a->from_history || no_cert_any(&nr->no_cert)))
		no_cert_say(&nr->no_cert, nr->n_runs > 0, say_note, f);
	else if (!nr->n_runs)
		fputs("<p>Certificate not visible (TLS 1.3, or no Certificate message).</p>\n", f);
}

/* A name's serving periods, in time order (inventory rows come newest
 * first: sorted here). */
static void render_name(const struct html_agg *a, const struct html_name *nr, FILE *f)
{
	struct html_run runs[HTML_NAME_MAX_RUNS];
	int r;

	render_name_heading(a, nr, f);
	if (!nr->n_runs) {
		render_no_cert(a, nr, f);
		return;
	}
	memcpy(runs, nr->runs, sizeof(runs[0]) * (size_t)nr->n_runs);
	if (a->from_inventory)
		qsort(runs, (size_t)nr->n_runs, sizeof(runs[0]), run_cmp);
	fputs("<table class=\"served\"><tr><th>From (UTC)</th><th>To</th><th>Server</th><th>Certificate</th>"
	      "<th>SHA-256 (start)</th><th>Handshakes</th><th>Failed or aborted</th><th>Findings</th></tr>\n", f);
	for (r = 0; r < nr->n_runs; r++)
		render_run(a, nr, &runs[r], f);
	fputs("</table>\n", f);
	if (nr->runs_merged)
		fputs("<p class=\"note\">More changes of certificate than listed: the last row holds the rest.</p>\n", f);
	render_no_cert(a, nr, f);
}

/* The outcomes of the handshakes of the names beyond the bound, and how
 * many have none (a history written before schema 6). */
static void render_other_outcomes(const struct html_agg *a, FILE *f)
{
	const uint64_t *o = a->other_names_outcomes;
	uint64_t n = outcomes_unrecorded(o, a->other_names_handshakes);

	fprintf(f, ": ok %llu, failed %llu, aborted %llu, incomplete %llu",
		(unsigned long long)o[HS_OK], (unsigned long long)o[HS_FAILED],
		(unsigned long long)o[HS_ABORTED], (unsigned long long)o[HS_INCOMPLETE]);
	if (n)
		fprintf(f, "; the outcomes of %llu of them were not recorded "
			"(history written before schema 6)", (unsigned long long)n);
}

/* The names beyond the bound: how many handshakes, with what outcomes
 * (the overview counts them); the history folds them each second. An
 * inventory counts sightings and keeps no outcome: the count alone. */
static void render_other_names(const struct html_agg *a, FILE *f)
{
	if (!a->other_names_handshakes)
		return;
	fprintf(f, "<p class=\"note\" id=\"other-names\">%llu handshakes of further names "
		"not listed (at most %d names%s)",
		(unsigned long long)a->other_names_handshakes, HTML_MAX_NAMES,
		a->from_history ? "; the agent's history keeps the first "
				  "names of each second, the others are folded here" : "");
	if (!a->from_inventory)
		render_other_outcomes(a, f);
	fputs(".</p>\n", f);
}

static void render_names(const struct html_agg *a, FILE *f)
{
	int n;

	fputs("<section id=\"names\">\n<h2>Certificates served per server name</h2>\n", f);
	if (a->from_inventory)
		fputs("<p class=\"note\">From the inventory: one row per certificate and "
		      "address, from its first to its last sighting; a certificate that "
		      "came back after another is one row spanning both times.</p>\n", f);
	for (n = 0; n < a->n_names; n++)
		render_name(a, &a->names[n], f);
	render_other_names(a, f);
	fputs("</section>\n", f);
}

static void render_cert_row(const struct html_agg *a, const struct html_cert *c, int i,
			    FILE *f)
{
	char nb[TW_TIME_STRLEN], na[TW_TIME_STRLEN];

	fprintf(f, "<tr id=\"cert-%d\"%s><td>C%d</td><td class=\"fp\">%s</td><td>", i + 1,
		cert_is_critical(c) ? " class=\"critical\"" : "", i + 1, c->sha256);
	put(f, c->subject);
	fputs("<div class=\"note\">issuer ", f);
	put(f, c->issuer);
	fputs("</div></td><td class=\"mono\">", f);
	put(f, c->serial);
	fputs("</td><td>", f);
	put(f, c->key);
	fprintf(f, "</td><td>%s<br>.. %s</td><td class=\"n\">%llu</td>",
		tw_time_format_s(c->not_before, nb), tw_time_format_s(c->not_after, na),
		(unsigned long long)c->handshakes);
	put_failures(a, c->failures, f);
	fputs("<td class=\"findings\">", f);
	put_findings(f, c, true, HTML_RUN_FINDINGS_UNKNOWN);
	fputs("</td></tr>\n", f);
}

static void render_certs(const struct html_agg *a, FILE *f)
{
	int i;

	fputs("<section id=\"certs\">\n<h2>Certificates and findings</h2>\n", f);
	if (!a->n_certs) {
		fputs(a->from_inventory ?
		      "<p id=\"certs-none\">No certificate recorded in the inventory.</p>\n</section>\n" :
		      "<p id=\"certs-none\">No certificate was visible.</p>\n</section>\n", f);
		return;
	}
	fputs("<table id=\"certificates\"><tr><th>#</th><th>SHA-256 (DER)</th><th>Subject</th>"
	      "<th>Serial</th><th>Key</th><th>Valid (UTC)</th><th>Served</th>"
	      "<th>Failed</th><th>Findings (severity)</th></tr>\n", f);
	for (i = 0; i < a->n_certs; i++)
		render_cert_row(a, &a->certs[i], i, f);
	fputs("</table>\n", f);
	if (a->certs_untracked)
		fprintf(f, "<p class=\"note\">Further certificates not listed (at most %d).</p>\n",
			HTML_MAX_CERTS);
	fputs("</section>\n", f);
}

/* --- alerts and clients */

static void alert_row(FILE *f, const char *desc, int code, int side, uint64_t n,
		      const char *note)
{
	fputs("<tr><td>", f);
	if (desc)
		put(f, desc);
	else
		fprintf(f, "%d", code);
	fprintf(f, "</td><td>%s</td><td class=\"n\">%llu</td><td>%s</td></tr>\n",
		side ? "client" : "server", (unsigned long long)n, note);
}

static void render_alerts(const struct html_agg *a, FILE *f)
{
	bool any = false;
	int side, d;

	if (a->from_inventory)
		return;
	fputs("<section id=\"alerts-section\">\n<h2>Alerts by description and sender</h2>\n"
	      "<table id=\"alerts\"><tr><th>Description</th><th>From</th><th>Count</th><th></th></tr>\n", f);
	for (side = 0; side < 2; side++) {
		for (d = 0; d < 256; d++) {
			if (!a->alerts[side][d])
				continue;
			any = true;
			alert_row(f, hs_alert_description_name((uint8_t)d), d, side,
				  a->alerts[side][d], "");
		}
		if (a->encrypted_alerts[side]) {
			any = true;
			alert_row(f, "encrypted", 0, side, a->encrypted_alerts[side],
				  "TLS 1.3: inferred from the record length");
		}
	}
	fputs("</table>\n", f);
	if (!any)
		fputs("<p>No alert.</p>\n", f);
	fputs("</section>\n", f);
}

struct client_rank {
	const char *ja4;
	size_t len;
	const struct html_client *c;
};

static int client_cmp(const void *x, const void *y)
{
	const struct client_rank *a = x, *b = y;
	int k;

	if (a->c->failures != b->c->failures)
		return a->c->failures > b->c->failures ? -1 : 1;
	if (a->c->handshakes != b->c->handshakes)
		return a->c->handshakes > b->c->handshakes ? -1 : 1;
	k = memcmp(a->ja4, b->ja4, a->len < b->len ? a->len : b->len);
	return k ? k : (a->len > b->len) - (a->len < b->len);
}

static void render_client_rows(const struct client_rank *rank, size_t n, FILE *f)
{
	size_t i;

	for (i = 0; i < n && i < HTML_TOP_CLIENTS; i++) {
		fputs("<tr><td class=\"fp\">", f);
		put_n(f, rank[i].ja4, rank[i].len);
		fprintf(f, "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%.1f%%</td></tr>\n",
			(unsigned long long)rank[i].c->handshakes,
			(unsigned long long)rank[i].c->failures,
			pct(rank[i].c->failures, rank[i].c->handshakes));
	}
}

static void render_clients(const struct html_agg *a, FILE *f)
{
	size_t n = strmap_count(a->clients), i;
	struct client_rank *rank;
	void *val;

	if (a->from_inventory)
		return;
	fputs("<section id=\"clients-section\">\n<h2>Clients that failed most (JA4)</h2>\n", f);
	rank = n ? calloc(n, sizeof(*rank)) : NULL;
	if (n && !rank) {
		fputs("<p>Out of memory: not listed.</p>\n</section>\n", f);
		return;
	}
	for (i = 0; i < n && strmap_at(a->clients, i, &rank[i].ja4, &rank[i].len, &val); i++)
		rank[i].c = val;
	if (n) /* qsort's array may not be NULL, even for no element */
		qsort(rank, n, sizeof(*rank), client_cmp);
	fputs("<table id=\"clients\"><tr><th>JA4</th><th>Handshakes</th><th>Failed or aborted</th><th>Failure rate</th></tr>\n", f);
	render_client_rows(rank, n, f);
	fputs("</table>\n", f);
	if (a->other_clients_handshakes)
		fprintf(f, "<p class=\"note\">%llu handshakes (%llu failed) of further clients not tracked (at most %d).</p>\n",
			(unsigned long long)a->other_clients_handshakes,
			(unsigned long long)a->other_clients_failures, HTML_MAX_CLIENTS);
	free(rank);
	fputs("</section>\n", f);
}

static void render_problems(const struct html_agg *a, FILE *f)
{
	bool any = false;
	int p;

	for (p = 0; p < SUM_PROBLEM__COUNT; p++) {
		if (!a->sum.problems[p])
			continue;
		if (!any)
			fputs("<section id=\"problems\">\n<h2>Capture problems</h2>\n<table>\n", f);
		any = true;
		fprintf(f, "<tr><th>%s</th><td class=\"n\">%llu</td></tr>\n",
			summary_problem_help[p], (unsigned long long)a->sum.problems[p]);
	}
	if (any)
		fputs("</table>\n</section>\n", f);
}

int html_render(const struct html_agg *a, FILE *f)
{
	render_head(a, f);
	render_overview(a, f);
	render_timeline(a, f);
	render_names(a, f);
	render_certs(a, f);
	render_alerts(a, f);
	render_clients(a, f);
	render_problems(a, f);
	fputs("<footer class=\"note\"><p>Made by tlswatch " TLSWATCH_VERSION
	      ". Strings from the network are shown escaped: bytes outside printable "
	      "ASCII as \\xHH.</p></footer>\n</body>\n</html>\n", f);
	return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}
