// SPDX-License-Identifier: GPL-2.0
/* The capability table and the probes that choose an implementation of
 * each capability on the running kernel. A probe is what the kernel will
 * do with the real program: a tracepoint needs its btf_trace_ type in the
 * kernel's BTF; fentry/fexit, LSM and kprobe implementations get a trial
 * load and attach of an empty program on the same function or hook
 * (trampolines and the bpf LSM can be compiled in and still refused, as
 * with EPERM on kernels without trampoline support). */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "caps.h"
#include "json.h"
#include "tls.h"

struct caps_prog {
	const char *prog;	/* a program of bpf/vigil.bpf.c */
	const char *target;	/* tracepoint, kernel function or LSM hook */
	bool fexit;
	bool optional;		/* the implementation works without it */
	const char *kfunc;	/* a BPF iterator (target: its name) calling this
				 * kfunc ("": an iterator calling none) */
};

struct caps_impl {
	enum caps_family family;
	const char *name;
	struct caps_prog progs[CAPS_MAX_PROGS];
};

struct caps_cap {
	const char *name;
	const char *blind;	/* what an operator loses */
	bool needed;		/* for enforcement (check exits 1 without) */
	bool required;		/* vigil run refuses to start without */
	struct caps_impl impls[CAPS_MAX_IMPLS];
};

