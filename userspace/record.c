// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "record.h"

/* First line of a small file, trailing whitespace cut; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	size_t l;

	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	for (l = strlen(buf); l && isspace((unsigned char)buf[l - 1]); l--)
		buf[l - 1] = '\0';
}

/* Ids only ever written as lowercase hex/UUID text: anything else is dropped
 * rather than copied into every record. */
static void keep_if_hex(char *s, bool uuid)
{
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) && !(uuid && *p == '-')) {
			*s = '\0';
			return;
		}
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

void record__identity_init(struct record_identity *id)
{
	memset(id, 0, sizeof(*id));
	if (gethostname(id->hostname, sizeof(id->hostname) - 1) || !id->hostname[0])
		snprintf(id->hostname, sizeof(id->hostname), "unknown");
	read_line("/etc/machine-id", id->machine_id, sizeof(id->machine_id));
	keep_if_hex(id->machine_id, false);
	read_line("/proc/sys/kernel/random/boot_id", id->boot_id, sizeof(id->boot_id));
	keep_if_hex(id->boot_id, true);
	record__uuid(id->run_id);
}

int record__label_add(struct record_identity *id, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : 0, vlen;
	struct json probe;

	if (!eq || !klen || klen >= sizeof(id->labels[0].key)) {
		snprintf(err, errlen, "--label %s: want KEY=VALUE with a KEY of 1-%zu characters",
			 kv, sizeof(id->labels[0].key) - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < klen; i++)
		if (!islower((unsigned char)kv[i]) && !isdigit((unsigned char)kv[i]) && kv[i] != '_') {
			snprintf(err, errlen, "--label %s: KEY may hold only a-z, 0-9 and _", kv);
			return -EINVAL;
		}
	vlen = strlen(eq + 1);
	if (vlen >= sizeof(id->labels[0].value)) {
		snprintf(err, errlen, "--label %s: VALUE is longer than %zu bytes", kv,
			 sizeof(id->labels[0].value) - 1);
		return -EINVAL;
	}
	/* printable UTF-8 only: the JSON writer would escape the rest, but a
	 * label is a name operators filter on, not a place for control bytes */
	json__init(&probe);
	json__string(&probe, eq + 1);
	if (strstr(json__cstr(&probe), "\\u") || probe.oom) {
		json__free(&probe);
		snprintf(err, errlen, "--label %s: VALUE must be printable UTF-8", kv);
		return -EINVAL;
	}
	json__free(&probe);
	for (int i = 0; i < id->nlabels; i++)
		if (strlen(id->labels[i].key) == klen && !strncmp(id->labels[i].key, kv, klen)) {
			snprintf(err, errlen, "--label %s: label '%.*s' given twice", kv, (int)klen, kv);
			return -EINVAL;
		}
	if (id->nlabels >= RECORD_MAX_LABELS) {
		snprintf(err, errlen, "--label %s: at most %d labels", kv, RECORD_MAX_LABELS);
		return -EINVAL;
	}
	snprintf(id->labels[id->nlabels].key, sizeof(id->labels[0].key), "%.*s", (int)klen, kv);
	snprintf(id->labels[id->nlabels].value, sizeof(id->labels[0].value), "%s", eq + 1);
	id->nlabels++;
	return 0;
}

/* Random bytes from a pool refilled 4 KiB at a time: one getrandom() per
 * 256 records, not one per record. */
static void random_bytes(unsigned char *out, size_t n)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static unsigned char pool[4096];
	static size_t avail;

	pthread_mutex_lock(&mu);
	while (n) {
		size_t take;

		if (!avail) {
			ssize_t got = getrandom(pool, sizeof(pool), 0);

			if (got <= 0) {	/* no entropy source: still unique per run */
				static unsigned long long ctr;

				for (size_t i = 0; i < sizeof(pool); i++)
					pool[i] = (unsigned char)(rand() ^ (++ctr * 0x9e3779b97f4a7c15ull >> 56));
				got = sizeof(pool);
			}
			avail = (size_t)got;
		}
		take = n < avail ? n : avail;
		memcpy(out, pool + sizeof(pool) - avail, take);
		memset(pool + sizeof(pool) - avail, 0, take);
		avail -= take;
		out += take;
		n -= take;
	}
	pthread_mutex_unlock(&mu);
}

