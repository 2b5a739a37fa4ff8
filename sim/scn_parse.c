/* sim/scn_parse.c: the scenario language parser (docs/scenarios.md). Line oriented: every
 * line is one directive; the first mistake stops the parse with "FILE:LINE: message". */
#include "scn.h"
#include "tcpsim/socket.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 128

typedef struct token {
    char *s; /* NUL-terminated (quoted strings may also hold NULs: see len) */
    size_t len;
    bool quoted;  /* "..." with escapes decoded */
    bool bracket; /* [...] kept whole, brackets stripped */
} token;

typedef struct parser {
    ts_scn *s;
    const ts_scn_parse_opts *o;
    const char *file;
    unsigned line;
    char *err;
    size_t errlen;
    ts_time_t last_at;
    token tok[MAX_TOKENS];
    size_t ntok;
    char *arena; /* decoded tokens of the current line */
    size_t arena_len;
    const char *src_line; /* the current line's text, for expectations */
    size_t src_len;
    struct scn_param *params; /* `param NAME DEFAULT` lines seen so far */
    size_t nparams;
    bool *def_used; /* per opts->defs entry: a `param` line took it */
    char *xbuf;     /* the current line with ${NAME} expanded */
    size_t xcap;
} parser;

/* A scenario parameter: `param NAME DEFAULT`, its value (-D or the default) and whether
 * any ${NAME} used it. */
typedef struct scn_param {
    char *name, *value;
    unsigned line;
    bool used;
} scn_param;

__attribute__((format(printf, 2, 3))) static int perr(parser *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages quote the file's words, and a quoted word may hold a newline ("\n"): the
     * error is one line, so control characters show as '?'. */
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    snprintf(p->err, p->errlen, "%s:%u: %s", p->file, p->line, msg);
    return -1;
}

/* ---- tokenizer ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Split one line into tokens: words, "quoted strings" (C escapes \r \n \t \\ \" \xHH) and
 * [bracketed groups]. '#' at the start of a word begins a comment. */
static int tokenize(parser *p, const char *line, size_t len)
{
    p->ntok = 0;
    free(p->arena);
    p->arena = malloc(len * 2 + 2);
    if (!p->arena) return perr(p, "out of memory");
    char *out = p->arena;
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)line[i])) i++;
        if (i >= len) break;
        if (line[i] == '#') {
            /* The expectation's text shown in the report stops before the comment. */
            if (line + i >= p->src_line && (size_t)(line + i - p->src_line) < p->src_len) {
                p->src_len = (size_t)(line + i - p->src_line);
                while (p->src_len && isspace((unsigned char)p->src_line[p->src_len - 1]))
                    p->src_len--;
            }
            break;
        }
        if (p->ntok == MAX_TOKENS)
            return perr(p, "too many words on one line (max %d)", MAX_TOKENS);
        token *t = &p->tok[p->ntok++];
        t->s = out;
        t->quoted = t->bracket = false;
        if (line[i] == '"') {
            t->quoted = true;
            i++;
            for (;;) {
                if (i >= len) return perr(p, "unterminated string: add the closing '\"'");
                char c = line[i++];
                if (c == '"') break;
                if (c == '\\') {
                    if (i >= len) return perr(p, "unterminated string: add the closing '\"'");
                    char e = line[i++];
                    switch (e) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case '0': c = '\0'; break;
                    case '\\': c = '\\'; break;
                    case '"': c = '"'; break;
                    case 'x': {
                        int h1 = i < len ? hexval(line[i]) : -1;
                        int h2 = i + 1 < len ? hexval(line[i + 1]) : -1;
                        if (h1 < 0 || h2 < 0)
                            return perr(p, "bad escape in string: \\x needs two hex digits");
                        c = (char)(h1 * 16 + h2);
                        i += 2;
                        break;
                    }
                    default:
                        return perr(p,
                                    "unknown escape '\\%c' in string; use \\r \\n \\t \\\\ "
                                    "\\\" or \\xHH",
                                    e);
                    }
                }
                *out++ = c;
            }
            if (i < len && !isspace((unsigned char)line[i]))
                return perr(p, "text right after a closing '\"': put a space after the string");
        } else if (line[i] == '[') {
            t->bracket = true;
            i++;
            while (i < len && line[i] != ']') *out++ = line[i++];
            if (i >= len) return perr(p, "unclosed '[': add the closing ']'");
            i++;
        } else {
            while (i < len && !isspace((unsigned char)line[i])) *out++ = line[i++];
        }
        t->len = (size_t)(out - t->s);
        *out++ = '\0';
    }
    return 0;
}

/* ---- small value parsers ---- */

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0])) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno) return -1;
    *out = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) < 0 || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) < 0 || v == 0 || v > 65535) return -1;
    *out = (uint16_t)v;
    return 0;
}

/* A byte count: 1000, 64KB, 100MB, 1GiB (KB/MB/GB powers of 1000, KiB/MiB/GiB of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0])) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return -1;
    static const struct {
        const char *suf;
        uint64_t mult;
    } sufs[] = {{"", 1},           {"B", 1},           {"KB", 1000},   {"kB", 1000},
                {"MB", 1000000},   {"GB", 1000000000}, {"KiB", 1024},  {"MiB", 1u << 20},
                {"GiB", 1u << 30}, {"k", 1000},        {"M", 1000000}, {"G", 1000000000}};
    for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++) {
        if (!strcmp(end, sufs[i].suf)) {
            if (v > UINT64_MAX / sufs[i].mult) return -1;
            *out = v * sufs[i].mult;
            return 0;
        }
    }
    return -1;
}

static int parse_time(parser *p, const char *s, ts_time_t *out, const char *what)
{
    if (ts_duration_parse(s, out) < 0)
        return perr(p, "bad %s '%s'; write a duration such as 0s, 1.5s, 200ms or 40us", what, s);
    return 0;
}

/* "T", "T±TOL" or "T+-TOL" */
static int parse_time_tol(parser *p, const char *s, ts_time_t *t, ts_time_t *tol)
{
    char buf[64];
    if (strlen(s) >= sizeof buf) return perr(p, "bad time '%s'", s);
    strcpy(buf, s);
    char *pm = strstr(buf, "\xc2\xb1"); /* U+00B1 in UTF-8 */
    size_t skip = 2;
    if (!pm) {
        pm = strstr(buf, "+-");
        skip = 2;
    }
    *tol = 0;
    if (pm) {
        *pm = '\0';
        if (parse_time(p, pm + skip, tol, "tolerance") < 0) return -1;
    }
    return parse_time(p, buf, t, "time");
}

static const struct {
    const char *name;
    int err;
} errnos[] = {
    {"ok", 0},
    {"ETIMEDOUT", -ETIMEDOUT},
    {"ECONNREFUSED", -ECONNREFUSED},
    {"ECONNRESET", -ECONNRESET},
    {"ECONNABORTED", -ECONNABORTED},
    {"EPIPE", -EPIPE},
    {"ENOTCONN", -ENOTCONN},
    {"EHOSTUNREACH", -EHOSTUNREACH},
    {"ENETUNREACH", -ENETUNREACH},
    {"EADDRINUSE", -EADDRINUSE},
    {"EADDRNOTAVAIL", -EADDRNOTAVAIL},
    {"EAGAIN", -EAGAIN},
    {"EINVAL", -EINVAL},
    {"EMFILE", -EMFILE},
    {"ENOMEM", -ENOMEM},
    {"EINPROGRESS", -EINPROGRESS},
    {"EISCONN", -EISCONN},
    {"EALREADY", -EALREADY},
    {"EBADF", -EBADF},
    {"EOPNOTSUPP", -EOPNOTSUPP},
};

int ts_scn_errno_parse(const char *name, int *err)
{
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (!strcasecmp(name, errnos[i].name)) {
            *err = errnos[i].err;
            return 0;
        }
    return -1;
}

const char *ts_scn_errno_name(int err)
{
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (errnos[i].err == err) return errnos[i].name;
    return "E?";
}

/* ---- counters and comparison operators ---- */

#define C(f)                                                                                       \
    {                                                                                              \
#f, offsetof(ts_counters, f)                                                               \
    }