/* Ordered by preference: cheapest and most exact first. */
static const struct caps_cap table[CAPS_N] = {
	[CAPS_READ] = { "read",
		"reads of protected files are not seen: nothing read with read, readv, "
		"sendfile, splice, copy_file_range or io_uring taints its reader",
		true, true, {
		{ CAPS_TRACEPOINT, "tracepoint mm_filemap_get_pages",
		  { { "vigil_filemap_get_pages", "mm_filemap_get_pages" } } },
		{ CAPS_FENTRY, "fentry filemap_read",
		  { { "vigil_fentry_filemap_read", "filemap_read" } } },
		{ CAPS_KPROBE, "kprobe filemap_read",
		  { { "vigil_kprobe_filemap_read", "filemap_read" } } },
	} },
	[CAPS_MMAP] = { "mmap",
		"pages of protected files mapped with mmap are not seen: a process that "
		"maps the weights and sends them is not tainted",
		true, false, {
		{ CAPS_TRACEPOINT, "tracepoint mm_filemap_map_pages+mm_filemap_fault",
		  { { "vigil_filemap_map_pages", "mm_filemap_map_pages" },
		    { "vigil_filemap_fault", "mm_filemap_fault" } } },
		{ CAPS_FENTRY, "fentry filemap_map_pages+filemap_fault",
		  { { "vigil_fentry_filemap_map_pages", "filemap_map_pages" },
		    { "vigil_fentry_filemap_fault", "filemap_fault" } } },
		{ CAPS_KPROBE, "kprobe filemap_map_pages+filemap_fault",
		  { { "vigil_kprobe_filemap_map_pages", "filemap_map_pages" },
		    { "vigil_kprobe_filemap_fault", "filemap_fault" } } },
		{ CAPS_LSM, "lsm mmap_file (whole file counts as read)",
		  { { "vigil_lsm_mmap_file", "mmap_file" } } },
	} },
	[CAPS_SEND] = { "send",
		"tainted TCP sends are not attributed to their writer and no sender is "
		"killed at the budget; unix-socket relays are not followed",
		true, true, {
		{ CAPS_TRACEPOINT, "tracepoint tcp_sendmsg_locked+sock_send_length",
		  { { "vigil_tcp_sendmsg", "tcp_sendmsg_locked" },
		    { "vigil_sock_send_length", "sock_send_length" } } },
		{ CAPS_FENTRY, "fentry tcp_sendmsg_locked+security_socket_sendmsg+tcp_sendpage, "
		  "fexit tcp_sendpage",
		  { { "vigil_fentry_tcp_sendmsg", "tcp_sendmsg_locked" },
		    { "vigil_fentry_socket_sendmsg", "security_socket_sendmsg" },
		    { "vigil_fentry_tcp_sendpage", "tcp_sendpage", false, true },
		    { "vigil_fexit_tcp_sendpage", "tcp_sendpage", true, true } } },
		{ CAPS_LSM, "lsm socket_sendmsg (no sendpage: sendfile/splice into TCP before 6.5)",
		  { { "vigil_lsm_socket_sendmsg", "socket_sendmsg" } } },
	} },
	[CAPS_COPY] = { "copy",
		"files a tainted process writes are not protected: a copy of the weights "
		"uploaded by another process is not seen",
		true, false, {
		{ CAPS_TRACEPOINT, "tracepoint writeback_dirty_folio",
		  { { "vigil_dirty_folio", "writeback_dirty_folio" } } },
	} },
	[CAPS_PROCESS] = { "process",
		"fork, exec and exit are not seen: children do not inherit taint",
		true, true, {
		{ CAPS_TRACEPOINT, "tracepoint sched_process_fork+exec+exit",
		  { { "vigil_fork", "sched_process_fork" },
		    { "vigil_exec", "sched_process_exec" },
		    { "vigil_exit", "sched_process_exit" } } },
	} },
	[CAPS_DROP_KILL] = { "drop-kill",
		"a sender whose packet is dropped is killed by the agent, a moment "
		"later, not in its own context",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint kfree_skb",
		  { { "vigil_kfree_skb", "kfree_skb" } } },
	} },
	[CAPS_TAMPER] = { "tamper",
		"signals other processes send the agent, and ptrace attaches to it, are not "
		"reported (agent_tamper)",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint signal_generate+sys_enter_ptrace",
		  { { "vigil_signal_generate", "signal_generate" },
		    { "vigil_sys_ptrace", "syscalls/sys_enter_ptrace", false, true } } },
	} },
	/* enforce mode only (the programs pass everything in monitor mode) */
	[CAPS_PREVENT] = { "prevent",
		"tampering with the agent (signals, ptrace, bpf() on its maps, programs, "
		"links and pins) is reported, not refused, in enforce mode",
		false, false, {
		{ CAPS_LSM, "lsm bpf+bpf_map+bpf_prog+task_kill+ptrace_access_check",
		  { { "vigil_lsm_bpf", "bpf" },
		    { "vigil_lsm_bpf_map", "bpf_map", false, true },
		    { "vigil_lsm_bpf_prog", "bpf_prog", false, true },
		    { "vigil_lsm_task_kill", "task_kill" },
		    { "vigil_lsm_ptrace", "ptrace_access_check" } } },
	} },
	[CAPS_CONTROL] = { "control",
		"blind-spot controls are off: packet and AF_XDP sockets, BPF program and "
		"kernel module loads by other processes, network and FUSE mounts are not "
		"reported, and tainted processes making them are not killed",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sys_enter_socket+bpf+init_module+finit_module+"
		  "mount+fsopen",
		  { { "vigil_sys_socket", "syscalls/sys_enter_socket" },
		    { "vigil_sys_bpf", "syscalls/sys_enter_bpf" },
		    /* optional: a kernel without modules has none to load */
		    { "vigil_sys_init_module", "syscalls/sys_enter_init_module", false, true },
		    { "vigil_sys_finit_module", "syscalls/sys_enter_finit_module", false, true },
		    { "vigil_sys_mount", "syscalls/sys_enter_mount" },
		    { "vigil_sys_fsopen", "syscalls/sys_enter_fsopen", false, true } } },
	} },
	/* opens of bypass devices and of vigil's files are the shm capability's
	 * programs (bpf/shm.bpf.c calls lib/guard.bpf.h) */
	[CAPS_SELFWATCH] = { "selfwatch",
		"unlinks, renames and truncates by path of vigil's pins, config, rules, binary "
		"and unit are not reported",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sys_enter_unlinkat+unlink+rmdir+renameat2+"
		  "renameat+rename+truncate",
		  { { "vigil_sys_unlinkat", "syscalls/sys_enter_unlinkat" },
		    { "vigil_sys_unlink", "syscalls/sys_enter_unlink", false, true },
		    { "vigil_sys_rmdir", "syscalls/sys_enter_rmdir", false, true },
		    { "vigil_sys_renameat2", "syscalls/sys_enter_renameat2" },
		    { "vigil_sys_renameat", "syscalls/sys_enter_renameat", false, true },
		    { "vigil_sys_rename", "syscalls/sys_enter_rename", false, true },
		    { "vigil_sys_truncate", "syscalls/sys_enter_truncate", false, true } } },
	} },
	[CAPS_ACKED] = { "acked",
		"bytes receivers acknowledged on tainted sockets are counted only when the "
		"agent's reaper runs, not at each TCP state change (budget_breach checks "
		"them later)",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint inet_sock_set_state",
		  { { "vigil_sock_set_state", "inet_sock_set_state" } } },
	} },
	[CAPS_RESET] = { "reset",
		"sockets blocked at the budget are not reset: their queued data is dropped "
		"only while vigil runs, and acknowledged bytes are counted only at state "
		"changes (bpf_sock_destroy: kernel 6.5)",
		false, false, {
		{ CAPS_TRACEPOINT, "iterator tcp+bpf_sock_destroy",
		  { { "vigil_reap_tcp", "tcp", false, false, "bpf_sock_destroy" } } },
	} },
	[CAPS_DIRECT] = { "direct",
		"O_DIRECT reads (also through AIO and io_uring) are not seen: a process "
		"that reads the weights with O_DIRECT (dd iflag=direct) is not tainted",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint iomap_dio_rw_begin",
		  { { "vigil_dio_read", "iomap_dio_rw_begin" } } },
		/* no fentry: __iomap_dio_rw has 7 arguments, trampolines take
		 * 6 before 6.6 (and 6.3+ has the tracepoint) */
		{ CAPS_KPROBE, "kprobe __iomap_dio_rw",
		  { { "vigil_kprobe_dio_read", "__iomap_dio_rw" } } },
	} },
	[CAPS_SHM] = { "shm",
		"copies on tmpfs, /dev/shm (POSIX shm) and memfd are not followed: weights "
		"a tainted process stores there and another process uploads are not seen",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sys_exit_openat+openat2+open+memfd_create, "
		  "iterator task_vma",
		  { { "vigil_sys_openat", "syscalls/sys_exit_openat" },
		    { "vigil_sys_openat2", "syscalls/sys_exit_openat2", false, true },
		    { "vigil_sys_open", "syscalls/sys_exit_open", false, true },
		    { "vigil_sys_memfd_create", "syscalls/sys_exit_memfd_create", false, true },
		    /* shared mappings held at taint (userspace/shmmaps.c) */
		    { "vigil_shm_maps", "task_vma", false, true, "" } } },
	} },
	[CAPS_STAGE] = { "stage",
		"pipe stages that never read, write or send (tee, splice between pipes, "
		"vmsplice) pass taint only at the agent's next /proc walk: bytes may leave "
		"before their reader is tainted",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sys_enter_vmsplice+tee+splice",
		  { { "vigil_sys_vmsplice", "syscalls/sys_enter_vmsplice" },
		    { "vigil_sys_tee", "syscalls/sys_enter_tee" },
		    { "vigil_sys_splice", "syscalls/sys_enter_splice" } } },
	} },
	/* ptrace is the tamper capability's program (bpf/tamper.bpf.c), opens of
	 * /proc/PID/mem the shm capability's (bpf/shm.bpf.c) */
	[CAPS_PROCMEM] = { "procmem",
		"another process's memory is not followed: a process that copies a tainted "
		"one's memory with process_vm_readv or /proc/PID/mem is not tainted, nor one "
		"a tainted process writes into with process_vm_writev",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sys_enter_process_vm_readv+writev",
		  { { "vigil_sys_vm_readv", "syscalls/sys_enter_process_vm_readv" },
		    { "vigil_sys_vm_writev", "syscalls/sys_enter_process_vm_writev" } } },
	} },
	[CAPS_PTY] = { "pty",
		"terminals are not followed: a process reading from a pty (sshd, tmux, "
		"script) the weights a tainted process wrote to the other end is not tainted",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sys_enter_write+writev",
		  { { "vigil_sys_write", "syscalls/sys_enter_write" },
		    { "vigil_sys_writev", "syscalls/sys_enter_writev" } } },
	} },
	[CAPS_REFLINK] = { "reflink",
		"reflinks and copy offloads (cp --reflink, FICLONE, copy_file_range on XFS "
		"or btrfs) are not followed: the clone of the weights is not protected",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sys_enter_ioctl+copy_file_range",
		  { { "vigil_sys_ioctl", "syscalls/sys_enter_ioctl" },
		    { "vigil_sys_copy_file_range", "syscalls/sys_enter_copy_file_range" } } },
	} },
	[CAPS_UNIX] = { "unix-dgram",
		"bytes queued on unix sockets are not counted: a receiver of the weights "
		"over a unix socket (connected, or datagrams sent to a path) is not tainted",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sk_data_ready",
		  { { "vigil_sk_data_ready", "sk_data_ready" } } },
		{ CAPS_FENTRY, "fentry sock_def_readable",
		  { { "vigil_fentry_sock_def_readable", "sock_def_readable" } } },
	} },
	/* the judgement of a write's buffer; the unix bytes themselves are
	 * counted by unix-dgram's program, where they are queued */
	[CAPS_LOCAL_BYTES] = { "local-bytes",
		"writes into pipes and FIFOs are not counted: a process reading the weights "
		"from a tainted writer's pipe is not tainted (tee/splice/vmsplice stages still "
		"count); unix sockets are judged by a sample of the queued data instead",
		false, false, {
		{ CAPS_TRACEPOINT, "tracepoint sys_enter_write+writev+sendto+sendmsg+pwritev2, "
		  "sys_exit_sendfile64",
		  { { "vigil_sys_write", "syscalls/sys_enter_write" },
		    { "vigil_sys_writev", "syscalls/sys_enter_writev" },
		    { "vigil_sys_sendto", "syscalls/sys_enter_sendto", false, true },
		    { "vigil_sys_sendmsg", "syscalls/sys_enter_sendmsg", false, true },
		    { "vigil_sys_pwritev2", "syscalls/sys_enter_pwritev2", false, true },
		    { "vigil_sys_sendfile_exit", "syscalls/sys_exit_sendfile64", false, true } } },
	} },
	/* attached per library file by userspace/tls.c, not by the loader */
	[CAPS_TLS] = { "tls",
		"the plaintext of TLS writes is not seen: every tainted TLS flow is opaque "
		"and follows its set's budget like weights",
		false, false, {
		{ CAPS_UPROBE, "uprobe SSL_write+SSL_write_ex+gnutls_record_send+"
		  "crypto/tls.(*Conn).Write",
		  { { "vigil_ssl_write", "SSL_write" },
		    { "vigil_ssl_write_ex", "SSL_write_ex" },
		    { "vigil_gnutls_record_send", "gnutls_record_send" },
		    { "vigil_go_tls_write", "crypto/tls.(*Conn).Write" } } },
	} },
};

