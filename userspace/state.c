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

int state__write(const char *path, const struct ruleset *rs, const uint64_t *spent)
{
	char buf[STATE_MAX], hex[2 * SHA256_LEN + 1], tmp[4096];
	size_t len = 0;
	int fd, n, err = 0;

	len += snprintf(buf + len, sizeof(buf) - len, STATE_MAGIC "saved %lld\n",
			(long long)time(NULL));
	/* set names have no blanks (rules.c) */
	for (size_t i = 0; i < rs->nsets && i < VIGIL_MAX_SETS && len < sizeof(buf) - 200; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "set %s %llu\n", rs->sets[i].name,
				(unsigned long long)spent[i]);
	sha256__hex(buf, len, hex);
	len += snprintf(buf + len, sizeof(buf) - len, "sha256 %s\n", hex);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n != (int)len || fsync(fd))
		err = n < 0 || errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int state__read(const char *path, struct state_sets *out, char *why, size_t whylen)
{
	char buf[STATE_MAX + 1], hex[2 * SHA256_LEN + 1], err[256];
	char *line, *sum, *save = NULL;
	long long saved;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	if (access(path, F_OK) && errno == ENOENT)
		return -ENOENT;
	fd = safefile__open_input(path, STATE_MAX + 1, err, sizeof(err));
	if (fd < 0) {
		snprintf(why, whylen, "%s", err);
		return -EIO;
	}
	n = read(fd, buf, STATE_MAX + 1);
	close(fd);
	if (n < 0 || n > STATE_MAX) {
		snprintf(why, whylen, "%s: %s", path, n < 0 ? strerror(errno) : "too large");
		return -EBADMSG;
	}
	buf[n] = '\0';
	sum = n > 0 ? strstr(buf, "sha256 ") : NULL;
	if (strncmp(buf, STATE_MAGIC, strlen(STATE_MAGIC)) || !sum || (sum > buf && sum[-1] != '\n')) {
		snprintf(why, whylen, "%s: not a vigil state file (version 1)", path);
		return -EBADMSG;
	}
	sha256__hex(buf, sum - buf, hex);
	if (strncmp(sum + 7, hex, 2 * SHA256_LEN) || strcmp(sum + 7 + 2 * SHA256_LEN, "\n")) {
		snprintf(why, whylen, "%s: checksum does not match (cut short or edited)", path);
		return -EBADMSG;
	}
	*sum = '\0';
	line = strtok_r(buf + strlen(STATE_MAGIC), "\n", &save);
	if (!line || sscanf(line, "saved %lld", &saved) != 1 || saved < 0) {
		snprintf(why, whylen, "%s: no 'saved' line", path);
		return -EBADMSG;
	}
	out->saved_s = saved;
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned long long v;
		char name[64];

		if (out->n == VIGIL_MAX_SETS || sscanf(line, "set %63s %llu", name, &v) != 2) {
			snprintf(why, whylen, "%s: bad line '%.60s'", path, line);
			return -EBADMSG;
		}
		snprintf(out->name[out->n], sizeof(out->name[out->n]), "%s", name);
		out->spent[out->n++] = v;
	}
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