static const struct {
    const char *name;
    size_t off;
} counters[] = {
    C(ip_in),
    C(ip_out),
    C(icmp_echo_in),
    C(icmp_echo_out),
    C(tcp_in),
    C(tcp_out),
    C(tcp_bytes_in),
    C(tcp_bytes_out),
    C(tcp_retransmits),
    C(tcp_rto_timeouts),
    C(tcp_fast_retransmits),
    C(tcp_syn_retransmits),
    C(tcp_rst_out),
    C(tcp_rst_in),
    C(tcp_challenge_acks),
    C(tcp_oow_ratelimited),
    C(tcp_delayed_acks),
    C(tcp_spurious_rto_undo),
    C(tcp_loss_undo),
    C(tcp_full_undo),
    C(tcp_dsack_undo),
    C(tcp_dsack_in),
    C(tcp_conn_opened),
    C(tcp_conn_accepted),
    C(tcp_conn_failed),
    C(tcp_syncookies_sent),
    C(tcp_syncookies_ok),
    C(tcp_syncookies_failed),
    C(checksum_errors),
    C(mem_ring_bytes),
    C(mem_ring_peak),
    C(mem_rings),
    C(mem_conn_bytes),
    C(tw_blocks),
    C(tw_bytes),
    C(req_blocks),
    C(req_bytes),
    C(mem_cap_hits),
    C(mem_alloc_failed),
};
#undef C
#define NCOUNTERS (sizeof counters / sizeof counters[0])

size_t ts_scn_counter_count(void)
{
    return NCOUNTERS + TS_DROP_NUM_REASONS;
}

const char *ts_scn_counter_name(size_t i)
{
    static char names[TS_DROP_NUM_REASONS][48];
    if (i < NCOUNTERS) return counters[i].name;
    i -= NCOUNTERS;
    if (i >= TS_DROP_NUM_REASONS) return NULL;
    if (!names[i][0])
        snprintf(names[i], sizeof names[i], "drop.%s", ts_drop_reason_name((ts_drop_reason)i));
    return names[i];
}

int ts_scn_counter_find(const char *name, size_t *idx)
{
    for (size_t i = 0; i < ts_scn_counter_count(); i++)
        if (!strcmp(name, ts_scn_counter_name(i))) {
            *idx = i;
            return 0;
        }
    return -1;
}

uint64_t ts_scn_counter_value(const ts_counters *c, size_t idx)
{
    if (idx < NCOUNTERS) return *(const uint64_t *)((const char *)c + counters[idx].off);
    idx -= NCOUNTERS;
    return idx < TS_DROP_NUM_REASONS ? c->drops[idx] : 0;
}

static const char *const link_stats[] = {"packets",     "delivered",      "lost",
                                         "queue-drops", "scripted-drops", "dups",
                                         "corrupted",   "held",           "max-queue"};

int ts_scn_link_stat_find(const char *name, size_t *idx)
{
    for (size_t i = 0; i < sizeof link_stats / sizeof link_stats[0]; i++)
        if (!strcmp(name, link_stats[i])) {
            *idx = i;
            return 0;
        }
    return -1;
}

const char *ts_scn_link_stat_name(size_t idx)
{
    return idx < sizeof link_stats / sizeof link_stats[0] ? link_stats[idx] : "?";
}

uint64_t ts_scn_link_stat_value(const ts_link_stats *st, size_t idx)
{
    switch (idx) {
    case 0: return st->packets;
    case 1: return st->delivered;
    case 2: return st->drop_loss;
    case 3: return st->drop_queue;
    case 4: return st->drop_rule;
    case 5: return st->dups;
    case 6: return st->corrupted;
    case 7: return st->held;
    case 8: return st->max_queue;
    }
    return 0;
}

static const char *const op_names[] = {"==", "!=", "<", "<=", ">", ">="};

const char *ts_scn_op_name(ts_scn_op op)
{
    return op_names[op];
}

bool ts_scn_op_eval(ts_scn_op op, uint64_t a, uint64_t b)
{
    switch (op) {
    case TS_OP_EQ: return a == b;
    case TS_OP_NE: return a != b;
    case TS_OP_LT: return a < b;
    case TS_OP_LE: return a <= b;
    case TS_OP_GT: return a > b;
    case TS_OP_GE: return a >= b;
    }
    return false;
}

static int parse_op(const char *s, ts_scn_op *op)
{
    if (!strcmp(s, "=")) {
        *op = TS_OP_EQ;
        return 0;
    }
    for (int i = 0; i < 6; i++)
        if (!strcmp(s, op_names[i])) {
            *op = (ts_scn_op)i;
            return 0;
        }
    return -1;
}

/* ---- scenario building blocks ---- */

static int find_host(const ts_scn *s, const char *name)
{
    for (size_t i = 0; i < s->nhosts; i++)
        if (!strcmp(s->hosts[i].name, name)) return (int)i;
    return -1;
}

static int need_host(parser *p, const char *name)
{
    int h = find_host(p->s, name);
    if (h < 0) {
        if (!name[0]) return perr(p, "a host name is missing");
        return perr(p, "unknown host '%s'; declare it first with 'host %s ADDRESS' or 'peer'", name,
                    name);
    }
    return h;
}

/* "A>B" -> host indices; with allow_nth, "A>B#K" too (nth = 0 when absent). */
static int parse_dir(parser *p, const char *s, int *from, int *to, uint64_t *nth)
{
    char buf[2 * TS_SCN_NAME_MAX + 24];
    if (strlen(s) >= sizeof buf) return perr(p, "bad direction '%s'; write FROM>TO", s);
    strcpy(buf, s);
    char *hash = strchr(buf, '#');
    if (hash) {
        if (!nth) return perr(p, "'%s': a '#N' count is not allowed here", s);
        *hash++ = '\0';
        if (parse_u64(hash, nth) < 0 || *nth == 0)
            return perr(p, "bad count in '%s'; write FROM>TO#N with N = 1, 2, ...", s);
    } else if (nth) {
        *nth = 0;
    }
    char *gt = strchr(buf, '>');
    if (!gt) return perr(p, "bad direction '%s'; write FROM>TO, e.g. client>server", s);
    *gt = '\0';
    int a = need_host(p, buf);
    if (a < 0) return -1;
    int b = need_host(p, gt + 1);
    if (b < 0) return -1;
    if (a == b) return perr(p, "direction '%s' goes from a host to itself", s);
    *from = a;
    *to = b;
    return 0;
}

/* TCP flags as tcpdump prints them: S F R P U E W and '.' for ACK; "any" or "*". */
static int parse_flags(const char *s, bool *any, uint8_t *mask, uint8_t *flags)
{
    if (!strcmp(s, "any") || !strcmp(s, "*")) {
        *any = true;
        *mask = *flags = 0;
        return 0;
    }
    uint8_t f = 0;
    if (!*s) return -1;
    for (const char *c = s; *c; c++) {
        switch (*c) {
        case 'S': f |= TS_TH_SYN; break;
        case 'F': f |= TS_TH_FIN; break;
        case 'R': f |= TS_TH_RST; break;
        case 'P': f |= TS_TH_PSH; break;
        case 'U': f |= TS_TH_URG; break;
        case 'E': f |= TS_TH_ECE; break;
        case 'W': f |= TS_TH_CWR; break;
        case '.': f |= TS_TH_ACK; break;
        default: return -1;
        }
    }
    *any = false;
    /* PSH is compared only when written: "." matches a data segment with or without it. */
    *mask = (uint8_t)(TS_TH_SYN | TS_TH_FIN | TS_TH_RST | TS_TH_ACK | TS_TH_URG | TS_TH_ECE |
                      TS_TH_CWR | (f & TS_TH_PSH));
    *flags = f;
    return 0;
}

static bool looks_like_flags(const token *t)
{
    if (t->quoted) return false;
    bool any;
    uint8_t m, f;
    return parse_flags(t->s, &any, &m, &f) == 0;
}