static const char *const family_names[CAPS_NFAMILIES] = {
	[CAPS_TRACEPOINT] = "tracepoint",
	[CAPS_FENTRY] = "fentry",
	[CAPS_LSM] = "lsm",
	[CAPS_KPROBE] = "kprobe",
	[CAPS_UPROBE] = "uprobe",
};

const char *caps__name(enum caps_id id) { return table[id].name; }
const char *caps__family_name(enum caps_family f) { return family_names[f]; }
const char *caps__blind_means(enum caps_id id) { return table[id].blind; }
bool caps__needed(enum caps_id id) { return table[id].needed; }
bool caps__required(enum caps_id id) { return table[id].required; }

const char *caps__chosen_name(const struct caps *c, enum caps_id id)
{
	return c->chosen[id] < 0 ? "blind" : table[id].impls[c->chosen[id]].name;
}

int caps__of_program(const char *prog, bool *optional)
{
	for (int id = 0; id < CAPS_N; id++)
		for (int i = 0; i < CAPS_MAX_IMPLS; i++)
			for (int k = 0; k < CAPS_MAX_PROGS; k++) {
				const struct caps_prog *p = &table[id].impls[i].progs[k];

				if (p->prog && !strcmp(p->prog, prog)) {
					if (optional)
						*optional = p->optional;
					return id;
				}
			}
	return -1;
}

