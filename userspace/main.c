// SPDX-License-Identifier: GPL-2.0
/* vigil command line: a table of subcommands, each parsing its own flags. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "activity.h"
#include "addr.h"
#include "agent.h"
#include "caps.h"
#include "json.h"
#include "engine.h"
#include "log.h"
#include "offline.h"
#include "format.h"
#include "rules.h"
#include "tail.h"

static void usage_run(FILE *f)
{
	fprintf(f,
"usage: vigil run [options]\n"
"  Watch reads of protected weight files and the egress of processes that read\n"
"  them; alert on (monitor) or stop (enforce) anything that looks like a leak.\n"
"\n"
"  -p, --protect GLOB       protect files matching GLOB (repeatable; ** spans dirs)\n"
"  -a, --allow CIDR[:PORT]  egress destination that is not a leak (repeatable;\n"
"                           [v6]/len:port, PORT may be LO-HI)\n"
"  -m, --mode MODE          monitor (default: alert only) or enforce (deny, drop, kill)\n"
"  -b, --budget BYTES       tainted egress allowed per protected set before\n"
"                           enforce drops and kills (default 1MiB; K/M/G/KiB/MiB/GiB)\n"
"  -o, --alerts SINK[,KEY=VALUE...]\n"
"                           where records go (repeatable; default -, stdout):\n"
"                           -, PATH or file:PATH, unix:PATH (for vigil tail),\n"
"                           syslog: or syslog:tcp://HOST:PORT, http(s)://URL;\n"
"                           keys: format=native|ecs|ocsf|cef, queue=N, queue_bytes=N,\n"
"                           chain=sha256; files: max_size=SIZE, max_age=DUR,\n"
"                           keep=N, compress=gzip|none; syslog: facility=,\n"
"                           socket=PATH; http: batch=N, spool=DIR,\n"
"                           spool_max=SIZE, timeout=SEC, header=Name:value\n"
"                           (docs/ALERTS.md)\n"
"  -l, --label KEY=VALUE    operator label on every record, e.g. partner=acme\n"
"                           (repeatable)\n"
"  -c, --cgroup PATH        watch and enforce only in this cgroup v2 subtree\n"
"                           (its directory, or its path below the cgroup2 mount)\n"
"  -r, --rules PATH         rule file or directory of *.yaml (repeatable), loaded\n"
"                           on top of the embedded default rules\n"
"      --record FILE        also write the correlated activity to FILE (zlib\n"
"                           JSON lines) for 'vigil replay' and 'vigil rules test'\n"
"      --file-group GROUP   create the alerts and record files 0640 for GROUP\n"
"                           (default 0600: root only)\n"
"      --no-default-rules   do not load the embedded default rules\n"
"      --stats-interval SEC write an agent_stats line every SEC seconds (default 60, 0=off)\n"
"      --heartbeat SEC      write a heartbeat line (liveness, kernel event losses)\n"
"                           every SEC seconds (default 60, 0=off)\n"
"      --fold SEC           repeats of an incident (one rule, one process) fold\n"
"                           into an alert_update at most every SEC s (default 60;\n"
"                           0: every alert goes out)\n"
"      --rate-limit N       new incidents per rule a minute before the rest are\n"
"                           counted in alerts_suppressed (default 100, 0=none);\n"
"                           enforcement is never folded or suppressed\n"
"      --metrics ADDR:PORT  serve Prometheus metrics on GET /metrics (loopback,\n"
"                           e.g. 127.0.0.1:9464)\n"
"      --metrics-textfile DIR  write them to DIR/vigil.prom every second\n"
"                           (node_exporter's textfile collector)\n"
"      --hooks FAMILY,...   hook families vigil may use: tracepoint, fentry, lsm,\n"
"                           kprobe (default all; -NAME excludes; see 'vigil check')\n"
"  -v, --verbose            debug logging on stderr\n"
"      --test-map-size NAME=N  tests: shrink a kernel map (flows, taint,\n"
"                           lost-socks, pipes) to overflow it\n"
"      --test-fault NAME    tests: sock-storage (allocations fail) or no-charge\n"
"                           (the budget is not enforced)\n"
"  -h, --help               this help\n");
}

static int push(const char ***arr, size_t *n, const char *v)
{
	const char **na = realloc(*arr, (*n + 1) * sizeof(*na));

	if (!na)
		return -ENOMEM;
	*arr = na;
	na[(*n)++] = v;
	return 0;
}

/* Every long option of every command, once; a command takes the ones
 * whose letters it names. */
