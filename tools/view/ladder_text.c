/* ladder_text.c: the ladder diagram for a terminal (and the telnet shell's `ladder`):
 * the layout's rows as lines of a character grid, UTF-8 box drawing or plain ASCII,
 * within opts.width columns. Columns: the time, the left end's states, its lifeline, the
 * arrows and their labels, the right lifeline, the right end's states. An arrow that
 * spans rows is drawn as a staircase, so it slopes with its flight time. */
#include <stdlib.h>
#include <string.h>

#include "ladder_layout.h"

#define TIME_W   10 /* "  7.204000" */
#define MARGIN_W 14 /* "[SYN_RECEIVED]" */

typedef struct glyphs {
    uint32_t vert, gap, tee_l, tee_r, horiz, dn_r, up_r, dn_l, up_l, head_r, head_l, lost, dots;
} glyphs;

static const glyphs utf8_glyphs = {0x2502, 0x250A, 0x251C, 0x2524, 0x2500, 0x256E, 0x2570,
                                   0x256D, 0x256F, 0x25B6, 0x25C0, 0x2715, 0x2026};
static const glyphs ascii_glyphs = {'|', ':', '|', '|', '-', '+', '+', '+', '+', '>', '<', 'X', 0};

typedef struct canvas {
    uint32_t *c;
    int w, h;
    const glyphs *g;
    bool ascii;
} canvas;

static void put(canvas *cv, int row, int col, uint32_t ch)
{
    if (row >= 0 && row < cv->h && col >= 0 && col < cv->w) cv->c[row * cv->w + col] = ch;
}

/* Decode UTF-8 into code points (invalid bytes become '?'); returns the count. */
static int decode(const char *s, uint32_t *out, int max, bool ascii)
{
    int n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < max) {
        uint32_t ch = *p++;
        int more = ch >= 0xF0 ? 3 : ch >= 0xE0 ? 2 : ch >= 0xC0 ? 1 : 0;
        if (ch >= 0x80 && ch < 0xC0)
            ch = '?';
        else if (more)
            ch &= 0x3F >> more;
        for (; more && (*p & 0xC0) == 0x80; more--) ch = ch << 6 | (*p++ & 0x3F);
        if (more) ch = '?';
        out[n++] = ascii && ch >= 0x80 ? '?' : ch;
    }
    return n;
}

/* Write s at (row, col): align 0 left from col, 1 right ending at col, 2 centred on col;
 * at most max columns, cut with an ellipsis; pad puts a blank either side. */
static void text_at(canvas *cv, int row, int col, const char *s, int align, int max, bool pad)
{
    uint32_t buf[512];
    int n = decode(s, buf, 510, cv->ascii);
    if (pad && max > 2) max -= 2;
    if (n > max) {
        n = max > 0 ? max : 0;
        if (n >= 3) {
            if (cv->ascii)
                buf[n - 3] = buf[n - 2] = buf[n - 1] = '.';
            else
                buf[n - 1] = cv->g->dots;
        }
    }
    int x = align == 0 ? col : align == 1 ? col - n + 1 : col - n / 2;
    if (pad) put(cv, row, x - 1, ' '), put(cv, row, x + n, ' ');
    for (int i = 0; i < n; i++) put(cv, row, x + i, buf[i]);
}

/* An arrow from (ra, xs) to (rb, xe) as a staircase: one horizontal run per row, turned
 * down at the end of each run; the last cell is the head (or the cross of a loss). */
static void arrow(canvas *cv, int ra, int rb, int xs, int xe, uint32_t head)
{
    const glyphs *g = cv->g;
    int n = rb - ra, dir = xe >= xs ? 1 : -1;
    int s = xs;
    for (int k = 0; k <= n; k++) {
        int b = k < n ? xs + (xe - xs) * (k + 1) / (n + 1) : xe;
        int row = ra + k;
        for (int x = s; x != b + dir; x += dir) put(cv, row, x, g->horiz);
        if (k > 0) put(cv, row, s, dir > 0 ? g->up_r : g->up_l);
        if (k < n) put(cv, row, b, k > 0 && b == s ? g->vert : dir > 0 ? g->dn_r : g->dn_l);
        s = b;
    }
    put(cv, rb, xe, head);
}

static void draw_lifelines(canvas *cv, const ts_layout *L, int xl, int xr)
{
    for (int r = 0; r < L->nrows; r++) {
        uint32_t ch = L->rows[r].gap >= 0 ? cv->g->gap : cv->g->vert;
        put(cv, r, xl, ch);
        put(cv, r, xr, ch);
    }
}

static void draw_times(canvas *cv, const ts_layout *L, ts_time_t t0)
{
    for (int r = 0; r < L->nrows; r++) {
        if (!L->rows[r].tick) continue;
        ts_time_t t = L->rows[r].t - t0;
        char b[32];
        snprintf(b, sizeof b, "%llu.%06llu", (unsigned long long)(t / TS_SEC),
                 (unsigned long long)(t % TS_SEC));
        text_at(cv, r, TIME_W - 1, b, 1, TIME_W, false);
    }
}

static void draw_gaps(canvas *cv, const ts_layout *L, int xl, int xr)
{
    for (size_t i = 0; i < L->ngaps; i++) {
        const ts_lgap *gp = &L->gaps[i];
        char d[24], b[48];
        ts_ladder_dur(gp->dt, d, sizeof d);
        snprintf(b, sizeof b, cv->ascii ? "... %s ..." : "\u2026 %s \u2026", d);
        text_at(cv, gp->row0 + gp->nrows / 2, (xl + xr) / 2, b, 2, xr - xl - 3, false);
    }
}

