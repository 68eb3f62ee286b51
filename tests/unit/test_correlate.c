// SPDX-License-Identifier: GPL-2.0
/* The correlator on synthetic kernel records: chains, sources, dedupe,
 * actions, agent-side kills, bad records. The world is faked via corr_env. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "correlate.h"
#include "derived.h"

struct fake {
	struct activity last;
	struct act_link chain[ACT_MAX_CHAIN];
	char comms[ACT_MAX_CHAIN][16];
	int nalerts;
	int kills;
	uint32_t killed_pid;
	bool alive[1024];
	bool zombie[1024];	/* /proc readable, but no cmdline or exe */
};

static const char *f_path(void *ctx, uint32_t id)
{
	return id == 1 ? "/w/model.safetensors" : id == 2 ? "/w/other.gguf" :
	       id == VIGIL_COPY_ID_BASE ? "/tmp/a.bin" : id == VIGIL_COPY_ID_BASE + 1 ? "/tmp/b.tgz" :
	       NULL;
}
static uint32_t f_sets(void *ctx, uint32_t id) { return 1; }
static uint64_t f_size(void *ctx, uint32_t id) { return id == 1 ? 4096 * 20 : 0; }
static const char *f_set(void *ctx, unsigned b) { return b == 0 ? "llm" : "other"; }
static int64_t f_bytes(void *ctx, uint32_t tgid, uint32_t id) { return tgid == 100 ? 4096 * 10 : -1; }

static int f_proc(void *ctx, uint32_t pid, struct proc_info *out)
{
	struct fake *f = ctx;

	if (pid >= 1024 || !f->alive[pid])
		return -2;
	memset(out, 0, sizeof(*out));
	out->pid = pid;
	out->ppid = 1;
	snprintf(out->comm, sizeof(out->comm), "p%u", pid);
	if (f->zombie[pid])
		return 0;
	snprintf(out->exe, sizeof(out->exe), "/bin/p%u", pid);
	snprintf(out->cmdline, sizeof(out->cmdline), "p%u --flag", pid);
	return 0;
}

static int f_kill(void *ctx, uint32_t pid, unsigned long long st)
{
	struct fake *f = ctx;

	f->kills++;
	f->killed_pid = pid;
	return 0;
}

static void f_emit(void *ctx, const struct activity *a)
{
	struct fake *f = ctx;

	f->last = *a;
	for (int i = 0; i < a->nchain; i++) {
		snprintf(f->comms[i], 16, "%s", a->chain[i].comm);
		f->chain[i] = a->chain[i];
		f->chain[i].comm = f->comms[i];
	}
	f->nalerts++;
}

static struct corr *mk(struct fake *f, bool enforce)
{
	struct corr_env env = {
		.ctx = f, .file_path = f_path, .file_sets = f_sets, .set_name = f_set,
		.bytes_read = f_bytes, .proc_read = f_proc, .kill = f_kill, .emit = f_emit,
		.file_size = f_size,
		.enforce = enforce,
	};
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 1024; i++)
		f->alive[i] = true;
	return corr__new(&env);
}

static void taint(struct corr *c, uint32_t pid, uint32_t from, uint32_t via, uint32_t file)
{
	struct vigil_ev_taint e = { .hdr = { VIGIL_EV_TAINT, sizeof(e), pid, 1000 } };

	e.from_tgid = from;
	e.via = via;
	e.set_mask = 1;
	e.file_id = file;
	e.depth = from ? 1 : 0;
	snprintf(e.comm, sizeof(e.comm), "k%u", pid);
	assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
}

static struct vigil_flow_key key4(uint32_t pid, uint8_t proto)
{
	struct vigil_flow_key k = { .tgid = pid, .family = AF_INET, .proto = proto, .dport = 9000 };

	k.daddr[0] = 10; k.daddr[1] = 213; k.daddr[2] = 7; k.daddr[3] = 2;
	return k;
}

