/* SPDX-License-Identifier: GPL-2.0 */
/* CLOCK_MONOTONIC in ns: the clock of taint since_ns, budget windows and
 * the correlator's ticks (the kernel's bpf_ktime_get_ns). */
#ifndef VIGIL_CLOCK_H
#define VIGIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif
