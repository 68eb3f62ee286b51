// SPDX-License-Identifier: GPL-2.0
/* CEF (ArcSight Common Event Format, version 0) for ArcSight, QRadar and
 * Sentinel: CEF:0|vigil|vigil|VERSION|CLASS|NAME|SEVERITY|EXTENSION.
 * Escaping as the format defines it: in the header, \ and |; in extension
 * values, \ and = and line breaks (\n, \r); control characters never get
 * through (a record is one line). Keys are standard CEF dictionary names
 * plus labelled custom strings (cs1-cs6, cn1-cn3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "strbuf.h"


/* header: \ -> \\, | -> \|, line breaks and controls -> space */
static void header_field(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '|')
			buf__put(b, "\\", 1);
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			buf__put(b, " ", 1);
		else
			buf__put(b, s, 1);
	}
	buf__put(b, "|", 1);
}

/* extension value: \ -> \\, = -> \=, \n -> \n (two characters), \r -> \r */
static void ext(struct buf *b, const char *key, const char *v)
{
	if (!v || !*v)
		return;
	if (b->len && b->p[b->len - 1] != '|')
		buf__put(b, " ", 1);
	buf__puts(b, key);
	buf__put(b, "=", 1);
	for (; *v; v++) {
		if (*v == '\\' || *v == '=')
			buf__put(b, "\\", 1);
		if (*v == '\n')
			buf__puts(b, "\\n");
		else if (*v == '\r')
			buf__puts(b, "\\r");
		else if ((unsigned char)*v < 0x20 || *v == 0x7f)
			buf__put(b, " ", 1);
		else
			buf__put(b, v, 1);
	}
}

static void ext_int(struct buf *b, const char *key, long long v)
{
	char s[32];

	if (v < 0)
		return;
	snprintf(s, sizeof(s), "%lld", v);
	ext(b, key, s);
}

static void labelled(struct buf *b, const char *key, const char *label, const char *v)
{
	char lk[32];

	if (!v || !*v)
		return;
	snprintf(lk, sizeof(lk), "%sLabel", key);
	ext(b, lk, label);
	ext(b, key, v);
}

char *format_cef__render(json_t *rec)
{
	const char *kind = format__str(rec, "kind");
	bool alert = !strcmp(kind, "alert");
	static const int cef_sev[] = { 0, 3, 5, 8, 10 };
	struct buf b = { 0 };
	char sev[8], tags[256] = "";
	json_t *t, *srcs = format__get(rec, "taint.sources");
	size_t i;

	buf__puts(&b, "CEF:0|");
	header_field(&b, "vigil");
	header_field(&b, "vigil");
	header_field(&b, VIGIL_VERSION);
	header_field(&b, alert ? format__str(rec, "rule") : kind);
	header_field(&b, alert ? format__str(rec, "message") : kind);
	snprintf(sev, sizeof(sev), "%d", alert ? cef_sev[format__severity_rank(format__str(rec, "severity"))] :
		 !strcmp(kind, "agent_error") ? 5 : 1);
	header_field(&b, sev);
	ext_int(&b, "rt", format__epoch_ms(format__str(rec, "time")));
	ext(&b, "dvchost", format__str(rec, "host"));
	ext(&b, "deviceExternalId", format__str(rec, "machine_id"));
	ext(&b, "externalId", format__str(rec, "id"));
	labelled(&b, "cs6", "runId", format__str(rec, "run_id"));
	if (format__int(rec, "seq") >= 0) {
		char s[32];

		snprintf(s, sizeof(s), "%lld", format__int(rec, "seq"));
		labelled(&b, "cn3", "seq", s);
	}
	if (alert) {
		const char *path = json_string_value(format__get(json_array_get(srcs, 0), "path"));

		ext(&b, "act", format__str(rec, "action"));
		ext(&b, "cat", "exfiltration");
		ext(&b, "msg", format__str(rec, "message"));
		/* a network filesystem's mount has a source, not an IP */
		ext(&b, strcmp(format__str(rec, "network.family"), "netfs") ? "dst" : "dhost",
		    format__str(rec, "network.daddr"));
		ext_int(&b, "dpt", format__int(rec, "network.dport"));
		ext(&b, "proto", !strcmp(format__str(rec, "network.protocol"), "tcp") ? "TCP" :
			!strcmp(format__str(rec, "network.protocol"), "udp") ? "UDP" : "");
		ext_int(&b, "out", format__int(rec, "network.bytes"));
		ext_int(&b, "spid", format__int(rec, "process.pid"));
		ext(&b, "sproc", format__str(rec, "process.comm"));
		ext_int(&b, "suid", format__int(rec, "process.uid"));
		if (path) {
			const char *slash = strrchr(path, '/');

			ext(&b, "fname", slash ? slash + 1 : path);
			ext(&b, "filePath", path);
		}
		labelled(&b, "cs1", "rule", format__str(rec, "rule"));
		json_array_foreach(json_object_get(rec, "tags"), i, t) {
			const char *id = json_string_value(t);

			if (id && format__technique_name(id) && strlen(tags) + strlen(id) + 2 < sizeof(tags)) {
				if (*tags)
					strcat(tags, ",");
				strcat(tags, id);
			}
		}
		labelled(&b, "cs2", "mitreTechnique", tags);
		labelled(&b, "cs3", "cmdline", format__str(rec, "process.cmdline"));
		labelled(&b, "cs4", "mode", format__str(rec, "mode"));
		labelled(&b, "cs5", "incident", format__str(rec, "incident.id"));
		if (format__int(rec, "network.blocked_bytes") >= 0) {
			char s[32];

			snprintf(s, sizeof(s), "%lld", format__int(rec, "network.blocked_bytes"));
			labelled(&b, "cn1", "blockedBytes", s);
		}
		if (format__int(rec, "events_lost") > 0) {
			char s[32];

			snprintf(s, sizeof(s), "%lld", format__int(rec, "events_lost"));
			labelled(&b, "cn2", "eventsLost", s);
		}
	} else {
		ext(&b, "msg", format__str(rec, "message"));
		if (format__int(rec, "events_lost") >= 0) {
			char s[32];

			snprintf(s, sizeof(s), "%lld", format__int(rec, "events_lost"));
			labelled(&b, "cn2", "eventsLost", s);
		}
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
