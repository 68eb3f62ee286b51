// SPDX-License-Identifier: GPL-2.0
/* Rule conditions: every operator on every type, precedence, lists and
 * macros, error messages and columns, canonical text, constant folding and
 * agreement of every evaluation path (speed: bench/engine_bench.c). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include "expr.h"

enum { F_NAME, F_UID, F_ANC, F_DADDR, F_DPORT, F_ALLOWED, F_PATH, F_BYTES, F_TYPE, NFIELDS };

static const struct expr_field fields[NFIELDS] = {
	[F_NAME] = { "proc.name", EXPR_STR, "process name" },
	[F_UID] = { "proc.uid", EXPR_NUM, "user id" },
	[F_ANC] = { "proc.ancestors", EXPR_STRLIST, "ancestor names" },
	[F_DADDR] = { "net.daddr", EXPR_ADDR, "destination address" },
	[F_DPORT] = { "net.dport", EXPR_NUM, "destination port" },
	[F_ALLOWED] = { "net.allowed", EXPR_BOOL, "destination allowlisted" },
	[F_PATH] = { "file.path", EXPR_STR, "file path" },
	[F_BYTES] = { "net.bytes", EXPR_NUM, "bytes sent" },
	[F_TYPE] = { "evt.type", EXPR_STR, "connect, egress, progress or budget" },
};

struct rec {
	const char *name;
	int64_t uid;
	const char *const *anc;
	size_t nanc;
	int family;
	unsigned char addr[16];
	int64_t dport;
	bool allowed;
	const char *path;
	int64_t bytes;
	const char *type;
};

static unsigned get_calls;

/* The getter the agent would have: no checks, no counting. */
static void get_fast(const void *r_, unsigned id, struct expr_value *out)
{
	const struct rec *r = r_;

	switch (id) {
	case F_NAME:
		out->s = r->name;
		break;
	case F_UID:
		out->n = r->uid;
		break;
	case F_ANC:
		out->list = r->anc;
		out->nlist = r->nanc;
		break;
	case F_DADDR:
		out->family = r->family;
		memcpy(out->addr, r->addr, 16);
		break;
	case F_DPORT:
		out->n = r->dport;
		break;
	case F_ALLOWED:
		out->n = r->allowed;
		break;
	case F_PATH:
		out->s = r->path;
		break;
	case F_BYTES:
		out->n = r->bytes;
		break;
	case F_TYPE:
		out->s = r->type;
		break;
	}
}

static void get(const void *r_, unsigned id, struct expr_value *out)
{
	static const struct expr_value zero;
	const struct rec *r = r_;

	assert_memory_equal(out, &zero, sizeof(zero));	/* caller zeroes */
	get_calls++;
	switch (id) {
	case F_NAME:
		out->s = r->name ? r->name : "";
		break;
	case F_UID:
		out->n = r->uid;
		break;
	case F_ANC:
		out->list = r->anc;
		out->nlist = r->nanc;
		break;
	case F_DADDR:
		out->family = r->family;
		memcpy(out->addr, r->addr, 16);
		break;
	case F_DPORT:
		out->n = r->dport;
		break;
	case F_ALLOWED:
		out->n = r->allowed;
		break;
	case F_PATH:
		out->s = r->path ? r->path : "";
		break;
	case F_BYTES:
		out->n = r->bytes;
		break;
	case F_TYPE:
		out->s = r->type ? r->type : "";
		break;
	default:
		fail();
	}
}

/* --- lists and macros --- */

static const char *const shells[] = { "bash", "sh", "zsh" };
static const char *const web_ports[] = { "80", "443", "8080" };
static const char *const private_nets[] = { "10.0.0.0/8", "192.168.0.0/16", "fd00::/8" };
static const char *const bad_ports[] = { "80", "http" };
static const char *const upload_tools[] = {
	"curl", "wget", "scp", "sftp", "rsync", "rclone", "aws", "gsutil", "gcloud", "az",
	"azcopy", "s3cmd", "mc", "b2", "huggingface-cli", "nc", "ncat", "netcat", "socat",
	"ssh", "ftp", "lftp", "croc", "wormhole", "transfer.sh",
};
static const char *const archive_tools[] = {
	"tar", "gzip", "pigz", "bzip2", "pbzip2", "xz", "zstd", "lz4", "zip", "7z", "7za",
	"7zz", "split", "cpio",
};
static const char *const crypto_tools[] = {
	"openssl", "gpg", "gpg2", "age", "ccrypt", "base64", "base32", "xxd", "uuencode",
};
static const char *const many[] = { "p00", "p01", "p02", "p03", "p04", "p05", "p06", "p07",
				    "p08", "p09", "p10", "p11", "p12", "p13", "p14", "p15",
				    "p16", "p17", "p18", "p19", "p20" };

#define L(n, a) { n, a, sizeof(a) / sizeof(a[0]) }
static const struct {
	const char *name;
	const char *const *items;
	size_t n;
} lists[] = {
	L("shells", shells), L("web_ports", web_ports), L("private_nets", private_nets),
	L("bad_ports", bad_ports), L("many", many), { "nothing", NULL, 0 },
	L("upload_tools", upload_tools), L("archive_tools", archive_tools),
	L("crypto_tools", crypto_tools),
};

static const struct {
	const char *name, *text;
} macros[] = {
	{ "is_dl", "proc.name in (curl, wget)" },
	{ "web", "net.dport in web_ports" },
	{ "dl_web", "is_dl and web" },
	{ "not_web", "not web" },
	{ "self", "self and net.allowed" },
	{ "cyc_a", "proc.uid = 0 or cyc_b" },
	{ "cyc_b", "(cyc_a)" },
	{ "tri_a", "tri_b" }, { "tri_b", "tri_c" }, { "tri_c", "net.allowed and tri_a" },
	{ "via_self", "net.allowed or self" },
	{ "broken", "net.allowed and proc.nme = x" },
	{ "outer", "broken" },
	{ "empty", "  " },
	{ "dangling", "proc.name = curl and" },
	{ "outbound", "evt.type in (connect, egress, progress) and not net.allowed" },
};

static bool env_list(void *ctx, const char *name, const char *const **items, size_t *n)
{
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (!strcmp(lists[i].name, name)) {
			*items = lists[i].items;
			*n = lists[i].n;
			return true;
		}
	}
	return false;
}

