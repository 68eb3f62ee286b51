// SPDX-License-Identifier: GPL-2.0
#include <unistd.h>

#include "agent_out.h"
#include "capture.h"
#include "incident.h"
#include "log.h"
#include "metrics.h"
#include "output.h"
#include "sink.h"

int agent_out__open(struct agent *a)
{
	const struct agent_opts *o = a->o;
	char err[512];

	a->out = output__open_opts(&(struct output_opts){ .sinks = o->alerts, .nsinks = o->nalerts,
							  .labels = o->labels, .nlabels = o->nlabels,
							  .file_gid = o->file_gid, .drain_ms = 5000 },
				   err, sizeof(err));
	if (!a->out) {
		log__error("%s", err);
		return 2;
	}
	if (o->metrics || o->metrics_dir) {
		a->metrics = metrics__open(o->metrics, o->metrics_dir, err, sizeof(err));
		if (!a->metrics) {
			log__error("%s", err);
			return 2;
		}
	}
	a->inc = incidents__new(&(struct incident_opts){ .fold_s = o->fold_s,
							 .rate_limit = o->rate_limit }, a->out, &a->j);
	if (!a->inc) {
		log__error("out of memory");
		return 1;
	}
	if (o->record) {
		a->cap = capture__create(o->record, output__host(a->out),
					 activity__word(ACT_VOCAB_MODE,
							o->enforce ? ACT_ENFORCE : ACT_MONITOR),
					 o->file_gid, err, sizeof(err));
		if (!a->cap) {
			log__error("--record %s", err);
			return 2;
		}
	}
	return 0;
}

/* Each sink's first record is agent_start: a sink is done once it has
 * nothing queued and has written, failed or dropped something. A stalled
 * receiver does not hold the start up longer than 1 s. */
void agent_out__wait_start(struct agent *a)
{
	for (int t = 0; t < 100; t++) {
		bool busy = false;

		for (int i = 0; i < output__sink_count(a->out); i++) {
			struct sink_stats st;

			output__sink_stats(a->out, i, &st);
			busy |= st.queued > 0 || st.written + st.failed + st.dropped == 0;
		}
		if (!busy)
			return;
		usleep(10000);
	}
}

void agent_out__close(struct agent *a)
{
	metrics__close(a->metrics);
	incidents__free(a->inc);
	output__close(a->out);
	if (capture__close(a->cap))
		log__error("--record %s: closing the capture failed", a->o->record);
}
