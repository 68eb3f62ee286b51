// SPDX-License-Identifier: GPL-2.0
/* The rule language end to end without a kernel: YAML lists, macros and
 * rules -> compiled engine -> hits on synthetic activity; merging by id,
 * precise errors, actions, dedupe, and the capture round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture.h"
#include "engine.h"
#include "rules.h"

static const char *BASE =
	"list:\n"
	"  - name: uploaders\n"
	"    items: [curl, rclone]\n"
	"macro:\n"
	"  - name: out\n"
	"    condition: evt.type in (connect, egress) and not net.allowed\n"
	"rule:\n"
	"  - id: r-upload\n"
	"    condition: out and proc.name in (uploaders)\n"
	"    severity: critical\n"
	"    action: kill\n"
	"    message: '%proc.name sent %net.bytes bytes to %net.daddr:%net.dport (%file.path) 100%%'\n"
	"    tags: [T1567]\n"
	"  - id: r-any\n"
	"    condition: evt.type = egress\n"
	"    severity: low\n";

static int load(struct ruleset *rs, const char *name, const char *yaml, char *err, size_t n)
{
	return rules__load_string(rs, name, yaml, strlen(yaml), err, n);
}

static void mk_act(struct activity *a, const char *event, const char *comm, const char *mode)
{
	memset(a, 0, sizeof(*a));
	a->event = activity__parse_word(ACT_VOCAB_EVENT, event);
	a->action = ACT_ALERT;
	a->mode = activity__parse_word(ACT_VOCAB_MODE, mode);
	a->host = "h";
	a->proc.pid = 77;
	snprintf(a->proc.comm, sizeof(a->proc.comm), "%s", comm);
	snprintf(a->proc.exe, sizeof(a->proc.exe), "/usr/bin/%s", comm);
	a->nsources = 1;
	a->sources[0].path = "/m/w.safetensors";
	a->sources[0].set = "m";
	a->sources[0].bytes_read = 100;
	a->nchain = 1;
	a->chain[0].pid = 77;
	a->chain[0].comm = a->proc.comm;
	a->chain[0].via = "read";
	a->taint_via = "read";
	a->af = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", a->daddr_raw);
	snprintf(a->daddr, sizeof(a->daddr), "10.1.2.3");
	a->dport = 443;
	a->family = "ipv4";
	a->protocol = "tcp";
	a->bytes = 4096;
	activity__finish(a);
}

struct hits {
	int n;
	char rule[8][64], action[8][16], msg[8][1024];
	const char *enforce_action[8];
	int kills, blocks;
	int kill_rc;
};

static void on_hit(void *ctx, const struct activity *a, const struct rule_hit *h)
{
	struct hits *x = ctx;

	if (x->n >= 8)
		return;
	snprintf(x->rule[x->n], 64, "%s", h->rule->id);
	snprintf(x->action[x->n], 16, "%s", activity__word(ACT_VOCAB_OUTCOME, h->action));
	snprintf(x->msg[x->n], 1024, "%s", h->message);
	x->enforce_action[x->n] = activity__word(ACT_VOCAB_OUTCOME, h->enforce_action);
	x->n++;
}

static int fx_kill(void *ctx, const struct activity *a)
{
	struct hits *x = ctx;

	x->kills++;
	return x->kill_rc;
}

static int fx_block(void *ctx, const struct activity *a)
{
	((struct hits *)ctx)->blocks++;
	return 0;
}

static void rules_fire_with_templates_and_actions(void **state)
{
	struct ruleset rs;
	struct engine *e;
	struct activity a;
	struct hits h = { 0 };
	struct engine_effects fx = { .ctx = &h, .kill = fx_kill, .block = fx_block };
	char err[512];

	rules__init(&rs);
	assert_int_equal(load(&rs, "base.yaml", BASE, err, sizeof(err)), 0);
	assert_int_equal(rs.nrules, 2);
	e = engine__new(&rs, err, sizeof(err));
	assert_non_null(e);

	mk_act(&a, "egress", "curl", "monitor");
	assert_int_equal(engine__eval(e, &a, &fx, on_hit, &h), 2);
	assert_string_equal(h.rule[0], "r-upload");
	assert_string_equal(h.action[0], "alert");		/* monitor: no kill */
	assert_string_equal(h.enforce_action[0], "killed");
	assert_int_equal(h.kills, 0);
	assert_string_equal(h.msg[0], "curl sent 4096 bytes to 10.1.2.3:443 (/m/w.safetensors) 100%");
	assert_string_equal(h.rule[1], "r-any");

	/* the same again: suppressed */
	assert_int_equal(engine__eval(e, &a, &fx, on_hit, &h), 0);

	/* enforce: the agent kills, and says so */
	mk_act(&a, "egress", "rclone", "enforce");
	a.proc.pid = 78;
	assert_int_equal(engine__eval(e, &a, &fx, on_hit, &h), 2);
	assert_string_equal(h.action[2], "killed");
	assert_int_equal(h.kills, 1);

	/* a kill that fails is reported as what was done (alert) and counted */
	h.kill_rc = -3;
	a.proc.pid = 79;
	engine__eval(e, &a, &fx, on_hit, &h);
	assert_string_equal(h.action[4], "alert");
	{
		struct engine_stats st;

		engine__stats(e, &st);
		assert_int_equal(st.action_failures, 1);
	}
	/* allowlisted destination: the macro says no */
	a.proc.pid = 80;
	a.allowed = true;
	h.n = 0;
	engine__eval(e, &a, &fx, on_hit, &h);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.rule[0], "r-any");
	engine__free(e);
	rules__free(&rs);
}