static void flow(struct corr *c, uint32_t pid, uint32_t reason, uint64_t bytes, uint64_t ns)
{
	struct vigil_ev_flow e = { .hdr = { VIGIL_EV_FLOW, sizeof(e), pid, ns } };

	e.key = key4(pid, 6);
	e.bytes = bytes;
	e.set_mask = 1;
	e.reason = reason;
	assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
}

static void chain_and_sources_through_fork(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);
	struct vigil_ev_connect e = { .hdr = { VIGIL_EV_CONNECT, sizeof(e), 101, 2000 } };

	taint(c, 100, 0, VIGIL_VIA_READ, 1);
	taint(c, 101, 100, VIGIL_VIA_FORK, 1);
	e.key = key4(101, 6);
	e.set_mask = 1;
	e.denied = 0;
	assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
	assert_int_equal(f.nalerts, 1);
	assert_int_equal(f.last.event, ACT_EV_CONNECT);
	assert_int_equal(f.last.action, ACT_ALERT);
	/* monitor: enforce lets a connect through (issue 14), so it would do
	 * nothing to it; raw sockets and --deny-new-destinations: blocked */
	assert_int_equal(f.last.enforce_action, ACT_NONE);
	assert_int_equal(f.last.nchain, 2);
	assert_int_equal(f.chain[0].pid, 100);
	assert_string_equal(f.chain[0].via, "read");
	assert_int_equal(f.chain[1].pid, 101);
	assert_string_equal(f.chain[1].via, "fork");
	assert_int_equal(f.last.nsources, 1);
	assert_string_equal(f.last.sources[0].path, "/w/model.safetensors");
	assert_string_equal(f.last.sources[0].set, "llm");
	assert_int_equal(f.last.sources[0].bytes_read, 40960);
	assert_string_equal(f.last.daddr, "10.213.7.2");
	assert_int_equal(f.last.dport, 9000);
	assert_string_equal(f.last.protocol, "tcp");
	assert_string_equal(f.last.proc.comm, "p101");
	corr__free(c);
}

static void copy(struct corr *c, uint32_t writer, uint32_t id, uint32_t src)
{
	struct vigil_ev_copy e = { .hdr = { VIGIL_EV_COPY, sizeof(e), writer, 1500 } };

	e.file_id = id;
	e.set_mask = 1;
	e.src_file_id = src;
	assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
}

/* cp w /tmp/a; tar reads /tmp/a into gzip through a pipe, gzip writes
 * /tmp/b; cp (and tar) exit and are forgotten; a fresh process uploads
 * /tmp/b: the alert names the weights and every hop. */
static void copies_of_copies_name_the_original(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);
	struct corr_stats st;

	taint(c, 100, 0, VIGIL_VIA_READ, 1);		/* cp reads the weights */
	copy(c, 100, VIGIL_COPY_ID_BASE, 1);		/* ... and writes /tmp/a */
	taint(c, 200, 0, VIGIL_VIA_READ, VIGIL_COPY_ID_BASE);	/* tar reads /tmp/a */
	taint(c, 201, 200, VIGIL_VIA_PIPE, VIGIL_COPY_ID_BASE);	/* gzip */
	copy(c, 201, VIGIL_COPY_ID_BASE + 1, VIGIL_COPY_ID_BASE);
	/* the first copy's writers are long gone */
	for (uint32_t pid = 100; pid <= 201; pid += (pid == 100 ? 100 : 1)) {
		struct vigil_ev_proc x = { .hdr = { VIGIL_EV_EXIT, sizeof(x), pid, 2000 } };

		assert_int_equal(corr__handle(c, &x, sizeof(x)), 0);
	}
	corr__tick(c, 2000 + 11ull * 60 * 1000000000ull);
	taint(c, 300, 0, VIGIL_VIA_READ, VIGIL_COPY_ID_BASE + 1);	/* curl /tmp/b */
	flow(c, 300, VIGIL_FLOW_NEW, 1000, 3000);
	assert_int_equal(f.nalerts, 1);
	assert_int_equal(f.last.nsources, 1);
	assert_string_equal(f.last.sources[0].path, "/w/model.safetensors");
	assert_int_equal(f.last.sources[0].bytes_read, 40960);	/* what cp had read */
	assert_int_equal(f.last.nchain, 4);
	assert_int_equal(f.chain[0].pid, 100);
	assert_string_equal(f.chain[0].via, "read");
	assert_null(f.chain[0].path);
	assert_int_equal(f.chain[1].pid, 200);
	assert_string_equal(f.chain[1].via, "file");
	assert_string_equal(f.chain[1].path, "/tmp/a.bin");
	assert_int_equal(f.chain[2].pid, 201);
	assert_string_equal(f.chain[2].via, "pipe");
	assert_int_equal(f.chain[3].pid, 300);
	assert_string_equal(f.chain[3].via, "file");
	assert_string_equal(f.chain[3].path, "/tmp/b.tgz");
	assert_string_equal(f.last.taint_via, "file");
	assert_int_equal(f.last.taint_depth, 3);
	corr__stats(c, &st);
	assert_int_equal(st.derived, 2);
	assert_int_equal(st.derived_dropped, 0);
	corr__free(c);
}