static const struct option all_options[] = {
	{ "protect", required_argument, 0, 'p' },
	{ "allow", required_argument, 0, 'a' },
	{ "mode", required_argument, 0, 'm' },
	{ "budget", required_argument, 0, 'b' },
	{ "alerts", required_argument, 0, 'o' },
	{ "label", required_argument, 0, 'l' },
	{ "cgroup", required_argument, 0, 'c' },
	{ "rules", required_argument, 0, 'r' },
	{ "no-default-rules", no_argument, 0, 'N' },
	{ "stats-interval", required_argument, 0, 'S' },
	{ "heartbeat", required_argument, 0, 'H' },
	{ "fold", required_argument, 0, 'F' },
	{ "rate-limit", required_argument, 0, 'L' },
	{ "metrics", required_argument, 0, 'M' },
	{ "metrics-textfile", required_argument, 0, 'T' },
	{ "record", required_argument, 0, 'R' },
	{ "file-group", required_argument, 0, 'G' },
	{ "hooks", required_argument, 0, 'K' },
	{ "json", no_argument, 0, 'j' },
	{ "verbose", no_argument, 0, 'v' },
	{ "test-map-size", required_argument, 0, 'z' },
	{ "test-fault", required_argument, 0, 'X' },
	{ "update", no_argument, 0, 'U' },
	{ "coverage", no_argument, 0, 'C' },
	{ "help", no_argument, 0, 'h' },
	{ 0 },
};
#define NOPTIONS (sizeof(all_options) / sizeof(all_options[0]))

/* The options of one command (letters: their short names), in table order. */
static const struct option *options_for(const char *letters, struct option *out)
{
	size_t n = 0;

	for (size_t i = 0; all_options[i].name; i++)
		if (strchr(letters, all_options[i].val))
			out[n++] = all_options[i];
	memset(&out[n], 0, sizeof(out[n]));
	return out;
}

static int cmd_run(int argc, char **argv)
{
	struct option buf[NOPTIONS];
	const struct option *opts = options_for("pambolcrNSHFLMTRGKvzXh", buf);
	struct agent_opts o = { .stats_interval_s = 60, .heartbeat_s = 60, .fold_s = 60,
				.rate_limit = 100, .file_gid = (gid_t)-1 };
	char err[256];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:a:m:b:o:l:c:r:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': push(&o.protect, &o.nprotect, optarg); break;
		case 'a': push(&o.allow, &o.nallow, optarg); break;
		case 'r': push(&o.rules, &o.nrules, optarg); break;
		case 'o': push(&o.alerts, &o.nalerts, optarg); break;
		case 'l': push(&o.labels, &o.nlabels, optarg); break;
		case 'c': o.cgroup = optarg; break;
		case 'M': o.metrics = optarg; break;
		case 'T': o.metrics_dir = optarg; break;
		case 'N': o.no_default_rules = true; break;
		case 'R': o.record = optarg; break;
		case 'K':
			if (caps__parse_hooks(optarg, &o.hooks, err, sizeof(err))) {
				fprintf(stderr, "vigil: %s\n", err);
				return 2;
			}
			break;
		case 'v': o.verbose = true; break;
		case 'z': push(&o.test_map_sizes, &o.ntest_map_sizes, optarg); break;
		case 'X': push(&o.test_faults, &o.ntest_faults, optarg); break;
		case 'G': {
			struct group *g = getgrnam(optarg);
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (g) {
				o.file_gid = g->gr_gid;
			} else if (*optarg && !*end && v < (gid_t)-1) {
				o.file_gid = (gid_t)v;
			} else {
				fprintf(stderr, "vigil: --file-group '%s': no such group\n", optarg);
				return 2;
			}
			break;
		}
		case 'm':
			switch (activity__parse_word(ACT_VOCAB_MODE, optarg)) {
			case ACT_MONITOR: o.enforce = false; break;
			case ACT_ENFORCE: o.enforce = true; break;
			default:
				fprintf(stderr, "vigil: --mode '%s': expected monitor or enforce\n", optarg);
				return 2;
			}
			break;
		case 'b':
			if (addr__parse_size(optarg, &o.budget, err, sizeof(err))) {
				fprintf(stderr, "vigil: --budget '%s': %s\n", optarg, err);
				return 2;
			}
			o.has_budget = true;
			break;
		case 'S': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 86400) {
				fprintf(stderr, "vigil: --stats-interval '%s': expected seconds 0..86400\n",
					optarg);
				return 2;
			}
			o.stats_interval_s = v;
			break;
		}
		case 'H': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 86400) {
				fprintf(stderr, "vigil: --heartbeat '%s': expected seconds 0..86400\n",
					optarg);
				return 2;
			}
			o.heartbeat_s = v;
			break;
		}
		case 'F':
		case 'L': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 0 || v > 86400) {
				fprintf(stderr, "vigil: --%s '%s': expected %s 0..86400\n",
					c == 'F' ? "fold" : "rate-limit", optarg,
					c == 'F' ? "seconds" : "alerts a minute");
				return 2;
			}
			if (c == 'F')
				o.fold_s = v;
			else
				o.rate_limit = v;
			break;
		}
		case 'h':
			usage_run(stdout);
			return 0;
		default:
			fprintf(stderr, "vigil: run: see 'vigil run --help'\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil: run: unexpected argument '%s' (see 'vigil run --help')\n",
			argv[optind]);
		return 2;
	}
	ret = agent__run(&o);
	free(o.alerts);
	free(o.labels);
	free(o.protect);
	free(o.allow);
	free(o.rules);
	return ret;
}