static void override_append_and_exceptions(void **state)
{
	struct ruleset rs;
	struct engine *e;
	struct activity a;
	struct hits h = { 0 };
	char err[512];

	rules__init(&rs);
	assert_int_equal(load(&rs, "base.yaml", BASE, err, sizeof(err)), 0);
	assert_int_equal(load(&rs, "site.yaml",
		"list:\n"
		"  - name: uploaders\n"
		"    append: true\n"
		"    items: [scp]\n"
		"rule:\n"
		"  - id: r-any\n"
		"    override: true\n"
		"    severity: medium\n"
		"  - id: r-upload\n"
		"    append: true\n"
		"    condition: and net.dport != 22\n"
		"    exceptions:\n"
		"      - name: backup\n"
		"        condition: proc.exe glob /opt/backup/*\n",
		err, sizeof(err)), 0);
	assert_string_equal(rs.rules[1].severity, "medium");
	assert_string_equal(rs.rules[1].condition, "evt.type = egress");	/* kept */
	e = engine__new(&rs, err, sizeof(err));
	assert_non_null(e);

	mk_act(&a, "egress", "scp", "monitor");		/* appended list item */
	engine__eval(e, &a, NULL, on_hit, &h);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.rule[0], "r-upload");

	mk_act(&a, "egress", "scp", "monitor");		/* appended condition */
	a.proc.pid = 90;
	a.dport = 22;
	h.n = 0;
	engine__eval(e, &a, NULL, on_hit, &h);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.rule[0], "r-any");

	mk_act(&a, "egress", "curl", "monitor");		/* exception */
	a.proc.pid = 91;
	snprintf(a.proc.exe, sizeof(a.proc.exe), "/opt/backup/curl");
	h.n = 0;
	engine__eval(e, &a, NULL, on_hit, &h);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.rule[0], "r-any");

	/* disable a rule from a later file */
	engine__free(e);
	assert_int_equal(load(&rs, "off.yaml",
		"rule:\n  - id: r-any\n    override: true\n    enabled: false\n", err, sizeof(err)), 0);
	e = engine__new(&rs, err, sizeof(err));
	mk_act(&a, "egress", "python3", "monitor");
	h.n = 0;
	engine__eval(e, &a, NULL, on_hit, &h);
	assert_int_equal(h.n, 0);
	assert_int_equal(engine__rule_count(e), 1);
	engine__free(e);
	rules__free(&rs);
}

/* Each bad file: an error naming file:line:column and what is wrong, and
 * nothing of it applied. */
