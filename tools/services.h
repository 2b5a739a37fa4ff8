/* services.h: the network services (echo, discard, chargen, telnet), written against the
 * public socket API only, so they run over TUN and in the simulator alike. */
#ifndef TS_SERVICES_H
#define TS_SERVICES_H

#include <stddef.h>
#include <stdint.h>
#include "tcpsim/tcpsim.h"

typedef struct ts_service ts_service;

/* Is name one of "echo", "discard", "chargen", "telnet"? */
int ts_service_known(const char *name);
/* Listen on port and serve every accepted connection with the named service.
 * NULL with a one-line message in err on failure. */
ts_service *ts_service_start(ts_stack *s, const char *name, uint16_t port, char *err,
                             size_t errlen);
/* Close the listener and every connection it serves (graceful close). */
void ts_service_stop(ts_service *svc);
/* The same two in the shape of the simulator's service hooks (ts_sim hooks'
 * service_start/service_stop; ctx unused), for every front end that runs scenarios. */
void *ts_service_hook_start(void *ctx, ts_stack *s, const char *name, uint16_t port, char *err,
                            size_t errlen);
void ts_service_hook_stop(void *ctx, void *svc);

#endif
