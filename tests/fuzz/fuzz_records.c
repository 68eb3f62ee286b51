// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for ring-buffer records: the correlator's record
 * decoding and entry point (corr__handle, corr__tick) as the agent drives
 * them, with the outside world faked (no /proc, no signals: kill only
 * counts). The input is a sequence of chunks:
 *   byte t < 0x80: a record of type t % 16 and that type's exact size, its
 *                  header's type/size set, the body from the next bytes;
 *   byte t >= 0x80, byte n: n raw bytes as a record (any size, any header).
 * Checks: never a crash, leak or hang; every activity it emits is well
 * formed and, written the way `vigil record` writes it, reads back. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "correlate.h"
#include "fuzz.h"

static const char *f_path(void *ctx, uint32_t id)
{
	return id == 1 ? "/w/model.safetensors" : id == 2 ? "/w/other.gguf" : NULL;
}
static uint32_t f_sets(void *ctx, uint32_t id) { return id & 3 ? id & 3 : ~0u; }
static const char *f_set(void *ctx, unsigned b) { return b == 0 ? "llm" : b == 1 ? "other" : "?"; }
static int64_t f_bytes(void *ctx, uint32_t tgid, uint32_t id) { return tgid % 3 ? 4096 : -1; }
static const char *f_comm(void *ctx, uint32_t pid) { return pid % 2 ? "parent" : ""; }
static void f_copied(void *ctx, const struct vigil_ev_copy *e) { }

static int f_proc(void *ctx, uint32_t pid, struct proc_info *out)
{
	if (pid % 7 == 0)
		return -2;	/* gone */
	memset(out, 0, sizeof(*out));
	out->pid = (pid_t)pid;
	out->ppid = 1;
	out->uid = pid % 5;
	out->start_ticks = pid % 11;
	snprintf(out->comm, sizeof(out->comm), "p%u", pid);
	snprintf(out->exe, sizeof(out->exe), "/bin/p%u", pid);
	snprintf(out->cmdline, sizeof(out->cmdline), "p%u --flag", pid);
	return 0;
}

static int f_kill(void *ctx, uint32_t pid, unsigned long long st)
{
	return st ? 0 : -ENOKEY;	/* counted by the fake, never a signal */
}

struct seen {
	const struct activity *orig;
	int n;
};

static int same(void *ctx, const struct activity *b)
{
	struct seen *s = ctx;

	s->n++;
	check(s->orig->proc.pid == b->proc.pid && s->orig->dport == b->dport);
	check(s->orig->nchain == b->nchain && s->orig->bytes == b->bytes);
	check(s->orig->event == b->event && s->orig->tainted == b->tainted);
	if (b->event == ACT_EV_CONTROL)
		check(!strcmp(s->orig->control_kind, b->control_kind) &&
		      !strcmp(s->orig->control_detail, b->control_detail));
	return 0;
}

static void f_emit(void *ctx, const struct activity *a)
{
	struct seen s = { .orig = a };

	check(activity__word(ACT_VOCAB_EVENT, a->event) && activity__word(ACT_VOCAB_OUTCOME, a->action) &&
	      activity__word(ACT_VOCAB_MODE, a->mode));
	check(a->nsources >= 0 && a->nsources <= ACT_MAX_SOURCES);
	check(a->nchain >= 0 && a->nchain <= ACT_MAX_CHAIN);
	check(a->nsets >= 0 && a->nsets <= ACT_MAX_SETS);
	fuzz__replays(a, same, &s);
	check(s.n == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corr_env env = {
		.file_path = f_path, .file_sets = f_sets, .set_name = f_set,
		.bytes_read = f_bytes, .proc_read = f_proc, .kill = f_kill, .emit = f_emit,
		.comm_of = f_comm, .file_copied = f_copied, .enforce = size % 2,
	};
	struct corr *c = corr__new(&env);
	uint64_t now = 0;
	size_t i = 0;
	int nrec = 0;

	check(c);
	while (i < size) {
		uint8_t t = data[i++];
		size_t n, avail = size - i;
		uint8_t *rec;

		if (t < 0x80) {
			unsigned type = t % 16;

			n = corr__record_size(type) ? corr__record_size(type) :
			    sizeof(struct vigil_ev_header);
			rec = calloc(1, n);
			check(rec);
			memcpy(rec, data + i, avail < n ? avail : n);
			i += avail < n ? avail : n;
			((struct vigil_ev_header *)rec)->type = type;
			((struct vigil_ev_header *)rec)->size = n;
		} else {
			if (!avail)
				break;
			n = data[i++];
			avail--;
			if (n > avail)
				n = avail;
			rec = malloc(n ? n : 1);
			check(rec);
			memcpy(rec, data + i, n);
			i += n;
		}
		if (n >= sizeof(struct vigil_ev_header) &&
		    ((struct vigil_ev_header *)rec)->ktime_ns > now)
			now = ((struct vigil_ev_header *)rec)->ktime_ns;
		check(corr__handle(c, rec, n) == 0 || true);
		free(rec);
		if (++nrec % 4 == 0)
			corr__tick(c, now += 3000000000ull);
	}
	corr__tick(c, now + 3600 * 1000000000ull);
	corr__free(c);
	return 0;
}
