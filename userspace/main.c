// SPDX-License-Identifier: GPL-2.0
/* vigil command line: a table of subcommands, each parsing its own flags. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "agent.h"
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
"      --no-default-rules   do not load the embedded default rules\n"
"      --stats-interval SEC write an agent_stats line every SEC seconds (default 60, 0=off)\n"
"  -v, --verbose            debug logging on stderr\n"
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

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "protect", required_argument, 0, 'p' },
		{ "allow", required_argument, 0, 'a' },
		{ "mode", required_argument, 0, 'm' },
		{ "budget", required_argument, 0, 'b' },
		{ "alerts", required_argument, 0, 'o' },
		{ "cgroup", required_argument, 0, 'c' },
		{ "rules", required_argument, 0, 'r' },
		{ "no-default-rules", no_argument, 0, 'N' },
		{ "stats-interval", required_argument, 0, 'S' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0 },
	};
	struct agent_opts o = { .alerts = "-", .stats_interval_s = 60 };
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
		case 'v': o.verbose = true; break;
		case 'm':
			if (!strcmp(optarg, "monitor")) {
				o.enforce = false;
			} else if (!strcmp(optarg, "enforce")) {
				o.enforce = true;
			} else {
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

/* Check rule files without loading anything into the kernel. */
static int cmd_rules(int argc, char **argv)
{
	struct ruleset rs;
	char err[1024];
	int bad = 0;

	if (argc < 3 || strcmp(argv[1], "validate")) {
		fprintf(stderr, "usage: vigil rules validate PATH...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		rules__init(&rs);
		if (rules__load_defaults(&rs, err, sizeof(err)) ||
		    rules__load_path(&rs, argv[i], err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			bad++;
		} else {
			printf("%s: ok (%zu protect sets, %zu allow entries)\n", argv[i], rs.nsets,
			       rs.nallows);
		}
		rules__free(&rs);
	}
	return bad ? 1 : 0;
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
"  rules validate F  check rule files (file:line:column errors)\n"
"  version           print the version\n");
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
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
