// SPDX-License-Identifier: GPL-2.0
/* vigil command line: a table of subcommands, each parsing its own flags. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unistd.h>

#include "activity.h"
#include "addr.h"
#include "agent.h"
#include "agent_rules.h"
#include "config.h"
#include "ctl.h"
#include "inspect.h"
#include "pin.h"
#include "caps.h"
#include "json.h"
#include "engine.h"
#include "log.h"
#include "verifier.h"
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
"  Every option below is also a key of the config file (its name with _ for -);\n"
"  an option given here overrides the file's key.\n"
"\n"
"      --config FILE        settings file (default " CONFIG_DEFAULT_PATH " if present)\n"
"      --no-config          do not read the default settings file\n");
	config__usage(f);
	fprintf(f, "  -h, --help               this help\n");
}

enum { OPT_CONFIG = 1000, OPT_NO_CONFIG, OPT_HELP, OPT_TABLE };

/* The table's options, then --config, --no-config and --help. */
static struct option *long_options(char *shorts, size_t slen, bool with_table)
{
	size_t n = with_table ? config_noptions : 0, k = 0;
	struct option *opts = calloc(n + 4, sizeof(*opts));

	if (!opts)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct config_option *c = &config_options[i];

		opts[i] = (struct option){ c->name, c->kind == CONFIG_FLAG ? no_argument :
					   required_argument, 0, OPT_TABLE + (int)i };
		if (c->short_name && k + 3 < slen) {
			shorts[k++] = c->short_name;
			if (c->kind != CONFIG_FLAG)
				shorts[k++] = ':';
		}
	}
	opts[n] = (struct option){ "config", required_argument, 0, OPT_CONFIG };
	opts[n + 1] = (struct option){ "no-config", no_argument, 0, OPT_NO_CONFIG };
	opts[n + 2] = (struct option){ "help", no_argument, 0, OPT_HELP };
	shorts[k++] = 'h';
	shorts[k] = '\0';
	return opts;
}

static int table_index(int c)
{
	if (c >= OPT_TABLE)
		return c - OPT_TABLE;
	for (size_t i = 0; i < config_noptions; i++)
		if (config_options[i].short_name == c)
			return i;
	return -1;
}

/* Read the settings file (--config FILE, or the default one if it exists)
 * under the flags already in o. */