/* Copies on /dev/shm and in a memfd (the kernel's COPY via: shm; a memfd
 * is a lone "memfd:NAME" dentry): the reader's hop says which. */
static void shm_and_memfd_copies_name_their_hop(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);
	struct vigil_ev_copy e = { .hdr = { VIGIL_EV_COPY, sizeof(e), 100, 1500 } };

	taint(c, 100, 0, VIGIL_VIA_READ, 1);
	e.file_id = VIGIL_COPY_ID_BASE;
	e.set_mask = 1;
	e.src_file_id = 1;
	e.via = VIGIL_VIA_SHM;
	e.nnames = 2;
	snprintf(e.names[0], sizeof(e.names[0]), "memfd:x");	/* with a parent: a file */
	snprintf(e.names[1], sizeof(e.names[1]), "/");
	assert_int_equal(derived__copy_via(&e), VIGIL_VIA_SHM);
	assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
	e.file_id = VIGIL_COPY_ID_BASE + 1;
	e.nnames = 1;
	assert_int_equal(derived__copy_via(&e), VIGIL_VIA_MEMFD);
	assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
	e.via = VIGIL_VIA_FILE;
	assert_int_equal(derived__copy_via(&e), VIGIL_VIA_FILE);

	taint(c, 300, 0, VIGIL_VIA_READ, VIGIL_COPY_ID_BASE);
	flow(c, 300, VIGIL_FLOW_NEW, 1000, 3000);
	assert_string_equal(f.last.sources[0].path, "/w/model.safetensors");
	assert_int_equal(f.last.nchain, 2);
	assert_string_equal(f.chain[1].via, "shm");
	assert_string_equal(f.chain[1].path, "/tmp/a.bin");
	assert_string_equal(f.last.taint_via, "shm");
	taint(c, 301, 0, VIGIL_VIA_READ, VIGIL_COPY_ID_BASE + 1);
	flow(c, 301, VIGIL_FLOW_NEW, 1000, 3000);
	assert_string_equal(f.last.sources[0].path, "/w/model.safetensors");
	assert_string_equal(f.chain[1].via, "memfd");
	assert_non_null(f.chain[1].path);
	corr__free(c);
}

/* A copy whose writer's taint record was lost is its own source. */
static void copy_of_unknown_writer_names_the_copy(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);

	copy(c, 150, VIGIL_COPY_ID_BASE, 1);
	taint(c, 300, 0, VIGIL_VIA_READ, VIGIL_COPY_ID_BASE);
	flow(c, 300, VIGIL_FLOW_NEW, 1000, 3000);
	assert_int_equal(f.last.nsources, 1);
	assert_string_equal(f.last.sources[0].path, "/tmp/a.bin");
	assert_int_equal(f.last.nchain, 1);
	assert_string_equal(f.chain[0].via, "read");
	corr__free(c);
}