static ts_scn_dir *get_dir(parser *p, int from, int to)
{
    ts_scn *s = p->s;
    for (size_t i = 0; i < s->ndirs; i++)
        if (s->dirs[i].from == from && s->dirs[i].to == to) return &s->dirs[i];
    ts_scn_dir *n = realloc(s->dirs, (s->ndirs + 2) * sizeof *n);
    if (!n) {
        perr(p, "out of memory");
        return NULL;
    }
    s->dirs = n;
    memset(&n[s->ndirs], 0, 2 * sizeof *n);
    n[s->ndirs].from = from;
    n[s->ndirs].to = to;
    n[s->ndirs + 1].from = to;
    n[s->ndirs + 1].to = from;
    s->ndirs += 2;
    return &n[s->ndirs - 2];
}

static void *grow(void *arr, size_t n, size_t elem)
{
    /* Arrays grow one element at a time; scenario files are small. */
    return realloc(arr, (n + 1) * elem);
}

/* ---- directives ---- */

static int d_seed(parser *p)
{
    if (p->ntok != 2 || parse_u64(p->tok[1].s, &p->s->seed) < 0)
        return perr(p, "write 'seed N' with a number N");
    p->s->has_seed = true;
    return 0;
}

static int d_end(parser *p)
{
    if (p->ntok != 2) return perr(p, "write 'end TIME', e.g. 'end 100s'");
    return parse_time(p, p->tok[1].s, &p->s->end, "end time");
}

static int check_name(parser *p, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= TS_SCN_NAME_MAX || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return perr(p,
                    "bad host name '%s'; use letters, digits, '_' and '-' (max %d), "
                    "starting with a letter",
                    name, TS_SCN_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
            return perr(p, "bad host name '%s'; use letters, digits, '_' and '-'", name);
    if (!strcmp(name, "count") || !strcmp(name, "none") || !strcmp(name, "packets") ||
        !strcmp(name, "link") || !strcmp(name, "end"))
        return perr(p, "'%s' is a keyword; pick another host name", name);
    return 0;
}

static int d_host(parser *p, bool peer)
{
    const char *kw = peer ? "peer" : "host";
    if (p->ntok < 3) return perr(p, "write '%s NAME ADDRESS [KEY=VALUE...]'", kw);
    ts_scn *s = p->s;
    const char *name = p->tok[1].s;
    if (check_name(p, name) < 0) return -1;
    int prev = find_host(s, name);
    if (prev >= 0)
        return perr(p, "host '%s' is already declared on line %u", name, s->hosts[prev].line);
    if (s->nhosts == TS_SCN_MAX_HOSTS) return perr(p, "too many hosts (max %d)", TS_SCN_MAX_HOSTS);
    ts_scn_host h;
    memset(&h, 0, sizeof h);
    strcpy(h.name, name);
    h.peer = peer;
    h.line = p->line;
    h.isn = 1000;
    if (ts_ip4_parse(p->tok[2].s, &h.addr) < 0)
        return perr(p, "bad IPv4 address '%s'; write e.g. 10.0.0.103", p->tok[2].s);
    for (size_t i = 0; i < s->nhosts; i++)
        if (s->hosts[i].addr == h.addr)
            return perr(p, "address %s is already host '%s''s (line %u)", p->tok[2].s,
                        s->hosts[i].name, s->hosts[i].line);
    ts_params_default(&h.params);
    char err[256];
    /* A profile applies first, wherever it is written; other settings go on top of it. */
    for (size_t i = 3; i < p->ntok; i++) {
        if (!strncmp(p->tok[i].s, "profile=", 8)) {
            if (peer) return perr(p, "a scripted peer has no stack, so no profile");
            if (ts_params_profile(&h.params, p->tok[i].s + 8, err, sizeof err) < 0)
                return perr(p, "%s", err);
        }
    }
    for (size_t i = 3; i < p->ntok; i++) {
        const char *kv = p->tok[i].s;
        if (!strncmp(kv, "profile=", 8)) continue;
        if (!strchr(kv, '='))
            return perr(p, "'%s' is not KEY=VALUE; write e.g. delack=0 or profile=textbook", kv);
        if (peer) {
            if (!strncmp(kv, "isn=", 4)) {
                if (parse_u32(kv + 4, &h.isn) < 0)
                    return perr(p, "bad isn '%s'; give a 32-bit number", kv + 4);
                continue;
            }
            return perr(p, "unknown peer setting '%s'; a peer takes only isn=N", kv);
        }
        if (ts_params_set_kv(&h.params, kv, err, sizeof err) < 0)
            return perr(p, "host %s: %s", name, err);
    }
    ts_scn_host *n = grow(s->hosts, s->nhosts, sizeof *n);
    if (!n) return perr(p, "out of memory");
    s->hosts = n;
    s->hosts[s->nhosts++] = h;
    return 0;
}

static int d_link(parser *p)
{
    if (p->ntok < 2) return perr(p, "write 'link A B [KEY=VALUE...]' or 'link A>B [KEY=VALUE...]'");
    int a, b;
    size_t first;
    bool both;
    if (strchr(p->tok[1].s, '>')) {
        if (parse_dir(p, p->tok[1].s, &a, &b, NULL) < 0) return -1;
        first = 2;
        both = false;
    } else {
        if (p->ntok < 3) return perr(p, "write 'link A B [KEY=VALUE...]'");
        a = need_host(p, p->tok[1].s);
        if (a < 0) return -1;
        b = need_host(p, p->tok[2].s);
        if (b < 0) return -1;
        if (a == b) return perr(p, "a link joins two different hosts");
        first = 3;
        both = true;
    }
    if (!get_dir(p, a, b)) return -1;
    ts_scn_dir *ab = get_dir(p, a, b), *ba = get_dir(p, b, a);
    char err[256];
    for (size_t i = first; i < p->ntok; i++) {
        if (ts_link_param_set_kv(&ab->params, p->tok[i].s, err, sizeof err) < 0)
            return perr(p, "%s", err);
        if (both) ts_link_param_set_kv(&ba->params, p->tok[i].s, err, sizeof err);
    }
    return 0;
}

/* "2,3" or "1-3,7" */
static int parse_nth(parser *p, const char *s, ts_link_rule *r)
{
    char buf[128];
    if (strlen(s) >= sizeof buf) return perr(p, "nth list too long");
    strcpy(buf, s);
    char *save = NULL;
    r->nnth = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (r->nnth == TS_RULE_MAX_NTH) return perr(p, "at most %d nth ranges", TS_RULE_MAX_NTH);
        char *dash = strchr(t, '-');
        uint32_t lo, hi;
        if (dash) *dash = '\0';
        if (parse_u32(t, &lo) < 0 || lo == 0 || (dash && parse_u32(dash + 1, &hi) < 0))
            return perr(p, "bad nth '%s'; write e.g. nth=2 or nth=2,3 or nth=1-4 (counting from 1)",
                        s);
        if (!dash) hi = lo;
        if (hi < lo) return perr(p, "bad nth range in '%s': the end is below the start", s);
        r->nth[r->nnth].lo = lo;
        r->nth[r->nnth].hi = hi;
        r->nnth++;
    }
    if (!r->nnth) return perr(p, "empty nth list");
    return 0;
}