/* Plus d0..d30: d<i> is "d<i+1>", d30 is "net.allowed". */
static bool env_macro(void *ctx, const char *name, const char **text)
{
	static char buf[31][16];
	int i;

	for (size_t k = 0; k < sizeof(macros) / sizeof(macros[0]); k++) {
		if (!strcmp(macros[k].name, name)) {
			*text = macros[k].text;
			return true;
		}
	}
	if (sscanf(name, "d%d", &i) == 1 && i >= 0 && i <= 30) {
		if (i == 30)
			snprintf(buf[i], sizeof(buf[i]), "net.allowed");
		else
			snprintf(buf[i], sizeof(buf[i]), "d%d", i + 1);
		*text = buf[i];
		return true;
	}
	return false;
}

static const struct expr_env env = {
	.fields = fields, .nfields = NFIELDS, .list = env_list, .macro = env_macro,
};

/* --- records --- */

static const char *const anc_ssh[] = { "systemd", "sshd", "bash" };

static struct rec base(void)
{
	struct rec r = {
		.name = "curl", .uid = 1000, .anc = anc_ssh, .nanc = 3, .family = AF_INET,
		.dport = 443, .allowed = false, .path = "/home/u/.ssh/id_rsa",
		.bytes = 20 << 20,
	};

	inet_pton(AF_INET, "93.184.216.34", r.addr);
	return r;
}

static struct rec with_addr(const char *a)
{
	struct rec r = base();

	r.family = strchr(a, ':') ? AF_INET6 : AF_INET;
	memset(r.addr, 0, sizeof(r.addr));
	assert_int_equal(inet_pton(r.family, a, r.addr), 1);
	return r;
}

/* --- helpers: report the caller's line --- */

static struct expr *parse_at(const char *text, const char *file, int line)
{
	char err[256];
	int col;
	struct expr *e = expr__parse(text, &env, err, sizeof(err), &col);

	if (!e) {
		print_error("parse of \"%s\" failed at column %d: %s\n", text, col, err);
		_fail(file, line);
	}
	return e;
}

/* Every other way to evaluate e on r must say what expr__eval says:
 * extracted values, a copy bound to nothing, shared comparisons (the
 * memo filled by the first pass, read by the second). */
static void agree_at(struct expr *e, const struct rec *r, bool want, const char *text,
		     const char *file, int line)
{
	struct expr *b = expr__bind(e, 0, NULL, NULL, NULL);
	struct expr *both[2] = { e, b };
	struct expr_value vals[NFIELDS];
	unsigned char *memo;
	uint32_t held[2];
	int n;

	assert_non_null(b);
	assert_int_equal(expr__fields_used(b), expr__fields_used(e));
	/* fields not extracted stay NULL: reading one would crash */
	memset(vals, 0, sizeof(vals));
	expr__values(&env, get, r, expr__fields_used(e), vals);
	n = expr__share(both, 2);
	assert_true(n >= 0);
	memo = calloc((size_t)n + 1, 1);
	assert_non_null(memo);
	for (int pass = 0; pass < 2; pass++) {
		if (expr__eval_values(e, vals) != want || expr__eval_values(b, vals) != want ||
		    expr__eval(b, get, r) != want || expr__eval_shared(e, vals, memo) != want ||
		    expr__eval_shared(b, vals, memo) != want ||
		    expr__eval_each(both, 2, vals, memo, held) != (want ? 2u : 0u)) {
			print_error("\"%s\": the evaluation paths disagree (expr__eval: %d)\n",
				    text, want);
			_fail(file, line);
		}
	}
	free(memo);
	expr__free(b);
}

static bool eval_at(const char *text, const struct rec *r, const char *file, int line)
{
	struct expr *e = parse_at(text, file, line);
	bool v = expr__eval(e, get, r);

	agree_at(e, r, v, text, file, line);
	expr__free(e);
	return v;
}

#define PARSE(t) parse_at(t, __FILE__, __LINE__)
#define T(t, r) assert_true(eval_at(t, r, __FILE__, __LINE__))
#define F(t, r) assert_false(eval_at(t, r, __FILE__, __LINE__))

static void err_at(const char *text, const char *want, int want_col, const char *file,
		   int line)
{
	char err[256] = "";
	int col = -1;
	struct expr *e = expr__parse(text, &env, err, sizeof(err), &col);

	if (e) {
		expr__free(e);
		print_error("\"%.80s\" parsed, expected error '%s'\n", text, want);
		_fail(file, line);
	}
	if (!strstr(err, want) || col != want_col) {
		print_error("\"%.80s\": got column %d '%s', want column %d '%s'\n", text, col, err,
			    want_col, want);
		_fail(file, line);
	}
}

#define ERR(t, msg, col) err_at(t, msg, col, __FILE__, __LINE__)

static void canon_at(const char *text, const char *want, const char *file, int line)
{
	char buf[512];
	struct expr *e = parse_at(text, file, line);
	int n = expr__canonical(e, buf, sizeof(buf));

	expr__free(e);
	if (strcmp(buf, want) || n != (int)strlen(want)) {
		print_error("canonical of \"%s\":\n  got  %s\n  want %s\n", text, buf, want);
		_fail(file, line);
	}
}

#define CANON(t, want) canon_at(t, want, __FILE__, __LINE__)

static bool never_at(const char *text, const char *want, const char *file, int line)
{
	char why[256] = "";
	struct expr *e = parse_at(text, file, line);
	bool v = expr__never_matches(e, why, sizeof(why));

	expr__free(e);
	if (v && want && !strstr(why, want)) {
		print_error("never_matches(\"%s\"): why '%s', want '%s'\n", text, why, want);
		_fail(file, line);
	}
	return v;
}

#define NEVER(t, why) assert_true(never_at(t, why, __FILE__, __LINE__))
#define MAYBE(t) assert_false(never_at(t, NULL, __FILE__, __LINE__))

/* --- operators by type --- */

static void str_ops(void **state)
{
	struct rec r = base();

	T("proc.name = curl", &r);
	T("proc.name == 'curl'", &r);
	T("proc.name=\"curl\"", &r);
	F("proc.name = Curl", &r);		/* case-sensitive */
	F("proc.name = cur", &r);
	T("proc.name != wget", &r);
	F("proc.name != curl", &r);
	T("proc.name contains ur", &r);
	T("proc.name contains ''", &r);
	F("proc.name contains x", &r);
	T("proc.name startswith cu", &r);
	T("proc.name startswith curl", &r);
	F("proc.name startswith curls", &r);
	T("proc.name endswith rl", &r);
	F("proc.name endswith xcurl", &r);
	T("proc.name glob 'c*'", &r);
	T("proc.name glob c?r[a-z]", &r);
	T("proc.name glob c?r[!x]", &r);
	F("proc.name glob 'w*'", &r);
	T("proc.name in (wget, curl)", &r);
	F("proc.name in (wget, 'curl ')", &r);
	T("proc.name in ('curl')", &r);
	r.name = NULL;				/* unknown: "" */
	T("proc.name = ''", &r);
	T("proc.name startswith ''", &r);
}

