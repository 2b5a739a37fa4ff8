/* tcpsim/tcpsim.h: the whole public API in one include. */
#ifndef TCPSIM_TCPSIM_H
#define TCPSIM_TCPSIM_H

#include "tcpsim/event.h"
#include "tcpsim/params.h"
#include "tcpsim/socket.h"
#include "tcpsim/stack.h"
#include "tcpsim/types.h"

#endif