/* `vigil record -o FILE [run options]`: run, recording activity to FILE. */
static int cmd_record(int argc, char **argv)
{
	const char **args = calloc(argc + 3, sizeof(*args));
	const char *out = NULL;
	int n = 0, ret;

	if (!args)
		return 1;
	args[n++] = "run";
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
			out = argv[++i];
			continue;
		}
		if (!strncmp(argv[i], "--output=", 9)) {
			out = argv[i] + 9;
			continue;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: vigil record -o FILE [vigil run options]\n"
			       "  Run the agent and write the correlated activity it sees to FILE\n"
			       "  (zlib-compressed JSON lines); alerts go where --alerts says.\n"
			       "  Test a rule change later with: vigil replay FILE --rules NEW.yaml\n");
			free(args);
			return 0;
		}
		args[n++] = argv[i];
	}
	if (!out) {
		fprintf(stderr, "vigil: record: -o FILE is required (see 'vigil record --help')\n");
		free(args);
		return 2;
	}
	args[n++] = "--record";
	args[n++] = out;
	ret = cmd_run(n, (char **)args);
	free(args);
	return ret;
}

/* Options shared by replay and rules: --rules, --allow, --no-default-rules. */
static int offline_opts(int argc, char **argv, struct offline_opts *o, const char **alerts,
			const char ***pos, size_t *npos, const char *cmd)
{
	struct option buf[NOPTIONS];
	const struct option *opts = options_for("raoNUCh", buf);
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:a:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': push(&o->rules, &o->nrules, optarg); break;
		case 'a': push(&o->allow, &o->nallow, optarg); break;
		case 'o':
			if (!alerts)
				goto bad;
			*alerts = optarg;
			break;
		case 'N': o->no_default_rules = true; break;
		case 'U': o->update = true; break;
		case 'C': o->coverage = true; break;
		case 'h': return 1;
		default:
			goto bad;
		}
	}
	for (int i = optind; i < argc; i++)
		push(pos, npos, argv[i]);
	return 0;
bad:
	fprintf(stderr, "vigil: %s: see 'vigil %s --help'\n", cmd, cmd);
	return -1;
}