static void num_ops(void **state)
{
	struct rec r = base();

	T("net.dport = 443", &r);
	T("net.dport == 443", &r);
	F("net.dport != 443", &r);
	T("net.dport < 444", &r);
	F("net.dport < 443", &r);
	T("net.dport <= 443", &r);
	T("net.dport > 442", &r);
	F("net.dport > 443", &r);
	T("net.dport >= 443", &r);
	T("net.dport in (80, 443)", &r);
	F("net.dport in (80, 8443)", &r);
	T("net.dport = '443'", &r);		/* quoting does not change the type */
	T("net.dport>=443 and net.dport<=443", &r);
	r.uid = -5;
	T("proc.uid = -5", &r);
	T("proc.uid < -4", &r);
	T("proc.uid > -9223372036854775808", &r);
	T("proc.uid < 9223372036854775807", &r);
	T("proc.uid in (-5, 0)", &r);
	r.uid = INT64_MIN;
	T("proc.uid = -9223372036854775808", &r);
}

static void size_units(void **state)
{
	struct rec r = base();	/* 20 MiB */

	T("net.bytes > 10MiB", &r);
	T("net.bytes = 20MiB", &r);
	T("net.bytes = 20m", &r);
	T("net.bytes = 20971520", &r);
	T("net.bytes < 1GB", &r);
	F("net.bytes < 20MB", &r);		/* 20 MB is 20,000,000 */
	T("net.bytes in (20M, 1K)", &r);
	r.bytes = 4096;
	T("net.bytes = 4K", &r);
	T("net.bytes = 4KiB", &r);
	F("net.bytes = 4KB", &r);
	T("net.bytes = 4096B", &r);
	T("net.bytes > -1K", &r);
	ERR("net.bytes > 10QB", "bad size unit in '10QB'", 13);
	ERR("net.bytes > 1.5M", "fractional size", 13);
	ERR("net.bytes > 9223372036854775808", "out of range", 13);
	ERR("net.bytes > 8388608TiB", "out of range", 13);
	ERR("net.bytes > -9223372036854775809", "out of range", 13);
}

static void bool_ops(void **state)
{
	struct rec r = base();

	F("net.allowed", &r);
	T("not net.allowed", &r);
	T("net.allowed = false", &r);
	F("net.allowed = true", &r);
	T("net.allowed != true", &r);
	r.allowed = true;
	T("net.allowed", &r);
	T("net.allowed = 'true'", &r);
	T("net.allowed and proc.name = curl", &r);
	T("proc.name = curl and net.allowed", &r);
	T("(net.allowed)", &r);
	F("net.allowed != true", &r);
}

static void strlist_ops(void **state)
{
	struct rec r = base();	/* systemd, sshd, bash */

	T("proc.ancestors = sshd", &r);
	F("proc.ancestors = ssh", &r);
	T("proc.ancestors != ssh", &r);		/* no element equals */
	F("proc.ancestors != bash", &r);
	T("proc.ancestors contains bash", &r);	/* an element, not a substring */
	F("proc.ancestors contains bas", &r);
	T("proc.ancestors in (zsh, bash)", &r);
	T("proc.ancestors in shells", &r);
	F("proc.ancestors in (zsh, fish)", &r);
	T("proc.ancestors startswith ssh", &r);
	F("proc.ancestors startswith x", &r);
	T("proc.ancestors endswith md", &r);
	T("proc.ancestors glob 's*d'", &r);
	F("proc.ancestors glob 'x*'", &r);
	r.nanc = 0;				/* no ancestors: nothing matches */
	F("proc.ancestors startswith ''", &r);
	F("proc.ancestors glob '*'", &r);
	T("proc.ancestors != bash", &r);
	T("not proc.ancestors in shells", &r);
}

static void addr_v4(void **state)
{
	struct rec r = with_addr("10.1.2.3");

	T("net.daddr = 10.1.2.3", &r);
	F("net.daddr = 10.1.2.4", &r);
	T("net.daddr != 10.1.2.4", &r);
	T("net.daddr in (10.0.0.0/8)", &r);
	T("net.daddr in (192.168.0.0/16, 10.1.2.0/24)", &r);
	T("net.daddr in private_nets", &r);
	F("net.daddr in (11.0.0.0/8, 10.1.3.0/24)", &r);
	T("net.daddr in (0.0.0.0/0)", &r);
	F("net.daddr in (::/0)", &r);		/* families differ */
	T("net.daddr in ('10.1.2.3')", &r);
	r.family = 0;				/* no address */
	F("net.daddr in (0.0.0.0/0)", &r);
	F("net.daddr = 0.0.0.0", &r);
	T("net.daddr != 0.0.0.0", &r);
}

static void addr_v6_and_mapped(void **state)
{
	struct rec r = with_addr("fd12::1");

	T("net.daddr in (fd00::/8)", &r);
	T("net.daddr in private_nets", &r);
	T("net.daddr = fd12::1", &r);
	T("net.daddr = fd12:0::0:1", &r);
	T("net.daddr = [fd12::1]", &r);
	F("net.daddr in (fc00::/8, 10.0.0.0/8)", &r);
	/* a dual-stack socket shows an IPv4 peer as ::ffff:a.b.c.d */
	r = with_addr("::ffff:10.9.8.7");
	T("net.daddr in (10.0.0.0/8)", &r);
	T("net.daddr = 10.9.8.7", &r);
	T("net.daddr in private_nets", &r);
	F("net.daddr in (192.168.0.0/16)", &r);
	r = with_addr("::1");
	T("net.daddr = ::1", &r);
	F("net.daddr in (fd00::/8)", &r);
}

static void globs(void **state)
{
	struct rec r = base();	/* /home/u/.ssh/id_rsa */

	T("file.path glob /home/*/.ssh/*", &r);
	T("file.path glob '/home/**'", &r);
	T("file.path glob /**/id_*", &r);
	F("file.path glob /home/*", &r);	/* '*' stops at '/' */
	T("file.path glob '*id_rsa'", &r);	/* fnmatch: '*' crosses '/' */
	F("file.path glob '*.safetensors'", &r);
	r.path = "/models/llama.safetensors";
	T("file.path glob *.safetensors", &r);
	T("file.path glob /models/*.safetensors", &r);
	T("file.path endswith .safetensors", &r);
	r.path = "/a/*";
	T("file.path glob '/a/\\*'", &r);	/* backslash kept for the glob */
	r.path = "/a/b";
	F("file.path glob '/a/\\*'", &r);
}