static int d_rule(parser *p, ts_rule_action action)
{
    const char *kw = p->tok[0].s;
    if (p->ntok < 2) return perr(p, "write '%s FROM>TO [MATCH...]'", kw);
    int a, b;
    if (parse_dir(p, p->tok[1].s, &a, &b, NULL) < 0) return -1;
    ts_scn_rule sr;
    memset(&sr, 0, sizeof sr);
    ts_link_rule *r = &sr.rule;
    sr.line = p->line;
    r->action = action;
    r->payload = -1;
    r->t_to = TS_TIME_NEVER;
    size_t i = 2;
    if (action == TS_RULE_HOLD) {
        if (p->ntok < 3) return perr(p, "write 'hold FROM>TO DURATION [MATCH...]'");
        if (parse_time(p, p->tok[2].s, &r->hold, "hold time") < 0) return -1;
        i = 3;
    }
    for (; i < p->ntok; i++) {
        const char *t = p->tok[i].s;
        if (!strcmp(t, "data") || !strcmp(t, "nodata")) {
            r->tcp = true;
            r->payload = t[0] == 'd' ? 1 : 0;
        } else if (!strncmp(t, "nth=", 4)) {
            if (parse_nth(p, t + 4, r) < 0) return -1;
        } else if (!strncmp(t, "seq=", 4)) {
            char buf[64];
            if (strlen(t + 4) >= sizeof buf) return perr(p, "bad seq range '%s'", t + 4);
            strcpy(buf, t + 4);
            char *dash = strchr(buf, '-');
            if (dash) *dash = '\0';
            if (parse_u32(buf, &r->seq_lo) < 0 || (dash && parse_u32(dash + 1, &r->seq_hi) < 0))
                return perr(p,
                            "bad seq range '%s'; write seq=N or seq=LO-HI, relative to the "
                            "sender's ISN",
                            t + 4);
            if (!dash) r->seq_hi = r->seq_lo;
            if (r->seq_hi < r->seq_lo) return perr(p, "seq range '%s' ends below its start", t + 4);
            r->tcp = r->has_seq = r->seq_rel = true;
        } else if (!strncmp(t, "from=", 5)) {
            if (parse_time(p, t + 5, &r->t_from, "start time") < 0) return -1;
        } else if (!strncmp(t, "until=", 6)) {
            if (parse_time(p, t + 6, &r->t_to, "end time") < 0) return -1;
        } else if (looks_like_flags(&p->tok[i])) {
            bool any;
            parse_flags(t, &any, &r->flags_mask, &r->flags);
            if (!any) r->tcp = true;
        } else {
            return perr(p,
                        "unknown match '%s'; use FLAGS (e.g. S, S., F., .), data, nodata, "
                        "nth=LIST, seq=LO-HI, from=TIME, until=TIME",
                        t);
        }
    }
    ts_scn_dir *d = get_dir(p, a, b);
    if (!d) return -1;
    ts_scn_rule *n = grow(d->rules, d->nrules, sizeof *n);
    if (!n) return perr(p, "out of memory");
    d->rules = n;
    d->rules[d->nrules++] = sr;
    return 0;
}

/* ---- segment patterns (expect and inject) ---- */

enum { SEG_EXPECT, SEG_INJECT, SEG_FILTER };

static int dup_bytes(parser *p, const token *t, uint8_t **out, size_t *len)
{
    *out = malloc(t->len + 1);
    if (!*out) return perr(p, "out of memory");
    memcpy(*out, t->s, t->len);
    (*out)[t->len] = 0;
    *len = t->len;
    return 0;
}

/* Inject options: "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7", emitted in Linux's
 * layout by ts_tcp_opts_write (NOP and EOL items are accepted and implied). */
static int parse_inject_opts(parser *p, ts_scn_seg *g, const char *text, bool syn)
{
    char buf[256];
    if (strlen(text) >= sizeof buf) return perr(p, "option list too long");
    strcpy(buf, text);
    ts_tcp_opts_out *o = &g->out_opts;
    memset(o, 0, sizeof *o);
    o->syn = syn;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ') item++;
        char *w[6];
        int nw = 0;
        char *s2 = NULL;
        for (char *x = strtok_r(item, " ", &s2); x && nw < 6; x = strtok_r(NULL, " ", &s2))
            w[nw++] = x;
        if (nw == 0) continue;
        uint32_t v;
        if (!strcmp(w[0], "nop") || !strcmp(w[0], "eol")) continue;
        if (!strcmp(w[0], "mss") && nw == 2 && parse_u32(w[1], &v) == 0 && v <= 65535) {
            o->mss_on = true;
            o->mss = (uint16_t)v;
        } else if (!strcmp(w[0], "sackOK") && nw == 1) {
            o->sackok_on = true;
        } else if (!strcmp(w[0], "wscale") && nw == 2 && parse_u32(w[1], &v) == 0 && v <= 255) {
            o->wscale_on = true;
            o->wscale = (uint8_t)v;
        } else if (!strcmp(w[0], "TS") && nw == 5 && !strcmp(w[1], "val") && !strcmp(w[3], "ecr") &&
                   parse_u32(w[2], &o->tsval) == 0 &&
                   (!strcmp(w[4], "echo") || parse_u32(w[4], &o->tsecr) == 0)) {
            o->ts_on = true;
            g->ecr_echo = !strcmp(w[4], "echo");
        } else {
            return perr(p,
                        "bad option '%s'; inject knows mss N, sackOK, TS val N ecr N|echo, "
                        "wscale N, nop (or use rawopts HEX)",
                        w[0]);
        }
    }
    if (!syn && (o->mss_on || o->sackok_on || o->wscale_on))
        return perr(p, "mss, sackOK and wscale go only on a SYN; ts_tcp_opts_write would drop "
                       "them (use rawopts HEX to send them anyway)");
    g->opts_set = true;
    return 0;
}

static int parse_hex(parser *p, const char *s, uint8_t *out, size_t max, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > max)
        return perr(p, "bad rawopts '%s'; give an even number of hex digits, at most %zu bytes", s,
                    max);
    for (size_t i = 0; i < n; i += 2) {
        int a = hexval(s[i]), b = hexval(s[i + 1]);
        if (a < 0 || b < 0) return perr(p, "bad hex digit in rawopts '%s'", s);
        out[i / 2] = (uint8_t)(a * 16 + b);
    }
    *len = n / 2;
    return 0;
}

/* Parses fields from token i on. For expectations it also takes "at T[±TOL]" (into e) and
 * for count/none "after T"/"before T"; stops at a comparison operator (count). */
