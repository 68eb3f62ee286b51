// SPDX-License-Identifier: GPL-2.0
/* vigil command line: a table of subcommands, each parsing its own flags. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity.h"
#include "addr.h"
#include "agent.h"
#include "engine.h"
#include "log.h"
#include "offline.h"
#include "rules.h"

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
"  -o, --alerts FILE        write alert JSON lines to FILE (default -, stdout)\n"
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
	{ "cgroup", required_argument, 0, 'c' },
	{ "rules", required_argument, 0, 'r' },
	{ "no-default-rules", no_argument, 0, 'N' },
	{ "stats-interval", required_argument, 0, 'S' },
	{ "record", required_argument, 0, 'R' },
	{ "file-group", required_argument, 0, 'G' },
	{ "verbose", no_argument, 0, 'v' },
	{ "test-map-size", required_argument, 0, 'M' },
	{ "test-fault", required_argument, 0, 'F' },
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
	const struct option *opts = options_for("pambocrNSRGvMFh", buf);
	struct agent_opts o = { .alerts = "-", .stats_interval_s = 60, .file_gid = (gid_t)-1 };
	char err[256];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:a:m:b:o:c:r:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': push(&o.protect, &o.nprotect, optarg); break;
		case 'a': push(&o.allow, &o.nallow, optarg); break;
		case 'r': push(&o.rules, &o.nrules, optarg); break;
		case 'o': o.alerts = optarg; break;
		case 'c': o.cgroup = optarg; break;
		case 'N': o.no_default_rules = true; break;
		case 'R': o.record = optarg; break;
		case 'v': o.verbose = true; break;
		case 'M': push(&o.test_map_sizes, &o.ntest_map_sizes, optarg); break;
		case 'F': push(&o.test_faults, &o.ntest_faults, optarg); break;
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
"  record -o FILE    run the agent, recording correlated activity to FILE\n"
"  replay FILE       print the alerts a capture gives under (new) rules\n"
"  rules validate F  check rule files (file:line:column errors)\n"
"  rules test DIR    check rules against fixtures (activity + expected alerts)\n"
"  rules fields      the fields conditions can use\n"
"  version           print the version\n");
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
	{ "record", cmd_record },
	{ "replay", cmd_replay },
	{ "rules", cmd_rules },
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