static void bare_words_and_quotes(void **state)
{
	struct rec r = base();

	r.path = "/usr/bin/curl";
	T("file.path = /usr/bin/curl", &r);
	T("file.path in (/usr/bin/wget,/usr/bin/curl)", &r);
	r.name = "c++";
	T("proc.name = c++", &r);
	r.name = "it's";
	T("proc.name = 'it\\'s'", &r);
	T("proc.name = \"it's\"", &r);
	r.name = "a\"b";
	T("proc.name = \"a\\\"b\"", &r);
	r.name = "a\\b";
	T("proc.name = 'a\\\\b'", &r);
	T("proc.name = 'a\\b'", &r);		/* unknown escapes are literal */
	r.name = "and";
	T("proc.name = and", &r);		/* a keyword is a value after '=' */
	r.name = "x y(z)";
	T("proc.name = 'x y(z)'", &r);
	r.name = "\xc3\xa9t\xc3\xa9";
	T("proc.name = \xc3\xa9t\xc3\xa9", &r);
	T("\tproc.name\n=\r\n'\xc3\xa9t\xc3\xa9'  ", &r);
}

/* --- structure --- */

static void precedence(void **state)
{
	struct rec r = base();	/* curl, 443, not allowed */

	/* not > and > or */
	T("proc.name = x and net.dport = 1 or proc.name = curl", &r);
	T("proc.name = curl or proc.name = x and net.dport = 1", &r);
	F("(proc.name = curl or proc.name = x) and net.dport = 1", &r);
	T("not net.allowed and proc.name = curl", &r);
	F("not (net.allowed or proc.name = curl)", &r);
	T("not net.allowed or net.dport = 1", &r);
	F("not not net.allowed", &r);
	T("not not not net.allowed", &r);
	CANON("proc.name = x and net.dport = 1 or net.allowed",
	      "((proc.name = \"x\" and net.dport = 1) or net.allowed = true)");
	CANON("not net.allowed and net.dport = 1",
	      "(not (net.allowed = true) and net.dport = 1)");
	CANON("not (net.allowed and net.dport = 1)",
	      "not (net.allowed = true and net.dport = 1)");
}

static void parens(void **state)
{
	struct rec r = base();

	T("((proc.name = curl))", &r);
	T("(proc.name = curl) and (net.dport = 443 or (net.dport = 80))", &r);
	F("(proc.name = curl and (net.dport = 80 or net.dport = 81))", &r);
	T("(((net.allowed or (proc.uid = 1000))))", &r);
	/* grouping of one operator is flattened */
	CANON("(net.allowed and proc.uid = 1) and (net.dport = 2 and proc.name = a)",
	      "(net.allowed = true and proc.uid = 1 and net.dport = 2 and proc.name = \"a\")");
}

static void lists_expand(void **state)
{
	struct rec r = base();

	T("net.dport in web_ports", &r);
	T("net.dport in (22, web_ports)", &r);
	T("net.dport in (web_ports, 22)", &r);
	r.name = "bash";
	T("proc.name in shells", &r);
	T("proc.name in (curl, shells)", &r);
	F("proc.name in ('shells')", &r);		/* quoted: a literal */
	r.name = "shells";
	T("proc.name in ('shells')", &r);
	F("proc.name in shells", &r);
	r.name = "x";
	F("proc.name in nothing", &r);			/* an empty list */
	T("proc.name in (nothing, x)", &r);
	r.name = "undefined_thing";
	T("proc.name in (undefined_thing)", &r);	/* not a list: a literal */
	CANON("net.dport in (web_ports, 80, 22)", "net.dport in (22,80,443,8080)");
	CANON("proc.name in (zsh, shells)", "proc.name in (\"bash\",\"sh\",\"zsh\")");
}

static void big_set_bsearch(void **state)
{
	struct rec r = base();
	const char *t;

	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
		r.name = many[i];
		T("proc.name in many", &r);
		T("proc.name in (many, zz)", &r);
		r.anc = &many[i];
		r.nanc = 1;
		T("proc.ancestors in (many)", &r);
	}
	r.name = "p0";
	F("proc.name in many", &r);
	r.name = "p21";
	F("proc.name in many", &r);
	r.name = "";
	F("proc.name in many", &r);
	/* first-byte buckets at both ends: "" and bytes above 0x7f */
	t = "proc.name in ('', a, ab, abc, b, '\xff', '\xff\xfe', z, zz, zzz)";
	for (const char *const *v = (const char *const[]){ "", "a", "ab", "abc", "b", "\xff",
							  "\xff\xfe", "z", "zz", "zzz", NULL };
	     *v; v++) {
		r.name = *v;
		T(t, &r);
	}
	for (const char *const *v = (const char *const[]){ "aa", "abcd", "c", "\xfe", "\xff\xff",
							  "zzzz", "\x01", NULL };
	     *v; v++) {
		r.name = *v;
		F(t, &r);
	}
	/* 19 numbers: bsearch over int64 */
	r.dport = 7;
	t = "net.dport in (19,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18)";
	T(t, &r);
	r.dport = 20;
	F(t, &r);
	r.dport = 0;
	F(t, &r);
	r.dport = 19;
	T(t, &r);
}

static void macros_expand(void **state)
{
	struct rec r = base();	/* curl to 443 */
	uint64_t used;
	struct expr *e;

	T("is_dl", &r);
	T("dl_web", &r);
	F("not_web", &r);
	T("not not_web", &r);
	T("is_dl and not net.allowed", &r);
	r.dport = 22;
	F("dl_web", &r);
	T("not_web", &r);
	T("d15", &(struct rec){ .allowed = true });	/* 16 macros deep */
	/* a macro is one operand, as if in parentheses */
	CANON("net.allowed and is_dl", "(net.allowed = true and proc.name in (\"curl\",\"wget\"))");
	CANON("not is_dl", "not (proc.name in (\"curl\",\"wget\"))");
	CANON("dl_web", "(proc.name in (\"curl\",\"wget\") and net.dport in (80,443,8080))");
	e = PARSE("dl_web");
	used = expr__fields_used(e);
	assert_int_equal(used, (1u << F_NAME) | (1u << F_DPORT));
	expr__free(e);
}

static void macro_cycles_and_depth(void **state)
{
	ERR("self", "macro 'self' refers to itself", 1);
	ERR("net.allowed or cyc_a", "macro 'cyc_a' refers to itself through 'cyc_b'", 16);
	ERR("tri_a", "macro 'tri_a' refers to itself through 'tri_b' -> 'tri_c'", 1);
	ERR("proc.uid = 1 and via_self", "macro 'self' refers to itself", 18);
	ERR("d14", "nests more than 16", 1);
	ERR("not (d0)", "nests more than 16", 6);
}

