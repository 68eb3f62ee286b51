/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's answers on its control socket (ctl.c is the socket): reload,
 * status, stop, stop unpin; one JSON object each. */
#ifndef VIGIL_CONTROL_H
#define VIGIL_CONTROL_H

#include "agent.h"

/* Listen on RUN_DIR's control socket (a->ctl_fd); 0, or -1 after logging
 * why (another agent answers there, or the directory is not safe). */
int control__open(struct agent *a);
/* Stop answering: the socket goes away. */
void control__close(struct agent *a);
/* The loop's handler for the listening socket fd: every pending request. */
void control__answer(struct agent *a, int fd);

#endif