static void expect_error(const char *yaml, const char *where, const char *what)
{
	struct ruleset rs;
	char err[512] = "";

	rules__init(&rs);
	assert_int_equal(load(&rs, "base.yaml", BASE, err, sizeof(err)), 0);
	assert_int_not_equal(load(&rs, "bad.yaml", yaml, err, sizeof(err)), 0);
	if (!strstr(err, where) || !strstr(err, what))
		fail_msg("error '%s' lacks '%s' or '%s'", err, where, what);
	assert_int_equal(rs.nrules, 2);
	assert_int_equal(rs.nlists, 1);
	assert_int_equal(rs.nmacros, 1);
	assert_int_equal(rs.nfiles, 1);
	rules__free(&rs);
}

static void errors_are_precise(void **state)
{
	expect_error("rule:\n  - id: r-upload\n    condition: evt.type = egress\n",
		     "bad.yaml:2:5", "rule 'r-upload' is already defined at base.yaml:8:5");
	expect_error("rule:\n  - id: x\n    condition: proc.nme = curl\n",
		     "bad.yaml:3:16", "unknown field 'proc.nme' (did you mean 'proc.name'?)");
	expect_error("rule:\n  - id: x\n    condition: \"evt.type = egress and nope\"\n",
		     "bad.yaml:3:39", "undefined macro 'nope'");
	expect_error("rule:\n  - id: x\n    condition: proc.name in missing_list\n",
		     "bad.yaml:3", "undefined list 'missing_list'");
	expect_error("rule:\n  - id: x\n    condition: net.dport = http\n",
		     "bad.yaml:3", "net.dport");
	expect_error("rule:\n  - id: x\n    condition: evt.type = egress\n    severity: huge\n",
		     "bad.yaml:4:15", "expected a severity");
	expect_error("rule:\n  - id: x\n    condition: evt.type = egress\n    action: nuke\n",
		     "bad.yaml:4:13", "expected an action");
	expect_error("rule:\n  - id: x\n    condition: evt.type = egress\n    colour: red\n",
		     "bad.yaml:4:5", "unknown field 'colour' in rule");
	expect_error("rule:\n  - id: x\n    condition: evt.type = egress\n    message: '%proc.nam'\n",
		     "bad.yaml:4", "unknown field '%proc.nam'");
	expect_error("rule:\n  - id: x\n    override: true\n    severity: low\n",
		     "bad.yaml:2:5", "no earlier definition");
	expect_error("rule:\n  - id: dup\n    condition: evt.type = budget\n"
		     "  - id: dup2\n    condition: (evt.type = budget)\n",
		     "bad.yaml:4:5", "shadowed by rule 'dup'");
	expect_error("macro:\n  - name: loop\n    condition: loop and evt.type = egress\n",
		     "bad.yaml:3", "loop");
	expect_error("list:\n  - name: uploaders\n    items: [wget]\n",
		     "bad.yaml:2:5", "list 'uploaders' is already defined");
	expect_error("rule:\n  - id: r-any\n    append: true\n    severity: high\n",
		     "bad.yaml:2:5", "append: true adds condition, tags and exceptions only");
	expect_error("allow:\n  - name: a\n    cidr: 10.0.0.0/8\n    exe: [pip]\n",
		     "bad.yaml:4", "must be an absolute path");
	expect_error("budget:\n  - set: \"*\"\n    bytes: 1MiB\n    window: fortnight\n",
		     "bad.yaml:4:13", "expected a window");
	expect_error("rule:\n  - id: tele\n    condition: evt.type = teleport\n",
		     "bad.yaml:3:16", "rule 'tele' can never match: its evt.type/evt.mode tests");
	/* long conditions differing only at the end are not each other's shadow */
	{
		struct ruleset rs;
		char err[512], yaml[8192];
		int n = snprintf(yaml, sizeof(yaml), "rule:\n");

		for (int r = 0; r < 2; r++) {
			n += snprintf(yaml + n, sizeof(yaml) - n, "  - id: long%d\n    condition: "
				      "evt.type = egress", r);
			for (int k = 0; k < 150; k++)
				n += snprintf(yaml + n, sizeof(yaml) - n, " and proc.name != x%d", k);
			n += snprintf(yaml + n, sizeof(yaml) - n, " and net.dport = %d\n", r);
		}
		rules__init(&rs);
		if (load(&rs, "long.yaml", yaml, err, sizeof(err)))
			fail_msg("%s", err);
		rules__free(&rs);
	}
	/* a later file that breaks an earlier rule is refused too */
	expect_error("list:\n  - name: uploaders\n    override: true\n    items: []\n"
		     "macro:\n  - name: out\n    override: true\n    condition: proc.uid = root\n",
		     "", "proc.uid");
}

