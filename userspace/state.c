// SPDX-License-Identifier: GPL-2.0
/* The state file: spent budgets across reboots (state.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "safefile.h"
#include "sha256.h"
#include "state.h"

#define STATE_MAGIC "vigil-state 1\n"
#define STATE_MAX 8192

int state__save_signed(const char *path, const char *body, size_t len)
{
	char hex[2 * SHA256_LEN + 1], sum[2 * SHA256_LEN + 16], tmp[4096];
	int fd, n, m, err = 0;

	sha256__hex(body, len, hex);
	m = snprintf(sum, sizeof(sum), "sha256 %s\n", hex);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	errno = 0;
	n = write(fd, body, len);
	if (n != (int)len || write(fd, sum, m) != m || fsync(fd))
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int state__load_signed(const char *path, const char *magic, size_t max, char **body,
		       char *why, size_t whylen)
{
	char hex[2 * SHA256_LEN + 1], err[256], *buf, *sum;
	size_t n;

	*body = NULL;
	if (access(path, F_OK) && errno == ENOENT)
		return -ENOENT;
	if (safefile__read(path, max, &buf, &n, err, sizeof(err))) {
		snprintf(why, whylen, "%s", err);
		return -EIO;
	}
	/* the last line is the checksum of everything before it */
	sum = n > 8 ? buf + n - 1 : NULL;
	while (sum && sum > buf && sum[-1] != '\n')
		sum--;
	if (strncmp(buf, magic, strlen(magic)) || !sum || strncmp(sum, "sha256 ", 7)) {
		snprintf(why, whylen, "%s: not a %.*s file", path,
			 (int)strcspn(magic, "\n"), magic);
		free(buf);
		return -EBADMSG;
	}
	sha256__hex(buf, sum - buf, hex);
	if (strncmp(sum + 7, hex, 2 * SHA256_LEN) || strcmp(sum + 7 + 2 * SHA256_LEN, "\n")) {
		snprintf(why, whylen, "%s: checksum does not match (cut short or edited)", path);
		free(buf);
		return -EBADMSG;
	}
	*sum = '\0';
	*body = buf;
	return 0;
}

int state__write(const char *path, const struct ruleset *rs, const uint64_t *spent)
{
	char buf[STATE_MAX];
	size_t len = 0;

	len += snprintf(buf + len, sizeof(buf) - len, STATE_MAGIC "saved %lld\n",
			(long long)time(NULL));
	/* set names have no blanks (rules.c) */
	for (size_t i = 0; i < rs->nsets && i < VIGIL_MAX_SETS && len < sizeof(buf) - 200; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "set %s %llu\n", rs->sets[i].name,
				(unsigned long long)spent[i]);
	return state__save_signed(path, buf, len);
}

int state__read(const char *path, struct state_sets *out, char *why, size_t whylen)
{
	char *buf, *line, *save = NULL;
	long long saved;
	int err;

	memset(out, 0, sizeof(*out));
	err = state__load_signed(path, STATE_MAGIC, STATE_MAX, &buf, why, whylen);
	if (err)
		return err;
	line = strtok_r(buf + strlen(STATE_MAGIC), "\n", &save);
	if (!line || sscanf(line, "saved %lld", &saved) != 1 || saved < 0) {
		snprintf(why, whylen, "%s: no 'saved' line", path);
		free(buf);
		return -EBADMSG;
	}
	out->saved_s = saved;
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned long long v;
		char name[64];

		if (out->n == VIGIL_MAX_SETS || sscanf(line, "set %63s %llu", name, &v) != 2) {
			snprintf(why, whylen, "%s: bad line '%.60s'", path, line);
			free(buf);
			return -EBADMSG;
		}
		snprintf(out->name[out->n], sizeof(out->name[out->n]), "%s", name);
		out->spent[out->n++] = v;
	}
	free(buf);
	return 0;
}

uint64_t state__spent_for(const struct state_sets *st, const char *name,
			  unsigned long long window_s, uint64_t now_s)
{
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->name[i], name))
			continue;
		/* the window it was counted in is over: a fresh one */
		if (window_s && (now_s < st->saved_s || now_s - st->saved_s >= window_s))
			return 0;
		return st->spent[i];
	}
	return 0;
}
