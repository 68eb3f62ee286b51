/* SPDX-License-Identifier: GPL-2.0 */
/* What the kernel's verifier says of vigil's programs (`vigil check
 * --verbose`): a trial load of the whole object, as `vigil run` would load
 * it with the capabilities this kernel gives, then per program the
 * instructions the verifier processed (bpf_prog_info.verified_insns; the
 * limit is 1M) or, for a load it refused, the end of the verifier's log.
 * Nothing is attached. */
#ifndef VIGIL_VERIFIER_H
#define VIGIL_VERIFIER_H

#include <stdbool.h>
#include <stdio.h>

/* One trial load in monitor or enforce mode, scoped to a cgroup as the
 * tests run (the larger programs). A refusal's log: its last lines, or all
 * of it with full. 0 loaded, else the load's negative errno. */
int verifier__report(bool enforce, unsigned hooks, bool full, FILE *out);

#endif
