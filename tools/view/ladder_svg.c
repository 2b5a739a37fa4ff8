/* ladder_svg.c: the ladder diagram as SVG (in progress). */
#include "ladder_layout.h"

int ts_ladder_svg(const ts_layout *L, FILE *f, bool html)
{
    (void)L, (void)f, (void)html;
    return -1;
}