/* --- errors: message and column of each class --- */

static void err_unknown_names(void **state)
{
	ERR("proc.nme = curl", "unknown field 'proc.nme' (did you mean 'proc.name'?)", 1);
	ERR("net.allowed and prco.name = x", "(did you mean 'proc.name'?)", 17);
	ERR("uid = 0", "unknown field 'uid' (did you mean 'proc.uid'?)", 1);
	ERR("net.dprot in (1)", "did you mean 'net.dport'?", 1);
	ERR("zzz.qqq = 1", "unknown field 'zzz.qqq'", 1);
	ERR("zzzzzzzz contains 1", "unknown field 'zzzzzzzz'", 1);
	ERR("net.allowed and foo", "undefined macro 'foo'", 17);
	ERR("(foo)", "undefined macro 'foo'", 2);
	ERR("proc.name in shellz", "undefined list 'shellz'", 14);
	ERR("proc.name in is_dl", "undefined list 'is_dl'", 14);	/* a macro is no list */
	ERR("net.dport in 443", "expected '(' or a list name after 'in', found '443'", 14);
	ERR("proc.name in", "expected '(' or a list name after 'in', found end of condition", 13);
	/* keywords are lower case */
	ERR("proc.name IN (a)",
	    "expected an operator after 'proc.name', found 'IN'; keywords are lower case", 11);
	ERR("net.allowed AND net.allowed",
	    "unexpected 'AND' after a condition (expected 'and', 'or' or the end); keywords are lower case",
	    13);
	ERR("net.allowed = TRUE", "'net.allowed' is a bool (true or false): 'TRUE' is not", 15);
}

static void err_operator_for_type(void **state)
{
	ERR("proc.uid contains 3",
	    "'contains' does not apply to number field 'proc.uid' (use = != < <= > >= in)", 10);
	ERR("net.dport startswith 8", "'startswith' does not apply to number field", 11);
	ERR("proc.name < b", "'<' does not apply to string field 'proc.name'", 11);
	ERR("net.allowed glob x", "'glob' does not apply to bool field 'net.allowed'", 13);
	ERR("net.allowed in (true)", "'in' does not apply to bool field", 13);
	ERR("net.daddr >= 1.2.3.4", "'>=' does not apply to address field 'net.daddr'", 11);
	ERR("proc.ancestors > a", "'>' does not apply to string list field", 16);
	ERR("proc.name", "expected an operator after 'proc.name', found end of condition", 10);
	ERR("proc.name and net.allowed", "expected an operator after 'proc.name', found 'and'", 11);
}

static void err_value_type(void **state)
{
	ERR("net.dport = http", "'net.dport' is a number: 'http' is not", 13);
	ERR("net.dport in (80, http)", "'net.dport' is a number: 'http' is not", 19);
	ERR("net.dport in bad_ports", "in list 'bad_ports': 'net.dport' is a number: 'http' is not",
	    14);
	ERR("net.dport in (1, bad_ports)", "in list 'bad_ports'", 18);
	ERR("net.allowed = maybe", "'net.allowed' is a bool (true or false): 'maybe' is not", 15);
	ERR("net.allowed = 1", "is a bool", 15);
	ERR("net.daddr in (10.0.0.0/33)", "prefix length /33 too long", 15);
	ERR("net.daddr in (10.0.0.1/8)", "host bits set; did you mean 10.0.0.0/8?", 15);
	ERR("net.daddr in (1.2.3.4, nope)", "bad IPv4 address 'nope'", 24);
	ERR("net.daddr in (gg::/8)", "bad IPv6 address", 15);
	ERR("net.daddr in (10.0.0.0/8:443)", "has a port", 15);
	ERR("net.daddr = 10.0.0.0/8", "'=' takes an address, not a network: use 'net.daddr in (10.0.0.0/8)'",
	    13);
	ERR("proc.uid = 1e3", "bad size unit", 12);
	ERR("proc.uid = -x", "'proc.uid' is a number: '-x' is not", 12);
}

static void err_glob(void **state)
{
	ERR("file.path glob '/a/[b'", "invalid path glob: unterminated '['", 16);
	ERR("file.path glob /a/**x", "invalid path glob: '**' must be a whole path component", 16);
	ERR("file.path glob '/a\\\\'", "invalid path glob: trailing backslash", 16);
}

static void err_syntax(void **state)
{
	ERR("", "empty condition", 1);
	ERR("   \t", "empty condition", 5);
	ERR("(proc.name = a", "unbalanced '(': no matching ')'", 1);
	ERR("net.allowed and ((net.allowed)", "unbalanced '(': no matching ')'", 17);
	ERR("proc.name = a)", "unbalanced ')': no matching '('", 14);
	ERR("proc.name in (a, b", "unbalanced '(': no matching ')'", 14);
	ERR("proc.name = a b", "unexpected 'b' after a condition", 15);
	ERR("net.allowed net.allowed", "unexpected 'net.allowed' after a condition", 13);
	ERR("proc.name =", "expected a value after '=', found end of condition", 12);
	ERR("proc.name = )", "expected a value after '=', found ')'", 13);
	ERR("proc.name == (a)", "expected a value after '==', found '('", 14);
	ERR("proc.name in (a,)", "expected a value after ',', found ')'", 17);
	ERR("proc.name in (a b)", "expected ',' or ')' in the list, found 'b'", 17);
	ERR("net.allowed and", "expected a condition after 'and', found end of condition", 16);
	ERR("not", "expected a condition after 'not', found end of condition", 4);
	ERR("or net.allowed", "expected a condition, found 'or'", 1);
	ERR("()", "empty parentheses", 2);
	ERR("(net.allowed net.allowed)", "expected 'and', 'or' or ')', found 'net.allowed'", 14);
	ERR("proc.name = 'abc", "unterminated string (missing closing ')", 13);
	ERR("proc.name = \"a\\\"", "unterminated string", 13);
	ERR("proc.name = a;", "unexpected character ';'", 14);
	ERR("! net.allowed", "unexpected '!' (use 'not' or '!=')", 1);
	ERR("proc.name = \x01", "unexpected character 0x01", 13);
	ERR("'proc.name' = a", "expected a condition, found ''proc.name''", 1);
	ERR("= a", "expected a condition, found '='", 1);
	ERR("net.allowed and true", "expected a condition after 'and', found 'true'", 17);
}

