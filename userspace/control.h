/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's answers on its control socket (ctl.c is the socket): reload,
 * status, stop, stop unpin; one JSON object each. */
#ifndef VIGIL_CONTROL_H
#define VIGIL_CONTROL_H

#include "agent.h"

/* The loop's handler for the listening socket fd: every pending request. */
void control__answer(struct agent *a, int fd);

#endif
