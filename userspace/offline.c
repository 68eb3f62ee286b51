// SPDX-License-Identifier: GPL-2.0
/* Rules without a kernel: `vigil replay` and `vigil rules test` push
 * recorded (or hand-written) activity through the same engine and alert
 * writer as the live agent. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "engine.h"
#include "log.h"
#include "offline.h"
#include "output.h"
#include "report.h"
#include "safefile.h"

/* names and messages printed whole on one line (a file name may hold '\n') */
static char esc_buf[2][4096];
#define ESC(s) log__escape((s), esc_buf[0], sizeof(esc_buf[0]))
#define ESC2(s) log__escape((s), esc_buf[1], sizeof(esc_buf[1]))

struct replay {
	struct engine *engine;
	struct output *out;
	struct incidents *inc;	/* NULL for fixtures: every alert, no incident */
	struct json j;
	struct activity act;
	unsigned long long alerts;
};

static void replay_hit(void *ctx, const struct activity *a, const struct rule_hit *h)
{
	struct replay *r = ctx;
	struct incident_ref ref;

	if (r->inc && incidents__hit(r->inc, a, h, &ref) != INCIDENT_REPORT)
		return;
	report__alert(r->out, &r->j, a, h, r->inc ? &ref : NULL, 0);
	r->alerts++;
}

static int replay_one(void *ctx, const struct activity *in)
{
	struct replay *r = ctx;

	r->act = *in;
	/* allow entries are rules too: the destination is judged by the new ones */
	engine__judge(r->engine, &r->act, NULL, NULL, replay_hit, r);
	return 0;
}

int offline__load_rules(const struct offline_opts *o, const char *extra, struct ruleset *rs,
			char *err, size_t errlen)
{
	struct rules_sources src = {
		.no_default_rules = o->no_default_rules, .paths = o->rules, .npaths = o->nrules,
		.extra = extra, .allow = o->allow, .nallow = o->nallow,
	};

	return rules__build(rs, &src, err, errlen);
}

/* Replay `capture` through rs, alerts to out_path. bare: without the record
 * identity (fixtures compare what was alerted, not which emission it was).
 * Returns alerts or -errno. */
static long replay_into(const struct ruleset *rs, const char *capture, const char *out_path,
			bool bare, char *err, size_t errlen)
{
	struct output_opts oo = { .sinks = &out_path, .nsinks = 1, .blocking = true,
				  .bare = bare, .file_gid = (gid_t)-1, .drain_ms = -1 };
	struct replay r = { 0 };
	long n;

	r.engine = engine__new(rs, err, errlen);
	if (!r.engine)
		return -EINVAL;
	r.out = output__open_opts(&oo, err, errlen);
	if (!r.out) {
		engine__free(r.engine);
		return -EIO;
	}
	json__init(&r.j);
	if (!bare) {	/* the live agent's defaults */
		r.inc = incidents__new(&(struct incident_opts){ .fold_s = 60, .rate_limit = 100 },
				       r.out, &r.j);
		if (!r.inc) {
			snprintf(err, errlen, "out of memory");
			output__close(r.out);
			engine__free(r.engine);
			return -ENOMEM;
		}
	}
	n = capture__read(capture, replay_one, &r, err, errlen);
	if (r.inc) {
		incidents__flush(r.inc, &r.act.time, true);
		incidents__free(r.inc);
	}
	json__free(&r.j);
	output__close(r.out);
	engine__free(r.engine);
	return n < 0 ? n : (long)r.alerts;
}

