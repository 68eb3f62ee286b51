/* SPDX-License-Identifier: GPL-2.0 */
/* Rule files: YAML (libyaml) holding protect sets, allowlist entries and
 * budgets. Loading is all-or-nothing: a file with any error changes nothing
 * in the ruleset and the error names file:line:column.
 * Functions return 0 or a negative errno and fill a caller-owned err. */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "addr.h"

/*
 * Limits (docs/RULES.md, "Limits"): a rule file is refused, with the
 * file:line:column of the node that crossed one, if it is larger than
 * SAFEFILE_RULES_MAX, nests deeper, uses more anchors or aliases, or
 * expands through aliases to more, than these allow; merged definitions
 * (appends, same-name protect sets, CIDR x port crossings) are capped too.
 * They bound the time and memory of `rules validate` and of a SIGHUP reload.
 */
#define RULES_MAX_DEPTH 64		/* nested mappings and lists */
#define RULES_MAX_ANCHORS 1024
#define RULES_MAX_ALIASES 1024
#define RULES_MAX_ALIAS_BYTES (1u << 20)	/* node text reached through aliases */
#define RULES_MAX_SET_PATTERNS 4096	/* paths + excludes of one protect set */
#define RULES_MAX_LIST_ITEMS 16384
#define RULES_MAX_CONDITION (64u << 10)	/* bytes, after every append */
#define RULES_MAX_TAGS 256		/* per rule */
#define RULES_MAX_EXCEPTIONS 256	/* per rule */
#define RULES_MAX_ALLOW_ADDRS 4096	/* CIDR x port range entries of one allow entry */
#define RULES_MAX_RULES 4096

struct rule_loc {
	const char *file;	/* owned by the ruleset's file list */
	int line, column;	/* 1-based */
	/* conditions and messages: the scalar as written in the file (quotes,
	 * block indicators, line breaks), so an error at a column of the parsed
	 * text can be mapped back to the file's line and column; owned */
	char *src;
	int prefix;		/* parsed text before src's part (append: "(old) ") */
};

/* owner: whose files a set protects. With no owner: key a file under
 * /home/<name>/ counts only if root or the owner of /home/<name> owns it;
 * elsewhere anyone's counts. */
struct owner_rule {
	bool any;		/* anyone's files */
	bool home;		/* the owner of the /home/<name> the file is under */
	unsigned *uids;		/* these users (root only if listed) */
	size_t nuids;
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
	unsigned long long window_s;	/* budget window in seconds; 0: lifetime */
	bool has_window;
	struct owner_rule owner;	/* valid if has_owner */
	bool has_owner;
	unsigned long long min_size;	/* smaller files are not protected; default 1 */
	bool has_min_size;
	unsigned long long max_files;	/* entries of this set; 0: only the table's limit */
	unsigned long long max_watches;	/* directories watched for it; 0: only the owners' */
	struct rule_loc loc;
};

/* limits: bounds on what one user can make vigil hold (docs/RULES.md) */
struct protect_limits {
	unsigned long long files_per_owner;	/* protected files per non-root owner */
	unsigned long long watches_per_owner;	/* watched directories per non-root owner */
};
#define RULES_FILES_PER_OWNER 4096
#define RULES_WATCHES_PER_OWNER 8192

struct allow_entry {
	char *name;
	struct addr_rule *addrs;	/* one per CIDR x port range */
	size_t naddrs;
	char **exes;			/* executable path globs; none = any */
	size_t nexes;
	/* network-filesystem mounts whose writes are not egress: mount-point
	 * globs, and (optional) globs the mount's source must match too */
	char **mounts;
	size_t nmounts;
	char **sources;
	size_t nsources;
	struct rule_loc loc;
};

/* serve: a declared service (an inference endpoint): responses on
 * connections it accepted on `port` are work unless the kernel judges them
 * weights (opaque TLS and unjudged bytes included), held to its own work
 * budget per client. */
struct serve_entry {
	char *name;
	uint16_t port;
	char **exes;			/* executable path globs; none = any */
	size_t nexes;
	unsigned long long work_budget;	/* valid if has_work_budget; 0: no limit */
	bool has_work_budget;
	unsigned long long window_s;	/* valid if has_window; 0: the agent's lifetime */
	bool has_window;
	struct rule_loc loc;
};
#define RULES_MAX_SERVES 64

/* list: a named set of values for `in` */
struct rule_list {
	char *name;
	char **items;
	size_t nitems;
	struct rule_loc loc;
};

/* macro: a named condition fragment */
struct rule_macro {
	char *name;
	char *condition;
	struct rule_loc loc, cond_loc;
};

struct rule_exception {
	char *name;
	char *condition;		/* the rule does not fire when this holds */
	struct rule_loc loc, cond_loc;
};

enum rule_action { RULE_ALERT, RULE_BLOCK, RULE_KILL };

