/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `vigil run` options: one table, read by the command line (--name VALUE)
 * and by the config file (name_with_underscores: VALUE). A key set on the
 * command line overrides the file's value (a list flag replaces the file's
 * whole list). Both go through the same apply function, so a value is
 * valid in one place exactly when it is valid in the other; the file's
 * errors name file:line:column.
 *
 * To add an option: one line in config_options[] (config.c), a field in
 * struct agent_opts, and a row in docs/OPERATIONS.md's key table (a unit
 * test checks the table and the code agree).
 *
 * Functions return 0 or a negative errno and fill a caller-owned err.
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/vigil/vigil.yaml"
#define CONFIG_DEFAULT_RUN_DIR "/run/vigil"
#define CONFIG_DEFAULT_PIN_DIR "/sys/fs/bpf/vigil"
#define CONFIG_MAX_BYTES (256u << 10)

struct agent_opts;

enum config_kind {
	CONFIG_VALUE,	/* --name VALUE, name: scalar */
	CONFIG_LIST,	/* repeatable --name VALUE, name: [a, b] or a scalar */
	CONFIG_FLAG,	/* --name, name: true|false */
};

struct config_option {
	const char *name;	/* long flag; the key is the same with '_' for '-' */
	int short_name;		/* 0: none */
	enum config_kind kind;
	const char *arg;	/* placeholder in --help, NULL for flags */
	/* v is NULL for a flag; err gets the reason without the source */
	int (*apply)(struct agent_opts *o, const char *v, char *err, size_t errlen);
	const char *help;
};

extern const struct config_option config_options[];
extern const size_t config_noptions;

/* Values the config file gave (the agent_opts point into it). */
struct config {
	char **strs;
	size_t nstrs;
	char *path;		/* the file that was loaded, or NULL */
};

/* Option i from the command line: "--name: reason" in err on failure. */
int config__apply_flag(struct agent_opts *o, size_t i, const char *v, char *err, size_t errlen);
/* Load path into o, skipping the options marked in from_flags (indexed
 * like config_options). Unknown keys, wrong shapes and bad values are
 * errors naming file:line:column; nothing is applied then. */
int config__load(struct config *c, const char *path, struct agent_opts *o,
		 const bool *from_flags, char *err, size_t errlen);
void config__free(struct config *c);
/* Append v to a growing array of borrowed strings (repeatable options). */
int config__push(const char ***arr, size_t *n, const char *v);
/* The option lines of `vigil run --help`, from the table. */
void config__usage(FILE *f);
/* The config key of option i ("stats_interval"). */
void config__key(size_t i, char *buf, size_t len);

#endif
