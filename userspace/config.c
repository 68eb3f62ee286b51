// SPDX-License-Identifier: GPL-2.0
/* The `vigil run` option table and the config file that sets the same
 * options (docs/OPERATIONS.md, "Configuration"). */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "activity.h"
#include "addr.h"
#include "mapsize.h"
#include "agent.h"
#include "caps.h"
#include "config.h"
#include "glob.h"
#include "rules.h"
#include "rules_parse.h"
#include "safefile.h"

int config__push(const char ***arr, size_t *n, const char *v)
{
	const char **na = realloc(*arr, (*n + 1) * sizeof(*na));

	if (!na)
		return -ENOMEM;
	*arr = na;
	na[(*n)++] = v;
	return 0;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int absolute(const char *v, const char *what, char *err, size_t errlen)
{
	if (v[0] != '/')
		return bad(err, errlen, "'%s': %s must be an absolute path", v, what);
	return 0;
}

/* ---- one apply function per option ----------------------------------------- */

static int a_protect(struct agent_opts *o, const char *v, char *e, size_t n)
{
	char why[256];

	if (glob__validate(v, why, sizeof(why)))
		return bad(e, n, "'%s': %s", v, why);
	return config__push(&o->protect, &o->nprotect, v);
}

static int a_allow(struct agent_opts *o, const char *v, char *e, size_t n)
{
	struct addr_rule r;
	char why[256];

	if (addr__parse_rule(v, &r, why, sizeof(why)))
		return bad(e, n, "'%s': %s", v, why);
	return config__push(&o->allow, &o->nallow, v);
}

static int a_serve(struct agent_opts *o, const char *v, char *e, size_t n)
{
	char *end;
	long port = strtol(v, &end, 10);

	if (!*v || *end || port < 1 || port > 65535)
		return bad(e, n, "'%s': expected a port 1..65535", v);
	return config__push(&o->serve, &o->nserve, v);
}

/* Options whose value is only stored: one line each. */
#define STORE_VALUE(fn, member) \
	static int fn(struct agent_opts *o, const char *v, char *e, size_t n) \
	{ o->member = v; return 0; }
#define STORE_TRUE(fn, member) \
	static int fn(struct agent_opts *o, const char *v, char *e, size_t n) \
	{ o->member = true; return 0; }
#define STORE_LIST(fn, member) \
	static int fn(struct agent_opts *o, const char *v, char *e, size_t n) \
	{ return config__push(&o->member, &o->n##member, v); }

STORE_LIST(a_rules, rules)
STORE_LIST(a_alerts, alerts)
STORE_LIST(a_label, labels)
STORE_VALUE(a_metrics, metrics)
STORE_VALUE(a_metrics_textfile, metrics_dir)
STORE_VALUE(a_cgroup, cgroup)
STORE_VALUE(a_record, record)
STORE_VALUE(a_resolv_conf, resolv_conf)
STORE_TRUE(a_no_default_rules, no_default_rules)
STORE_TRUE(a_deny_new_dest, deny_new_dest)
STORE_TRUE(a_pin, pin)
STORE_TRUE(a_verbose, verbose)
static int a_map_size(struct agent_opts *o, const char *v, char *e, size_t n)
{
	if (mapsize__check(v, e, n))
		return -EINVAL;
	return config__push(&o->map_sizes, &o->nmap_sizes, v);
}

/* tests only: shrink kernel maps or inject faults to prove fail-closed
 * paths (enforce.h) */
STORE_LIST(a_test_map_size, test_map_sizes)
STORE_LIST(a_test_fault, test_faults)

static int a_mode(struct agent_opts *o, const char *v, char *e, size_t n)
{
	switch (activity__parse_word(ACT_VOCAB_MODE, v)) {
	case ACT_MONITOR: o->enforce = false; return 0;
	case ACT_ENFORCE: o->enforce = true; return 0;
	default: return bad(e, n, "'%s': expected monitor or enforce", v);
	}
}

static int a_budget(struct agent_opts *o, const char *v, char *e, size_t n)
{
	char serr[128];

	if (addr__parse_size(v, &o->budget, serr, sizeof(serr)))
		return bad(e, n, "'%s': %s", v, serr);
	o->has_budget = true;
	return 0;
}

static int a_relay_min_bytes(struct agent_opts *o, const char *v, char *e, size_t n)
{
	char serr[128];

	if (addr__parse_size(v, &o->relay_min_bytes, serr, sizeof(serr)))
		return bad(e, n, "'%s': %s", v, serr);
	if (!o->relay_min_bytes)
		return bad(e, n, "'%s': must be at least 1 byte", v);
	return 0;
}

static int a_work_budget(struct agent_opts *o, const char *v, char *e, size_t n)
{
	char serr[128];

	if (addr__parse_size(v, &o->work_budget, serr, sizeof(serr)))
		return bad(e, n, "'%s': %s", v, serr);
	return 0;
}

/* seconds (or a count) 0..86400 */
static int bounded(const char *v, unsigned *out, const char *what, char *e, size_t n)
{
	char *end;
	long s = strtol(v, &end, 10);

	if (!*v || *end || s < 0 || s > 86400)
		return bad(e, n, "'%s': expected %s 0..86400", v, what);
	*out = s;
	return 0;
}

static int a_heartbeat(struct agent_opts *o, const char *v, char *e, size_t n)
{
	return bounded(v, &o->heartbeat_s, "seconds", e, n);
}

static int a_fold(struct agent_opts *o, const char *v, char *e, size_t n)
{
	return bounded(v, &o->fold_s, "seconds", e, n);
}

static int a_rate_limit(struct agent_opts *o, const char *v, char *e, size_t n)
{
	return bounded(v, &o->rate_limit, "alerts a minute", e, n);
}

static int a_state_file(struct agent_opts *o, const char *v, char *e, size_t n)
{
	if (absolute(v, "the state file", e, n))
		return -EINVAL;
	o->state_file = v;
	return 0;
}

static int a_kube_pods_dir(struct agent_opts *o, const char *v, char *e, size_t n)
{
	if (*v && absolute(v, "the kubelet's pod directory", e, n))
		return -EINVAL;
	o->kube_pods_dir = v;
	return 0;
}

static int a_file_group(struct agent_opts *o, const char *v, char *e, size_t n)
{
	struct group *g = getgrnam(v);
	char *end;
	unsigned long id = strtoul(v, &end, 10);

	if (g)
		o->file_gid = g->gr_gid;
	else if (*v && !*end && id < (gid_t)-1)
		o->file_gid = (gid_t)id;
	else
		return bad(e, n, "'%s': no such group", v);
	return 0;
}

static int a_stats_interval(struct agent_opts *o, const char *v, char *e, size_t n)
{
	return bounded(v, &o->stats_interval_s, "seconds", e, n);
}

static int a_hooks(struct agent_opts *o, const char *v, char *e, size_t n)
{
	char why[256];

	if (caps__parse_hooks(v, &o->hooks, why, sizeof(why)))
		return bad(e, n, "%s", why);
	return 0;
}

static int a_run_dir(struct agent_opts *o, const char *v, char *e, size_t n)
{
	if (absolute(v, "the run directory", e, n))
		return -EINVAL;
	if (strlen(v) > 80)
		return bad(e, n, "'%s': at most 80 characters (it holds a unix socket)", v);
	o->run_dir = v;
	return 0;
}

/* a kernel-bypass device besides uverbs and vfio (watch.h): its node */
static int a_bypass_device(struct agent_opts *o, const char *v, char *e, size_t n)
{
	struct stat st;

	if (absolute(v, "the bypass device", e, n))
		return -EINVAL;
	if (stat(v, &st))
		return bad(e, n, "'%s': %s", v, strerror(errno));
	if (!S_ISCHR(st.st_mode))
		return bad(e, n, "'%s': not a character device", v);
	return config__push(&o->bypass_devices, &o->nbypass_devices, v);
}

static int a_pin_dir(struct agent_opts *o, const char *v, char *e, size_t n)
{
	if (absolute(v, "the pin directory", e, n))
		return -EINVAL;
	o->pin_dir = v;
	return 0;
}

/* In `vigil run --help` order. */
const struct config_option config_options[] = {
	{ "protect", 'p', CONFIG_LIST, "GLOB", a_protect,
	  "protect files matching GLOB (repeatable; ** spans dirs)" },
	{ "allow", 'a', CONFIG_LIST, "CIDR[:PORT]", a_allow,
	  "egress destination that is not a leak (repeatable;\n"
	  "[v6]/len:port, PORT may be LO-HI)" },
	{ "serve", 0, CONFIG_LIST, "PORT", a_serve,
	  "a declared service (inference endpoint) on this port:\n"
	  "answers on connections it accepts are work unless they\n"
	  "are weights-shaped (repeatable; rules: serve:)" },
	{ "bypass-device", 0, CONFIG_LIST, "DEV", a_bypass_device,
	  "a kernel-bypass character device besides uverbs and\n"
	  "vfio (repeatable): opening one is a control event" },
	{ "mode", 'm', CONFIG_VALUE, "MODE", a_mode,
	  "monitor (default: alert only) or enforce (deny, drop, kill)" },
	{ "deny-new-destinations", 0, CONFIG_FLAG, NULL, a_deny_new_dest,
	  "enforce: refuse a process holding weight data any\n"
	  "connection to a destination neither loopback nor\n"
	  "allowlisted (default: it connects, its bytes are judged)" },
	{ "budget", 'b', CONFIG_VALUE, "BYTES", a_budget,
	  "tainted egress allowed per protected set before\n"
	  "enforce drops and kills (default 1MiB; K/M/G/KiB/MiB/GiB);\n"
	  "counts bytes judged weights-shaped or not judged" },
	{ "propagate-min-bytes", 0, CONFIG_VALUE, "BYTES", a_relay_min_bytes,
	  "tainted bytes a process must receive over one local\n"
	  "channel (TCP/UDP connection, pipe, FIFO, unix socket:\n"
	  "weights-shaped bytes) to be tainted by it (default 64KiB)" },
	{ "relay-min-bytes", 0, CONFIG_VALUE, "BYTES", a_relay_min_bytes,
	  "the former name of --propagate-min-bytes" },
	{ "work-budget", 0, CONFIG_VALUE, "BYTES", a_work_budget,
	  "work-shaped tainted egress (text, JSON, metrics) each\n"
	  "destination may get per hour (default 1GiB; 0: no limit)" },
	{ "resolv-conf", 0, CONFIG_VALUE, "FILE", a_resolv_conf,
	  "the host's nameservers (default /etc/resolv.conf, re-read\n"
	  "as it changes): DNS to them is judged as DNS, not egress" },
	{ "alerts", 'o', CONFIG_LIST, "SINK[,KEY=VALUE...]", a_alerts,
	  "where records go (repeatable; default -, stdout):\n"
	  "-, PATH or file:PATH, unix:PATH (for vigil tail),\n"
	  "syslog: or syslog:tcp://HOST:PORT, http(s)://URL;\n"
	  "keys: format=native|ecs|ocsf|cef, queue=N, queue_bytes=N,\n"
	  "chain=sha256; files: max_size=SIZE, max_age=DUR,\n"
	  "keep=N, compress=gzip|none; syslog: facility=,\n"
	  "socket=PATH; http: batch=N, spool=DIR,\n"
	  "spool_max=SIZE, timeout=SEC, header=Name:value\n"
	  "(docs/ALERTS.md)" },
	{ "label", 'l', CONFIG_LIST, "KEY=VALUE", a_label,
	  "operator label on every record, e.g. partner=acme\n"
	  "(repeatable)" },
	{ "cgroup", 'c', CONFIG_VALUE, "PATH", a_cgroup,
	  "watch and enforce only in this cgroup v2 subtree\n"
	  "(its directory, or its path below the cgroup2 mount)" },
	{ "rules", 'r', CONFIG_LIST, "PATH", a_rules,
	  "rule file or directory of *.yaml (repeatable), loaded\n"
	  "on top of the embedded default rules" },
	{ "record", 0, CONFIG_VALUE, "FILE", a_record,
	  "also write the correlated activity to FILE (zlib\n"
	  "JSON lines) for 'vigil replay' and 'vigil rules test'" },
	{ "file-group", 0, CONFIG_VALUE, "GROUP", a_file_group,
	  "create the alerts and record files 0640 for GROUP\n"
	  "(default 0600: root only)" },
	{ "no-default-rules", 0, CONFIG_FLAG, NULL, a_no_default_rules,
	  "do not load the embedded default rules" },
	{ "stats-interval", 0, CONFIG_VALUE, "SEC", a_stats_interval,
	  "write an agent_stats line every SEC seconds (default 60, 0=off)" },
	{ "heartbeat", 0, CONFIG_VALUE, "SEC", a_heartbeat,
	  "write a heartbeat line (liveness, kernel event losses)\n"
	  "every SEC seconds (default 60, 0=off)" },
	{ "fold", 0, CONFIG_VALUE, "SEC", a_fold,
	  "repeats of an incident (one rule, one process) fold\n"
	  "into an alert_update at most every SEC s (default 60;\n"
	  "0: every alert goes out)" },
	{ "rate-limit", 0, CONFIG_VALUE, "N", a_rate_limit,
	  "new incidents per rule a minute before the rest are\n"
	  "counted in alerts_suppressed (default 100, 0=none);\n"
	  "enforcement is never folded or suppressed" },
	{ "metrics", 0, CONFIG_VALUE, "ADDR:PORT", a_metrics,
	  "serve Prometheus metrics on GET /metrics (loopback,\n"
	  "e.g. 127.0.0.1:9464)" },
	{ "metrics-textfile", 0, CONFIG_VALUE, "DIR", a_metrics_textfile,
	  "write them to DIR/vigil.prom every second\n"
	  "(node_exporter's textfile collector)" },
	{ "state-file", 0, CONFIG_VALUE, "FILE", a_state_file,
	  "keep spent budgets in FILE (written atomically every\n"
	  "second): they survive a reboot; unreadable in enforce\n"
	  "mode: every budget counts as spent" },
	{ "kube-pods-dir", 0, CONFIG_VALUE, "DIR", a_kube_pods_dir,
	  "the kubelet's pod directory: a pod's namespace and name\n"
	  "by its uid (default /var/log/pods; \"\" turns it off)" },
	{ "hooks", 0, CONFIG_VALUE, "FAMILY,...", a_hooks,
	  "hook families vigil may use: tracepoint, fentry, lsm,\n"
	  "kprobe (default all; -NAME excludes; CAPABILITY:FAMILY\n"
	  "narrows one capability, e.g. mmap:lsm; see 'vigil check')" },
	{ "run-dir", 0, CONFIG_VALUE, "DIR", a_run_dir,
	  "control socket and agent state (default $VIGIL_RUN_DIR,\n"
	  "else " CONFIG_DEFAULT_RUN_DIR ")" },
	{ "pin", 0, CONFIG_FLAG, NULL, a_pin,
	  "pin programs and state in bpffs: enforcement goes on if\n"
	  "the agent dies, a restart adopts it ('vigil stop' unpins)" },
	{ "pin-dir", 0, CONFIG_VALUE, "DIR", a_pin_dir,
	  "where to pin (default " CONFIG_DEFAULT_PIN_DIR ")" },
	{ "verbose", 'v', CONFIG_FLAG, NULL, a_verbose, "debug logging on stderr" },
	{ "map-size", 0, CONFIG_LIST, "NAME=N", a_map_size,
	  "entries of a kernel state map: processes (tracked,\n"
	  "16384), files (protected and copies, 65536), flows\n"
	  "(16384), pipes, relays (16384), ptys, lost-socks\n"
	  "(4096); repeatable (docs/OPERATIONS.md, memory)" },
	{ "test-map-size", 0, CONFIG_LIST, "NAME=N", a_test_map_size,
	  "tests: shrink a kernel map (flows, taint,\n"
	  "lost-socks, pipes) to overflow it" },
	{ "test-fault", 0, CONFIG_LIST, "NAME", a_test_fault,
	  "tests: sock-storage (allocations fail), no-charge\n"
	  "(the budget is not enforced) or no-content (no sampling)" },
};
const size_t config_noptions = sizeof(config_options) / sizeof(config_options[0]);

void config__key(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s", config_options[i].name);
	for (char *c = buf; *c; c++)
		if (*c == '-')
			*c = '_';
}

int config__apply_flag(struct agent_opts *o, size_t i, const char *v, char *err, size_t errlen)
{
	char why[512];
	int r = config_options[i].apply(o, v, why, sizeof(why));

	if (r)
		snprintf(err, errlen, "--%s %s", config_options[i].name,
			 r == -ENOMEM ? "out of memory" : why);
	return r;
}

void config__usage(FILE *f)
{
	for (size_t i = 0; i < config_noptions; i++) {
		const struct config_option *c = &config_options[i];
		char left[64], shortp[8] = "    ";
		const char *h = c->help, *nl;

		if (c->short_name)
			snprintf(shortp, sizeof(shortp), "-%c, ", c->short_name);
		snprintf(left, sizeof(left), "%s--%s%s%s", shortp, c->name, c->arg ? " " : "",
			 c->arg ? c->arg : "");
		fprintf(f, "  %-24s ", left);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n%27s", (int)(nl - h), h, "");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
}

/* ---- the file ---------------------------------------------------------------- */

struct cparse {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

static int cfail(struct cparse *p, yaml_node_t *n, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%zu:%zu: %s", p->file, n->start_mark.line + 1,
		 n->start_mark.column + 1, msg);
	return -EINVAL;
}

static const char *cscalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int keep(struct config *c, const char *s, const char **out)
{
	char **ns = realloc(c->strs, (c->nstrs + 1) * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	c->strs = ns;
	if (!(ns[c->nstrs] = strdup(s)))
		return -ENOMEM;
	*out = ns[c->nstrs++];
	return 0;
}

static int apply_scalar(struct cparse *p, struct config *c, struct agent_opts *o, size_t i,
			yaml_node_t *v, const char *key)
{
	const char *s = cscalar(v), *kept;
	char why[512];
	int r;

	if (!s)
		return cfail(p, v, "%s: expected a single value, found a %s", key,
			     v->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
	if (!*s || memchr(s, '\0', v->data.scalar.length))
		return cfail(p, v, "%s: empty value", key);
	if (keep(c, s, &kept))
		return -ENOMEM;
	r = config_options[i].apply(o, kept, why, sizeof(why));
	if (r == -ENOMEM)
		return r;
	return r ? cfail(p, v, "%s: %s", key, why) : 0;
}

static int apply_key(struct cparse *p, struct config *c, struct agent_opts *o, size_t i,
		     yaml_node_t *v, const char *key)
{
	const struct config_option *opt = &config_options[i];

	if (opt->kind == CONFIG_FLAG) {
		const char *s = cscalar(v);

		if (!s || (strcmp(s, "true") && strcmp(s, "false")))
			return cfail(p, v, "%s: expected true or false", key);
		return strcmp(s, "true") ? 0 : opt->apply(o, NULL, p->err, p->errlen);
	}
	if (opt->kind == CONFIG_LIST && v->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			int r = apply_scalar(p, c, o, i, yaml_document_get_node(p->doc, *it), key);

			if (r)
				return r;
		}
		return 0;
	}
	return apply_scalar(p, c, o, i, v, key);
}

static int apply_doc(struct cparse *p, struct config *c, struct agent_opts *o,
		     const bool *from_flags)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	bool seen[64] = { 0 };

	_Static_assert(sizeof(config_options) / sizeof(config_options[0]) <= 64, "seen[]");
	if (!root)
		return 0;	/* an empty file: every default */
	if (root->type != YAML_MAPPING_NODE)
		return cfail(p, root, "expected a mapping of settings (mode: enforce, ...)");
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *ks = cscalar(k);
		char key[64], known[1024] = "";
		size_t i;
		int r;

		if (!ks)
			return cfail(p, k, "expected a setting name");
		for (i = 0; i < config_noptions; i++) {
			config__key(i, key, sizeof(key));
			if (!strcmp(ks, key))
				break;
			strncat(known, i ? ", " : "", sizeof(known) - strlen(known) - 1);
			strncat(known, key, sizeof(known) - strlen(known) - 1);
		}
		if (i == config_noptions)
			return cfail(p, k, "unknown setting '%s' (expected one of: %s)", ks, known);
		if (seen[i])
			return cfail(p, k, "duplicate setting '%s'", ks);
		seen[i] = true;
		if (from_flags && from_flags[i]) {
			/* the command line wins, but the file must still be valid */
			struct agent_opts discard = { 0 };

			r = apply_key(p, c, &discard, i, v, ks);
			free(discard.protect);
			free(discard.allow);
			free(discard.rules);
			free(discard.alerts);
			free(discard.labels);
		} else {
			r = apply_key(p, c, o, i, v, ks);
		}
		if (r)
			return r;
	}
	return 0;
}

int config__load(struct config *c, const char *path, struct agent_opts *o,
		 const bool *from_flags, char *err, size_t errlen)
{
	struct agent_opts scratch = *o;
	struct cparse p = { .file = path, .err = err, .errlen = errlen };
	yaml_document_t doc;
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(c, 0, sizeof(*c));
	/* bounded like rule files: regular files only, size, depth, aliases */
	r = safefile__read(path, CONFIG_MAX_BYTES, &text, &len, err, errlen);
	if (r)
		return r;
	/* the list options grow by realloc: work on copies of the arrays */
	scratch.protect = NULL, scratch.nprotect = 0;
	scratch.allow = NULL, scratch.nallow = 0;
	scratch.rules = NULL, scratch.nrules = 0;
	scratch.alerts = NULL, scratch.nalerts = 0;
	scratch.labels = NULL, scratch.nlabels = 0;
	r = yaml__load(path, text, len, &doc, err, errlen);
	if (!r) {
		p.doc = &doc;
		r = apply_doc(&p, c, &scratch, from_flags);
		yaml_document_delete(&doc);
	}
	free(text);
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	if (r) {
		free(scratch.protect);
		free(scratch.allow);
		free(scratch.rules);
		free(scratch.alerts);
		free(scratch.labels);
		config__free(c);
		return r;
	}
	/* the file's lists first, the command line's (none for an overridden
	 * key) after them */
	for (size_t i = 0; i < o->nprotect; i++)
		config__push(&scratch.protect, &scratch.nprotect, o->protect[i]);
	for (size_t i = 0; i < o->nallow; i++)
		config__push(&scratch.allow, &scratch.nallow, o->allow[i]);
	for (size_t i = 0; i < o->nrules; i++)
		config__push(&scratch.rules, &scratch.nrules, o->rules[i]);
	for (size_t i = 0; i < o->nalerts; i++)
		config__push(&scratch.alerts, &scratch.nalerts, o->alerts[i]);
	for (size_t i = 0; i < o->nlabels; i++)
		config__push(&scratch.labels, &scratch.nlabels, o->labels[i]);
	free(o->protect);
	free(o->allow);
	free(o->rules);
	free(o->alerts);
	free(o->labels);
	*o = scratch;
	c->path = strdup(path);
	return 0;
}

void config__free(struct config *c)
{
	for (size_t i = 0; i < c->nstrs; i++)
		free(c->strs[i]);
	free(c->strs);
	free(c->path);
	memset(c, 0, sizeof(*c));
}
