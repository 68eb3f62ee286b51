// SPDX-License-Identifier: GPL-2.0
/* `vigil check --verbose`: trial loads of the whole object (verifier.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "log.h"
#include "verifier.h"
#include "vigil.h"
#include "vigil.skel.h"

#define VERIFIER_TAIL_LINES 40

/* The refused program's log in libbpf's warnings: from its BEGIN marker
 * to the END marker, last VERIFIER_TAIL_LINES lines unless full. */
static void print_refusal(const char *warnings, bool full, FILE *out)
{
	const char *begin = strstr(warnings, "-- BEGIN PROG LOAD LOG --\n"), *end, *p;
	int lines = 0;

	if (!begin) {
		fprintf(out, "%s", warnings);	/* refused before the verifier ran */
		return;
	}
	{
		/* libbpf's line: "libbpf: prog 'NAME': -- BEGIN PROG LOAD LOG --" */
		const char *line = begin, *name;

		while (line > warnings && line[-1] != '\n')
			line--;
		name = strstr(line, "prog '");
		if (name && name < begin) {
			const char *q = strchr(name + 6, '\'');

			if (q && q < begin)
				fprintf(out, "    program %.*s:\n", (int)(q - name - 6), name + 6);
		}
	}
	begin = strchr(begin, '\n') + 1;
	end = strstr(begin, "-- END PROG LOAD LOG --");
	if (!end)
		end = begin + strlen(begin);
	for (p = end; p > begin && (full || lines <= VERIFIER_TAIL_LINES); p--)
		if (p[-1] == '\n')
			lines++;
	if (p > begin) {
		p = strchr(p, '\n') + 1;
		fprintf(out, "    ... (the log's last %d lines; --verbose --verbose: all of it)\n",
			VERIFIER_TAIL_LINES);
	}
	for (const char *l = p; l < end;) {
		const char *nl = memchr(l, '\n', end - l);
		int n = nl ? (int)(nl - l) : (int)(end - l);

		fprintf(out, "    %.*s\n", n, l);
		l += n + 1;
	}
}

int verifier__report(bool enforce, unsigned hooks, bool full, FILE *out)
{
	enum log_level was = log__level();
	struct loader l = { 0 };
	struct bpf_program *p;
	char *warnings = NULL;
	size_t len = 0;
	FILE *cap = open_memstream(&warnings, &len);
	int err;

	if (!cap)
		return -errno;
	/* the capability warnings were in the table already */
	log__set_level(LOG_ERROR);
	loader__log_to(cap);
	err = loader__open_load(&l, enforce, true, hooks);
	loader__log_to(NULL);
	log__set_level(was);
	fclose(cap);
	fprintf(out, "verifier, %s mode: %s\n", enforce ? "enforce" : "monitor",
		err ? "refused" : "loaded");
	if (!err) {
		bpf_object__for_each_program(p, l.skel->obj) {
			struct bpf_prog_info info = { 0 };
			__u32 ilen = sizeof(info);

			if (!bpf_program__autoload(p))
				continue;
			if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &ilen))
				fprintf(out, "  %-28s ?\n", bpf_program__name(p));
			else
				fprintf(out, "  %-28s %8u insns processed\n", bpf_program__name(p),
					info.verified_insns);
		}
	} else if (warnings) {
		print_refusal(warnings, full, out);
	}
	free(warnings);
	loader__destroy(&l);
	return err;
}