static void err_in_macro(void **state)
{
	/* the column is the macro's; the message says where inside it */
	ERR("proc.uid = 0 or broken",
	    "in macro 'broken' (column 17): unknown field 'proc.nme' (did you mean 'proc.name'?)",
	    17);
	ERR("outer", "in macro 'outer' (column 1): in macro 'broken' (column 17): unknown field", 1);
	ERR("net.allowed and empty", "in macro 'empty' (column 3): empty condition", 17);
	ERR("dangling", "in macro 'dangling' (column 21): expected a condition after 'and'", 1);
}

static void err_nesting(void **state)
{
	char *t = malloc(20000), err[128];
	int col;
	struct expr *e;

	/* 3000 levels of each: refused cleanly, not a stack overflow */
	memset(t, '(', 3000);
	strcpy(t + 3000, "net.allowed");
	memset(t + 3011, ')', 3000);
	t[6011] = '\0';
	ERR(t, "nests more than 128 levels", 129);
	for (int i = 0; i < 3000; i++)
		memcpy(t + i * 4, "not ", 4);
	strcpy(t + 12000, "net.allowed");
	e = expr__parse(t, &env, err, sizeof(err), &col);
	assert_null(e);
	assert_non_null(strstr(err, "nests more than"));
	/* 100 levels is fine */
	memset(t, '(', 50);
	strcpy(t + 50, "net.allowed");
	memset(t + 61, ')', 50);
	t[111] = '\0';
	expr__free(PARSE(t));
	free(t);
}

static void err_args(void **state)
{
	char err[64];
	int col;

	assert_null(expr__parse(NULL, &env, err, sizeof(err), &col));
	assert_int_equal(col, 1);
	assert_null(expr__parse("x", NULL, err, sizeof(err), &col));
	assert_null(expr__parse("proc.nme = 1", &env, NULL, 0, NULL));
	assert_null(expr__parse("proc.nme = 1", &env, err, 8, &col));
	assert_string_equal(err, "unknown");	/* cut to the buffer */
	expr__free(NULL);
	assert_false(expr__eval(NULL, get, NULL));
	assert_int_equal(expr__fields_used(NULL), 0);
	assert_false(expr__never_matches(NULL, err, sizeof(err)));
}

/* --- canonical text --- */

static void canonical(void **state)
{
	static const char *const same[][2] = {
		{ "proc.name in (\"curl\",\"wget\") and not (net.dport = 443)",
		  "(proc.name in ('wget', curl, wget)) and not net.dport == 443" },
		{ "proc.name = curl", "  ( (proc.name=='curl') )" },
		{ "net.bytes > 10MiB", "net.bytes > 10485760" },
		{ "net.bytes > 10MiB", "net.bytes>10m" },
		{ "net.daddr in (10.0.0.0/8, fd00::/8)",
		  "net.daddr in (fd00:0::/8,10.0.0.0/8,10.0.0.0/8)" },
		{ "net.allowed", "net.allowed = true" },
		{ "net.allowed", "not not net.allowed" },
		{ "is_dl and web", "dl_web" },
		{ "proc.name = 'a\"b\\\\c'", "proc.name = \"a\\\"b\\\\c\"" },
		{ "net.daddr = ::ffff:1.2.3.4", "net.daddr = [::ffff:1.2.3.4]" },
	};
	char a[512], b[512];

	CANON("proc.name in (wget, curl) and not (net.dport = 443)",
	      "(proc.name in (\"curl\",\"wget\") and not (net.dport = 443))");
	CANON("net.daddr in (fd00::/8, 10.0.0.0/8, 1.2.3.4, 10.0.0.0/8)",
	      "net.daddr in (1.2.3.4,10.0.0.0/8,fd00::/8)");
	CANON("proc.uid in ()", "proc.uid in ()");
	CANON("net.dport != 1 or proc.ancestors contains sh or file.path glob /a/**",
	      "(net.dport != 1 or proc.ancestors contains \"sh\" or file.path glob \"/a/**\")");
	CANON("proc.uid >= -1K", "proc.uid >= -1024");
	CANON("proc.name = 'a\"b\\\\c'", "proc.name = \"a\\\"b\\\\c\"");
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		struct expr *x, *y;

		x = PARSE(same[i][0]);
		y = PARSE(same[i][1]);
		expr__canonical(x, a, sizeof(a));
		expr__canonical(y, b, sizeof(b));
		if (strcmp(a, b))
			print_error("%zu: '%s' vs '%s'\n", i, a, b);
		assert_string_equal(a, b);
		/* canonical text parses back to itself */
		expr__free(x);
		x = PARSE(a);
		expr__canonical(x, b, sizeof(b));
		assert_string_equal(a, b);
		expr__free(x);
		expr__free(y);
	}
}

static void canonical_buffer(void **state)
{
	struct expr *e = PARSE("proc.name = curl");
	char b[8];

	assert_int_equal(expr__canonical(e, NULL, 0), 18);
	assert_int_equal(expr__canonical(e, b, sizeof(b)), 18);
	assert_string_equal(b, "proc.na");
	assert_int_equal(expr__canonical(e, b, 1), 18);
	assert_string_equal(b, "");
	expr__free(e);
}

/* --- constant folding --- */

static void never_matches(void **state)
{
	NEVER("proc.uid < -9223372036854775808", "never below");
	NEVER("proc.uid > 9223372036854775807", "never above");
	NEVER("proc.name in ()", "empty set");
	NEVER("proc.name in nothing", "empty set");
	NEVER("net.daddr in ()", NULL);
	NEVER("proc.name = a and not proc.name = a", "and its negation are both required");
	NEVER("proc.name = a and net.allowed and proc.name != a", "its negation");
	NEVER("is_dl and not (proc.name in (wget, curl))", "its negation");
	NEVER("proc.name in (a, b) and not proc.name in (b, a, a)", "its negation");
	NEVER("(net.allowed or proc.uid = 1) and not (net.allowed or proc.uid = 1)", NULL);
	NEVER("net.allowed and proc.uid in ()", "empty set");
	NEVER("proc.uid in () or proc.name in ()", "no alternative");
	NEVER("not proc.uid >= -9223372036854775808", "always");
	NEVER("not (proc.uid <= 9223372036854775807 or net.allowed)", NULL);
	NEVER("not proc.name startswith ''", "starts with");
	NEVER("not (net.allowed or not net.allowed)", "or its negation always holds");
	NEVER("net.allowed and not net.allowed", NULL);
	NEVER("net.allowed = false and net.allowed", NULL);
	NEVER("net.allowed != false and net.allowed = false", NULL);
	NEVER("not (net.allowed = false or net.allowed = true)", "or its negation always holds");

	MAYBE("proc.uid < -9223372036854775807");
	MAYBE("proc.uid <= -9223372036854775808");
	MAYBE("proc.uid >= 9223372036854775807");
	MAYBE("net.dport > 65535");			/* no ranges: the type allows it */
	MAYBE("proc.name in () or net.allowed");
	MAYBE("proc.name = a and not proc.name = b");
	MAYBE("proc.name = a or not proc.name = a");	/* always true, not never */
	MAYBE("not proc.uid in ()");
	MAYBE("proc.ancestors startswith ''");
	MAYBE("not proc.ancestors startswith ''");	/* a list may be empty */
	MAYBE("proc.ancestors contains a and not proc.ancestors = a");	/* not structurally */
	MAYBE("net.allowed");
}

