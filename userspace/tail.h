/* SPDX-License-Identifier: GPL-2.0 */
/* `vigil tail SOCKET`: follow an agent's unix:PATH sink in a terminal, one
 * readable (coloured) line per record, or the JSON as it comes (--raw). */
#ifndef VIGIL_TAIL_H
#define VIGIL_TAIL_H

#include <stdbool.h>
#include <stdio.h>

struct tail_opts {
	const char *socket;	/* PATH or unix:PATH */
	bool raw;
	int color;		/* 1 always, 0 never, -1 if stdout is a terminal */
};

/* Returns the exit status: 0 when the agent closes the stream. */
int tail__run(const struct tail_opts *o);
/* One record as a readable line (no newline) into buf; exposed for tests. */
void tail__format(const char *json_line, bool color, char *buf, size_t len);

#endif
