/* ladder_html.c: the ladder diagram as HTML (in progress). */
#include "ladder_layout.h"

int ts_ladder_html(const ts_layout *L, FILE *f)
{
    (void)L, (void)f;
    return -1;
}
