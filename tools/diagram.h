/* diagram.h: what `tcpsim diagram`, `tcpsim run --diagram` and `tcpsim tun --diagram`
 * share (cli_diagram.c): the recorder joined to the simulator's hooks, and writing the
 * chosen connection's ladder to a file or stdout in the format asked for. */
#ifndef TS_DIAGRAM_H
#define TS_DIAGRAM_H

#include <stdbool.h>
#include "ladder.h"
#include "sim.h"
#include "view_rec.h"

typedef struct ts_diagram_opts {
    const char *out;  /* file, or NULL/"-" for stdout */
    const char *conn; /* --conn: NULL the first */
    bool format_set;  /* --format given; else from out's extension, else text */
    ts_ladder_format format;
    bool relative, ascii;
} ts_diagram_opts;

/* --format NAME: 0, or -1 when NAME is not text, svg or html. */
int ts_diagram_format_parse(const char *name, ts_ladder_format *out);
/* Point the simulator's packet hooks (fate, arrived) at rec, before ts_sim_create; the
 * caller's observe hook passes every stack event to ts_view_rec_event(rec, host, ev). */
void ts_diagram_sim_hooks(ts_sim_opts *o, ts_view_rec *rec);
/* Name the world's hosts to rec (after ts_sim_create). 0, or -1 out of memory. */
int ts_diagram_sim_hosts(ts_view_rec *rec, const ts_sim *w);
/* Check the options before a run, so a bad -o extension fails first. 0, or 2 with one line
 * on stderr naming cmd ("tcpsim diagram"). */
int ts_diagram_check(const ts_diagram_opts *d, const char *cmd);
/* Draw the chosen connection of set. 0, or 2 with one line on stderr. */
int ts_diagram_write(const ts_view_set *set, const ts_diagram_opts *d, const char *cmd);

#endif
