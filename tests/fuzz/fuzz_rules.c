// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for rule files: any bytes as a YAML rule file on top of a
 * small base (lists, macros, rules to override, append to or collide with),
 * through the whole load path (libyaml, sections, merging, condition and
 * template compilation, validation) and, when it loads, the engine on two
 * activities. Must never crash, leak or hang; a file either loads or is
 * refused with a file:line:column message and leaves the ruleset as it was. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine.h"
#include "rules.h"

static const char BASE[] =
	"protect:\n  - name: m\n    paths: [/models/**]\n"
	"allow:\n  - name: store\n    cidr: 10.0.0.0/8\n    ports: 443\n"
	"list:\n  - name: tools\n    items: [curl, wget]\n"
	"macro:\n  - name: out\n    condition: evt.type in (connect, egress) and not net.allowed\n"
	"rule:\n  - id: base-a\n    condition: out and proc.name in (tools)\n    severity: high\n"
	"    message: '%proc.name to %net.daddr'\n"
	"  - id: base-b\n    condition: evt.type = budget\n    action: kill\n";

static void on_hit(void *ctx, const struct activity *a, const struct rule_hit *h)
{
	(*(unsigned *)ctx) += (unsigned)strlen(h->message);
}

static void activity(struct activity *a, const char *event, const char *mode)
{
	static const char *const sets[] = { "m" };

	memset(a, 0, sizeof(*a));
	a->event = activity__parse_word(ACT_VOCAB_EVENT, event);
	a->action = ACT_ALERT;
	a->mode = activity__parse_word(ACT_VOCAB_MODE, mode);
	a->host = "fuzz";
	a->proc.pid = 42;
	strcpy(a->proc.comm, "curl");
	strcpy(a->proc.exe, "/usr/bin/curl");
	a->nsources = 1;
	a->sources[0].path = "/models/w.safetensors";
	a->sources[0].set = "m";
	a->nchain = 2;
	a->chain[0].comm = "tar";
	a->chain[0].via = "read";
	a->chain[1].comm = "curl";
	a->chain[1].via = "pipe";
	a->sets[0] = sets[0];
	a->nsets = 1;
	a->af = AF_INET;
	a->daddr_raw[0] = 203;
	strcpy(a->daddr, "203.0.0.0");
	a->dport = 443;
	a->family = "ipv4";
	a->protocol = "tcp";
	a->bytes = 1 << 20;
	activity__finish(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset rs;
	char err[1024];
	size_t before;

	rules__init(&rs);
	if (rules__load_string(&rs, "base.yaml", BASE, sizeof(BASE) - 1, err, sizeof(err)))
		abort();	/* the base must always load */
	before = rs.nrules;
	if (rules__load_string(&rs, "fuzz.yaml", (const char *)data, size, err, sizeof(err))) {
		/* refused: named, and nothing applied */
		if (!strstr(err, "fuzz.yaml") || rs.nrules != before || rs.nfiles != 1)
			abort();
	} else {
		struct engine *e = engine__new(&rs, err, sizeof(err));
		struct activity a;
		unsigned sink = 0;

		if (!e)
			abort();	/* load validated it: compiling cannot fail */
		activity(&a, "egress", "monitor");
		engine__eval(e, &a, NULL, on_hit, &sink);
		activity(&a, "budget", "enforce");
		engine__eval(e, &a, NULL, on_hit, &sink);
		engine__free(e);
	}
	rules__free(&rs);
	return 0;
}