static int parse_seg_fields(parser *p, size_t i, ts_scn_seg *g, int mode, ts_scn_expect *e,
                            size_t *stop)
{
    g->payload = -1;
    if (i < p->ntok && looks_like_flags(&p->tok[i])) {
        parse_flags(p->tok[i].s, &g->any_flags, &g->flags_mask, &g->flags);
        i++;
    } else if (mode == SEG_INJECT) {
        return perr(p, "inject needs TCP flags first, e.g. 'inject S.' or 'inject R'");
    } else {
        g->any_flags = true;
    }
    for (; i < p->ntok; i++) {
        const token *t = &p->tok[i];
        const char *k = t->s;
        bool has_arg = i + 1 < p->ntok;
        const char *v = has_arg ? p->tok[i + 1].s : "";
        ts_scn_op op;
        if (mode == SEG_FILTER && !t->quoted && parse_op(k, &op) == 0) break;
        if (t->quoted || t->bracket)
            return perr(p, "unexpected '%s': a field name must come first", k);
        bool takes_arg = !strcmp(k, "seq") || !strcmp(k, "ack") || !strcmp(k, "win") ||
                         !strcmp(k, "len") || !strcmp(k, "opts") || !strcmp(k, "at") ||
                         !strcmp(k, "after") || !strcmp(k, "before") || !strcmp(k, "sport") ||
                         !strcmp(k, "dport") || !strcmp(k, "rawopts") ||
                         (!strcmp(k, "data") && has_arg && p->tok[i + 1].quoted);
        if (takes_arg && !has_arg) return perr(p, "'%s' needs a value after it", k);
        if (!strcmp(k, "seq")) {
            char buf[64];
            if (strlen(v) >= sizeof buf) return perr(p, "bad seq '%s'", v);
            strcpy(buf, v);
            char *colon = strchr(buf, ':');
            if (colon) *colon = '\0';
            if (parse_u32(buf, &g->seq) < 0 || (colon && parse_u32(colon + 1, &g->seq_end) < 0))
                return perr(p, "bad seq '%s'; write N or A:B, relative to the sender's ISN", v);
            if (colon && mode == SEG_INJECT)
                return perr(p, "inject takes 'seq N'; give the payload with len N or data \"..\"");
            g->has_seq = true;
            g->has_seq_end = colon != NULL;
            i++;
        } else if (!strcmp(k, "ack")) {
            if (parse_u32(v, &g->ack) < 0)
                return perr(p, "bad ack '%s'; write a number relative to the receiver's ISN", v);
            g->has_ack = true;
            i++;
        } else if (!strcmp(k, "win")) {
            if (parse_u32(v, &g->win) < 0 || g->win > 65535)
                return perr(p, "bad win '%s'; write the 16-bit window field, 0..65535", v);
            g->has_win = true;
            i++;
        } else if (!strcmp(k, "len")) {
            if (parse_u32(v, &g->len) < 0 || g->len > 65000)
                return perr(p, "bad len '%s'; write a payload length in bytes", v);
            g->has_len = true;
            i++;
        } else if (!strcmp(k, "data") && has_arg && p->tok[i + 1].quoted) {
            /* twice is a slip, not an override: say so (and keep no first copy) */
            if (g->has_data) return perr(p, "data \"...\" given twice in one segment; keep one");
            if (dup_bytes(p, &p->tok[i + 1], &g->data, &g->data_len) < 0) return -1;
            g->has_data = true;
            i++;
        } else if (!strcmp(k, "data") || !strcmp(k, "nodata")) {
            if (mode == SEG_INJECT) return perr(p, "inject takes data \"TEXT\" or len N");
            g->payload = k[0] == 'd' ? 1 : 0;
        } else if (!strcmp(k, "opts")) {
            if (!p->tok[i + 1].bracket)
                return perr(p, "write options in brackets as tcpdump prints them: "
                               "opts [mss 1460,sackOK,TS val * ecr 0,nop,wscale 7]");
            if (g->opts || g->opts_set)
                return perr(p, "opts [...] given twice in one segment; keep one");
            if (mode == SEG_INJECT) {
                if (parse_inject_opts(p, g, v, (g->flags & TS_TH_SYN) != 0) < 0) return -1;
            } else {
                g->opts = strdup(v);
                if (!g->opts) return perr(p, "out of memory");
            }
            i++;
        } else if (mode == SEG_INJECT && !strcmp(k, "rawopts")) {
            if (parse_hex(p, v, g->raw_opts, 40, &g->raw_opts_len) < 0) return -1;
            if (g->raw_opts_len % 4)
                return perr(p, "rawopts must be a multiple of 4 bytes (pad with 01 = nop)");
            g->has_raw_opts = true;
            i++;
        } else if (mode == SEG_INJECT && (!strcmp(k, "sport") || !strcmp(k, "dport"))) {
            uint16_t port;
            if (parse_port(v, &port) < 0) return perr(p, "bad port '%s'; write 1..65535", v);
            if (k[0] == 's') {
                g->sport = port;
                g->has_sport = true;
            } else {
                g->dport = port;
                g->has_dport = true;
            }
            i++;
        } else if (mode == SEG_INJECT && !strcmp(k, "badsum")) {
            g->bad_csum = true;
        } else if (mode == SEG_EXPECT && !strcmp(k, "at")) {
            if (parse_time_tol(p, v, &e->at, &e->tol) < 0) return -1;
            e->has_at = true;
            i++;
        } else if (mode == SEG_FILTER && (!strcmp(k, "after") || !strcmp(k, "before"))) {
            if (parse_time(p, v, k[0] == 'a' ? &e->after : &e->before, "time") < 0) return -1;
            i++;
        } else {
            return perr(p, "unknown field '%s'; segments take seq, ack, win, len, opts, data%s", k,
                        mode == SEG_INJECT   ? ", sport, dport, rawopts, badsum"
                        : mode == SEG_EXPECT ? ", at"
                                             : ", after, before; a count ends with OP N");
        }
    }
    if (stop) *stop = i;
    return 0;
}

/* ---- timed actions ---- */

/* "HOST" or "HOST/N" */
static int parse_target(parser *p, const char *s, int *host, int *conn)
{
    char buf[TS_SCN_NAME_MAX + 16];
    if (strlen(s) >= sizeof buf) return perr(p, "unknown host '%s'", s);
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    *conn = 0;
    if (slash) {
        *slash++ = '\0';
        uint32_t n;
        if (parse_u32(slash, &n) < 0 || n == 0)
            return perr(p, "bad connection number in '%s'; write HOST/N with N = 1, 2, ...", s);
        *conn = (int)n;
    }
    *host = need_host(p, buf);
    return *host < 0 ? -1 : 0;
}

static int parse_app_opt(parser *p, const char *t, ts_scn_action *a)
{
    if (!strcmp(t, "read=on") || !strcmp(t, "read=off")) {
        a->read = t[6] == 'n';
        return 0;
    }
    if (!strcmp(t, "eof=close") || !strcmp(t, "eof=keep")) {
        a->eof_close = t[4] == 'c';
        return 0;
    }
    return perr(p, "unknown option '%s'; use read=on|off or eof=close|keep", t);
}

static int parse_action(parser *p, ts_scn_action *a)
{
    ts_scn *s = p->s;
    const char *verb = p->tok[3].s;
    const ts_scn_host *h = &s->hosts[a->host];
    a->read = 1;
    a->eof_close = 1;
    bool peer_ok = !strcmp(verb, "inject");
    if (h->peer && !peer_ok)
        return perr(p, "'%s' is a scripted peer: it can only 'inject' segments", h->name);
    if (!h->peer && peer_ok)
        return perr(p, "'%s' runs a stack: inject works only on a 'peer' host", h->name);
    size_t n = p->ntok;
    if (!strcmp(verb, "listen")) {
        a->kind = TS_ACT_LISTEN;
        if (n < 5 || parse_port(p->tok[4].s, &a->port) < 0)
            return perr(p, "write 'listen PORT [read=on|off] [eof=close|keep] [send=N]'");
        for (size_t i = 5; i < n; i++) {
            const char *t = p->tok[i].s;
            if (!strncmp(t, "send=", 5)) {
                if (parse_size(t + 5, &a->count) < 0 || a->count == 0)
                    return perr(p, "bad size in '%s'; write send=N (e.g. send=4MB)", t);
            } else if (parse_app_opt(p, t, a) < 0) {
                return -1;
            }
        }
    } else if (!strcmp(verb, "serve")) {
        a->kind = TS_ACT_SERVE;
        if (n != 6 || parse_port(p->tok[5].s, &a->port) < 0)
            return perr(p, "write 'serve SERVICE PORT', e.g. 'serve echo 7'");
        if (!p->o || !p->o->service_known)
            return perr(p, "services are not available in this driver");
        if (!p->o->service_known(p->tok[4].s))
            return perr(p, "unknown service '%s'; known: echo, discard, chargen, telnet",
                        p->tok[4].s);
        snprintf(a->service, sizeof a->service, "%s", p->tok[4].s);
    } else if (!strcmp(verb, "connect")) {
        a->kind = TS_ACT_CONNECT;
        if (n < 5) return perr(p, "write 'connect HOST:PORT [port=LOCAL] [read=..] [eof=..]'");
        char buf[64];
        const char *dst = p->tok[4].s;
        const char *colon = strrchr(dst, ':');
        if (!colon || strlen(dst) >= sizeof buf)
            return perr(p, "bad destination '%s'; write HOST:PORT or ADDRESS:PORT", dst);
        memcpy(buf, dst, (size_t)(colon - dst));
        buf[colon - dst] = '\0';
        if (parse_port(colon + 1, &a->port) < 0)
            return perr(p, "bad port in '%s'; write 1..65535", dst);
        int dh = find_host(s, buf);
        if (dh >= 0)
            a->addr = s->hosts[dh].addr;
        else if (ts_ip4_parse(buf, &a->addr) < 0)
            return perr(p, "unknown host '%s' in '%s'; name a host or give an address", buf, dst);
        for (size_t i = 5; i < n; i++) {
            const char *t = p->tok[i].s;
            if (!strncmp(t, "port=", 5)) {
                if (parse_port(t + 5, &a->lport) < 0)
                    return perr(p, "bad local port '%s'; write 1..65535", t + 5);
            } else if (parse_app_opt(p, t, a) < 0) {
                return -1;
            }
        }
    } else if (!strcmp(verb, "send")) {
        a->kind = TS_ACT_SEND;
        if (n == 5 && p->tok[4].quoted) {
            if (dup_bytes(p, &p->tok[4], &a->text, &a->text_len) < 0) return -1;
        } else if ((n == 5 || (n == 6 && !strcmp(p->tok[5].s, "bytes"))) &&
                   parse_size(p->tok[4].s, &a->count) == 0) {
        } else {
            return perr(p, "write 'send N' (bytes, e.g. 1000, 64KB, 100MB, 1GiB) or "
                           "'send \"TEXT\"'");
        }
    } else if (!strcmp(verb, "shutdown")) {
        a->kind = TS_ACT_SHUTDOWN;
        a->how = TS_SHUT_WR;
        if (n == 5) {
            const char *w = p->tok[4].s;
            if (!strcmp(w, "wr"))
                a->how = TS_SHUT_WR;
            else if (!strcmp(w, "rd"))
                a->how = TS_SHUT_RD;
            else if (!strcmp(w, "rdwr"))
                a->how = TS_SHUT_RDWR;
            else
                return perr(p, "bad shutdown '%s'; write wr, rd or rdwr", w);
        } else if (n > 5) {
            return perr(p, "write 'shutdown [wr|rd|rdwr]'");
        }
    } else if (!strcmp(verb, "close") || !strcmp(verb, "abort")) {
        a->kind = verb[0] == 'c' ? TS_ACT_CLOSE : TS_ACT_ABORT;
        if (n != 4) return perr(p, "'%s' takes no arguments", verb);
    } else if (!strcmp(verb, "read")) {
        a->kind = TS_ACT_READ;
        if (n != 5 || (strcmp(p->tok[4].s, "on") && strcmp(p->tok[4].s, "off")))
            return perr(p, "write 'read on' or 'read off'");
        a->read = !strcmp(p->tok[4].s, "on");
    } else if (!strcmp(verb, "set") || !strcmp(verb, "default")) {
        a->kind = verb[0] == 's' ? TS_ACT_SET : TS_ACT_DEFAULT;
        if (n < 5) return perr(p, "write '%s KEY=VALUE...'", verb);
        ts_params scratch = h->params;
        char err[256];
        a->kv = calloc(n - 4, sizeof *a->kv);
        if (!a->kv) return perr(p, "out of memory");
        for (size_t i = 4; i < n; i++) {
            if (ts_params_set_kv(&scratch, p->tok[i].s, err, sizeof err) < 0)
                return perr(p, "%s", err);
            a->kv[a->nkv] = strdup(p->tok[i].s);
            if (!a->kv[a->nkv++]) return perr(p, "out of memory");
        }
    } else if (!strcmp(verb, "inject")) {
        a->kind = TS_ACT_INJECT;
        if (parse_seg_fields(p, 4, &a->seg, SEG_INJECT, NULL, NULL) < 0) return -1;
        if (a->seg.has_len && a->seg.has_data)
            return perr(p, "give either len N or data \"TEXT\", not both");
        if (a->seg.opts_set && a->seg.has_raw_opts)
            return perr(p, "give opts or rawopts, not both");
    } else {
        return perr(p,
                    "unknown action '%s'; use listen, serve, connect, send, shutdown, close, "
                    "abort, read, set, default or inject",
                    verb);
    }
    return 0;
}