static int load_config(struct config *cfg, const char *path, bool none, struct agent_opts *o,
		       const bool *from_flags)
{
	char err[1024];

	memset(cfg, 0, sizeof(*cfg));
	if (none && !path)
		return 0;
	if (!path) {
		if (access(CONFIG_DEFAULT_PATH, F_OK))
			return 0;
		path = CONFIG_DEFAULT_PATH;
	}
	if (config__load(cfg, path, o, from_flags, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/* `vigil run` options: the command line over the settings file. Returns
 * 0, 1 (help printed) or 2 (refused, said why). */
static int run_options(int argc, char **argv, struct agent_opts *o, struct config *cfg,
		       void (*help)(FILE *f))
{
	struct { int i; const char *v; } *flags = calloc(argc + 1, sizeof(*flags));
	bool from_flags[64] = { 0 }, no_config = false;
	const char *config_path = NULL;
	char shorts[64], err[1024];
	struct option *opts = long_options(shorts, sizeof(shorts), true);
	int c, ret = 2, nflags = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (!opts || !flags)
		goto out;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		int i = table_index(c);

		if (c == OPT_HELP || c == 'h') {
			help(stdout);
			ret = 1;
			goto out;
		} else if (c == OPT_CONFIG) {
			config_path = optarg;
		} else if (c == OPT_NO_CONFIG) {
			no_config = true;
		} else if (i >= 0) {
			flags[nflags].i = i;
			flags[nflags++].v = optarg;
			from_flags[i] = true;
		} else {
			fprintf(stderr, "vigil: %s: see 'vigil %s --help'\n", argv[0], argv[0]);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil: %s: unexpected argument '%s' (see 'vigil %s --help')\n",
			argv[0], argv[optind], argv[0]);
		goto out;
	}
	if (load_config(cfg, config_path, no_config, o, from_flags))
		goto out;
	for (int k = 0; k < nflags; k++) {
		if (config__apply_flag(o, flags[k].i, flags[k].v, err, sizeof(err))) {
			fprintf(stderr, "vigil: %s\n", err);
			goto out;
		}
	}
	o->config = cfg->path;
	ret = 0;
out:
	free(opts);
	free(flags);
	return ret;
}

/* $VIGIL_RUN_DIR, else /run/vigil: several agents on one host (tests)
 * each keep their own control socket. */
static const char *default_run_dir(void)
{
	const char *d = getenv("VIGIL_RUN_DIR");

	return d && *d ? d : CONFIG_DEFAULT_RUN_DIR;
}

static void free_run_options(struct agent_opts *o, struct config *cfg)
{
	config__free(cfg);
	free(o->alerts);
	free(o->labels);
	free(o->protect);
	free(o->allow);
	free(o->serve);
	free(o->rules);
}

static int cmd_run(int argc, char **argv)
{
	struct agent_opts o = { .stats_interval_s = 60, .heartbeat_s = 60, .fold_s = 60,
				.work_budget = VIGIL_WORK_LIMIT_DEFAULT,
				.resolv_conf = "/etc/resolv.conf",
				.rate_limit = 100, .run_dir = default_run_dir(),
				.file_gid = (gid_t)-1 };
	struct config cfg;
	int ret = run_options(argc, argv, &o, &cfg, usage_run);

	if (ret == 1)
		ret = 0;	/* --help */
	else if (!ret)
		ret = agent__run(&o);
	free_run_options(&o, &cfg);
	return ret;
}

static void usage_rules_show(FILE *f)
{
	fprintf(f, "usage: vigil rules show [vigil run options]\n"
		   "  Print the effective merged rule set the agent would run with these\n"
		   "  options and settings file (default pack, --rules, --protect, --allow,\n"
		   "  --budget), as one rule file that loads back the same.\n");
}

static int cmd_rules_show(int argc, char **argv)
{
	struct agent_opts o = { .run_dir = default_run_dir(), .file_gid = (gid_t)-1 };
	unsigned long long budgets[VIGIL_MAX_SETS];
	struct ruleset rs;
	struct config cfg;
	char err[1024];
	int ret = run_options(argc, argv, &o, &cfg, usage_rules_show);

	if (!ret && agent_rules__build(&o, NULL, &rs, budgets, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		ret = 2;
	} else if (!ret) {
		rules__dump(&rs, stdout);
		printf("# budgets in force (rules, or --budget over them):\n");
		for (size_t s = 0; s < rs.nsets; s++)
			printf("#   %s: %llu bytes\n", rs.sets[s].name, budgets[s]);
		rules__free(&rs);
	}
	free_run_options(&o, &cfg);
	return ret == 1 ? 0 : ret;
}

/* Every command's long options but run's (config.h); a command takes the
 * ones whose letters it names. The letters are internal: short options are
 * only those each getopt_long call lists. */
static const struct option all_options[] = {
	{ "rules", required_argument, 0, 'r' },
	{ "allow", required_argument, 0, 'a' },
	{ "alerts", required_argument, 0, 'o' },
	{ "no-default-rules", no_argument, 0, 'N' },
	{ "update", no_argument, 0, 'U' },
	{ "coverage", no_argument, 0, 'C' },
	{ "json", no_argument, 0, 'j' },
	{ "hooks", required_argument, 0, 'K' },
	{ "verbose", no_argument, 0, 'v' },
	{ "run-dir", required_argument, 0, 'd' },
	{ "config", required_argument, 0, 'F' },
	{ "no-config", no_argument, 0, 'n' },
	{ "unpin", no_argument, 0, 'u' },
	{ "pin-dir", required_argument, 0, 'P' },
	{ "raw", no_argument, 0, 'R' },
	{ "color", no_argument, 0, 'c' },
	{ "no-color", no_argument, 0, 'b' },
	{ "help", no_argument, 0, 'h' },
	{ 0 },
};
#define NOPTIONS (sizeof(all_options) / sizeof(all_options[0]))

/* The options of one command (letters: their values), in table order. */
static const struct option *options_for(const char *letters, struct option *out)
{
	size_t n = 0;

	for (size_t i = 0; all_options[i].name; i++)
		if (strchr(letters, all_options[i].val))
			out[n++] = all_options[i];
	memset(&out[n], 0, sizeof(out[n]));
	return out;
}

/* ---- talking to the running agent ------------------------------------------ */

struct client_opts {
	const char *run_dir, *pin_dir;
	bool json, unpin;
};

/* --run-dir DIR, --config FILE, --no-config (the run_dir key), --json,
 * --unpin (where allowed). 1: --help was asked for. */
static int client_opts(int argc, char **argv, struct client_opts *co, bool json, bool unpin)
{
	struct option buf[NOPTIONS];
	const struct option *opts = options_for("dFnjuPh", buf);
	struct agent_opts o = { .run_dir = default_run_dir(), .pin_dir = CONFIG_DEFAULT_PIN_DIR };
	bool from_flags[64] = { 0 }, none = false;
	const char *config_path = NULL, *dir = NULL;
	static struct config cfg;	/* co->run_dir may point into it */
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'F': config_path = optarg; break;
		case 'n': none = true; break;
		case 'j': if (!json) return -1; co->json = true; break;
		case 'u': if (!unpin) return -1; co->unpin = true; break;
		case 'P': if (!unpin) return -1; co->pin_dir = optarg; break;
		case 'h': return 1;
		default: return -1;
		}
	}
	if (optind < argc)
		return -1;
	/* only run_dir and pin_dir matter here: the rest is checked, then dropped */
	if (load_config(&cfg, config_path, none, &o, from_flags))
		return -2;
	co->run_dir = dir ? dir : o.run_dir;
	if (!co->pin_dir)
		co->pin_dir = o.pin_dir;
	free(o.protect);
	free(o.allow);
	free(o.rules);
	return 0;
}

static const char client_common[] =
"      --run-dir DIR  the agent's run directory (default: run_dir of the config\n"
"                     file, else $VIGIL_RUN_DIR, else " CONFIG_DEFAULT_RUN_DIR ")\n"
"      --config FILE  read run_dir from FILE (default " CONFIG_DEFAULT_PATH ")\n"
"      --no-config    do not read the default config file\n"
"  -h, --help         this help\n";

/* client_opts, and the command's usage (then client_common) on --help or a
 * bad command line: -1 to go on, else the exit status. */
static int client_start(int argc, char **argv, struct client_opts *co, bool json, bool unpin,
			const char *usage)
{
	int r = client_opts(argc, argv, co, json, unpin);

	if (!r)
		return -1;
	fprintf(r == 1 ? stdout : stderr, "%s%s", usage, client_common);
	return r == 1 ? 0 : 2;
}

/* Send cmd, print the answer's message, exit 0 if the agent said ok. */
static int simple_request(const char *run_dir, const char *cmd, const char *what)
{
	char err[512], *reply = NULL;
	json_t *root;
	int ok;

	if (ctl__request(run_dir, cmd, &reply, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s: %s\n", what, err);
		return 1;
	}
	root = json_loads(reply, 0, NULL);
	ok = root && json_is_true(json_object_get(root, "ok"));
	if (!root)
		fprintf(stderr, "vigil: %s: unreadable answer: %s\n", what, reply);
	else if (!ok)
		fprintf(stderr, "vigil: %s refused: %s\n", what,
			json_string_value(json_object_get(root, "error")) ?: "?");
	else if (json_string_value(json_object_get(root, "message")))
		printf("%s\n", json_string_value(json_object_get(root, "message")));
	json_decref(root);
	free(reply);
	return ok ? 0 : 1;
}

static int cmd_status(int argc, char **argv)
{
	struct client_opts co = { 0 };
	char err[512], *reply = NULL;
	int r = client_start(argc, argv, &co, true, false,
		"usage: vigil status [--json] [options]\n"
		"  What the running agent protects (sets, files, derived copies), who is\n"
		"  tainted and through which chain, what each budget has let through in\n"
		"  its window, recent alerts, counters and the hooks in use.\n"
		"\n"
		"      --json         one JSON object (docs/OPERATIONS.md, \"vigil status\")\n");

	if (r >= 0)
		return r;
	r = 0;
	if (ctl__request(co.run_dir, "status", &reply, err, sizeof(err))) {
		fprintf(stderr, "vigil: status: %s\n", err);
		return 1;
	}
	if (co.json)
		printf("%s\n", reply);
	else if (inspect__print(reply, stdout))
		fprintf(stderr, "vigil: status: unreadable answer: %.200s\n", reply), r = 1;
	free(reply);
	return r;
}

static int cmd_stop(int argc, char **argv)
{
	struct client_opts co = { 0 };
	char err[512], *reply = NULL;
	int r = client_start(argc, argv, &co, false, true,
		"usage: vigil stop [--unpin [--pin-dir DIR]] [options]\n"
		"  Stop the running agent. Its pinned programs (run --pin) keep\n"
		"  enforcing; with --unpin they are removed too, whether an agent runs\n"
		"  or not: enforcement then ends.\n"
		"\n"
		"      --unpin        remove the pinned programs, links and maps\n"
		"      --pin-dir DIR  where they are (default: pin_dir of the config\n"
		"                     file, else " CONFIG_DEFAULT_PIN_DIR ")\n");
	struct stat st;

	if (r >= 0)
		return r;
	if (!ctl__request(co.run_dir, co.unpin ? "stop unpin" : "stop", &reply, err, sizeof(err))) {
		printf("%s\n", reply);
		free(reply);
		/* the agent answers, then stops: wait for its socket (and pins) to go */
		for (int i = 0; i < 100; i++) {
			char sock[PATH_MAX];

			snprintf(sock, sizeof(sock), "%s/%s", co.run_dir, CTL_SOCKET_NAME);
			if (access(sock, F_OK) && (!co.unpin || stat(co.pin_dir, &st)))
				return 0;
			usleep(100000);
		}
		fprintf(stderr, "vigil: stop: the agent did not stop within 10 s\n");
		return 1;
	}
	if (!co.unpin) {
		fprintf(stderr, "vigil: stop: %s\n", err);
		return 1;
	}
	/* no agent: the pins alone keep enforcing; remove them */
	if (stat(co.pin_dir, &st)) {
		printf("nothing pinned in %s\n", co.pin_dir);
		return 0;
	}
	if (pin__remove(co.pin_dir, co.run_dir)) {
		fprintf(stderr, "vigil: stop --unpin: %s: %s\n", co.pin_dir, strerror(errno));
		return 1;
	}
	printf("pins in %s removed: enforcement stopped\n", co.pin_dir);
	return 0;
}

static int cmd_reload(int argc, char **argv)
{
	struct client_opts co = { 0 };
	int r = client_start(argc, argv, &co, false, false,
		"usage: vigil reload [options]\n"
		"  Ask the running agent to reload its rules (as SIGHUP does) and wait\n"
		"  for the outcome: exit 0 if the new rules are in force, 1 if the agent\n"
		"  refused them (it says why; the running rules stay) or cannot be reached.\n"
		"\n");

	if (r >= 0)
		return r;
	return simple_request(co.run_dir, "reload", "reload");
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
		case 'r': config__push(&o->rules, &o->nrules, optarg); break;
		case 'a': config__push(&o->allow, &o->nallow, optarg); break;
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
		config__push(pos, npos, argv[i]);
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
"       vigil rules show [vigil run options]\n"
"  validate  check rule files on top of the default pack: file:line:column errors\n"
"  test      replay each DIR/NAME.activity.jsonl (or NAME.capture) and compare with\n"
"            DIR/NAME.alerts.jsonl; DIR/rules.yaml, if present, is loaded last;\n"
"            --update rewrites the expected alerts, --coverage requires every\n"
"            enabled rule to fire somewhere\n"
"  fields    list the fields conditions and messages can use\n"
"  show      the effective merged rule set (see 'vigil rules show --help')\n");
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
	if (!strcmp(argv[1], "show"))
		return cmd_rules_show(argc - 1, argv + 1);
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
	struct option buf[NOPTIONS];
	const struct option *opts = options_for("Rcbh", buf);
	struct tail_opts o = { .color = -1 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'R': o.raw = true; break;
		case 'c': o.color = 1; break;
		case 'b': o.color = 0; break;
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
"usage: vigil check [--json] [--hooks FAMILY,...] [--verbose]\n"
"  What vigil can see on this kernel: BTF, cgroup v2 and bpffs mounts, lockdown,\n"
"  which hook families load here, and for each capability the implementation\n"
"  'vigil run' would use, or 'blind' and what that leaves unseen.\n"
"  Exit 0 when everything enforcement needs is covered, 1 otherwise.\n"
"\n"
"      --json               one JSON object instead of the table\n"
"      --hooks FAMILY,...   as for 'vigil run'\n"
"  -v, --verbose            also load every program as 'vigil run' would, in\n"
"                           monitor and enforce mode (nothing attached): the\n"
"                           instructions the verifier processed for each, or\n"
"                           the end of its log for a program it refuses (twice:\n"
"                           all of the log); exit 1 if a mode does not load\n"
"  -h, --help               this help\n");
}

static int cmd_check(int argc, char **argv)
{
	struct option buf[NOPTIONS];
	const struct option *opts = options_for("jKvh", buf);
	unsigned families = CAPS_ALL_FAMILIES;
	bool as_json = false;
	int verbose = 0, ret;
	struct caps c;
	char err[256];
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': as_json = true; break;
		case 'v': verbose++; break;
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
	if (verbose && as_json) {
		fprintf(stderr, "vigil: check: --verbose adds to the table, not to --json\n");
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
	ret = caps__enforceable(&c) ? 0 : 1;
	if (verbose && !as_json) {
		fflush(stdout);
		int monitor = verifier__report(false, families, verbose > 1, stdout);
		int enforce = verifier__report(true, families, verbose > 1, stdout);

		if (monitor || enforce)
			ret = 1;
	}
	return ret;
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
"  rules show        the effective merged rule set\n"
"  reload            reload the running agent's rules; non-zero if refused\n"
"  status [--json]   what the running agent protects, taint, budgets, alerts\n"
"  stop [--unpin]    stop the agent; --unpin also removes pinned enforcement\n"
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
	{ "reload", cmd_reload },
	{ "status", cmd_status },
	{ "stop", cmd_stop },
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
