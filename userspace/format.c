// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"

static const char *const names[] = {
	[FORMAT_NATIVE] = "native", [FORMAT_ECS] = "ecs", [FORMAT_OCSF] = "ocsf",
	[FORMAT_CEF] = "cef",
};

int format__parse(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -1;
}

const char *format__name(enum format f)
{
	return names[f];
}

bool format__is_json(enum format f)
{
	return f != FORMAT_CEF;
}

char *format__render(enum format f, const char *line, size_t len, const char *prev_hash)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	char *out = NULL;

	if (!json_is_object(rec) || !json_is_string(json_object_get(rec, "kind"))) {
		json_decref(rec);
		return NULL;
	}
	switch (f) {
	case FORMAT_NATIVE: out = strndup(line, len); break;
	case FORMAT_ECS: out = format_ecs__render(rec, prev_hash); break;
	case FORMAT_OCSF: out = format_ocsf__render(rec, prev_hash); break;
	case FORMAT_CEF: out = format_cef__render(rec); break;
	}
	json_decref(rec);
	return out;
}

json_t *format__get(json_t *rec, const char *path)
{
	char key[64];
	const char *dot;

	while (rec && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		rec = json_object_get(rec, key);
		path = dot + 1;
	}
	return rec ? json_object_get(rec, path) : NULL;
}

const char *format__str(json_t *rec, const char *path)
{
	json_t *v = format__get(rec, path);

	return json_is_string(v) ? json_string_value(v) : "";
}

long long format__int(json_t *rec, const char *path)
{
	json_t *v = format__get(rec, path);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

long long format__epoch_ms(const char *t)
{
	struct tm tm = { 0 };
	long us = 0;
	const char *rest = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!rest)
		return 0;
	if (*rest == '.')
		us = strtol(rest + 1, NULL, 10);
	return (long long)timegm(&tm) * 1000 + us / 1000;
}

static const struct technique {
	const char *id, *name, *tactic, *tactic_name;
} techniques[] = {
	{ "T1020", "Automated Exfiltration", "TA0010", "Exfiltration" },
	{ "T1027", "Obfuscated Files or Information", "TA0005", "Defense Evasion" },
	{ "T1029", "Scheduled Transfer", "TA0010", "Exfiltration" },
	{ "T1030", "Data Transfer Size Limits", "TA0010", "Exfiltration" },
	{ "T1041", "Exfiltration Over C2 Channel", "TA0010", "Exfiltration" },
	{ "T1048", "Exfiltration Over Alternative Protocol", "TA0010", "Exfiltration" },
	{ "T1048.003", "Exfiltration Over Unencrypted Non-C2 Protocol", "TA0010", "Exfiltration" },
	{ "T1071.004", "Application Layer Protocol: DNS", "TA0011", "Command and Control" },
	{ "T1074", "Data Staged", "TA0009", "Collection" },
	{ "T1105", "Ingress Tool Transfer", "TA0011", "Command and Control" },
	{ "T1537", "Transfer Data to Cloud Account", "TA0010", "Exfiltration" },
	{ "T1560", "Archive Collected Data", "TA0009", "Collection" },
	{ "T1560.001", "Archive via Utility", "TA0009", "Collection" },
	{ "T1567", "Exfiltration Over Web Service", "TA0010", "Exfiltration" },
};

static const struct technique *technique(const char *id)
{
	for (size_t i = 0; i < sizeof(techniques) / sizeof(techniques[0]); i++)
		if (!strcmp(id, techniques[i].id))
			return &techniques[i];
	return NULL;
}

const char *format__technique_name(const char *id)
{
	const struct technique *t = technique(id);

	return t ? t->name : NULL;
}

const char *format__tactic_of(const char *id, const char **tactic_name)
{
	const struct technique *t = technique(id);

	if (tactic_name)
		*tactic_name = t ? t->tactic_name : NULL;
	return t ? t->tactic : NULL;
}

json_t *format__obj(json_t *parent, const char *k)
{
	json_t *o = json_object_get(parent, k);

	if (!o) {
		o = json_object();
		json_object_set_new(parent, k, o);
	}
	return o;
}

void format__set_str(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, json_string(v));
}

void format__set_count(json_t *o, const char *k, long long v)
{
	if (v >= 0)
		json_object_set_new(o, k, json_integer(v));
}

void format__copy_body(json_t *dst, json_t *rec)
{
	static const char *const envelope[] = { "schema_version", "time", "host", "id", "seq",
						"boot_id", "machine_id", "run_id", "labels", NULL };
	const char *k;
	json_t *v;

	json_object_foreach(rec, k, v) {
		bool skip = false;

		for (int i = 0; envelope[i]; i++)
			skip |= !strcmp(k, envelope[i]);
		if (!skip)
			json_object_set(dst, k, v);
	}
}

int format__severity_rank(const char *s)
{
	static const char *const sev[] = { "low", "medium", "high", "critical" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, sev[i]))
			return i + 1;
	return 0;
}
