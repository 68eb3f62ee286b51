/* SPDX-License-Identifier: GPL-2.0 */
/* The outside world of the pure modules, as the agent provides it: the
 * correlator's corr_env (paths and sets of file ids, bytes read, /proc,
 * kills, naming copies of weights) and the pipe walker's pipes_env (taint
 * and pipe marks in the kernel maps), and enforce.c's enforce_env. Unit tests
 * replace these with fakes. */
#ifndef VIGIL_WORLD_H
#define VIGIL_WORLD_H

#include "agent.h"
#include "correlate.h"

/* Everything but emit, which is the agent's pipeline. */
void world__corr_env(struct agent *a, struct corr_env *env);
/* Taint readers of pipes tainted processes write; returns how many. */
int world__propagate_pipes(struct agent *a);
/* The budget ceiling's agent side (enforce.c) on the agent's maps, sets
 * and output; NULL + errno. */
struct enforce *world__enforce(struct agent *a);

#endif