const char *caps__program_at(size_t n)
{
	for (int id = 0; id < CAPS_N; id++)
		for (int i = 0; i < CAPS_MAX_IMPLS; i++)
			for (int k = 0; k < CAPS_MAX_PROGS; k++)
				if (table[id].impls[i].progs[k].prog && n-- == 0)
					return table[id].impls[i].progs[k].prog;
	return NULL;
}

/* CAP:FAMILY narrows one capability to one family (tests force e.g.
 * lsm mmap_file, which vigil never picks where fentry or kprobes work):
 * kept above the family bits, CAPS_NFAMILIES bits per capability, for the
 * capabilities with a choice (the first CAPS_HOOKS_NARROWABLE). */
#define CAPS_HOOKS_NARROWABLE ((32 - CAPS_NFAMILIES) / CAPS_NFAMILIES)
#define CAPS_HOOKS_CAP_SHIFT(id) (CAPS_NFAMILIES * (1 + (id)))

static bool hooks_allow(unsigned hooks, int id, enum caps_family f)
{
	unsigned only = id < CAPS_HOOKS_NARROWABLE ?
		(hooks >> CAPS_HOOKS_CAP_SHIFT(id)) & CAPS_ALL_FAMILIES : 0;

	return (hooks & (1u << f)) && (!only || (only & (1u << f)));
}

static int family_of(const char *name)
{
	for (int f = 0; f < CAPS_NFAMILIES; f++)
		if (!strcmp(name, family_names[f]))
			return f;
	return -1;
}