struct collect {
	int n;
	struct activity last;
	char event[16], path[64], set[16], chain_comm[16];
};

static int collect(void *ctx, const struct activity *a)
{
	struct collect *c = ctx;

	c->n++;
	c->last = *a;
	snprintf(c->event, sizeof(c->event), "%s", activity__word(ACT_VOCAB_EVENT, a->event));
	snprintf(c->path, sizeof(c->path), "%s", a->sources[0].path);
	snprintf(c->set, sizeof(c->set), "%s", a->sets[0]);
	snprintf(c->chain_comm, sizeof(c->chain_comm), "%s", a->chain[0].comm);
	return 0;
}

static void capture_round_trip(void **state)
{
	char path[] = "/tmp/vigil-test-capture-XXXXXX", err[512];
	struct capture_writer *w;
	struct activity a;
	struct collect c = { 0 };
	static const char *sets[] = { "m" };
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	mk_act(&a, "budget", "curl", "enforce");
	a.action = ACT_KILLED;
	a.killed_by = ACT_BY_KERNEL;
	a.time.tv_sec = 1700000000;
	a.time.tv_nsec = 123456000;
	a.sets[0] = sets[0];
	a.nsets = 1;
	a.proc.start_ticks = 4242;
	a.blocked_bytes = 65536;
	w = capture__create(path, "h", "enforce", (gid_t)-1, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(capture__write(w, &a), 0);
	assert_int_equal(capture__write(w, &a), 0);
	assert_int_equal(capture__close(w), 0);

	assert_int_equal(capture__read(path, collect, &c, err, sizeof(err)), 2);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.last.time.tv_sec, 1700000000);
	assert_int_equal(c.last.time.tv_nsec, 123456000);
	assert_string_equal(c.event, "budget");
	assert_string_equal(c.last.proc.comm, "curl");
	assert_int_equal(c.last.proc.start_ticks, 4242);
	assert_string_equal(c.path, "/m/w.safetensors");
	assert_string_equal(c.set, "m");
	assert_string_equal(c.chain_comm, "curl");
	assert_string_equal(c.last.daddr, "10.1.2.3");
	assert_int_equal(c.last.dport, 443);
	assert_int_equal(c.last.blocked_bytes, 65536);
	unlink(path);
}

static void capture_errors_name_the_line(void **state)
{
	char path[] = "/tmp/vigil-test-activity-XXXXXX", err[512];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "# hand-written\n{\"event\":\"egress\",\"network\":{\"daddr\":\"10.0.0.1\"}}\n"
		   "{\"event\":\"teleport\"}\n");
	fclose(f);
	assert_true(capture__read(path, NULL, NULL, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, ":3: unknown event 'teleport'"));
	f = fopen(path, "w");
	fprintf(f, "{\"event\":\"egress\",\"network\":{\"daddr\":\"10.0.0.300\"}}\n");
	fclose(f);
	assert_true(capture__read(path, NULL, NULL, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, ":1: 'network.daddr' '10.0.0.300'"));
	f = fopen(path, "w");
	fprintf(f, "{\"event\":\"egress\",\"colour\":1}\n");
	fclose(f);
	assert_true(capture__read(path, NULL, NULL, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "unknown member 'colour'"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rules_fire_with_templates_and_actions),
		cmocka_unit_test(override_append_and_exceptions),
		cmocka_unit_test(errors_are_precise),
		cmocka_unit_test(capture_round_trip),
		cmocka_unit_test(capture_errors_name_the_line),
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
