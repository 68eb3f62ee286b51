// SPDX-License-Identifier: GPL-2.0
/* Alert records end to end through the output: identity, events_lost, the
 * cap, in the form a sink writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "output.h"
#include "report.h"

static char path[] = "/tmp/vigil-test-report-XXXXXX";

static void sample(struct activity *a, struct rule_def *r, struct rule_hit *h)
{
	static char *tags[] = { "T1041" };

	memset(a, 0, sizeof(*a));
	clock_gettime(CLOCK_REALTIME, &a->time);
	a->mode = ACT_ENFORCE;
	a->event = ACT_EV_BUDGET;
	a->action = ACT_KILLED;
	a->proc.pid = 4242;
	a->proc.ppid = 1;
	snprintf(a->proc.comm, sizeof(a->proc.comm), "python3");
	snprintf(a->proc.exe, sizeof(a->proc.exe), "/usr/bin/python3");
	snprintf(a->proc.cmdline, sizeof(a->proc.cmdline), "python3 up.py");
	snprintf(a->proc.cgroup, sizeof(a->proc.cgroup), "/t");
	a->pname = "bash";
	a->sources[0] = (struct act_source){ "/models/m.safetensors", "models", 1 << 20, 0 };
	a->nsources = 1;
	a->chain[0] = (struct act_link){ 4242, "python3", "read", NULL };
	a->nchain = 1;
	a->sets[0] = "models";
	a->nsets = 1;
	a->taint_via = "read";
	a->family = "ipv4";
	a->protocol = "tcp";
	snprintf(a->daddr, sizeof(a->daddr), "203.0.113.9");
	a->dport = 443;
	a->bytes = 1048000;
	memset(r, 0, sizeof(*r));
	r->id = "weights-egress-budget";
	r->tags = tags;
	r->ntags = 1;
	memset(h, 0, sizeof(*h));
	h->rule = r;
	h->severity = "critical";
	h->action = ACT_KILLED;
	h->killed_by = ACT_BY_KERNEL;
	snprintf(h->message, sizeof(h->message), "python3 was killed");
}

static json_t *emit_and_read(unsigned long long lost)
{
	struct activity a;
	struct rule_def r;
	struct rule_hit h;
	struct output *o;
	struct json j;
	char err[256];
	json_t *got;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	sample(&a, &r, &h);
	o = output__open(path, (gid_t)-1, err, sizeof(err));
	assert_non_null(o);
	json__init(&j);
	assert_int_equal(report__alert(o, &j, &a, &h, NULL, lost), 0);
	output__close(o);
	json__free(&j);
	got = json_load_file(path, 0, NULL);
	unlink(path);
	strcpy(path + strlen(path) - 6, "XXXXXX");
	assert_non_null(got);
	return got;
}

static void events_lost_marks_the_alert(void **state)
{
	json_t *o = emit_and_read(0);

	assert_null(json_object_get(o, "events_lost"));
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "rule")), "weights-egress-budget");
	json_decref(o);
	o = emit_and_read(17);
	assert_int_equal(json_integer_value(json_object_get(o, "events_lost")), 17);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(events_lost_marks_the_alert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