/* Read coverage: what share of the file the reader read, in the source
 * and the message; unknown sizes say nothing. */
static void sources_say_how_much_was_read(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);

	taint(c, 100, 0, VIGIL_VIA_READ, 1);
	taint(c, 100, 0, VIGIL_VIA_READ, 2);
	flow(c, 100, VIGIL_FLOW_NEW, 1000, 3000);
	assert_int_equal(f.last.nsources, 2);
	assert_int_equal(f.last.sources[0].size, 4096 * 20);
	assert_int_equal(act_source__read_pct(&f.last.sources[0]), 50);
	assert_int_equal(f.last.sources[1].size, 0);
	assert_int_equal(act_source__read_pct(&f.last.sources[1]), -1);
	assert_non_null(strstr(f.last.message, "/w/model.safetensors (50% of it read),"));
	corr__free(c);
}

static void repeats_are_suppressed(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);
	struct corr_stats st;

	taint(c, 100, 0, VIGIL_VIA_READ, 1);
	flow(c, 100, VIGIL_FLOW_NEW, 100, 10);
	flow(c, 100, VIGIL_FLOW_THRESHOLD, 1 << 20, 20);
	/* a progress activity per threshold reached, once each */
	assert_int_equal(f.nalerts, 2);
	assert_int_equal(f.last.event, ACT_EV_PROGRESS);
	flow(c, 100, VIGIL_FLOW_THRESHOLD, 1 << 20, 25);
	flow(c, 100, VIGIL_FLOW_NEW, 200, 30);
	assert_int_equal(f.nalerts, 2);
	flow(c, 100, VIGIL_FLOW_BUDGET | VIGIL_FLOW_BLOCKED, 1 << 20, 40);
	assert_int_equal(f.nalerts, 3);
	assert_int_equal(f.last.event, ACT_EV_BUDGET);
	assert_int_equal(f.last.action, ACT_ALERT);	/* monitor */
	assert_int_equal(f.last.enforce_action, ACT_KILLED);
	corr__stats(c, &st);
	assert_int_equal(st.suppressed, 2);
	corr__free(c);
}

/* A process spraying distinct destinations: one activity each up to the
 * per-process bound, then counted, not remembered (no growth, O(1) work per
 * record); repeats of remembered ones stay suppressed; a kill still goes. */
static void destination_set_is_bounded(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, true);
	struct vigil_ev_connect e = { .hdr = { VIGIL_EV_CONNECT, sizeof(e), 100, 2000 } };
	struct vigil_ev_kill k = { .hdr = { VIGIL_EV_KILL, sizeof(k), 100, 3000 } };
	const uint32_t n = 3 * CORR_MAX_SENT_PER_PROC;
	struct corr_stats st;

	taint(c, 100, 0, VIGIL_VIA_READ, 1);
	e.set_mask = 1;
	e.denied = 1;
	for (uint32_t i = 0; i < n; i++) {
		e.key = key4(100, 17);
		e.key.daddr[2] = (uint8_t)(i >> 16);
		e.key.daddr[3] = (uint8_t)(i >> 8);
		e.key.dport = (uint16_t)(1000 + (i & 0xff));
		assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
	}
	assert_int_equal(f.nalerts, CORR_MAX_SENT_PER_PROC);
	corr__stats(c, &st);
	assert_int_equal(st.dest_limit_hits, n - CORR_MAX_SENT_PER_PROC);
	assert_int_equal(st.suppressed, n - CORR_MAX_SENT_PER_PROC);
	/* the first destinations again: remembered, suppressed as repeats */
	for (uint32_t i = 0; i < 100; i++) {
		e.key = key4(100, 17);
		e.key.daddr[2] = 0;
		e.key.daddr[3] = (uint8_t)(i >> 8);
		e.key.dport = (uint16_t)(1000 + (i & 0xff));
		assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
	}
	corr__stats(c, &st);
	assert_int_equal(st.dest_limit_hits, n - CORR_MAX_SENT_PER_PROC);
	assert_int_equal(f.nalerts, CORR_MAX_SENT_PER_PROC);
	k.key = key4(100, 17);
	k.done = 1;
	assert_int_equal(corr__handle(c, &k, sizeof(k)), 0);
	assert_int_equal(f.nalerts, CORR_MAX_SENT_PER_PROC + 1);
	assert_int_equal(f.last.action, ACT_KILLED);
	corr__free(c);
}

