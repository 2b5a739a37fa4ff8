/* ladder_html.c: the ladder as one HTML file: the SVG (ladder_svg.c) and a step-through.
 * Next/previous (buttons or arrow keys) moves from segment to segment: the arrow is
 * highlighted, its tcpdump line and why it was sent are shown, and both ends' control
 * blocks at that moment (from a capture: a sentence saying none is known). #step=N in
 * the address selects a step, so a test or a link can open one. Inline CSS and JS only. */
#include <string.h>

#include "ladder_layout.h"

/* s as a JavaScript string literal, safe inside <script> ("</" never appears). */
static void js_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '<')
            fputs("\\u003c", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else if (!ts_ladder_utf8_len((const char *)p))
            fputc('?', f);
        else {
            size_t n = ts_ladder_utf8_len((const char *)p);
            fwrite(p, 1, n, f);
            p += n - 1;
        }
    }
    fputc('"', f);
}

static void html_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        size_t n = ts_ladder_utf8_len(s);
        if (!n)
            fputc('?', f);
        else if (n > 1)
            fwrite(s, 1, n, f), s += n - 1;
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
}

static void tcb_text(const ts_layout *L, const ts_view_seg *s, int e, char *buf, size_t len)
{
    const ts_view *v = L->v;
    if (v->origin == TS_VIEW_CAPTURE) {
        snprintf(buf, len,
                 "No control block is known: a capture shows only what was on the "
                 "wire.");
        return;
    }
    int32_t k = s->tcb[e];
    if (k < 0 || (size_t)k >= v->ntcbs) {
        snprintf(buf, len, "No control block at this step (no connection yet, or gone).");
        return;
    }
    const ts_tcp_info *t = &v->tcbs[k].info;
    bool rel = L->o.relative;
    uint32_t iss = rel ? t->iss : 0, irs = rel ? t->irs : 0;
    char d[4][24], ss[16];
    if (t->ssthresh >= 0x7fffffffu)
        snprintf(ss, sizeof ss, "inf");
    else
        snprintf(ss, sizeof ss, "%u", t->ssthresh);
    size_t n = (size_t)snprintf(
        buf, len,
        "state    %s\nsnd_una  %u   snd_nxt %u   snd_max %u\nsnd_wnd  %u\nrcv_nxt  %u   "
        "rcv_wnd %u\nmss      %u out, %u in   wscale %u/%u%s%s\ncwnd     %u   ssthresh %s   "
        "flight %u\nsrtt     %s   rttvar %s   rto %s   backoff %u\nretransmitted %u   "
        "dupacks %u   ca %s%s\ntimers  ",
        ts_state_name(t->state), t->snd_una - iss, t->snd_nxt - iss, t->snd_max - iss, t->snd_wnd,
        t->rcv_nxt - irs, t->rcv_wnd, t->snd_mss, t->rcv_mss, t->snd_wscale, t->rcv_wscale,
        t->sack_ok ? "   sackOK" : "", t->ts_ok ? "   TS" : "", t->cwnd, ss, t->flight,
        ts_ladder_dur(t->srtt, d[0], sizeof d[0]), ts_ladder_dur(t->rttvar, d[1], sizeof d[1]),
        ts_ladder_dur(t->rto, d[2], sizeof d[2]), t->backoff, t->retransmits, t->dupacks,
        ts_ca_state_name(t->ca_state), t->delack_pending ? "   ACK pending" : "");
    bool any = false;
    for (int i = 0; i < TS_NUM_TIMERS && n < len; i++) {
        if (t->timer[i] == TS_TIME_NEVER) continue;
        ts_time_t now = v->tcbs[k].t, left = t->timer[i] > now ? t->timer[i] - now : 0;
        n += (size_t)snprintf(buf + n, len - n, "%s%s in %s", any ? ", " : " ",
                              ts_timer_name((ts_timer_kind)i),
                              ts_ladder_dur(left, d[3], sizeof d[3]));
        any = true;
    }
    if (!any && n < len) snprintf(buf + n, len - n, " none armed");
}

static void steps(FILE *f, const ts_layout *L)
{
    fputs("const steps = [\n", f);
    for (size_t i = 0; i < L->nsegs; i++) {
        const ts_view_seg *s = L->segs[i].seg;
        char tcb[2][1024], when[96], d[24];
        ts_time_t t0 = L->v->nsegs ? L->v->segs[0].t_send : 0;
        snprintf(when, sizeof when, "segment %u, sent at %s%s", s->no,
                 ts_ladder_dur(s->t_send - t0, d, sizeof d),
                 s->t_recv == TS_TIME_NEVER ? ", lost on the way" : "");
        for (int e = 0; e < 2; e++) tcb_text(L, s, e, tcb[e], sizeof tcb[e]);
        fputs("{when:", f);
        js_str(f, when);
        fputs(",line:", f);
        js_str(f, s->line);
        fputs(",why:", f);
        char why[256];
        snprintf(why, sizeof why, "%s%s%s", s->why ? s->why : "", s->lost && s->why ? "; " : "",
                 s->lost ? s->lost : "");
        js_str(f, why);
        fputs(",tcb:[", f);
        js_str(f, tcb[0]);
        fputc(',', f);
        js_str(f, tcb[1]);
        fputs("]},\n", f);
    }
    fputs("];\n", f);
}

