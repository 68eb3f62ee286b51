// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for rule conditions (userspace/expr.c).
 *
 * Parses the input against a field table with lists and macros (a
 * self-referential one, a mutual pair, a broken one, a deep chain) and
 * checks what expr.h promises rather than only "no crash":
 *   - a failed parse has a message and a column within the text (or one past);
 *   - evaluation reads only fields that expr__fields_used reports;
 *   - the canonical text parses back to itself and evaluates the same;
 *   - a condition that never_matches is false on every record;
 *   - canonical text cut to a short buffer is a prefix of the whole.
 * Run: make fuzz-smoke, or .output/fuzz/fuzz_expr DIR tests/fuzz/corpus/expr */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "expr.h"
#include "fuzz.h"

enum { F_NAME, F_UID, F_ANC, F_DADDR, F_DPORT, F_ALLOWED, F_PATH, F_BYTES, F_TYPE, NFIELDS };

static const struct expr_field fields[NFIELDS] = {
	[F_NAME] = { "proc.name", EXPR_STR, "" },
	[F_UID] = { "proc.uid", EXPR_NUM, "" },
	[F_ANC] = { "proc.ancestors", EXPR_STRLIST, "" },
	[F_DADDR] = { "net.daddr", EXPR_ADDR, "" },
	[F_DPORT] = { "net.dport", EXPR_NUM, "" },
	[F_ALLOWED] = { "net.allowed", EXPR_BOOL, "" },
	[F_PATH] = { "file.path", EXPR_STR, "" },
	[F_BYTES] = { "net.bytes", EXPR_NUM, "" },
	[F_TYPE] = { "evt.type", EXPR_STR, "" },
};

struct rec {
	const char *name, *path, *type;
	int64_t uid, dport, bytes;
	const char *const *anc;
	size_t nanc;
	int family;
	unsigned char addr[16];
	bool allowed;
};

static uint64_t used;	/* of the expression being evaluated */

