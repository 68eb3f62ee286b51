// SPDX-License-Identifier: GPL-2.0
/* One record's way to an alert (live.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "shmmaps.h"
#include "capture.h"
#include "correlate.h"
#include "engine.h"
#include "enforce.h"
#include "incident.h"
#include "inspect.h"
#include "live.h"
#include "output.h"
#include "report.h"
#include "status.h"
#include "tls.h"

static int fx_kill(void *ctx, const struct activity *act)
{
	struct agent *a = ctx;

	return scope__kill(&a->scope, act->proc.pid, act->proc.start_ticks);
}

/* block: from now on the kernel refuses every non-loopback destination to
 * this process and drops its packets, allowlisted or not. */
static int fx_block(void *ctx, const struct activity *act)
{
	struct agent *a = ctx;

	if (!scope__contains(&a->scope, act->proc.pid))
		return -EPERM;
	return kmaps__block(a->ld.skel, act->proc.pid);
}

static void on_hit(void *ctx, const struct activity *act, const struct rule_hit *h)
{
	struct agent *a = ctx;
	struct vigil_counters k;
	struct incident_ref ref;
	uint64_t lost;

	kmaps__counters(a->ld.skel, &k);
	lost = k.events_lost;

	if (incidents__hit(a->inc, act, h, &ref) != INCIDENT_REPORT)
		return;
	/* an alert raised while the kernel was dropping events says so: what
	 * it reports may be missing context */
	report__alert(a->out, &a->j, act, h, &ref, lost - a->lost_at_alert);
	a->lost_at_alert = lost;
	inspect__remember_alert(a, json__cstr(&a->j));
}

/* --record: what the rules are about to see */
static void on_seen(void *ctx, const struct activity *act)
{
	struct agent *a = ctx;

	if (a->cap && capture__write(a->cap, act)) {
		a->capture_errors++;
		if (a->capture_errors == 1)
			status__error(a, "--record %s: write failed; the capture is incomplete",
				      a->o->record);
	}
}

/* The correlator's activity, stamped with when and where, judged. */
void live__on_activity(void *ctx, const struct activity *in)
{
	struct agent *a = ctx;
	struct engine_effects fx = { .ctx = a, .kill = fx_kill, .block = fx_block };

	a->act = *in;
	clock_gettime(CLOCK_REALTIME, &a->act.time);
	a->act.host = output__host(a->out);
	engine__judge(a->engine, &a->act, &fx, on_seen, on_hit, a);
}

int live__on_record(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	const struct vigil_ev_header *h = data;

	if (size >= sizeof(*h) && h->type == VIGIL_EV_TAINT)
		a->pipes_dirty = true;
	if (size >= offsetof(struct vigil_ev_tamper, obj_kind) && h->type == VIGIL_EV_TAMPER) {
		struct vigil_ev_tamper t = { 0 };	/* an older agent's record is shorter */

		memcpy(&t, data, size < sizeof(t) ? size : sizeof(t));
		status__tamper(a, &t);	/* about the agent, not a tainted process */
		a->tamper_records++;
		return 0;
	}

	enforce__on_record(a->enf, data, size);
	shmmaps__on_record(a->shmm, data, size);	/* before its copies are needed */
	if (corr__handle(a->corr, data, size))
		a->rb_bad++;
	tls__on_record(a->tls, data, size);	/* after: alerts of an EXIT see its flows */
	return 0;	/* never stop consuming on a bad record */
}