void record__uuid(char out[RECORD_UUID_LEN + 1])
{
	unsigned char b[16];

	random_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 9562 variant */
	snprintf(out, RECORD_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

static const char *const identity_keys[] = {
	"id", "seq", "boot_id", "machine_id", "run_id", "labels", NULL,
};

void record__stamp(struct record_identity *id, struct json *j)
{
	char uuid[RECORD_UUID_LEN + 1];

	record__uuid(uuid);
	json__kv_str(j, "id", uuid);
	json__kv_uint(j, "seq", ++id->seq);
	json__kv_str(j, "boot_id", id->boot_id);
	json__kv_str(j, "machine_id", id->machine_id);
	json__kv_str(j, "run_id", id->run_id);
	if (id->nlabels) {
		json__key(j, "labels");
		json__begin_object(j);
		for (int i = 0; i < id->nlabels; i++)
			json__kv_str(j, id->labels[i].key, id->labels[i].value);
		json__end_object(j);
	}
}

bool record__is_identity_key(const char *key)
{
	for (int i = 0; identity_keys[i]; i++)
		if (!strcmp(key, identity_keys[i]))
			return true;
	return false;
}

/* ---- the hard cap ------------------------------------------------------- */

/* The longest string value and the longest array below v. */
static void find_longest(json_t *v, json_t **str, size_t *strlen_, json_t **arr, size_t *arrlen)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_string(v)) {
		if (json_string_length(v) > *strlen_) {
			*strlen_ = json_string_length(v);
			*str = v;
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			find_longest(e, str, strlen_, arr, arrlen);
	} else if (json_is_array(v)) {
		if (json_array_size(v) > *arrlen) {
			*arrlen = json_array_size(v);
			*arr = v;
		}
		json_array_foreach(v, i, e)
			find_longest(e, str, strlen_, arr, arrlen);
	}
}

#define CUT_MARK "...[truncated]"

/* Halve a string at a UTF-8 character boundary and mark the cut. */
static void cut_string(json_t *s)
{
	const char *v = json_string_value(s);
	size_t n = json_string_length(s) / 2;
	char *nv;

	while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
		n--;
	nv = malloc(n + sizeof(CUT_MARK));
	if (!nv)
		return;
	memcpy(nv, v, n);
	memcpy(nv + n, CUT_MARK, sizeof(CUT_MARK));
	json_string_set(s, nv);
	free(nv);
}

int record__cap(const char *line, size_t len, size_t cap, char **out)
{
	json_error_t jerr;
	json_t *root;
	char *s = NULL;

	*out = NULL;
	if (len <= cap)
		return 0;
	root = json_loadb(line, len, 0, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	json_object_set_new(root, "truncated", json_true());
	json_object_set_new(root, "original_bytes", json_integer((json_int_t)len));
	for (int round = 0; round < 256; round++) {
		json_t *str = NULL, *arr = NULL;
		size_t slen = 0, alen = 0;

		free(s);
		s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!s)
			break;
		if (strlen(s) <= cap) {
			json_decref(root);
			*out = s;
			return 1;
		}
		find_longest(root, &str, &slen, &arr, &alen);
		if (slen > 64)
			cut_string(str);
		else if (alen > 1)
			for (size_t k = alen - alen / 2; k-- > 0 && json_array_size(arr) > 1;)
				json_array_remove(arr, json_array_size(arr) - 1);
		else
			break;
	}
	free(s);
	/* nothing left to cut (thousands of short members): keep the record's
	 * identity and say what happened */
	{
		json_t *min = json_object();
		static const char *const keep[] = { "schema_version", "time", "host", "kind", "id",
						    "seq", "boot_id", "machine_id", "run_id",
						    "truncated", "original_bytes", NULL };

		for (int i = 0; keep[i]; i++) {
			json_t *v = json_object_get(root, keep[i]);

			if (v)
				json_object_set(min, keep[i], v);
		}
		json_decref(root);
		s = json_dumps(min, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(min);
		if (!s)
			return -ENOMEM;
		*out = s;
		return 1;
	}
}