static int cmd_replay(int argc, char **argv)
{
	struct offline_opts o = { 0 };
	const char *alerts = "-", **pos = NULL;
	size_t npos = 0;
	int r = offline_opts(argc, argv, &o, &alerts, &pos, &npos, "replay");

	if (r > 0 || (r == 0 && npos != 1)) {
		FILE *f = r > 0 ? stdout : stderr;

		fprintf(f, "usage: vigil replay FILE [--rules PATH]... [--allow CIDR[:PORT]]...\n"
			   "                    [--no-default-rules] [--alerts FILE|-]\n"
			   "  Run a capture (vigil record) or a hand-written activity file through\n"
			   "  the rules and print the alerts the live agent would have printed.\n");
		r = r > 0 ? 0 : 2;
	} else if (r == 0) {
		r = offline__replay(&o, pos[0], alerts);
	} else {
		r = 2;
	}
	free(pos);
	free(o.rules);
	free(o.allow);
	return r;
}

static void usage_rules(FILE *f)
{
	fprintf(f,
"usage: vigil rules validate PATH... [--rules PATH]... [--no-default-rules]\n"
"       vigil rules test DIR [--rules PATH]... [--no-default-rules] [--update] [--coverage]\n"
"       vigil rules fields\n"
"  validate  check rule files on top of the default pack: file:line:column errors\n"
"  test      replay each DIR/NAME.activity.jsonl (or NAME.capture) and compare with\n"
"            DIR/NAME.alerts.jsonl; DIR/rules.yaml, if present, is loaded last;\n"
"            --update rewrites the expected alerts, --coverage requires every\n"
"            enabled rule to fire somewhere\n"
"  fields    list the fields conditions and messages can use\n");
}

static int cmd_rules(int argc, char **argv)
{
	struct offline_opts o = { 0 };
	const char **pos = NULL;
	size_t npos = 0;
	int r, bad = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage_rules(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "fields")) {
		for (size_t i = 0; i < activity_nfields; i++) {
			static const char *const types[] = { "string", "number", "bool", "list",
							     "address" };
			printf("%-18s %-8s %s\n", activity_fields[i].name,
			       types[activity_fields[i].type], activity_fields[i].doc);
		}
		return 0;
	}
	r = offline_opts(argc - 1, argv + 1, &o, NULL, &pos, &npos, "rules");
	if (r) {
		usage_rules(r > 0 ? stdout : stderr);
		r = r > 0 ? 0 : 2;
		goto out;
	}
	if (!strcmp(argv[1], "test")) {
		if (npos != 1) {
			usage_rules(stderr);
			r = 2;
		} else {
			r = offline__rules_test(&o, pos[0]);
		}
		goto out;
	}
	if (strcmp(argv[1], "validate") || !npos) {
		usage_rules(stderr);
		r = 2;
		goto out;
	}
	for (size_t i = 0; i < npos; i++) {
		struct ruleset rs;
		char err[1024], esc[4096];

		if (offline__load_rules(&o, pos[i], &rs, err, sizeof(err))) {
			fprintf(stderr, "%s\n", log__escape(err, esc, sizeof(esc)));
			bad++;
			continue;
		}
		printf("%s: ok (%zu rules, %zu lists, %zu macros, %zu protect sets, "
		       "%zu allow entries)\n", log__escape(pos[i], esc, sizeof(esc)), rs.nrules, rs.nlists, rs.nmacros,
		       rs.nsets, rs.nallows);
		rules__free(&rs);
	}
	r = bad ? 1 : 0;
out:
	free(pos);
	free(o.rules);
	free(o.allow);
	return r;
}

static int cmd_tail(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "raw", no_argument, 0, 'R' },
		{ "color", no_argument, 0, 'C' },
		{ "no-color", no_argument, 0, 'n' },
		{ "help", no_argument, 0, 'h' },
		{ 0 },
	};
	struct tail_opts o = { .color = -1 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'R': o.raw = true; break;
		case 'C': o.color = 1; break;
		case 'n': o.color = 0; break;
		case 'h':
			printf("usage: vigil tail [--raw] [--color|--no-color] [unix:]SOCKET\n"
			       "  Follow the records of an agent run with --alerts unix:SOCKET: one\n"
			       "  readable line each (coloured on a terminal unless NO_COLOR is set),\n"
			       "  or the JSON lines as they come with --raw. Ends when the agent stops.\n");
			return 0;
		default:
			fprintf(stderr, "vigil: tail: see 'vigil tail --help'\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vigil: tail: want one socket path (see 'vigil tail --help')\n");
		return 2;
	}
	o.socket = argv[optind];
	return tail__run(&o);
}