int caps__parse_hooks(const char *spec, unsigned *families, char *err, size_t errlen)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	unsigned only = 0, except = 0, narrow = 0;

	if (!copy)
		return -ENOMEM;
	if (!spec[0]) {
		snprintf(err, errlen, "--hooks: empty (tracepoint, fentry, lsm, kprobe, uprobe, all)");
		free(copy);
		return -EINVAL;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool minus = tok[0] == '-';
		const char *name = minus ? tok + 1 : tok;
		unsigned *dst = minus ? &except : &only;
		char *colon = strchr(tok, ':');
		int f, id;

		if (colon && !minus) {
			*colon = 0;
			for (id = 0; id < CAPS_N; id++)
				if (!strcmp(tok, table[id].name))
					break;
			f = family_of(colon + 1);
			if (id == CAPS_N || f < 0) {
				snprintf(err, errlen, "--hooks: '%s:%s' is not CAPABILITY:FAMILY "
					 "(read, mmap, send...: tracepoint, fentry, lsm, kprobe)",
					 tok, colon + 1);
				free(copy);
				return -EINVAL;
			}
			if (id >= CAPS_HOOKS_NARROWABLE) {
				snprintf(err, errlen, "--hooks: %s has one implementation", tok);
				free(copy);
				return -EINVAL;
			}
			narrow |= (1u << f) << CAPS_HOOKS_CAP_SHIFT(id);
			continue;
		}
		if (!strcmp(name, "all")) {
			*dst |= CAPS_ALL_FAMILIES;
			continue;
		}
		f = family_of(name);
		if (f < 0) {
			snprintf(err, errlen, "--hooks: unknown hook family '%s' (tracepoint, "
				 "fentry, lsm, kprobe, uprobe, all; -NAME excludes; CAPABILITY:FAMILY "
				 "narrows one)", name);
			free(copy);
			return -EINVAL;
		}
		*dst |= 1u << f;
	}
	free(copy);
	*families = (only ? only : CAPS_ALL_FAMILIES) & ~except;
	if (!*families) {
		snprintf(err, errlen, "--hooks '%s' leaves no hook family", spec);
		return -EINVAL;
	}
	*families |= narrow;
	return 0;
}

/* ---- probes --------------------------------------------------------- */

struct probe_env {
	struct btf *vmlinux;
	bool lsm_bpf;		/* "bpf" among the active LSMs */
	int kprobe_type;	/* perf PMU type, -1: no kprobes */
	int uprobe_type;	/* perf PMU type, -1: no uprobes */
};

static const struct bpf_insn ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static int btf_func(const struct btf *vmlinux, const char *prefix, const char *name)
{
	char full[128];

	snprintf(full, sizeof(full), "%s%s", prefix, name);
	return vmlinux ? btf__find_by_name_kind(vmlinux, full, BTF_KIND_FUNC) : -ENOENT;
}

/* Load and attach an empty trampoline (fentry/fexit) or LSM program on
 * BTF function `btf_id`. 0 or -errno. */
static int trial_tracing(enum bpf_prog_type type, enum bpf_attach_type at, int btf_id)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = at, .attach_btf_id = btf_id);
	int fd, lfd, err = 0;

	fd = bpf_prog_load(type, "vigil_probe", "GPL", ret0, 2, &o);
	if (fd < 0)
		return -errno;
	lfd = bpf_raw_tracepoint_open(NULL, fd);
	if (lfd < 0)
		err = -errno;
	else
		close(lfd);
	close(fd);
	return err;
}

static int trial_kprobe(const struct probe_env *env, const char *func)
{
	struct perf_event_attr attr = { 0 };
	int fd, pfd, err = 0;

	if (env->kprobe_type < 0)
		return -EOPNOTSUPP;
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "vigil_probe", "GPL", ret0, 2, NULL);
	if (fd < 0)
		return -errno;
	attr.size = sizeof(attr);
	attr.type = env->kprobe_type;
	attr.config1 = (__u64)(unsigned long)func;
	attr.sample_period = 1;
	pfd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		err = -errno;
	} else {
		if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, fd) < 0)
			err = -errno;
		close(pfd);
	}
	close(fd);
	return err;
}