static void get(const void *r_, unsigned id, struct expr_value *out)
{
	const struct rec *r = r_;

	check(id < NFIELDS);
	check(used & (1ULL << id));
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

static const char *const shells[] = { "bash", "sh", "zsh", "dash" };
static const char *const ports[] = { "80", "443", "8080", "10K", "-1" };
static const char *const nets[] = { "10.0.0.0/8", "192.168.0.0/16", "fd00::/8", "::1" };
static const char *const mixed[] = { "80", "http", "10.0.0.0/8", "/a/**", "" };
static const char *const tools[] = { "curl", "wget", "scp", "sftp", "rsync", "rclone", "aws",
				     "nc", "ncat", "socat", "ssh", "ftp", "", "a", "b" };

static const struct {
	const char *name;
	const char *const *items;
	size_t n;
} lists[] = {
	{ "shells", shells, 4 }, { "ports", ports, 5 }, { "nets", nets, 4 },
	{ "mixed", mixed, 5 }, { "tools", tools, 15 }, { "none", NULL, 0 },
};

static const struct {
	const char *name, *text;
} macros[] = {
	{ "outbound", "evt.type in (connect, egress, progress) and not net.allowed" },
	{ "dl", "proc.name in (tools) or proc.ancestors in shells" },
	{ "both", "outbound and dl" },
	{ "loop", "loop or net.allowed" },			/* refers to itself */
	{ "ping", "net.dport = 1 and pong" },			/* and through another */
	{ "pong", "(ping)" },
	{ "broken", "proc.nme = 1" },
	{ "dangling", "net.allowed and" },
	{ "uses_loop", "net.allowed or loop" },
	{ "m0", "m1" }, { "m1", "m2" }, { "m2", "m3" }, { "m3", "m4" }, { "m4", "m5" },
	{ "m5", "m6" }, { "m6", "m7" }, { "m7", "m8" }, { "m8", "m9" }, { "m9", "m10" },
	{ "m10", "m11" }, { "m11", "m12" }, { "m12", "m13" }, { "m13", "m14" },
	{ "m14", "m15" }, { "m15", "m16" }, { "m16", "net.allowed" },	/* 17 deep */
	{ "double", "m3 and m3" },
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

static bool env_macro(void *ctx, const char *name, const char **text)
{
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (!strcmp(macros[i].name, name)) {
			*text = macros[i].text;
			return true;
		}
	}
	return false;
}

static const struct expr_env env = {
	.fields = fields, .nfields = NFIELDS, .list = env_list, .macro = env_macro,
};

static const char *const anc1[] = { "systemd", "sshd", "bash" };
static const char *const anc2[] = { "", "tar", "curl" };

static struct rec recs[4];

static void init_recs(void)
{
	recs[0] = (struct rec){ .name = "curl", .path = "/home/u/.ssh/id_rsa", .type = "egress",
				.uid = 1000, .dport = 443, .bytes = 20 << 20, .anc = anc1,
				.nanc = 3, .family = AF_INET };
	inet_pton(AF_INET, "10.1.2.3", recs[0].addr);
	recs[1] = (struct rec){ .name = "", .path = "/m/a.safetensors", .type = "progress",
				.uid = INT64_MIN, .dport = 53, .bytes = INT64_MAX, .anc = anc2,
				.nanc = 3, .family = AF_INET6, .allowed = true };
	inet_pton(AF_INET6, "::ffff:192.168.1.1", recs[1].addr);
	recs[2] = (struct rec){ .name = "bash", .path = "", .type = "connect", .uid = 0,
				.dport = 0, .bytes = -1, .family = AF_INET6 };
	inet_pton(AF_INET6, "fd00::1", recs[2].addr);
	recs[3] = (struct rec){ .name = "a", .path = "/", .type = "", .uid = -1, .dport = 80 };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	char err[256], why[256], small[7], *canon, *canon2;
	struct expr *e, *e2;
	bool r1[4], never;
	int col, n, n2;
	char *text;

	if (!init) {
		init_recs();
		init = true;
	}
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	e = expr__parse(text, &env, err, sizeof(err), &col);
	if (!e) {
		check(err[0]);
		check(col >= 1 && (size_t)col <= strlen(text) + 1);
		free(text);
		return 0;
	}

	used = expr__fields_used(e);
	for (int i = 0; i < 4; i++)
		r1[i] = expr__eval(e, get, &recs[i]);
	never = expr__never_matches(e, why, sizeof(why));
	if (never) {
		check(why[0]);
		for (int i = 0; i < 4; i++)
			check(!r1[i]);
	}

	n = expr__canonical(e, NULL, 0);
	check(n > 0);
	canon = malloc((size_t)n + 1);
	check(canon);
	check(expr__canonical(e, canon, (size_t)n + 1) == n);
	check(strlen(canon) == (size_t)n);
	check(expr__canonical(e, small, sizeof(small)) == n);
	check(!strncmp(small, canon, strlen(small)));

	/* the canonical text is a fixed point and means the same */
	e2 = expr__parse(canon, &env, err, sizeof(err), &col);
	if (!e2) {
		fprintf(stderr, "canonical '%s' of '%s' does not parse: %s (col %d)\n", canon,
			text, err, col);
		abort();
	}
	check(expr__fields_used(e2) == used);
	n2 = expr__canonical(e2, NULL, 0);
	canon2 = malloc((size_t)n2 + 1);
	check(canon2);
	expr__canonical(e2, canon2, (size_t)n2 + 1);
	if (strcmp(canon, canon2)) {
		fprintf(stderr, "canonical not stable:\n  %s\n  %s\n", canon, canon2);
		abort();
	}
	for (int i = 0; i < 4; i++)
		check(expr__eval(e2, get, &recs[i]) == r1[i]);
	check(expr__never_matches(e2, why, sizeof(why)) == never);

	free(canon2);
	free(canon);
	expr__free(e2);
	expr__free(e);
	free(text);
	return 0;
}