/* `vigil convert FORMAT [FILE]`: native records (a saved stream) in another
 * format, as a sink of that format would have written them. */
static int cmd_convert(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int f, bad = 0;
	FILE *in = stdin;

	if (argc < 2 || argc > 3 || (f = format__parse(argv[1])) < 0) {
		fprintf(stderr, "usage: vigil convert native|ecs|ocsf|cef [FILE]\n"
				"  native records (JSON lines, FILE or stdin) in another format\n");
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	if (argc == 3 && !(in = fopen(argv[2], "re"))) {
		fprintf(stderr, "vigil: convert: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		char *out;

		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n)
			continue;
		out = format__render(f, line, n, NULL);
		if (!out) {
			fprintf(stderr, "vigil: convert: line %ld: not a vigil record\n", lineno);
			bad = 1;
			continue;
		}
		puts(out);
		free(out);
	}
	free(line);
	if (in != stdin)
		fclose(in);
	return bad;
}

static void usage_check(FILE *f)
{
	fprintf(f,
"usage: vigil check [--json] [--hooks FAMILY,...]\n"
"  What vigil can see on this kernel: BTF, cgroup v2 and bpffs mounts, lockdown,\n"
"  which hook families load here, and for each capability the implementation\n"
"  'vigil run' would use, or 'blind' and what that leaves unseen.\n"
"  Exit 0 when everything enforcement needs is covered, 1 otherwise.\n"
"\n"
"      --json               one JSON object instead of the table\n"
"      --hooks FAMILY,...   as for 'vigil run'\n"
"  -h, --help               this help\n");
}

static int cmd_check(int argc, char **argv)
{
	struct option buf[NOPTIONS];
	const struct option *opts = options_for("jKh", buf);
	unsigned families = CAPS_ALL_FAMILIES;
	bool as_json = false;
	struct caps c;
	char err[256];
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': as_json = true; break;
		case 'K':
			if (caps__parse_hooks(optarg, &families, err, sizeof(err))) {
				fprintf(stderr, "vigil: %s\n", err);
				return 2;
			}
			break;
		case 'h': usage_check(stdout); return 0;
		default:
			fprintf(stderr, "vigil: check: see 'vigil check --help'\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil: check: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "vigil: check must run as root: its trial loads of BPF programs "
			"need CAP_BPF and CAP_PERFMON\n");
		return 2;
	}
	caps__probe(&c, families);
	if (as_json) {
		struct json j;

		json__init(&j);
		json__begin_object(&j);
		caps__json(&c, &j, true);
		json__end_object(&j);
		if (j.oom) {
			json__free(&j);
			fprintf(stderr, "vigil: out of memory\n");
			return 2;
		}
		printf("%s\n", json__cstr(&j));
		json__free(&j);
	} else {
		caps__print(&c, stdout);
	}
	return caps__enforceable(&c) ? 0 : 1;
}

static int cmd_version(int argc, char **argv)
{
	printf("vigil %s\n", VIGIL_VERSION);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vigil COMMAND [options]\n"
"  run               run the agent (see 'vigil run --help')\n"
"  check             what vigil can see on this kernel (see 'vigil check --help')\n"
"  record -o FILE    run the agent, recording correlated activity to FILE\n"
"  replay FILE       print the alerts a capture gives under (new) rules\n"
"  rules validate F  check rule files (file:line:column errors)\n"
"  rules test DIR    check rules against fixtures (activity + expected alerts)\n"
"  rules fields      the fields conditions can use\n"
"  tail SOCKET       follow an agent's --alerts unix:SOCKET stream in a terminal\n"
"  convert FMT [F]   native records (a saved stream) as ecs, ocsf or cef\n"
"  version           print the version\n");
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
	{ "check", cmd_check },
	{ "record", cmd_record },
	{ "replay", cmd_replay },
	{ "rules", cmd_rules },
	{ "tail", cmd_tail },
	{ "convert", cmd_convert },
	{ "version", cmd_version },
	{ "--version", cmd_version },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vigil: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