/* A sender that exited before /proc was read (a zombie: no cmdline) keeps
 * the command line the kernel captured with its taint. */
static void zombie_keeps_kernel_cmdline(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);
	struct vigil_ev_taint e = { .hdr = { VIGIL_EV_TAINT, sizeof(e), 300, 1000 } };

	f.zombie[300] = true;
	e.via = VIGIL_VIA_READ;
	e.set_mask = 1;
	e.file_id = 1;
	memcpy(e.args, "python3\0exfil.py\0--via\0sendfile", 32);
	snprintf(e.comm, sizeof(e.comm), "python3");
	assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
	flow(c, 300, VIGIL_FLOW_NEW, 100, 10);
	assert_int_equal(f.nalerts, 1);
	assert_string_equal(f.last.proc.cmdline, "python3 exfil.py --via sendfile");
	corr__free(c);
}

static void enforce_blocked_then_kernel_kill(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, true);
	struct vigil_ev_kill k = { .hdr = { VIGIL_EV_KILL, sizeof(k), 100, 60 } };

	taint(c, 100, 0, VIGIL_VIA_READ, 1);
	flow(c, 100, VIGIL_FLOW_BLOCKED | VIGIL_FLOW_BUDGET, 1 << 20, 50);
	assert_int_equal(f.last.action, ACT_BLOCKED);
	assert_int_equal(f.last.enforce_action, ACT_NONE);
	k.key = key4(100, 6);
	k.done = 1;
	assert_int_equal(corr__handle(c, &k, sizeof(k)), 0);
	assert_int_equal(f.last.action, ACT_KILLED);
	assert_int_equal(f.last.event, ACT_EV_BUDGET);
	assert_int_equal(f.last.killed_by, ACT_BY_KERNEL);
	assert_int_equal(f.last.bytes, 1 << 20);
	corr__tick(c, 1000000000ull);
	assert_int_equal(f.kills, 0);	/* the kernel did it */
	corr__free(c);
}

static void agent_kills_when_kernel_could_not(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, true);
	struct corr_stats st;

	taint(c, 100, 0, VIGIL_VIA_READ, 1);
	flow(c, 100, VIGIL_FLOW_BLOCKED, 5000, 1000);
	corr__tick(c, 1000 + 50 * 1000000ull);
	assert_int_equal(f.kills, 0);	/* grace period */
	corr__tick(c, 1000 + 200 * 1000000ull);
	assert_int_equal(f.kills, 1);
	assert_int_equal(f.killed_pid, 100);
	assert_int_equal(f.last.action, ACT_KILLED);
	assert_int_equal(f.last.killed_by, ACT_BY_AGENT);
	corr__stats(c, &st);
	assert_int_equal(st.agent_kills, 1);
	corr__free(c);
}

static void exited_process_is_not_killed_and_pid_reuse_resets(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, true);
	struct vigil_ev_proc x = { .hdr = { VIGIL_EV_EXIT, sizeof(x), 100, 100 } };

	taint(c, 100, 0, VIGIL_VIA_READ, 1);
	flow(c, 100, VIGIL_FLOW_BLOCKED, 5000, 50);
	assert_int_equal(corr__handle(c, &x, sizeof(x)), 0);
	corr__tick(c, 10ull * 1000000000ull);
	assert_int_equal(f.kills, 0);
	/* pid 100 reused by an unrelated process that reads another file */
	taint(c, 100, 0, VIGIL_VIA_READ, 2);
	flow(c, 100, VIGIL_FLOW_NEW, 10, 20ull * 1000000000ull);
	assert_int_equal(f.last.nsources, 1);
	assert_string_equal(f.last.sources[0].path, "/w/other.gguf");
	corr__free(c);
}

