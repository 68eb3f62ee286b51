/* SPDX-License-Identifier: GPL-2.0 */
/* Rule files: YAML (libyaml) holding protect sets, allowlist entries and
 * budgets. Loading is all-or-nothing: a file with any error changes nothing
 * in the ruleset and the error names file:line:column.
 * Functions return 0 or a negative errno and fill a caller-owned err. */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"

struct rule_loc {
	const char *file;	/* owned by the ruleset's file list */
	int line, column;	/* 1-based */
};

struct protect_set {
	char *name;
	char *description;
	char **paths;
	size_t npaths;
	char **excludes;
	size_t nexcludes;
	unsigned long long budget;	/* bytes; valid if has_budget */
	bool has_budget;
	struct rule_loc loc;
};

struct allow_entry {
	char *name;
	struct addr_rule *addrs;	/* one per CIDR x port range */
	size_t naddrs;
	struct rule_loc loc;
};

struct ruleset {
	struct protect_set *sets;
	size_t nsets;
	struct allow_entry *allows;
	size_t nallows;
	unsigned long long default_budget;	/* budget for set "*" */
	bool has_default_budget;
	char **files;		/* names of every loaded source */
	size_t nfiles;
};

void rules__init(struct ruleset *rs);
void rules__free(struct ruleset *rs);
/* Parse YAML text named `name` and merge it into rs. */
int rules__load_string(struct ruleset *rs, const char *name, const char *text,
		       size_t len, char *err, size_t errlen);
/* A file, or every .yaml or .yml file in a directory (sorted by name). */
int rules__load_path(struct ruleset *rs, const char *path, char *err, size_t errlen);
/* The default pack embedded in the binary (rules/ at build time). */
int rules__load_defaults(struct ruleset *rs, char *err, size_t errlen);
/* Add one set from the command line (--protect). */
int rules__add_cli_protect(struct ruleset *rs, const char *glob, char *err, size_t errlen);
int rules__add_cli_allow(struct ruleset *rs, const char *text, char *err, size_t errlen);
int rules__set_index(const struct ruleset *rs, const char *name);
/* Absolute globs as they are; relative ones (exclude:) match at any depth. */
int rules__validate_glob(const char *pat, char *err, size_t errlen);
bool rules__glob_match(const char *pat, const char *path);

#endif
