/* ladder.c: the ladder diagram's entry points (ladder.h): options, the format a file name
 * asks for, and ts_ladder_write, which lays the connection out once (ladder_layout.c) and
 * hands the layout to the text, SVG or HTML renderer. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "ladder_layout.h"

void ts_ladder_opts_init(ts_ladder_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = TS_LADDER_TEXT;
    o->width = 100;
}

int ts_ladder_format_from_name(const char *path, ts_ladder_format *out)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/')) return -1;
    if (!strcasecmp(dot, ".txt"))
        *out = TS_LADDER_TEXT;
    else if (!strcasecmp(dot, ".svg"))
        *out = TS_LADDER_SVG;
    else if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm"))
        *out = TS_LADDER_HTML;
    else
        return -1;
    return 0;
}

int ts_ladder_write(const ts_view *v, const ts_ladder_opts *o, FILE *f, char *err, size_t errlen)
{
    ts_ladder_opts opts = *o;
    if (!opts.width) opts.width = 100;
    if (opts.width < 64) opts.width = 64; /* room for two lifelines and a label between */
    if (opts.width > 400) opts.width = 400;
    ts_layout L;
    if (ts_ladder_layout(v, &opts, &L, err, errlen)) return -1;
    int rc;
    switch (opts.format) {
    case TS_LADDER_SVG: rc = ts_ladder_svg(&L, f, false); break;
    case TS_LADDER_HTML: rc = ts_ladder_html(&L, f); break;
    default: rc = ts_ladder_text(&L, f); break;
    }
    ts_ladder_layout_free(&L);
    if (rc || fflush(f) || ferror(f)) {
        snprintf(err, errlen, "cannot write the diagram: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}