static const char *const script =
    "let cur = 0;\n"
    "function show(n) {\n"
    "  if (!steps.length) return;\n"
    "  n = Math.max(1, Math.min(steps.length, n | 0));\n"
    "  document.querySelectorAll('.current').forEach(e => e.classList.remove('current'));\n"
    "  const x = document.getElementById('lost-' + n);\n"
    "  if (x) x.classList.add('current');\n"
    "  const g = document.getElementById('seg-' + n);\n"
    "  if (g) { g.classList.add('current'); if (g.scrollIntoView) g.scrollIntoView({block: "
    "'nearest'}); }\n"
    "  const s = steps[n - 1];\n"
    "  document.getElementById('pos').textContent = 'step ' + n + ' of ' + steps.length;\n"
    "  document.getElementById('when').textContent = s.when;\n"
    "  document.getElementById('line').textContent = s.line;\n"
    "  document.getElementById('why').textContent = s.why;\n"
    "  document.getElementById('tcb0').textContent = s.tcb[0];\n"
    "  document.getElementById('tcb1').textContent = s.tcb[1];\n"
    "  document.body.dataset.step = n;\n"
    "  cur = n;\n"
    "  try { history.replaceState(null, '', '#step=' + n); } catch (e) {}\n"
    "}\n"
    "function fromHash() { const m = /step=(\\d+)/.exec(location.hash); return m ? "
    "parseInt(m[1], 10) : 1; }\n"
    "document.getElementById('next').onclick = () => show(cur + 1);\n"
    "document.getElementById('prev').onclick = () => show(cur - 1);\n"
    "document.addEventListener('keydown', e => {\n"
    "  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { show(cur + 1); "
    "e.preventDefault(); }\n"
    "  if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { show(cur - 1); e.preventDefault(); "
    "}\n"
    "});\n"
    "document.querySelectorAll('.seg').forEach(g => g.addEventListener('click', () =>\n"
    "  show(parseInt(g.id.slice(4), 10))));\n"
    "window.addEventListener('hashchange', () => show(fromHash()));\n"
    "show(fromHash());\n";

static const char *const css =
    "body{font-family:sans-serif;margin:12px;color:#000;background:#fff}\n"
    "h1{font-size:18px;margin:0 0 8px}\n"
    "#wrap{display:flex;gap:16px;align-items:flex-start}\n"
    "#side{position:sticky;top:8px;max-width:560px}\n"
    "#side pre{font-family:monospace;font-size:12px;white-space:pre-wrap;border:1px solid "
    "#000;padding:6px;margin:4px 0 10px}\n"
    "#side h2{font-size:13px;margin:8px 0 0}\n"
    "#ctl button{font-size:14px;padding:2px 10px}\n"
    ".hint{font-size:12px;color:#333}\n"
    ".seg{cursor:pointer}\n";

int ts_ladder_html(const ts_layout *L, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    html_esc(f, L->title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", css);
    html_esc(f, L->title);
    fputs("</h1>\n<div id=\"wrap\">\n<div id=\"pic\">\n", f);
    if (ts_ladder_svg(L, f, true)) return -1;
    fputs("</div>\n<div id=\"side\">\n<div id=\"ctl\"><button id=\"prev\" type=\"button\">"
          "&#9664; previous</button> <span id=\"pos\"></span> <button id=\"next\" "
          "type=\"button\">next &#9654;</button> <span class=\"hint\">(or the arrow keys; "
          "#step=N opens a step)</span></div>\n"
          "<h2 id=\"when\"></h2>\n<pre id=\"line\"></pre>\n<p id=\"why\"></p>\n",
          f);
    for (int e = 0; e < 2; e++) {
        fputs("<h2>", f);
        html_esc(f, L->addr[e]);
        if (L->v->end[e].name[0]) fputs(" (", f), html_esc(f, L->v->end[e].name), fputc(')', f);
        fprintf(f, "</h2>\n<pre id=\"tcb%d\"></pre>\n", e);
    }
    fputs("</div>\n</div>\n<script>\n", f);
    steps(f, L);
    fputs(script, f);
    fputs("</script>\n</body>\n</html>\n", f);
    return ferror(f) ? -1 : 0;
}