static int d_at(parser *p)
{
    if (p->ntok < 4) return perr(p, "write 'at TIME HOST ACTION ...', e.g. 'at 1s client close'");
    ts_scn_action a;
    memset(&a, 0, sizeof a);
    a.line = p->line;
    const char *t = p->tok[1].s;
    ts_time_t at;
    if (t[0] == '+') {
        if (parse_time(p, t + 1, &at, "time") < 0) return -1;
        at += p->last_at;
    } else if (parse_time(p, t, &at, "time") < 0) {
        return -1;
    }
    a.at = at;
    p->last_at = at;
    if (parse_target(p, p->tok[2].s, &a.host, &a.conn) < 0) return -1;
    int rc = parse_action(p, &a);
    ts_scn *s = p->s;
    ts_scn_action *n = grow(s->acts, s->nacts, sizeof *n);
    if (!n) {
        free(a.text);
        return perr(p, "out of memory");
    }
    s->acts = n;
    s->acts[s->nacts++] = a; /* kept even on error so ts_scn_free releases it */
    return rc;
}

/* ---- expectations ---- */

static int parse_state(const char *s, ts_state *st)
{
    char buf[32];
    size_t n = strlen(s);
    if (n >= sizeof buf) return -1;
    for (size_t i = 0; i <= n; i++) buf[i] = s[i] == '-' ? '_' : (char)toupper((unsigned char)s[i]);
    for (int i = 0; i < TS_NUM_STATES; i++)
        if (!strcmp(buf, ts_state_name((ts_state)i))) {
            *st = (ts_state)i;
            return 0;
        }
    return -1;
}

/* Optional trailing "at T[±TOL]" / "at end" starting at token i; must end the line. */
static int parse_opt_at(parser *p, size_t i, ts_scn_expect *e, bool required)
{
    if (i == p->ntok) {
        if (required) return perr(p, "this expectation needs 'at TIME' or 'at end'");
        return 0;
    }
    if (strcmp(p->tok[i].s, "at") || i + 2 != p->ntok)
        return perr(p, "unexpected '%s'; the line may only end with 'at TIME[±TOL]'%s", p->tok[i].s,
                    required ? " or 'at end'" : "");
    if (!strcmp(p->tok[i + 1].s, "end")) {
        e->at_end = true;
        return 0;
    }
    if (parse_time_tol(p, p->tok[i + 1].s, &e->at, &e->tol) < 0) return -1;
    e->has_at = true;
    return 0;
}

static int parse_host_expect(parser *p, ts_scn_expect *e)
{
    if (parse_target(p, p->tok[1].s, &e->host, &e->conn) < 0) return -1;
    if (p->ntok < 3)
        return perr(p, "write 'expect HOST connect|accept|eof|error|state|received|counter ...'");
    const char *what = p->tok[2].s;
    const ts_scn_host *h = &p->s->hosts[e->host];
    if (h->peer)
        return perr(p,
                    "'%s' is a scripted peer: expect its segments with 'expect N %s>...' or "
                    "'expect ...>%s#K'",
                    h->name, h->name, h->name);
    size_t n = p->ntok;
    if (!strcmp(what, "connect") || !strcmp(what, "error")) {
        e->kind = what[0] == 'c' ? TS_EXP_CONNECT : TS_EXP_ERROR;
        if (n < 4 || ts_scn_errno_parse(p->tok[3].s, &e->err) < 0)
            return perr(p,
                        "write 'expect HOST %s ok|ETIMEDOUT|ECONNREFUSED|ECONNRESET|... "
                        "[at TIME]'",
                        what);
        if (e->kind == TS_EXP_ERROR && e->err == 0)
            return perr(p, "'error ok' means nothing; write an errno name such as ECONNRESET");
        return parse_opt_at(p, 4, e, false);
    }
    if (!strcmp(what, "accept") || !strcmp(what, "eof")) {
        e->kind = what[0] == 'a' ? TS_EXP_ACCEPT : TS_EXP_EOF;
        return parse_opt_at(p, 3, e, false);
    }
    if (!strcmp(what, "state")) {
        e->kind = TS_EXP_STATE;
        if (n < 4 || parse_state(p->tok[3].s, &e->state) < 0)
            return perr(p,
                        "bad state '%s'; use an RFC 9293 name such as ESTABLISHED, "
                        "FIN_WAIT_2, TIME_WAIT or CLOSED",
                        n < 4 ? "" : p->tok[3].s);
        return parse_opt_at(p, 4, e, true);
    }
    if (!strcmp(what, "received")) {
        e->kind = TS_EXP_RECEIVED;
        if (n >= 4 && p->tok[3].quoted) {
            if (dup_bytes(p, &p->tok[3], &e->bytes, &e->bytes_len) < 0) return -1;
            e->has_bytes = true;
            return parse_opt_at(p, 4, e, false);
        }
        size_t i = 4;
        if (n < 4 || parse_size(p->tok[3].s, &e->value) < 0)
            return perr(p, "write 'expect HOST received N [bytes] [whole]' or "
                           "'expect HOST received \"TEXT\"'");
        if (i < n && !strcmp(p->tok[i].s, "bytes")) i++;
        if (i < n && !strcmp(p->tok[i].s, "whole")) {
            e->whole = true;
            i++;
        }
        return parse_opt_at(p, i, e, false);
    }
    if (!strcmp(what, "counter")) {
        e->kind = TS_EXP_COUNTER;
        if (n < 6) return perr(p, "write 'expect HOST counter NAME OP N [at TIME]'");
        if (ts_scn_counter_find(p->tok[3].s, &e->counter) < 0)
            return perr(p,
                        "unknown counter '%s'; e.g. tcp_retransmits, tcp_rto_timeouts, "
                        "tcp_fast_retransmits, tcp_challenge_acks, drop.tcp-checksum",
                        p->tok[3].s);
        if (parse_op(p->tok[4].s, &e->op) < 0)
            return perr(p, "bad comparison '%s'; use == != < <= > >=", p->tok[4].s);
        if (parse_u64(p->tok[5].s, &e->value) < 0) return perr(p, "bad number '%s'", p->tok[5].s);
        return parse_opt_at(p, 6, e, false);
    }
    return perr(p,
                "unknown expectation '%s'; use connect, accept, eof, error, state, received "
                "or counter",
                what);
}