int offline__replay(const struct offline_opts *o, const char *capture, const char *alerts)
{
	struct ruleset rs;
	char err[1024];
	long n;

	if (offline__load_rules(o, NULL, &rs, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", ESC(err));
		return 2;
	}
	n = replay_into(&rs, capture, alerts ? alerts : "-", false, err, sizeof(err));
	rules__free(&rs);
	if (n < 0) {
		fprintf(stderr, "vigil: replay: %s\n", ESC(err));
		return n == -EINVAL ? 2 : 1;
	}
	return 0;
}

/* ---- rules test ---------------------------------------------------------- */

/* Every line of a JSON-lines file, parsed; NULL entries never. A regular
 * file of at most SAFEFILE_FIXTURE_MAX bytes without NUL bytes. */
static json_t *load_lines(const char *path, char *err, size_t errlen)
{
	json_t *arr = json_array();
	char *buf, *line, *next;
	size_t len;
	long lineno = 0;

	if (!arr || safefile__read(path, SAFEFILE_FIXTURE_MAX, &buf, &len, err, errlen)) {
		json_decref(arr);
		return NULL;
	}
	if (strlen(buf) != len) {
		snprintf(err, errlen, "%s: NUL byte at offset %zu", path, strlen(buf));
		json_decref(arr);
		free(buf);
		return NULL;
	}
	for (line = buf; line && *line; line = next) {
		json_error_t jerr;
		json_t *o;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (line[strspn(line, " \t\r")] == '\0' || line[strspn(line, " \t")] == '#')
			continue;
		o = json_loads(line, 0, &jerr);
		if (!o) {
			snprintf(err, errlen, "%s:%ld: not JSON: %s", path, lineno, jerr.text);
			json_decref(arr);
			arr = NULL;
			break;
		}
		json_array_append_new(arr, o);
	}
	free(buf);
	return arr;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

/* Which rules fired, for coverage of the pack under test. */
static void note_rules(json_t *alerts, json_t *fired)
{
	size_t i;
	json_t *a;

	json_array_foreach(alerts, i, a) {
		json_t *r = json_object_get(a, "rule");

		if (json_is_string(r))
			json_object_set_new(fired, json_string_value(r), json_true());
	}
}

static void print_diff(json_t *got, json_t *want)
{
	size_t n = json_array_size(got) > json_array_size(want) ? json_array_size(got) :
		   json_array_size(want);

	for (size_t i = 0; i < n; i++) {
		json_t *g = json_array_get(got, i), *w = json_array_get(want, i);
		char *gs, *ws;

		if (g && w && json_equal(g, w))
			continue;
		gs = g ? json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		ws = w ? json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		printf("#   alert %zu:\n#     want %s\n#     got  %s\n", i + 1,
		       ws ? ws : "(none)", gs ? gs : "(none)");
		free(gs);
		free(ws);
	}
}

/* One fixture: NAME.activity.jsonl (or NAME.capture) with NAME.alerts.jsonl
 * beside it; rules.yaml in the directory is loaded on top of the pack. */
static int run_fixture(const struct offline_opts *o, const struct ruleset *rs,
		       const char *dir, const char *input, json_t *fired, int *number)
{
	char base[NAME_MAX + 1], in[PATH_MAX + NAME_MAX + 2];
	char want_path[PATH_MAX + NAME_MAX + 16], got_path[64];
	char err[1024];
	json_t *got = NULL, *want = NULL;
	size_t blen;
	int ok = 0, fd;
	long n;

	blen = strlen(input) - (has_suffix(input, ".activity.jsonl") ?
				strlen(".activity.jsonl") : strlen(".capture"));
	snprintf(base, sizeof(base), "%.*s", (int)blen, input);
	snprintf(in, sizeof(in), "%s/%s", dir, input);
	snprintf(want_path, sizeof(want_path), "%s/%s.alerts.jsonl", dir, base);
	snprintf(got_path, sizeof(got_path), "/tmp/vigil-rules-test-XXXXXX");
	fd = mkstemp(got_path);
	if (fd < 0) {
		printf("not ok %d %s: %s\n", ++*number, ESC(base), strerror(errno));
		return 0;
	}
	close(fd);
	n = replay_into(rs, in, got_path, true, err, sizeof(err));
	if (n < 0) {
		printf("not ok %d %s\n#   %s\n", ++*number, ESC(base), ESC2(err));
		goto out;
	}
	got = load_lines(got_path, err, sizeof(err));
	if (got)
		note_rules(got, fired);
	if (o->update) {
		int dfd = safefile__open_output(want_path, true, (gid_t)-1, err, sizeof(err));
		FILE *src = fopen(got_path, "re"), *dst = dfd >= 0 ? fdopen(dfd, "w") : NULL;
		char buf[65536];
		size_t k;

		if (!dst) {
			if (dfd >= 0)
				close(dfd);
			if (src)
				fclose(src);
			printf("not ok %d %s\n#   %s\n", ++*number, ESC(base), ESC2(err));
			goto out;
		}
		while (src && (k = fread(buf, 1, sizeof(buf), src)) > 0)
			fwrite(buf, 1, k, dst);
		if (src)
			fclose(src);
		fclose(dst);
		printf("ok %d %s # updated %s (%ld alerts)\n", ++*number, ESC(base), ESC2(want_path), n);
		ok = 1;
		goto out;
	}
	want = load_lines(want_path, err, sizeof(err));
	if (!got || !want) {
		printf("not ok %d %s\n#   %s\n", ++*number, ESC(base), ESC2(err));
		goto out;
	}
	if (json_equal(got, want)) {
		printf("ok %d %s (%zu alerts)\n", ++*number, ESC(base), json_array_size(got));
		ok = 1;
	} else {
		printf("not ok %d %s: alerts differ from %s\n", ++*number, ESC(base), ESC2(want_path));
		print_diff(got, want);
	}
out:
	json_decref(got);
	json_decref(want);
	unlink(got_path);
	return ok;
}

static int fixture_name(const struct dirent *d)
{
	return has_suffix(d->d_name, ".activity.jsonl") || has_suffix(d->d_name, ".capture");
}

int offline__rules_test(const struct offline_opts *o, const char *dir)
{
	char extra[PATH_MAX], err[1024];
	struct dirent **names = NULL;
	struct ruleset rs;
	struct stat st;
	json_t *fired = json_object();
	int n, passed = 0, failed = 0, number = 0;
	bool have_extra;

	snprintf(extra, sizeof(extra), "%s/rules.yaml", dir);
	have_extra = !stat(extra, &st);
	if (offline__load_rules(o, have_extra ? extra : NULL, &rs, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", ESC(err));
		json_decref(fired);
		return 2;
	}
	n = scandir(dir, &names, fixture_name, alphasort);
	if (n < 0) {
		fprintf(stderr, "vigil: rules test %s: %s\n", ESC(dir), strerror(errno));
		rules__free(&rs);
		json_decref(fired);
		return 2;
	}
	if (n == 0)
		fprintf(stderr, "vigil: rules test %s: no fixtures (*.activity.jsonl or "
			"*.capture with a *.alerts.jsonl beside each)\n", ESC(dir));
	printf("1..%d\n", n + (o->coverage ? 1 : 0));
	for (int i = 0; i < n; i++) {
		if (run_fixture(o, &rs, dir, names[i]->d_name, fired, &number))
			passed++;
		else
			failed++;
		free(names[i]);
	}
	free(names);
	if (o->coverage) {
		/* every enabled rule of the pack fires in at least one fixture */
		char missing[2048] = "";

		for (size_t i = 0; i < rs.nrules; i++)
			if (rs.rules[i].enabled && !json_object_get(fired, rs.rules[i].id)) {
				strncat(missing, " ", sizeof(missing) - strlen(missing) - 1);
				strncat(missing, rs.rules[i].id, sizeof(missing) - strlen(missing) - 1);
			}
		if (*missing) {
			printf("not ok %d coverage: no fixture fires:%s\n", ++number, missing);
			failed++;
		} else {
			printf("ok %d coverage: every enabled rule fires in a fixture\n", ++number);
			passed++;
		}
	}
	printf("# %d passed, %d failed\n", passed, failed);
	rules__free(&rs);
	json_decref(fired);
	return failed || n == 0 ? 1 : 0;
}
