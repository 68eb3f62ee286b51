// SPDX-License-Identifier: GPL-2.0
/*
 * The ruleset builder: where rule sources come from (files, directories,
 * the embedded default pack, the command line) and the check that makes
 * each one all-or-nothing. rules.c parses and merges YAML; a source is
 * merged into a copy of what is loaded so far, the whole candidate is
 * validated by the engine (conditions compile, no rule can never match or
 * only repeats another), and only then does it replace the ruleset.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rules.h"
#include "safefile.h"
#include "default_rules.h"

int rules__load_string(struct ruleset *rs, const char *name, const char *text,
		       size_t len, char *err, size_t errlen)
{
	struct ruleset scratch;
	int ret = rules__copy(&scratch, rs);

	if (ret)
		return ret;
	ret = rules__merge_yaml(&scratch, name, text, len, err, errlen);
	/* conditions may name lists and macros of earlier files, and a later
	 * file may break an earlier rule: check the whole candidate */
	if (!ret)
		ret = engine__validate(&scratch, err, errlen);
	if (ret) {
		rules__free(&scratch);
		return ret;
	}
	rules__free(rs);
	*rs = scratch;
	return 0;
}

/* A regular file of at most SAFEFILE_RULES_MAX bytes: a FIFO or device
 * named *.yaml is refused, never waited on (SIGHUP reloads run in the
 * agent's event loop). */
static int load_file(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int ret = safefile__read(path, SAFEFILE_RULES_MAX, &buf, &len, err, errlen);

	if (ret)
		return ret;
	ret = rules__load_string(rs, path, buf, len, err, errlen);
	free(buf);
	return ret;
}

static int yaml_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' &&
	       ((n > 5 && !strcmp(d->d_name + n - 5, ".yaml")) ||
		(n > 4 && !strcmp(d->d_name + n - 4, ".yml")));
}

int rules__load_path(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	struct dirent **ents;
	struct ruleset scratch;
	char full[4096];
	int n, ret = 0;

	n = scandir(path, &ents, yaml_name, alphasort);
	if (n < 0) {
		if (errno == ENOTDIR)
			return load_file(rs, path, err, errlen);
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	/* A directory loads all-or-nothing as well. */
	ret = rules__copy(&scratch, rs);
	for (int i = 0; i < n; i++) {
		if (!ret) {
			snprintf(full, sizeof(full), "%s/%s", path, ents[i]->d_name);
			ret = load_file(&scratch, full, err, errlen);
		}
		free(ents[i]);
	}
	free(ents);
	if (ret) {
		rules__free(&scratch);
		return ret;
	}
	rules__free(rs);
	*rs = scratch;
	return 0;
}

bool rules__is_default_file(const char *path)
{
	bool same = false;
	char *buf, err[256];
	size_t n;

	if (safefile__read(path, SAFEFILE_RULES_MAX, &buf, &n, err, sizeof(err)))
		return false;
	for (const struct embedded_rules *r = default_rules; r->name && !same; r++)
		same = strlen(r->text) == n && !memcmp(buf, r->text, n);
	free(buf);
	return same;
}

int rules__load_defaults(struct ruleset *rs, char *err, size_t errlen)
{
	int ret;

	for (const struct embedded_rules *r = default_rules; r->name; r++) {
		ret = rules__load_string(rs, r->name, r->text, strlen(r->text), err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int rules__build(struct ruleset *rs, const struct rules_sources *src, char *err, size_t errlen)
{
	rules__init(rs);
	/* validating the default pack itself: do not load it twice */
	if (!src->no_default_rules && !(src->extra && rules__is_default_file(src->extra)) &&
	    rules__load_defaults(rs, err, errlen))
		goto bad;
	for (size_t i = 0; i < src->npaths; i++)
		if (rules__load_path(rs, src->paths[i], err, errlen))
			goto bad;
	if (src->extra && rules__load_path(rs, src->extra, err, errlen))
		goto bad;
	for (size_t i = 0; i < src->nprotect; i++)
		if (rules__add_cli_protect(rs, src->protect[i], err, errlen))
			goto bad;
	for (size_t i = 0; i < src->nallow; i++)
		if (rules__add_cli_allow(rs, src->allow[i], err, errlen))
			goto bad;
	for (size_t i = 0; i < src->nserve; i++)
		if (rules__add_cli_serve(rs, src->serve[i], err, errlen))
			goto bad;
	return 0;
bad:
	rules__free(rs);
	return -EINVAL;
}