static int d_expect(parser *p)
{
    if (p->ntok < 2) return perr(p, "write 'expect ...': see docs/scenarios.md");
    ts_scn_expect e;
    memset(&e, 0, sizeof e);
    e.line = p->line;
    e.before = TS_TIME_NEVER;
    e.host = e.seg.src = e.seg.dst = -1;
    e.text = strndup(p->src_line, p->src_len);
    int rc;
    const char *first = p->tok[1].s;
    uint64_t n;
    if (!e.text) {
        rc = perr(p, "out of memory");
    } else if (isdigit((unsigned char)first[0]) && parse_u64(first, &n) == 0) {
        e.kind = TS_EXP_SEG;
        e.nth = n;
        if (n == 0)
            rc = perr(p, "packets are numbered from 1");
        else if (p->ntok < 3)
            rc = perr(p, "write 'expect N FROM>TO [FLAGS] [FIELDS...]'");
        else if ((rc = parse_dir(p, p->tok[2].s, &e.seg.src, &e.seg.dst, NULL)) == 0)
            rc = parse_seg_fields(p, 3, &e.seg, SEG_EXPECT, &e, NULL);
    } else if (strchr(first, '>')) {
        e.kind = TS_EXP_SEG_DIR;
        rc = parse_dir(p, first, &e.seg.src, &e.seg.dst, &e.nth);
        if (rc == 0 && e.nth == 0)
            rc = perr(p, "say which segment: '%s#N' is the Nth in that direction", first);
        if (rc == 0) rc = parse_seg_fields(p, 2, &e.seg, SEG_EXPECT, &e, NULL);
    } else if (!strcmp(first, "count") || !strcmp(first, "none")) {
        bool count = first[0] == 'c';
        e.kind = count ? TS_EXP_COUNT : TS_EXP_NONE;
        size_t i = 2, stop = 0;
        rc = 0;
        if (i < p->ntok && strchr(p->tok[i].s, '>')) {
            rc = parse_dir(p, p->tok[i].s, &e.seg.src, &e.seg.dst, NULL);
            e.has_dir = true;
            i++;
        }
        if (rc == 0) rc = parse_seg_fields(p, i, &e.seg, SEG_FILTER, &e, &stop);
        if (rc == 0 && count) {
            if (stop + 2 != p->ntok || parse_op(p->tok[stop].s, &e.op) < 0 ||
                parse_u64(p->tok[stop + 1].s, &e.value) < 0)
                rc = perr(p, "write 'expect count [FROM>TO] [FLAGS] [FIELDS] OP N', "
                             "e.g. 'expect count client>server S == 5'");
        } else if (rc == 0 && stop != p->ntok) {
            rc = perr(p, "unexpected '%s' after 'expect none ...'", p->tok[stop].s);
        }
    } else if (!strcmp(first, "packets")) {
        e.kind = TS_EXP_PACKETS;
        if (p->ntok != 4 || parse_op(p->tok[2].s, &e.op) < 0 ||
            parse_u64(p->tok[3].s, &e.value) < 0)
            rc = perr(p, "write 'expect packets OP N', e.g. 'expect packets == 6'");
        else
            rc = 0;
    } else if (!strcmp(first, "link")) {
        e.kind = TS_EXP_LINK;
        if (p->ntok != 6) {
            rc = perr(p, "write 'expect link FROM>TO STAT OP N', STAT one of packets, "
                         "delivered, lost, queue-drops, scripted-drops, dups, corrupted, held, "
                         "max-queue");
        } else if ((rc = parse_dir(p, p->tok[2].s, &e.seg.src, &e.seg.dst, NULL)) == 0) {
            if (ts_scn_link_stat_find(p->tok[3].s, &e.counter) < 0)
                rc = perr(p,
                          "unknown link statistic '%s'; use packets, delivered, lost, "
                          "queue-drops, scripted-drops, dups, corrupted, held or max-queue",
                          p->tok[3].s);
            else if (parse_op(p->tok[4].s, &e.op) < 0)
                rc = perr(p, "bad comparison '%s'; use == != < <= > >=", p->tok[4].s);
            else if (parse_u64(p->tok[5].s, &e.value) < 0)
                rc = perr(p, "bad number '%s'", p->tok[5].s);
        }
    } else {
        rc = parse_host_expect(p, &e);
    }
    ts_scn *s = p->s;
    ts_scn_expect *arr = grow(s->exps, s->nexps, sizeof *arr);
    if (!arr) {
        free(e.text);
        return perr(p, "out of memory");
    }
    s->exps = arr;
    s->exps[s->nexps++] = e; /* kept even on error so ts_scn_free releases it */
    return rc;
}

/* ---- parameters: `param NAME DEFAULT` and ${NAME} ---- */

static scn_param *find_param(parser *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->nparams; i++)
        if (strlen(p->params[i].name) == len && !memcmp(p->params[i].name, name, len))
            return &p->params[i];
    return NULL;
}

/* The value -D gave NAME (marking that -D used), or NULL. */
static const char *def_value(parser *p, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; p->o && i < p->o->ndefs; i++) {
        const char *d = p->o->defs[i];
        if (!strncmp(d, name, n) && d[n] == '=') {
            p->def_used[i] = true;
            return d + n + 1;
        }
    }
    return NULL;
}

static int d_param(parser *p)
{
    if (p->ntok != 3)
        return perr(p, "write 'param NAME DEFAULT', e.g. 'param loss 1%%', then use ${NAME}");
    const char *name = p->tok[1].s;
    bool ok = isalpha((unsigned char)name[0]) && strlen(name) < TS_SCN_NAME_MAX;
    for (const char *c = name; ok && *c; c++) ok = isalnum((unsigned char)*c) || *c == '_';
    if (!ok)
        return perr(p,
                    "bad param name '%s'; use letters, digits and '_' (max %d), starting "
                    "with a letter",
                    name, TS_SCN_NAME_MAX - 1);
    const scn_param *old = find_param(p, name, strlen(name));
    if (old) return perr(p, "param '%s' is declared twice (first at line %u)", name, old->line);
    scn_param *arr = grow(p->params, p->nparams, sizeof *arr);
    if (!arr) return perr(p, "out of memory");
    p->params = arr;
    const char *v = def_value(p, name);
    scn_param *np = &arr[p->nparams];
    np->name = strdup(name);
    np->value = strdup(v ? v : p->tok[2].s);
    np->line = p->line;
    np->used = false;
    if (!np->name || !np->value) {
        free(np->name);
        free(np->value);
        return perr(p, "out of memory");
    }
    p->nparams++;
    return 0;
}

static int xput(parser *p, size_t *n, const char *s, size_t len)
{
    if (*n + len + 1 > p->xcap) {
        size_t cap = (*n + len + 1) * 2;
        char *b = realloc(p->xbuf, cap);
        if (!b) return perr(p, "out of memory");
        p->xbuf = b;
        p->xcap = cap;
    }
    memcpy(p->xbuf + *n, s, len);
    *n += len;
    return 0;
}

/* Replace every ${NAME} in the line by the param's value, except in comments (a '#' that
 * starts a word outside a string or [...], as the tokenizer sees it). A line with no '$'
 * is used as it is. */