static void pipe_chain_and_vanished_processes(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);

	f.alive[200] = false;	/* cat already gone when we look */
	f.alive[201] = false;
	taint(c, 200, 0, VIGIL_VIA_READ, 1);
	taint(c, 201, 200, VIGIL_VIA_PIPE, 1);
	flow(c, 201, VIGIL_FLOW_NEW, 10, 10);
	assert_int_equal(f.nalerts, 1);
	assert_int_equal(f.last.nchain, 2);
	assert_string_equal(f.chain[0].comm, "k200");	/* the kernel's comm */
	assert_string_equal(f.chain[1].via, "pipe");
	assert_string_equal(f.last.proc.comm, "k201");
	corr__free(c);
}

static void vanished_process_keeps_kernel_args(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, true);
	struct vigil_ev_taint e = { .hdr = { VIGIL_EV_TAINT, sizeof(e), 300, 1000 } };
	static const char args[] = "python3\0up.py\0--to\0evil";

	f.alive[300] = false;	/* killed before the agent looked at /proc */
	e.via = VIGIL_VIA_READ;
	e.set_mask = 1;
	e.file_id = 1;
	snprintf(e.comm, sizeof(e.comm), "python3");
	memcpy(e.args, args, sizeof(args));
	assert_int_equal(corr__handle(c, &e, sizeof(e)), 0);
	flow(c, 300, VIGIL_FLOW_NEW, 10, 10);
	assert_int_equal(f.nalerts, 1);
	assert_string_equal(f.last.proc.cmdline, "python3 up.py --to evil");
	assert_string_equal(f.last.proc.comm, "python3");
	corr__free(c);
}

static void bad_records_are_counted_not_fatal(void **state)
{
	struct fake f;
	struct corr *c = mk(&f, false);
	struct vigil_ev_header h = { .type = VIGIL_EV_FLOW, .size = 3 };
	struct vigil_ev_header h2 = { .type = 999, .size = sizeof(h2) };
	char tiny[4] = { 0 };
	struct corr_stats st;

	assert_int_not_equal(corr__handle(c, &h, sizeof(h)), 0);
	assert_int_not_equal(corr__handle(c, &h2, sizeof(h2)), 0);
	assert_int_not_equal(corr__handle(c, tiny, sizeof(tiny)), 0);
	/* an event for a process never seen tainted still alerts */
	flow(c, 300, VIGIL_FLOW_NEW, 10, 10);
	assert_int_equal(f.nalerts, 1);
	corr__stats(c, &st);
	assert_int_equal(st.bad_records, 3);
	corr__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chain_and_sources_through_fork),
		cmocka_unit_test(copies_of_copies_name_the_original),
		cmocka_unit_test(copy_of_unknown_writer_names_the_copy),
		cmocka_unit_test(sources_say_how_much_was_read),
		cmocka_unit_test(repeats_are_suppressed),
		cmocka_unit_test(destination_set_is_bounded),
		cmocka_unit_test(zombie_keeps_kernel_cmdline),
		cmocka_unit_test(enforce_blocked_then_kernel_kill),
		cmocka_unit_test(agent_kills_when_kernel_could_not),
		cmocka_unit_test(exited_process_is_not_killed_and_pid_reuse_resets),
		cmocka_unit_test(pipe_chain_and_vanished_processes),
		cmocka_unit_test(vanished_process_keeps_kernel_args),
		cmocka_unit_test(bad_records_are_counted_not_fatal),
		cmocka_unit_test(shm_and_memfd_copies_name_their_hop),
	};
	return cmocka_run_group_tests_name("correlate", tests, NULL, NULL);
}
