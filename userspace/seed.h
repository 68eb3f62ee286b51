/* SPDX-License-Identifier: GPL-2.0 */
/* Processes that already hold a protected file open or mapped when vigil
 * starts are tainted now (via preexisting), so a leak begun before the
 * agent is still seen. */
#ifndef VIGIL_SEED_H
#define VIGIL_SEED_H

#include "agent.h"

/* Walk /proc in scope; returns the number of processes newly tainted. */
int seed__processes(struct agent *a);

#endif