static int expand(parser *p, const char *line, size_t len, const char **out, size_t *outlen)
{
    *out = line;
    *outlen = len;
    if (!memchr(line, '$', len)) return 0;
    size_t n = 0;
    bool quote = false, bracket = false;
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        bool word_start = i == 0 || isspace((unsigned char)line[i - 1]);
        if (!quote && !bracket && c == '#' && word_start) {
            if (xput(p, &n, line + i, len - i) < 0) return -1;
            break;
        }
        if (c == '$' && i + 1 < len && line[i + 1] == '{') {
            const char *close = memchr(line + i + 2, '}', len - i - 2);
            if (!close) return perr(p, "'${' without its '}': write ${NAME}");
            size_t nlen = (size_t)(close - (line + i + 2));
            scn_param *pm = find_param(p, line + i + 2, nlen);
            if (!pm)
                return perr(p, "${%.*s} is not declared; add 'param %.*s DEFAULT' above this line",
                            (int)nlen, line + i + 2, (int)nlen, line + i + 2);
            pm->used = true;
            if (xput(p, &n, pm->value, strlen(pm->value)) < 0) return -1;
            i = (size_t)(close - line);
            continue;
        }
        if (quote && c == '\\' && i + 1 < len) {
            if (xput(p, &n, line + i, 2) < 0) return -1;
            i++;
            continue;
        }
        if (quote && c == '"')
            quote = false;
        else if (bracket && c == ']')
            bracket = false;
        else if (!quote && !bracket && word_start && c == '"')
            quote = true;
        else if (!quote && !bracket && word_start && c == '[')
            bracket = true;
        if (xput(p, &n, &c, 1) < 0) return -1;
    }
    *out = p->xbuf;
    *outlen = n;
    return 0;
}

/* Every param used, every -D taken by a param line. */
static int check_params(parser *p)
{
    for (size_t i = 0; i < p->nparams; i++)
        if (!p->params[i].used) {
            p->line = p->params[i].line;
            return perr(p,
                        "param '%s' is never used; write ${%s} where it belongs, or remove "
                        "the line",
                        p->params[i].name, p->params[i].name);
        }
    for (size_t i = 0; p->o && i < p->o->ndefs; i++) {
        if (p->def_used[i]) continue;
        char names[256] = "";
        size_t k = 0;
        for (size_t j = 0; j < p->nparams && k < sizeof names - 40; j++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", j ? ", " : "",
                                  p->params[j].name);
        const char *d = p->o->defs[i];
        snprintf(p->err, p->errlen, "%s: %s is set but the file declares no 'param %.*s' (%s%s)",
                 p->file, d, (int)strcspn(d, "="), d,
                 p->nparams ? "its params: " : "it has no params", names);
        return -1;
    }
    return 0;
}

/* -D entries are NAME=VALUE with a NAME, each name once. */
static int check_defs(parser *p)
{
    if (!p->o || !p->o->ndefs) return 0;
    p->def_used = calloc(p->o->ndefs, sizeof *p->def_used);
    if (!p->def_used) return perr(p, "out of memory");
    for (size_t i = 0; i < p->o->ndefs; i++) {
        const char *d = p->o->defs[i];
        size_t n = strcspn(d, "=");
        if (!d[n] || n == 0) {
            snprintf(p->err, p->errlen, "%s: '%s' is not NAME=VALUE, e.g. loss=2%%", p->file, d);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (!strncmp(p->o->defs[j], d, n + 1)) {
                snprintf(p->err, p->errlen, "%s: %.*s is set twice ('%s' and '%s')", p->file,
                         (int)n, d, p->o->defs[j], d);
                return -1;
            }
    }
    return 0;
}

static void free_params(parser *p)
{
    for (size_t i = 0; i < p->nparams; i++) {
        free(p->params[i].name);
        free(p->params[i].value);
    }
    free(p->params);
    free(p->def_used);
    free(p->xbuf);
}

static int parse_line(parser *p, const char *line, size_t len)
{
    p->src_line = line;
    p->src_len = len;
    while (p->src_len && isspace((unsigned char)line[p->src_len - 1])) p->src_len--;
    while (p->src_len && isspace((unsigned char)*p->src_line)) {
        p->src_line++;
        p->src_len--;
    }
    if (tokenize(p, line, len) < 0) return -1;
    if (p->ntok == 0) return 0;
    if (p->tok[0].quoted || p->tok[0].bracket) return perr(p, "a line must start with a directive");
    const char *d = p->tok[0].s;
    if (!strcmp(d, "param")) return d_param(p);
    if (!strcmp(d, "seed")) return d_seed(p);
    if (!strcmp(d, "end")) return d_end(p);
    if (!strcmp(d, "host")) return d_host(p, false);
    if (!strcmp(d, "peer")) return d_host(p, true);
    if (!strcmp(d, "link")) return d_link(p);
    if (!strcmp(d, "drop")) return d_rule(p, TS_RULE_DROP);
    if (!strcmp(d, "hold")) return d_rule(p, TS_RULE_HOLD);
    if (!strcmp(d, "dup")) return d_rule(p, TS_RULE_DUP);
    if (!strcmp(d, "corrupt")) return d_rule(p, TS_RULE_CORRUPT);
    if (!strcmp(d, "at")) return d_at(p);
    if (!strcmp(d, "expect")) return d_expect(p);
    return perr(p,
                "unknown directive '%s'; use param, seed, end, host, peer, link, drop, hold, "
                "dup, corrupt, at or expect",
                d);
}

static void free_seg(ts_scn_seg *g)
{
    free(g->opts);
    free(g->data);
}

void ts_scn_free(ts_scn *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->ndirs; i++) free(s->dirs[i].rules);
    for (size_t i = 0; i < s->nacts; i++) {
        ts_scn_action *a = &s->acts[i];
        free(a->text);
        for (size_t k = 0; k < a->nkv; k++) free(a->kv[k]);
        free(a->kv);
        free_seg(&a->seg);
    }
    for (size_t i = 0; i < s->nexps; i++) {
        free(s->exps[i].text);
        free(s->exps[i].bytes);
        free_seg(&s->exps[i].seg);
    }
    free(s->hosts);
    free(s->dirs);
    free(s->acts);
    free(s->exps);
    free(s->file);
    free(s);
}

/* Checks that need the whole file. */
static int finish(parser *p)
{
    ts_scn *s = p->s;
    if (s->nhosts == 0) {
        p->line = 0;
        snprintf(p->err, p->errlen, "%s: no hosts; declare at least 'host NAME ADDRESS'", p->file);
        return -1;
    }
    return 0;
}

ts_scn *ts_scn_parse(const char *name, const char *text, size_t len, const ts_scn_parse_opts *o,
                     char *err, size_t errlen)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.s = calloc(1, sizeof *p.s);
    if (!p.s) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    p.s->file = strdup(name);
    p.s->seed = 1;
    p.s->end = TS_TIME_NEVER;
    p.s->idle_cap = 3600 * TS_SEC;
    p.o = o;
    p.file = name;
    p.err = err;
    p.errlen = errlen;
    size_t i = 0;
    int rc = check_defs(&p);
    while (i < len && rc == 0) {
        size_t j = i;
        while (j < len && text[j] != '\n') j++;
        p.line++;
        const char *line;
        size_t llen;
        if (memchr(text + i, '\0', j - i))
            rc = perr(&p, "a NUL byte: this is not a text file");
        else if ((rc = expand(&p, text + i, j - i, &line, &llen)) == 0)
            rc = parse_line(&p, line, llen);
        i = j + 1;
    }
    if (rc == 0) rc = check_params(&p);
    if (rc == 0) rc = finish(&p);
    free_params(&p);
    free(p.arena);
    if (rc < 0) {
        ts_scn_free(p.s);
        return NULL;
    }
    return p.s;
}

ts_scn *ts_scn_load(const char *path, const ts_scn_parse_opts *o, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            if (cap > (64u << 20)) {
                snprintf(err, errlen, "%s: larger than 64 MiB; is it a scenario file?", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap = cap ? cap * 2 : 8192;
            char *n = realloc(buf, cap);
            if (!n) {
                snprintf(err, errlen, "%s: out of memory", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = n;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    bool ioerr = ferror(f);
    fclose(f);
    if (ioerr) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        return NULL;
    }
    ts_scn *s = ts_scn_parse(path, buf, len, o, err, errlen);
    free(buf);
    return s;
}