struct rule_def {
	char *id;
	char *description;
	char *condition;
	char *severity;			/* low|medium|high|critical */
	enum rule_action action;
	char *message;			/* template with %field substitutions; NULL: default */
	char **tags;			/* MITRE ATT&CK ids and free words */
	size_t ntags;
	bool enabled;
	struct rule_exception *exceptions;
	size_t nexceptions;
	struct rule_loc loc, cond_loc, msg_loc;
};

struct ruleset {
	struct protect_set *sets;
	size_t nsets;
	struct allow_entry *allows;
	size_t nallows;
	struct serve_entry *serves;
	size_t nserves;
	unsigned long long default_budget;	/* budget for set "*" */
	bool has_default_budget;
	unsigned long long default_window_s;	/* 0: the agent's lifetime */
	struct protect_limits limits;		/* defaults set by rules__init */
	struct rule_list *lists;
	size_t nlists;
	struct rule_macro *macros;
	size_t nmacros;
	struct rule_def *rules;
	size_t nrules;
	char **files;		/* names of every loaded source */
	size_t nfiles;
};

void rules__init(struct ruleset *rs);
/* Replace the allow entry `name` (one the agent makes, not a rule file:
 * the host's own addresses) with these addresses; none removes it. */
int rules__set_local_allow(struct ruleset *rs, const char *name, const struct addr_rule *addrs,
			   size_t n);
void rules__free(struct ruleset *rs);
/* Loading a source (rules_load.c): parse it into a copy of rs, validate
 * the whole candidate with the engine, and only then replace rs. */
/* YAML text named `name`. */
int rules__load_string(struct ruleset *rs, const char *name, const char *text,
		       size_t len, char *err, size_t errlen);
/* A file, or every .yaml or .yml file in a directory (sorted by name). */
int rules__load_path(struct ruleset *rs, const char *path, char *err, size_t errlen);
/* The default pack embedded in the binary (rules/ at build time). */
int rules__load_defaults(struct ruleset *rs, char *err, size_t errlen);
/* Is this file one of the embedded default pack files (same text)? */
bool rules__is_default_file(const char *path);
/* Where a ruleset comes from, in the order they are loaded. */
struct rules_sources {
	bool no_default_rules;
	const char **paths;	size_t npaths;		/* --rules: files or directories */
	const char *extra;	/* one more after them (rules test: the fixtures' rules.yaml;
				 * if it is a default pack file, the pack is not loaded too) */
	const char **protect;	size_t nprotect;	/* --protect globs */
	const char **allow;	size_t nallow;		/* --allow */
	const char **serve;	size_t nserve;		/* --serve */
};
/* The whole ruleset, all or nothing (rs is empty on error). */
int rules__build(struct ruleset *rs, const struct rules_sources *src, char *err, size_t errlen);

/* Parsing (rules.c): merge YAML text into rs in place, no validation; on
 * error rs is half-merged, so callers parse into a copy. */
int rules__merge_yaml(struct ruleset *rs, const char *name, const char *text, size_t len,
		      char *err, size_t errlen);
/* Add one set from the command line (--protect). */
int rules__add_cli_protect(struct ruleset *rs, const char *glob, char *err, size_t errlen);
int rules__add_cli_allow(struct ruleset *rs, const char *text, char *err, size_t errlen);
/* --serve PORT: a serve entry named "--serve PORT", default work budget. */
int rules__add_cli_serve(struct ruleset *rs, const char *text, char *err, size_t errlen);
/* A deep copy. 0 or -ENOMEM (dst is then empty). */
int rules__copy(struct ruleset *dst, const struct ruleset *src);
int rules__set_index(const struct ruleset *rs, const char *name);
int rules__rule_index(const struct ruleset *rs, const char *id);
const struct rule_list *rules__list(const struct ruleset *rs, const char *name);
const struct rule_macro *rules__macro(const struct ruleset *rs, const char *name);
/* Does an allow entry cover this destination for this executable?
 * (loopback is not an allow entry: callers treat it apart) */
bool rules__dest_allowed(const struct ruleset *rs, int family, const void *addr,
			 unsigned short port, const char *exe);
/* The kernel's bit for allow entry i if it is scoped to executables
 * (0: it is not; -1: more than VIGIL_MAX_EXE_ALLOWS entries are). */
long rules__allow_exe_bit(const struct ruleset *rs, size_t i);
/* Does allow entry e name the network-filesystem mount at point (whose
 * source is source)? Its executables are not asked. */
bool rules__mount_matches(const struct allow_entry *e, const char *point, const char *source);
/* Does an allow entry cover writes into that mount for this executable? */
bool rules__mount_allowed(const struct ruleset *rs, const char *point, const char *source,
			  const char *exe);

/* The whole merged ruleset as one rule file that loads back the same
 * (rules_dump.c: `vigil rules show`). */
void rules__dump(const struct ruleset *rs, FILE *f);

/* Absolute globs as they are; relative ones (exclude:) match at any depth. */
int rules__validate_glob(const char *pat, char *err, size_t errlen);
bool rules__glob_match(const char *pat, const char *path);

#endif