/* 0 if `p` can run here, else -errno with `why` filled. */
static int probe_prog(const struct probe_env *env, enum caps_family fam,
		      const struct caps_prog *p, char *why, size_t whylen)
{
	int id, err;

	switch (fam) {
	case CAPS_TRACEPOINT: {
		char name[128];

		if (p->kfunc) {
			if (btf_func(env->vmlinux, "bpf_iter_", p->target) <= 0) {
				snprintf(why, whylen, "no %s iterator", p->target);
				return -ENOENT;
			}
			if (*p->kfunc && btf_func(env->vmlinux, "", p->kfunc) <= 0) {
				snprintf(why, whylen, "no kfunc %s", p->kfunc);
				return -ENOENT;
			}
			return 0;
		}
		if (strchr(p->target, '/')) {
			/* a syscall tracepoint: its tracefs event, or (tracefs not
			 * mounted yet: the agent mounts it) syscall tracing at all */
			char ev[192];
			struct stat st;

			snprintf(ev, sizeof(ev), "/sys/kernel/tracing/events/%s", p->target);
			if (!stat(ev, &st))
				return 0;
			snprintf(ev, sizeof(ev), "/sys/kernel/debug/tracing/events/%s", p->target);
			if (!stat(ev, &st))
				return 0;
			if (access("/sys/kernel/tracing/events", F_OK) &&
			    access("/sys/kernel/debug/tracing/events", F_OK) && env->vmlinux &&
			    btf__find_by_name_kind(env->vmlinux, "btf_trace_sys_enter",
						   BTF_KIND_TYPEDEF) > 0)
				return 0;
			snprintf(why, whylen, "no tracepoint %s", p->target);
			return -ENOENT;
		}
		snprintf(name, sizeof(name), "btf_trace_%s", p->target);
		if (env->vmlinux && btf__find_by_name_kind(env->vmlinux, name, BTF_KIND_TYPEDEF) > 0)
			return 0;
		snprintf(why, whylen, "no tracepoint %s", p->target);
		return -ENOENT;
	}
	case CAPS_FENTRY:
		id = btf_func(env->vmlinux, "", p->target);
		if (id <= 0) {
			snprintf(why, whylen, "no function %s in kernel BTF", p->target);
			return -ENOENT;
		}
		err = trial_tracing(BPF_PROG_TYPE_TRACING,
				    p->fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, id);
		if (err)
			snprintf(why, whylen, "%s on %s refused: %s", p->fexit ? "fexit" : "fentry",
				 p->target, strerror(-err));
		return err;
	case CAPS_LSM:
		if (!env->lsm_bpf) {
			snprintf(why, whylen, "the bpf LSM is not active (lsm= boot option)");
			return -EOPNOTSUPP;
		}
		id = btf_func(env->vmlinux, "bpf_lsm_", p->target);
		if (id <= 0) {
			snprintf(why, whylen, "no LSM hook %s", p->target);
			return -ENOENT;
		}
		err = trial_tracing(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, id);
		if (err)
			snprintf(why, whylen, "lsm %s refused: %s", p->target, strerror(-err));
		return err;
	case CAPS_KPROBE:
		if (env->kprobe_type < 0) {
			snprintf(why, whylen, "kernel without kprobes");
			return -EOPNOTSUPP;
		}
		err = trial_kprobe(env, p->target);
		if (err)
			snprintf(why, whylen, "kprobe on %s refused: %s", p->target, strerror(-err));
		return err;
	case CAPS_UPROBE:
		/* the program type and the PMU: which files have the functions
		 * is tls.c's business (a library without them is not blind) */
		if (env->uprobe_type < 0) {
			snprintf(why, whylen, "kernel without uprobes (CONFIG_UPROBE_EVENTS)");
			return -EOPNOTSUPP;
		}
		id = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "vigil_probe", "GPL", ret0, 2, NULL);
		if (id < 0) {
			err = -errno;
			snprintf(why, whylen, "uprobe programs refused: %s", strerror(-err));
			return err;
		}
		close(id);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Can a cgroup_skb program ask for the current task (UDP attribution)? */
static bool probe_skb_current(void)
{
	static const struct bpf_insn prog[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_pid_tgid },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "vigil_probe", "GPL", prog, 3, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static void probe_environment(struct caps *c, struct probe_env *env)
{
	struct utsname u;
	char line[512], dev[128], mnt[256], type[64];
	FILE *f;

	if (!uname(&u))
		snprintf(c->release, sizeof(c->release), "%s", u.release);
	c->btf = !access("/sys/kernel/btf/vmlinux", R_OK);
	f = fopen("/proc/mounts", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %255s %63s", dev, mnt, type) != 3)
			continue;
		if (!strcmp(type, "cgroup2") && !c->cgroup2[0])
			snprintf(c->cgroup2, sizeof(c->cgroup2), "%s", mnt);
		if (!strcmp(type, "bpf") && !c->bpffs[0])
			snprintf(c->bpffs, sizeof(c->bpffs), "%s", mnt);
	}
	if (f)
		fclose(f);
	/* "[none] integrity confidentiality": the bracketed one is active */
	read_line("/sys/kernel/security/lockdown", line, sizeof(line));
	{
		char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;

		if (a && b)
			snprintf(c->lockdown, sizeof(c->lockdown), "%.*s", (int)(b - a - 1), a + 1);
	}
	read_line("/sys/kernel/security/lsm", line, sizeof(line));
	env->lsm_bpf = false;
	for (char *s = line, *t; (t = strsep(&s, ","));)
		env->lsm_bpf |= !strcmp(t, "bpf");
	read_line("/sys/bus/event_source/devices/kprobe/type", line, sizeof(line));
	env->kprobe_type = line[0] ? atoi(line) : -1;
	read_line("/sys/bus/event_source/devices/uprobe/type", line, sizeof(line));
	env->uprobe_type = line[0] ? atoi(line) : -1;
	c->skb_current = probe_skb_current();
	env->vmlinux = btf__load_vmlinux_btf();
	if (!env->vmlinux)
		c->btf = false;
}

void caps__probe(struct caps *c, unsigned families)
{
	struct probe_env env;

	memset(c, 0, sizeof(*c));
	c->families = families;
	probe_environment(c, &env);
	for (int f = 0; f < CAPS_NFAMILIES; f++)
		if (!(families & (1u << f)))
			snprintf(c->family_why[f], sizeof(c->family_why[f]), "excluded by --hooks");
	for (int id = 0; id < CAPS_N; id++) {
		c->chosen[id] = -1;
		for (int i = 0; i < CAPS_MAX_IMPLS && table[id].impls[i].name; i++) {
			const struct caps_impl *im = &table[id].impls[i];
			bool ok = true;

			if (!hooks_allow(families, id, im->family))
				continue;
			for (int k = 0; k < CAPS_MAX_PROGS && im->progs[k].prog; k++) {
				char why[96] = "";
				int err = probe_prog(&env, im->family, &im->progs[k], why, sizeof(why));

				c->prog_ok[id][i][k] = !err;
				if (!err)
					c->family_ok[im->family] = true;
				else if (!c->family_why[im->family][0])
					snprintf(c->family_why[im->family],
						 sizeof(c->family_why[im->family]), "%s", why);
				if (err && !im->progs[k].optional)
					ok = false;
			}
			c->impl_ok[id][i] = ok;
			if (ok && c->chosen[id] < 0)
				c->chosen[id] = i;
		}
	}
	btf__free(env.vmlinux);
}

void caps__apply(const struct caps *c, struct bpf_object *obj)
{
	for (int id = 0; id < CAPS_N; id++)
		for (int i = 0; i < CAPS_MAX_IMPLS && table[id].impls[i].name; i++)
			for (int k = 0; k < CAPS_MAX_PROGS; k++) {
				const struct caps_prog *p = &table[id].impls[i].progs[k];
				struct bpf_program *prog;

				if (!p->prog)
					break;
				prog = bpf_object__find_program_by_name(obj, p->prog);
				if (prog)
					bpf_program__set_autoload(prog, c->chosen[id] == i &&
								  c->prog_ok[id][i][k]);
			}
}

static bool egress_covered(const struct caps *c)
{
	return c->cgroup2[0] != 0;
}

bool caps__enforceable(const struct caps *c)
{
	if (!c->btf || !egress_covered(c) || !strcmp(c->lockdown, "confidentiality"))
		return false;
	for (int id = 0; id < CAPS_N; id++)
		if (table[id].needed && c->chosen[id] < 0)
			return false;
	return true;
}

/* ---- output --------------------------------------------------------- */

/* Which TLS libraries the uprobes cover here (those of the loader's cache;
 * the agent adds those tainted processes map; each attached per tainted
 * process, userspace/tls.c), and what is not covered. */
static void tls_print(const struct caps *c, FILE *f)
{
	struct tls_found libs[16];
	size_t n = tls__discover(libs, 16);

	for (size_t i = 0; i < n && c->chosen[CAPS_TLS] >= 0; i++) {
		fprintf(f, "%-13s   %s:", "", libs[i].path);
		for (int k = 0; tls__func_name(k); k++)
			if (libs[i].funcs & (1u << k))
				fprintf(f, " %s", tls__func_name(k));
		fprintf(f, "\n");
	}
	if (c->chosen[CAPS_TLS] >= 0)
		fprintf(f, "%-13s   %s\n", "", "attached per tainted process, at its taint "
			"(untainted processes carry no breakpoint), by a worker thread; what "
			"it writes before the attach lands is opaque");
	fprintf(f, "%-13s   %s\n", "", c->chosen[CAPS_TLS] >= 0
		? "also: libraries tainted processes map, static OpenSSL/GnuTLS and Go "
		  "binaries with symbols; a tainted TLS flow whose plaintext was not seen "
		  "(other libraries, stripped Go, kernel TLS) is opaque: budgeted like weights"
		: "a tainted TLS flow is opaque: budgeted like weights");
}

void caps__print(const struct caps *c, FILE *f)
{
	fprintf(f, "kernel        %s\n", c->release);
	fprintf(f, "BTF           %s\n", c->btf ? "/sys/kernel/btf/vmlinux" : "missing (CONFIG_DEBUG_INFO_BTF)");
	fprintf(f, "cgroup v2     %s\n", c->cgroup2[0] ? c->cgroup2 : "not mounted");
	fprintf(f, "bpffs         %s\n", c->bpffs[0] ? c->bpffs : "not mounted (not needed)");
	fprintf(f, "lockdown      %s%s\n", c->lockdown[0] ? c->lockdown : "unknown (securityfs)",
		!strcmp(c->lockdown, "confidentiality") ? ": kernel memory reads refused" : "");
	fprintf(f, "UDP sender    %s\n", c->skb_current ? "current task in cgroup_skb"
		: "socket stamped by the send hook (cgroup_skb cannot ask for the task)");
	fprintf(f, "\nhook family   loads here\n");
	for (int fam = 0; fam < CAPS_NFAMILIES; fam++)
		fprintf(f, "%-13s %s%s%s\n", family_names[fam], c->family_ok[fam] ? "yes" : "no",
			!c->family_ok[fam] && c->family_why[fam][0] ? ": " : "",
			c->family_ok[fam] ? "" : c->family_why[fam]);
	fprintf(f, "\ncapability    implementation\n");
	for (int id = 0; id < CAPS_N; id++) {
		fprintf(f, "%-13s %s\n", table[id].name, caps__chosen_name(c, id));
		if (c->chosen[id] < 0)
			fprintf(f, "%-13s   %s%s\n", "", table[id].needed ? "" : "(optional) ",
				table[id].blind);
	}
	tls_print(c, f);
	fprintf(f, "%-13s %s\n", "egress", egress_covered(c)
		? "cgroup connect4/6, sendmsg4/6, skb egress"
		: "blind\n                no cgroup v2 mount: connects and packets are not seen");
	fprintf(f, "\n%s\n", caps__enforceable(c)
		? "enforcement: every capability it needs is covered"
		: "enforcement: NOT fully covered (see blind above)");
}

void caps__json(const struct caps *c, struct json *j, bool detail)
{
	json__key(j, "kernel");
	json__begin_object(j);
	json__kv_str(j, "release", c->release);
	if (detail) {
		json__kv_bool(j, "btf", c->btf);
		json__kv_str(j, "cgroup2", c->cgroup2[0] ? c->cgroup2 : NULL);
		json__kv_str(j, "bpffs", c->bpffs[0] ? c->bpffs : NULL);
		json__kv_str(j, "lockdown", c->lockdown[0] ? c->lockdown : NULL);
		json__kv_str(j, "udp_sender", c->skb_current ? "current task" : "socket stamp");
		json__key(j, "families");
		json__begin_object(j);
		for (int fam = 0; fam < CAPS_NFAMILIES; fam++) {
			json__key(j, family_names[fam]);
			json__begin_object(j);
			json__kv_bool(j, "loads", c->family_ok[fam]);
			if (!c->family_ok[fam])
				json__kv_str(j, "why", c->family_why[fam]);
			json__end_object(j);
		}
		json__end_object(j);
	}
	json__end_object(j);
	json__key(j, "capabilities");
	json__begin_object(j);
	for (int id = 0; id < CAPS_N; id++) {
		if (!detail) {
			json__kv_str(j, table[id].name, caps__chosen_name(c, id));
			continue;
		}
		json__key(j, table[id].name);
		json__begin_object(j);
		json__kv_str(j, "implementation", caps__chosen_name(c, id));
		if (c->chosen[id] >= 0)
			json__kv_str(j, "family", family_names[table[id].impls[c->chosen[id]].family]);
		json__kv_bool(j, "needed", table[id].needed);
		if (c->chosen[id] < 0)
			json__kv_str(j, "blind_means", table[id].blind);
		json__key(j, "available");
		json__begin_array(j);
		for (int i = 0; i < CAPS_MAX_IMPLS && table[id].impls[i].name; i++)
			if (c->impl_ok[id][i])
				json__string(j, table[id].impls[i].name);
		json__end_array(j);
		json__end_object(j);
	}
	if (detail) {
		json__key(j, "egress");
		json__begin_object(j);
		json__kv_str(j, "implementation", egress_covered(c) ? "cgroup" : "blind");
		json__kv_bool(j, "needed", true);
		json__end_object(j);
	} else {
		json__kv_str(j, "egress", egress_covered(c) ? "cgroup" : "blind");
	}
	json__end_object(j);
	if (detail) {
		struct tls_found libs[16];
		size_t n = tls__discover(libs, 16);

		json__kv_bool(j, "enforceable", caps__enforceable(c));
		json__key(j, "tls_libraries");
		json__begin_array(j);
		for (size_t i = 0; i < n && c->chosen[CAPS_TLS] >= 0; i++) {
			json__begin_object(j);
			json__kv_str(j, "path", libs[i].path);
			json__key(j, "functions");
			json__begin_array(j);
			for (int k = 0; tls__func_name(k); k++)
				if (libs[i].funcs & (1u << k))
					json__string(j, tls__func_name(k));
			json__end_array(j);
			json__end_object(j);
		}
		json__end_array(j);
		if (c->chosen[CAPS_TLS] >= 0)
			json__kv_str(j, "tls_attach", "per tainted process");
		json__kv_str(j, "tls_unseen", "opaque: budgeted like weights");
	}
}