static void draw_segs(canvas *cv, const ts_layout *L, int xl, int xr)
{
    const glyphs *g = cv->g;
    for (size_t i = 0; i < L->nsegs; i++) {
        const ts_lseg *ls = &L->segs[i];
        bool right = ls->seg->from == 0;
        int xs = right ? xl + 1 : xr - 1, xe = right ? xr - 1 : xl + 1;
        if (ls->lost) xe = (xl + xr) / 2;
        arrow(cv, ls->row_send, ls->row_recv, xs, xe,
              ls->lost ? g->lost
              : right  ? g->head_r
                       : g->head_l);
        put(cv, ls->row_send, right ? xl : xr, right ? g->tee_l : g->tee_r);
    }
    /* Labels after every arrow, so a label stays whole where another arrow crosses. */
    int mid = (xl + xr) / 2, room = xr - xl - 3;
    for (size_t i = 0; i < L->nsegs; i++) {
        const ts_lseg *ls = &L->segs[i];
        char rows[2][2 * TS_LLABEL_MAX + 80];
        ts_ladder_label_rows(L, ls, rows);
        for (int k = 0; k < ls->nlabel; k++)
            text_at(cv, ls->row_label + k, mid, rows[k], 2, room, true);
    }
}

static void draw_notes(canvas *cv, const ts_layout *L, int xl, int xr)
{
    for (size_t i = 0; i < L->nnotes; i++) {
        const ts_lnote *nt = &L->notes[i];
        if (nt->kind == TS_LNOTE_STATE) {
            if (nt->end == 0)
                text_at(cv, nt->row, xl - 2, nt->text, 1, MARGIN_W, false);
            else
                text_at(cv, nt->row, xr + 2, nt->text, 0, MARGIN_W, false);
        } else {
            int room = xr - xl - 4;
            if (nt->end == 0)
                text_at(cv, nt->row, xl + 2, nt->text, 0, room, false);
            else
                text_at(cv, nt->row, xr - 2, nt->text, 1, room, false);
        }
    }
}

static void put_utf8(FILE *f, uint32_t ch)
{
    if (ch < 0x80)
        fputc((int)ch, f);
    else if (ch < 0x800)
        fputc(0xC0 | (int)(ch >> 6), f), fputc(0x80 | (int)(ch & 0x3F), f);
    else
        fputc(0xE0 | (int)(ch >> 12), f), fputc(0x80 | (int)((ch >> 6) & 0x3F), f),
            fputc(0x80 | (int)(ch & 0x3F), f);
}

static void emit(FILE *f, const canvas *cv)
{
    for (int r = 0; r < cv->h; r++) {
        const uint32_t *row = cv->c + r * cv->w;
        int n = cv->w;
        while (n > 0 && row[n - 1] == ' ') n--;
        for (int i = 0; i < n; i++) put_utf8(f, row[i]);
        fputc('\n', f);
    }
}

static int new_canvas(canvas *cv, int h, int w, bool ascii)
{
    cv->w = w;
    cv->h = h;
    cv->ascii = ascii;
    cv->g = ascii ? &ascii_glyphs : &utf8_glyphs;
    cv->c = malloc((size_t)(h ? h : 1) * (size_t)w * sizeof *cv->c);
    if (!cv->c) return -1;
    for (int i = 0; i < h * w; i++) cv->c[i] = ' ';
    return 0;
}

/* The title, the ends' addresses and names above their lifelines. */
static int header(FILE *f, const ts_layout *L, int w, int xl, int xr)
{
    canvas cv;
    if (new_canvas(&cv, 4, w, L->o.ascii)) return -1;
    text_at(&cv, 0, 0, L->title, 0, w, false);
    for (int e = 0; e < 2; e++) {
        int x = e ? xr : xl;
        text_at(&cv, 2, x, L->addr[e], 2, e ? w - xr + 8 : 2 * xl, false);
        text_at(&cv, 3, x, L->v->end[e].name, 2, 2 * MARGIN_W, false);
    }
    text_at(&cv, 3, TIME_W - 1, "time (s)", 1, TIME_W, false);
    emit(f, &cv);
    free(cv.c);
    return 0;
}

static void legend(FILE *f, const ts_layout *L)
{
    bool a = L->o.ascii;
    fputc('\n', f);
    if (L->ngaps)
        fprintf(f, "  %s  idle time, compressed; the label says how long\n",
                a ? ": ... 1 s ..." : "\u250A \u2026 1 s \u2026");
    if (L->any_lost) fprintf(f, "  %s  a segment lost on the way\n", a ? "X" : "\u2715");
    if (L->any_rexmit) fprintf(f, "  (...)  a retransmission, its cause and the time it waited\n");
    if (L->any_inferred) fprintf(f, "  [STATE]  a state inferred from the segments\n");
    fprintf(f, "  seq/ack %s\n",
            L->o.relative ? "relative to each end's ISN" : "absolute, as on the wire");
}

int ts_ladder_text(const ts_layout *L, FILE *f)
{
    int w = (int)L->o.width;
    int xl = TIME_W + 1 + MARGIN_W + 1, xr = w - MARGIN_W - 2;
    canvas cv;
    if (header(f, L, w, xl, xr) || new_canvas(&cv, L->nrows, w, L->o.ascii)) return -1;
    ts_time_t t0 = L->v->nsegs ? L->v->segs[0].t_send : 0;
    if (L->v->nstates && L->v->states[0].t < t0) t0 = L->v->states[0].t;
    draw_lifelines(&cv, L, xl, xr);
    draw_times(&cv, L, t0);
    draw_gaps(&cv, L, xl, xr);
    draw_segs(&cv, L, xl, xr);
    draw_notes(&cv, L, xl, xr);
    emit(f, &cv);
    free(cv.c);
    legend(f, L);
    return 0;
}
