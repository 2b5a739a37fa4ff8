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
    uint32_t dense, dtee_l, dtee_r; /* a compact segment's shaft and its start */
} glyphs;

static const glyphs utf8_glyphs = {0x2502, 0x250A, 0x251C, 0x2524, 0x2500, 0x256E, 0x2570, 0x256D,
                                   0x256F, 0x25B6, 0x25C0, 0x2715, 0x2026, 0x2550, 0x255E, 0x2561};
static const glyphs ascii_glyphs = {'|', ':', '|', '|', '-', '+', '+', '+',
                                    '+', '>', '<', 'X', 0,   '=', '|', '|'};

/* A window of h rows of the picture, from row base on: the picture is drawn a window at a
 * time, so a 100,000-segment capture needs no grid of its full height. */
typedef struct canvas {
    uint32_t *c;
    int w, h, base;
    const glyphs *g;
    bool ascii;
} canvas;

static void put(canvas *cv, int row, int col, uint32_t ch)
{
    row -= cv->base;
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
static int fit(const canvas *cv, const char *s, uint32_t buf[512], int max);

static void text_at(canvas *cv, int row, int col, const char *s, int align, int max, bool pad)
{
    uint32_t buf[512];
    if (pad && max > 2) max -= 2;
    int n = fit(cv, s, buf, max);
    int x = align == 0 ? col : align == 1 ? col - n + 1 : col - n / 2;
    if (pad) put(cv, row, x - 1, ' '), put(cv, row, x + n, ' ');
    for (int i = 0; i < n; i++) put(cv, row, x + i, buf[i]);
}

/* s decoded into buf, at most max columns, cut with an ellipsis; returns the columns. */
static int fit(const canvas *cv, const char *s, uint32_t buf[512], int max)
{
    int n = decode(s, buf, 510, cv->ascii);
    if (n > max) {
        n = max > 0 ? max : 0;
        if (n >= 3) {
            if (cv->ascii)
                buf[n - 3] = buf[n - 2] = buf[n - 1] = '.';
            else
                buf[n - 1] = cv->g->dots;
        }
    }
    return n;
}

/* An arrow from (ra, xs) to (rb, xe) as a staircase: one horizontal run per row, turned
 * down at the end of each run; the last cell is the head (or the cross of a loss). */
static void arrow(canvas *cv, int ra, int rb, int xs, int xe, uint32_t head)
{
    const glyphs *g = cv->g;
    int n = rb - ra, dir = xe >= xs ? 1 : -1;
    /* Only the rows inside the window: a long flight crosses many windows. */
    int k0 = cv->base > ra ? cv->base - ra : 0, k1 = cv->base + cv->h - 1 - ra;
    if (k1 > n) k1 = n;
    for (int k = k0; k <= k1; k++) {
        int s = k > 0 ? xs + (xe - xs) * k / (n + 1) : xs;
        int b = k < n ? xs + (xe - xs) * (k + 1) / (n + 1) : xe;
        int row = ra + k;
        for (int x = s; x != b + dir; x += dir) put(cv, row, x, g->horiz);
        if (k > 0) put(cv, row, s, dir > 0 ? g->up_r : g->up_l);
        if (k < n) put(cv, row, b, k > 0 && b == s ? g->vert : dir > 0 ? g->dn_r : g->dn_l);
    }
    put(cv, rb, xe, head);
}

static int win_end(const canvas *cv, const ts_layout *L)
{
    return cv->base + cv->h < L->nrows ? cv->base + cv->h : L->nrows;
}

static void draw_lifelines(canvas *cv, const ts_layout *L, int xl, int xr)
{
    for (int r = cv->base; r < win_end(cv, L); r++) {
        uint32_t ch = L->rows[r].gap >= 0 ? cv->g->gap : cv->g->vert;
        put(cv, r, xl, ch);
        put(cv, r, xr, ch);
    }
}

static void draw_times(canvas *cv, const ts_layout *L, ts_time_t t0)
{
    for (int r = cv->base; r < win_end(cv, L); r++) {
        if (!L->rows[r].tick) continue;
        ts_time_t t = L->rows[r].t - t0;
        char b[32];
        snprintf(b, sizeof b, "%llu.%06llu", (unsigned long long)(t / TS_SEC),
                 (unsigned long long)(t % TS_SEC));
        text_at(cv, r, TIME_W - 1, b, 1, TIME_W, false);
    }
}

/* Where each kind of thing starts to matter for the current window. Segments reach over
 * rows (an arrow in flight crosses windows), so those that may still reach the window are
 * kept in a list: each window looks only at them and the ones that start in it, never at
 * every segment since the longest arrow began. */
typedef struct cursor {
    size_t seg, note, gap; /* seg: the first segment not yet taken into live */
    size_t *live, nlive, caplive;
} cursor;

/* The last row a segment draws on: its arrow's end or its last label row. */
static int seg_bottom(const ts_lseg *ls)
{
    int b = ls->row_recv > ls->row_send ? ls->row_recv : ls->row_send;
    return b > ls->row_label + ls->nlabel - 1 ? b : ls->row_label + ls->nlabel - 1;
}

/* The segments that draw in this window, in order: 0, or -1 out of memory. */
static int live_update(canvas *cv, const ts_layout *L, cursor *cu)
{
    size_t k = 0;
    for (size_t i = 0; i < cu->nlive; i++)
        if (seg_bottom(&L->segs[cu->live[i]]) >= cv->base) cu->live[k++] = cu->live[i];
    cu->nlive = k;
    for (; cu->seg < L->nsegs && L->segs[cu->seg].row_label < cv->base + cv->h; cu->seg++) {
        if (seg_bottom(&L->segs[cu->seg]) < cv->base) continue;
        if (cu->nlive == cu->caplive) {
            size_t nc = cu->caplive ? 2 * cu->caplive : 256;
            size_t *p = realloc(cu->live, nc * sizeof *p);
            if (!p) return -1;
            cu->live = p;
            cu->caplive = nc;
        }
        cu->live[cu->nlive++] = cu->seg;
    }
    return 0;
}

static void draw_gaps(canvas *cv, const ts_layout *L, cursor *cu, int xl, int xr)
{
    while (cu->gap < L->ngaps && L->gaps[cu->gap].row0 + L->gaps[cu->gap].nrows <= cv->base)
        cu->gap++;
    for (size_t i = cu->gap; i < L->ngaps && L->gaps[i].row0 < cv->base + cv->h; i++) {
        const ts_lgap *gp = &L->gaps[i];
        char d[24], b[48];
        ts_ladder_dur(gp->dt, d, sizeof d);
        snprintf(b, sizeof b, cv->ascii ? "... %s ..." : "\u2026 %s \u2026", d);
        text_at(cv, gp->row0 + gp->nrows / 2, (xl + xr) / 2, b, 2, xr - xl - 3, false);
    }
}

/* A compact segment (too dense to slope): one row, its label inside a double shaft
 * that ends in the head at the far lifeline, or a loss's cross just after the label;
 * a retransmission's cause on the row below:
 *   ╞═ . seq 1:1449 ack 1 len 1448 ══════▶│    │◀══════ . ack 1449 ═╡ */
static void draw_compact(canvas *cv, const ts_layout *L, const ts_lseg *ls, int xl, int xr)
{
    const glyphs *g = cv->g;
    char m[TS_LLABEL_MAX], o[TS_LLABEL_MAX], c[64], label[2 * TS_LLABEL_MAX + 2];
    uint32_t buf[512];
    ts_ladder_seg_text(L, ls, m, o, c);
    snprintf(label, sizeof label, "%s%s%s", m, o[0] ? " " : "", o);
    int n = fit(cv, label, buf, xr - xl - 7), row = ls->row_send;
    bool right = ls->seg->from == 0;
    int dir = right ? 1 : -1, x0 = right ? xl : xr, x1 = right ? xr : xl;
    int end = ls->lost ? x0 + dir * (n + 5) : x1 - dir; /* the head or the cross */
    for (int x = x0 + dir; x != end; x += dir) put(cv, row, x, g->dense);
    put(cv, row, x0, right ? g->dtee_l : g->dtee_r);
    put(cv, row, end, ls->lost ? g->lost : right ? g->head_r : g->head_l);
    if (ls->lost)
        for (int x = end + dir; x != x1; x += dir) put(cv, row, x, ' ');
    int lx = right ? x0 + 3 : x0 - 2 - n; /* the label, a blank either side */
    put(cv, row, lx - 1, ' ');
    put(cv, row, lx + n, ' ');
    for (int i = 0; i < n; i++) put(cv, row, lx + i, buf[i]);
    if (ls->nlabel > 1) text_at(cv, row + 1, (xl + xr) / 2, c, 2, xr - xl - 3, true);
}

static void draw_segs(canvas *cv, const ts_layout *L, const cursor *cu, int xl, int xr)
{
    const glyphs *g = cv->g;
    for (size_t k = 0; k < cu->nlive; k++) {
        const ts_lseg *ls = &L->segs[cu->live[k]];
        if (ls->compact) continue;
        bool right = ls->seg->from == 0;
        int xs = right ? xl + 1 : xr - 1, xe = right ? xr - 1 : xl + 1;
        if (ls->lost) xe = (xl + xr) / 2;
        arrow(cv, ls->row_send, ls->row_recv, xs, xe,
              ls->lost ? g->lost
              : right  ? g->head_r
                       : g->head_l);
        put(cv, ls->row_send, right ? xl : xr, right ? g->tee_l : g->tee_r);
    }
    /* Labels after every arrow, so a label stays whole where another arrow crosses; made
     * only for the labels this window shows. */
    int mid = (xl + xr) / 2, room = xr - xl - 3;
    for (size_t k = 0; k < cu->nlive; k++) {
        const ts_lseg *ls = &L->segs[cu->live[k]];
        if (ls->row_label + ls->nlabel <= cv->base || ls->row_label >= cv->base + cv->h) continue;
        if (ls->compact) {
            draw_compact(cv, L, ls, xl, xr);
            continue;
        }
        char rows[2][TS_LROW_MAX];
        ts_ladder_label_rows(L, ls, rows);
        for (int i = 0; i < ls->nlabel; i++)
            text_at(cv, ls->row_label + i, mid, rows[i], 2, room, true);
    }
    /* A loss's cross last of all: where segments leave together the next one's label
     * stands on the row a lost arrow ends on. */
    for (size_t k = 0; k < cu->nlive; k++)
        if (L->segs[cu->live[k]].lost && !L->segs[cu->live[k]].compact)
            put(cv, L->segs[cu->live[k]].row_recv, mid, g->lost);
}

static void draw_notes(canvas *cv, const ts_layout *L, cursor *cu, int xl, int xr)
{
    while (cu->note < L->nnotes && L->notes[cu->note].row < cv->base) cu->note++;
    for (size_t i = cu->note; i < L->nnotes && L->notes[i].row < cv->base + cv->h; i++) {
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

/* Encode ch into p; returns the bytes written (1 to 3: the grid holds no more). */
static size_t utf8(char *p, uint32_t ch)
{
    if (ch < 0x80) return (size_t)(*p = (char)ch, 1);
    if (ch < 0x800) {
        p[0] = (char)(0xC0 | (ch >> 6));
        p[1] = (char)(0x80 | (ch & 0x3F));
        return 2;
    }
    if (ch > 0xFFFF) ch = 0xFFFD;
    p[0] = (char)(0xE0 | (ch >> 12));
    p[1] = (char)(0x80 | ((ch >> 6) & 0x3F));
    p[2] = (char)(0x80 | (ch & 0x3F));
    return 3;
}

static void emit(FILE *f, const canvas *cv, int rows)
{
    char line[3 * 400 + 2];
    for (int r = 0; r < rows; r++) {
        const uint32_t *row = cv->c + r * cv->w;
        int n = cv->w;
        while (n > 0 && row[n - 1] == ' ') n--;
        size_t k = 0;
        for (int i = 0; i < n; i++) k += utf8(line + k, row[i]);
        line[k++] = '\n';
        fwrite(line, 1, k, f);
    }
}

static int new_canvas(canvas *cv, int h, int w, bool ascii)
{
    cv->w = w;
    cv->h = h;
    cv->ascii = ascii;
    cv->g = ascii ? &ascii_glyphs : &utf8_glyphs;
    cv->base = 0;
    cv->c = malloc((size_t)(h ? h : 1) * (size_t)w * sizeof *cv->c);
    if (!cv->c) return -1;
    for (int i = 0; i < h * w; i++) cv->c[i] = ' ';
    return 0;
}

/* The title, the ends' addresses and names above their lifelines. */
static int header(FILE *f, const ts_layout *L, int w, int xl, int xr)
{
    canvas cv;
    int d = L->ncompact ? 1 : 0; /* a line saying the drawing is thinned */
    if (new_canvas(&cv, 4 + d, w, L->o.ascii)) return -1;
    text_at(&cv, 0, 0, L->title, 0, w, false);
    if (d) {
        char b[160];
        snprintf(b, sizeof b,
                 "%s %zu of %zu segments one row each: sent while more than %d were in flight",
                 L->o.ascii ? "=>" : "\u2550\u25B6", L->ncompact, L->nsegs, L->dense_max);
        text_at(&cv, 1, 0, b, 0, w, false);
    }
    for (int e = 0; e < 2; e++) {
        int x = e ? xr : xl;
        text_at(&cv, 2 + d, x, L->addr[e], 2, e ? w - xr + 8 : 2 * xl, false);
        text_at(&cv, 3 + d, x, L->v->end[e].name, 2, 2 * MARGIN_W, false);
    }
    text_at(&cv, 3 + d, TIME_W - 1, "time (s)", 1, TIME_W, false);
    emit(f, &cv, cv.h);
    free(cv.c);
    return 0;
}

/* A sentence (the source's note on its times) over lines of at most w columns, indented. */
static void wrap(FILE *f, const char *s, int w, bool ascii)
{
    uint32_t buf[1024];
    int n = decode(s, buf, 1024, ascii), i = 0;
    while (i < n) {
        int end = i + w - 2 < n ? i + w - 2 : n;
        if (end < n) { /* break at the last blank that fits */
            int b = end;
            while (b > i && buf[b] != ' ') b--;
            if (b > i) end = b;
        }
        char line[4 * 1024];
        size_t k = 0;
        for (int j = i; j < end; j++) k += utf8(line + k, buf[j]);
        fprintf(f, "  %.*s\n", (int)k, line);
        i = end;
        while (i < n && buf[i] == ' ') i++;
    }
}

static void legend(FILE *f, const ts_layout *L)
{
    bool a = L->o.ascii;
    fputc('\n', f);
    if (L->ngaps)
        fprintf(f, "  %s  idle time, compressed; the label says how long\n",
                a ? ": ... 1 s ..." : "\u250A \u2026 1 s \u2026");
    if (L->ncompact)
        fprintf(f,
                "  %s  sent while more than %d segments were in flight: too many arrows to slope\n"
                "      apart in %u columns, so one row each, the arrival not drawn\n",
                a ? "=>" : "\u2550\u25B6", L->dense_max, L->o.width);
    if (L->any_lost) fprintf(f, "  %s  a segment lost on the way\n", a ? "X" : "\u2715");
    if (L->any_rexmit) fprintf(f, "  (...)  a retransmission, its cause and the time it waited\n");
    if (L->any_inferred) fprintf(f, "  [STATE]  a state inferred from the segments\n");
    fprintf(f, "  seq/ack %s\n",
            L->o.relative ? "relative to each end's ISN" : "absolute, as on the wire");
    if (L->v->note) wrap(f, L->v->note, (int)L->o.width - 2, a);
}

#define WINDOW 512 /* rows drawn at a time */

int ts_ladder_text(const ts_layout *L, FILE *f)
{
    int w = (int)L->o.width;
    int xl = TIME_W + 1 + MARGIN_W + 1, xr = w - MARGIN_W - 2;
    canvas cv;
    if (header(f, L, w, xl, xr) ||
        new_canvas(&cv, L->nrows < WINDOW ? L->nrows : WINDOW, w, L->o.ascii))
        return -1;
    ts_time_t t0 = L->v->nsegs ? L->v->segs[0].t_send : 0;
    if (L->v->nstates && L->v->states[0].t < t0) t0 = L->v->states[0].t;
    cursor cu;
    memset(&cu, 0, sizeof cu);
    int rc = 0;
    for (cv.base = 0; cv.base < L->nrows && !rc; cv.base += cv.h) {
        for (int i = 0; i < cv.h * w; i++) cv.c[i] = ' ';
        if (live_update(&cv, L, &cu) < 0) {
            rc = -1;
            break;
        }
        draw_lifelines(&cv, L, xl, xr);
        draw_times(&cv, L, t0);
        draw_gaps(&cv, L, &cu, xl, xr);
        draw_segs(&cv, L, &cu, xl, xr);
        draw_notes(&cv, L, &cu, xl, xr);
        emit(f, &cv, win_end(&cv, L) - cv.base);
    }
    free(cv.c);
    free(cu.live);
    if (rc) return -1;
    legend(f, L);
    return ferror(f) ? -1 : 0;
}