static void fields_used(void **state)
{
	struct expr_field big[70];
	struct expr_env benv = { .fields = big, .nfields = 70 };
	struct expr *e;

	e = PARSE("proc.name = a or (net.dport = 1 and not proc.ancestors contains x)");
	assert_int_equal(expr__fields_used(e), (1u << F_NAME) | (1u << F_DPORT) | (1u << F_ANC));
	expr__free(e);
	e = PARSE("net.allowed and net.allowed");
	assert_int_equal(expr__fields_used(e), 1u << F_ALLOWED);
	expr__free(e);
	e = PARSE("proc.uid in ()");
	assert_int_equal(expr__fields_used(e), 1u << F_UID);
	expr__free(e);

	for (unsigned i = 0; i < 70; i++) {
		char *n = malloc(16);

		snprintf(n, 16, "f%u", i);
		big[i] = (struct expr_field){ n, EXPR_BOOL, "" };
	}
	e = expr__parse("f0 or f62", &benv, NULL, 0, NULL);
	assert_int_equal(expr__fields_used(e), (1ULL << 0) | (1ULL << 62));
	expr__free(e);
	e = expr__parse("f63 or f64 or f69", &benv, NULL, 0, NULL);
	assert_int_equal(expr__fields_used(e), 1ULL << 63);
	expr__free(e);
	for (unsigned i = 0; i < 70; i++)
		free((char *)big[i].name);
}

/* Each field reference calls the getter once; evaluation stops early. */
static void getter_calls(void **state)
{
	struct rec r = base();
	struct expr *e = PARSE("proc.name = x and net.dport = 443");

	get_calls = 0;
	assert_false(expr__eval(e, get, &r));
	assert_int_equal(get_calls, 1);
	expr__free(e);
	e = PARSE("proc.name = curl or net.dport = 443 or net.allowed");
	get_calls = 0;
	assert_true(expr__eval(e, get, &r));
	assert_int_equal(get_calls, 1);
	expr__free(e);
}

/* Binding the fields a caller indexes by decides their comparisons once:
 * what is left reads only the other fields, and a condition that no longer
 * depends on the record says so. */
static void bind_known(void **state)
{
	uint64_t known = 1ULL << F_TYPE;
	struct rec probe = base(), r = base();
	struct expr *e, *b;
	enum expr_tri v;

	e = PARSE("evt.type = connect and proc.name = curl");
	probe.type = "connect";
	b = expr__bind(e, known, get, &probe, &v);
	assert_int_equal(v, EXPR_MAYBE);
	assert_int_equal(expr__fields_used(b), 1ULL << F_NAME);
	r.type = "connect";
	assert_true(expr__eval(b, get, &r));
	r.name = "wget";
	assert_false(expr__eval(b, get, &r));
	/* no tree: nothing to print or fold */
	assert_int_equal(expr__canonical(b, NULL, 0), -1);
	assert_false(expr__never_matches(b, NULL, 0));
	expr__free(b);
	probe.type = "egress";
	b = expr__bind(e, known, get, &probe, &v);
	assert_int_equal(v, EXPR_FALSE);
	assert_int_equal(expr__fields_used(b), 0);
	assert_false(expr__eval(b, get, &r));
	expr__free(b);
	expr__free(e);

	/* an or decided by the known part; not and nested groups */
	e = PARSE("evt.type in (connect, egress) or (proc.name = curl and net.dport = 443)");
	probe.type = "egress";
	b = expr__bind(e, known, get, &probe, &v);
	assert_int_equal(v, EXPR_TRUE);
	assert_true(expr__eval_values(b, NULL) == false);	/* NULL values: false */
	assert_true(expr__eval(b, get, &r));
	expr__free(b);
	probe.type = "budget";
	b = expr__bind(e, known, get, &probe, &v);
	assert_int_equal(v, EXPR_MAYBE);
	assert_int_equal(expr__fields_used(b), (1ULL << F_NAME) | (1ULL << F_DPORT));
	r = base();
	assert_true(expr__eval(b, get, &r));
	r.dport = 80;
	assert_false(expr__eval(b, get, &r));
	expr__free(b);
	expr__free(e);

	e = PARSE("not (evt.type = progress or net.allowed) and proc.uid != 0");
	probe.type = "progress";
	b = expr__bind(e, known, get, &probe, &v);
	assert_int_equal(v, EXPR_FALSE);
	expr__free(b);
	probe.type = "connect";
	b = expr__bind(e, known, get, &probe, &v);
	assert_int_equal(v, EXPR_MAYBE);
	r = base();
	assert_true(expr__eval(b, get, &r));
	r.allowed = true;
	assert_false(expr__eval(b, get, &r));
	expr__free(b);
	expr__free(e);
	/* comparisons both of whose ways now lead to the same place go */
	e = PARSE("(net.allowed or proc.name = x) and evt.type = budget");
	probe.type = "connect";
	b = expr__bind(e, known, get, &probe, &v);
	assert_int_equal(v, EXPR_FALSE);
	assert_int_equal(expr__fields_used(b), 0);
	expr__free(b);
	expr__free(e);
}

/* Equal comparisons across conditions get one memo byte; numbers and bools
 * get none; strings as extracted (with len) are what is compared. */
