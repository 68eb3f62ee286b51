// SPDX-License-Identifier: GPL-2.0
/* Incidents: the first alert at once, repeats folded into updates,
 * the per-rule rate limit and its record, enforcement never held back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "incident.h"
#include "output.h"

static char path[64];

static struct output *open_out(struct json *j)
{
	char err[128];
	int fd;

	snprintf(path, sizeof(path), "/tmp/vigil-test-incident-XXXXXX");
	fd = mkstemp(path);
	close(fd);
	json__init(j);
	return output__open(path, (gid_t)-1, err, sizeof(err));
}

/* kinds of the records written, in order, as "k1 k2 ..." */
static void kinds(char *buf, size_t len, json_t **last_update)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);

		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", *buf ? " " : "",
			 json_string_value(json_object_get(o, "kind")));
		if (last_update && !strcmp(json_string_value(json_object_get(o, "kind")), "alert_update")) {
			json_decref(*last_update);
			*last_update = json_incref(o);
		}
		json_decref(o);
	}
	if (f)
		fclose(f);
	unlink(path);
}

static void hit_at(struct activity *a, struct rule_hit *h, struct rule_def *r, pid_t pid,
		   long t, const char *sev, const char *action)
{
	memset(a, 0, sizeof(*a));
	a->proc.pid = pid;
	a->proc.start_ticks = 7;
	snprintf(a->proc.comm, sizeof(a->proc.comm), "up%d", pid);
	a->time.tv_sec = t;
	a->mode = ACT_MONITOR;
	snprintf(a->daddr, sizeof(a->daddr), "10.0.0.%ld", t % 250);
	memset(h, 0, sizeof(*h));
	h->rule = r;
	h->severity = sev;
	h->action = activity__parse_word(ACT_VOCAB_OUTCOME, action);
}

static void folding(void **state)
{
	struct rule_def r = { .id = "weights-connect" };
	struct incident_ref ref, first;
	struct activity a;
	struct rule_hit h;
	struct json j;
	struct output *o = open_out(&j);
	struct incidents *in = incidents__new(&(struct incident_opts){ .fold_s = 60 }, o, &j);
	struct timespec now = { .tv_sec = 1000 };
	json_t *upd = NULL;
	char k[256];

	hit_at(&a, &h, &r, 10, 1000, "medium", "alert");
	assert_int_equal(incidents__hit(in, &a, &h, &first), INCIDENT_REPORT);
	assert_int_equal(first.count, 1);
	for (int i = 1; i <= 5; i++) {
		hit_at(&a, &h, &r, 10, 1000 + i, i == 3 ? "critical" : "low", "alert");
		assert_int_equal(incidents__hit(in, &a, &h, &ref), INCIDENT_FOLDED);
	}
	/* another process: its own incident */
	hit_at(&a, &h, &r, 11, 1002, "low", "alert");
	assert_int_equal(incidents__hit(in, &a, &h, &ref), INCIDENT_REPORT);
	assert_string_not_equal(ref.id, first.id);
	/* enforcement of an open incident goes out at once, with its id */
	hit_at(&a, &h, &r, 10, 1010, "high", "blocked");
	assert_int_equal(incidents__hit(in, &a, &h, &ref), INCIDENT_REPORT);
	assert_string_equal(ref.id, first.id);
	assert_int_equal(ref.count, 7);
	/* no update before the interval is over, one after */
	incidents__flush(in, &now, false);
	now.tv_sec = 1061;
	incidents__flush(in, &now, false);
	incidents__flush(in, &now, true);	/* nothing left pending */
	output__close(o);
	kinds(k, sizeof(k), &upd);
	assert_string_equal(k, "alert_update");
	assert_non_null(upd);
	assert_string_equal(json_string_value(json_object_get(json_object_get(upd, "incident"), "id")),
			    first.id);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(upd, "incident"), "count")), 7);
	assert_int_equal(json_integer_value(json_object_get(upd, "folded")), 5);
	assert_string_equal(json_string_value(json_object_get(upd, "severity")), "critical");
	json_decref(upd);
	incidents__free(in);
	json__free(&j);
}

static void rate_limit(void **state)
{
	struct rule_def r = { .id = "weights-egress" }, r2 = { .id = "other" };
	struct incident_ref ref;
	struct activity a;
	struct rule_hit h;
	struct json j;
	struct output *o = open_out(&j);
	struct incidents *in = incidents__new(&(struct incident_opts){ .fold_s = 60, .rate_limit = 3 },
					      o, &j);
	struct timespec now = { .tv_sec = 2100 };
	int reported = 0;
	char k[256];

	for (int p = 0; p < 10; p++) {
		hit_at(&a, &h, &r, 100 + p, 2000 + p, "high", "alert");
		reported += incidents__hit(in, &a, &h, &ref) == INCIDENT_REPORT;
	}
	assert_int_equal(reported, 3);
	/* enforcement is never suppressed; other rules have their own budget */
	hit_at(&a, &h, &r, 200, 2010, "high", "killed");
	assert_int_equal(incidents__hit(in, &a, &h, &ref), INCIDENT_REPORT);
	hit_at(&a, &h, &r2, 201, 2010, "high", "alert");
	assert_int_equal(incidents__hit(in, &a, &h, &ref), INCIDENT_REPORT);
	/* a new minute: the old window's record first, then reports again */
	hit_at(&a, &h, &r, 300, 2070, "high", "alert");
	assert_int_equal(incidents__hit(in, &a, &h, &ref), INCIDENT_REPORT);
	incidents__flush(in, &now, true);
	output__close(o);
	kinds(k, sizeof(k), NULL);
	assert_string_equal(k, "alerts_suppressed");
	incidents__free(in);
	json__free(&j);
}

static void no_folding(void **state)
{
	struct rule_def r = { .id = "x" };
	struct incident_ref ref;
	struct activity a;
	struct rule_hit h;
	struct json j;
	struct output *o = open_out(&j);
	struct incidents *in = incidents__new(&(struct incident_opts){ 0 }, o, &j);

	for (int i = 0; i < 5; i++) {
		hit_at(&a, &h, &r, 10, 1000 + i, "low", "alert");
		assert_int_equal(incidents__hit(in, &a, &h, &ref), INCIDENT_REPORT);
		assert_int_equal(ref.count, 1);
	}
	output__close(o);
	unlink(path);
	incidents__free(in);
	json__free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(folding),
		cmocka_unit_test(rate_limit),
		cmocka_unit_test(no_folding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