static void share_and_values(void **state)
{
	struct expr *es[3] = {
		PARSE("proc.name in (curl, wget) and net.dport = 443"),
		PARSE("net.dport = 443 and proc.name in (wget, curl) or not net.allowed"),
		PARSE("file.path endswith .safetensors and proc.name in (curl, wget)"),
	};
	struct expr_value vals[NFIELDS];
	unsigned char memo[4] = { 0 };
	uint32_t held[3];
	struct rec r = base();

	assert_int_equal(expr__share(es, 3), 1);
	assert_int_equal(expr__share(es, 1), 0);	/* renumbered: alone now */
	assert_int_equal(expr__share(es, 3), 1);
	memset(vals, 0, sizeof(vals));
	expr__values(&env, get, &r, expr__fields_used(es[0]) | expr__fields_used(es[1]) |
		     expr__fields_used(es[2]), vals);
	assert_int_equal(vals[F_NAME].len, 4);
	assert_int_equal(vals[F_PATH].len, strlen(r.path));
	assert_null(vals[F_UID].s);	/* not asked for: left alone */
	assert_int_equal(expr__eval_each(es, 3, vals, memo, held), 2);
	assert_int_equal(held[0], 0);
	assert_int_equal(held[1], 1);
	r.name = NULL;	/* a getter may leave s NULL: "" */
	r.path = "/m/a.safetensors";
	memset(memo, 0, sizeof(memo));
	expr__values(&env, get, &r, ~0ULL, vals);
	assert_string_equal(vals[F_NAME].s, "");
	assert_int_equal(vals[F_NAME].len, 0);
	assert_int_equal(expr__eval_each(es, 3, vals, memo, held), 1);
	assert_int_equal(held[0], 1);
	for (int i = 0; i < 3; i++)
		expr__free(es[i]);
}

/* A 50-rule pack shaped like the default pack (an event type first, then
 * lists, globs and CIDRs) over varied records: the tree walk and the engine's
 * path (fields extracted once, shared comparisons once) find the same
 * matches. Speed is bench/engine_bench.c's business, not a test's. */
static void pack_paths_agree(void **state)
{
	static const char *const pack[] = {
		/* rules/default.yaml (net.proto and taint.depth stood in for) */
		"evt.type = connect and not net.allowed",
		"evt.type = egress and not net.allowed",
		"evt.type = budget",
		"evt.type = progress and net.bytes >= 16MiB and not net.allowed",
		"outbound and proc.name in (upload_tools)",
		"outbound and proc.ancestors in (archive_tools)",
		"outbound and (proc.ancestors in (crypto_tools) or proc.name in (crypto_tools))",
		"evt.type in (connect, egress, progress) and net.dport in (53, 853, 5353, 5355)",
		"outbound and proc.uid >= 2",
		"evt.type in (connect, egress) and proc.name = udp and not net.allowed",
		/* and heavier ones: CIDRs, globs, suffixes */
		"evt.type in (connect, egress) and net.daddr in private_nets and not net.allowed",
		"outbound and file.path glob /home/*/.ssh/**",
		"outbound and file.path glob '*.safetensors' and net.bytes > 1GiB",
		"evt.type = progress and proc.name startswith python and net.dport != 443",
		"outbound and not net.daddr in (100.64.0.0/10, 169.254.0.0/16, fd00::/8)",
		"evt.type = egress and proc.ancestors contains sshd",
		"evt.type = connect and net.dport in web_ports and proc.name in shells",
	};
	static const char *const names[] = { "curl", "python3", "bash", "tar", "nginx" };
	static const char *const types[] = { "progress", "progress", "progress", "egress",
					     "connect", "progress", "progress", "budget" };
	static const char *const addrs[] = { "10.1.2.3", "93.184.216.34", "fd00::5",
					     "::ffff:192.168.1.1" };
	const size_t npack = sizeof(pack) / sizeof(pack[0]);
	struct expr *rules[50];
	struct rec recs[16];
	const int nrec = 2000;
	unsigned hits = 0;
	struct expr_value vals[NFIELDS];
	unsigned char *memo;
	uint64_t used = 0;
	int nmemo;

	for (size_t i = 0; i < 50; i++) {
		rules[i] = PARSE(pack[i % npack]);
		used |= expr__fields_used(rules[i]);
	}
	for (int i = 0; i < 16; i++) {
		recs[i] = with_addr(addrs[i % 4]);
		recs[i].name = names[i % 5];
		recs[i].type = types[i % 8];
		recs[i].dport = i % 3 ? 443 : 53;
		recs[i].bytes = (int64_t)i << 22;
		recs[i].allowed = i % 5 == 0;
		recs[i].uid = i % 7 ? 1000 : 0;
		recs[i].path = i % 2 ? "/home/u/.ssh/id_rsa" : "/srv/m/model.safetensors";
	}
	for (int n = 0; n < nrec; n++)
		for (int i = 0; i < 50; i++)
			hits += expr__eval(rules[i], get_fast, &recs[n & 15]);
	assert_true(hits > 0);
	assert_true(hits < (unsigned)nrec * 50);

	/* as the engine does it: each record's fields extracted once, shared
	 * comparisons evaluated once */
	nmemo = expr__share(rules, 50);
	assert_true(nmemo > 0);
	memo = calloc((size_t)nmemo, 1);
	assert_non_null(memo);
	{
		unsigned h = 0;

		for (int n = 0; n < nrec; n++) {
			expr__values(&env, get_fast, &recs[n & 15], used, vals);
			memset(memo, 0, (size_t)nmemo);
			for (int i = 0; i < 50; i++)
				h += expr__eval_shared(rules[i], vals, memo);
		}
		assert_int_equal(h, hits);	/* what expr__eval said */
	}
	free(memo);
	for (int i = 0; i < 50; i++)
		expr__free(rules[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(str_ops),
		cmocka_unit_test(num_ops),
		cmocka_unit_test(size_units),
		cmocka_unit_test(bool_ops),
		cmocka_unit_test(strlist_ops),
		cmocka_unit_test(addr_v4),
		cmocka_unit_test(addr_v6_and_mapped),
		cmocka_unit_test(globs),
		cmocka_unit_test(bare_words_and_quotes),
		cmocka_unit_test(precedence),
		cmocka_unit_test(parens),
		cmocka_unit_test(lists_expand),
		cmocka_unit_test(big_set_bsearch),
		cmocka_unit_test(macros_expand),
		cmocka_unit_test(macro_cycles_and_depth),
		cmocka_unit_test(err_unknown_names),
		cmocka_unit_test(err_operator_for_type),
		cmocka_unit_test(err_value_type),
		cmocka_unit_test(err_glob),
		cmocka_unit_test(err_syntax),
		cmocka_unit_test(err_in_macro),
		cmocka_unit_test(err_nesting),
		cmocka_unit_test(err_args),
		cmocka_unit_test(canonical),
		cmocka_unit_test(canonical_buffer),
		cmocka_unit_test(never_matches),
		cmocka_unit_test(fields_used),
		cmocka_unit_test(getter_calls),
		cmocka_unit_test(bind_known),
		cmocka_unit_test(share_and_values),
		cmocka_unit_test(pack_paths_agree),
	};

	return cmocka_run_group_tests_name("expr", tests, NULL, NULL);
}
