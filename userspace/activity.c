// SPDX-License-Identifier: GPL-2.0
/* The rule fields of a correlated activity. The table is the reference:
 * docs/RULES.md must list exactly these names (a unit test checks). */
#include <string.h>
#include <sys/socket.h>

#include "activity.h"
#include "vigil.h"

enum {
	F_EVT_TYPE, F_EVT_ACTION, F_EVT_MODE,
	F_PROC_PID, F_PROC_PPID, F_PROC_NAME, F_PROC_EXE, F_PROC_CMDLINE, F_PROC_UID,
	F_PROC_CGROUP, F_PROC_PNAME, F_PROC_ANCESTORS,
	F_PROC_USER, F_PROC_LOGINUID, F_PROC_LOGIN_USER, F_PROC_SSH_CLIENT,
	F_CONTAINER_ID, F_CONTAINER_RUNTIME, F_K8S_POD_UID, F_K8S_NAMESPACE, F_K8S_POD,
	F_TAINT_SET, F_TAINT_BYTES_READ, F_TAINT_VIA, F_TAINT_DEPTH,
	F_FILE_PATH,
	F_NET_FAMILY, F_NET_PROTO, F_NET_DADDR, F_NET_DPORT, F_NET_BYTES, F_NET_BLOCKED_BYTES,
	F_NET_ALLOWED, F_NET_CONTENT, F_NET_DIRECTION, F_NET_LPORT,
	F_FS_TYPE, F_FS_SOURCE, F_FS_MOUNT,
	F_PROC_TAINTED, F_CONTROL_KIND, F_CONTROL_DETAIL,
	F__COUNT
};

const struct expr_field activity_fields[] = {
	[F_EVT_TYPE] = { "evt.type", EXPR_STR,
		"what happened: connect (addressed a destination), egress (first tainted byte "
		"to a new destination), progress (a flow crossed 64 KiB x 4^n bytes), content "
		"(a flow's bytes turned weights-shaped), dns-tunnel (a process's DNS queries "
		"carry data: long encoded labels, or too many name bytes), budget (a protect "
		"set's budget, or for work the destination's work budget, was spent), unmetered "
		"(a tainted process sent on a socket vigil cannot meter: MPTCP, SCTP), control (a blind-spot control: a packet or "
		"AF_XDP socket, a BPF program or kernel module load, a network or FUSE mount; "
		"by any process)" },
	[F_EVT_ACTION] = { "evt.action", EXPR_STR,
		"what the kernel or agent did before rules ran: alert, blocked or killed" },
	[F_EVT_MODE] = { "evt.mode", EXPR_STR, "the agent's mode: monitor or enforce" },
	[F_PROC_PID] = { "proc.pid", EXPR_NUM, "process id (thread group id)" },
	[F_PROC_PPID] = { "proc.ppid", EXPR_NUM, "parent process id" },
	[F_PROC_NAME] = { "proc.name", EXPR_STR, "command name (comm, at most 15 characters)" },
	[F_PROC_EXE] = { "proc.exe", EXPR_STR, "absolute path of the executable" },
	[F_PROC_CMDLINE] = { "proc.cmdline", EXPR_STR, "command line, arguments joined by spaces" },
	[F_PROC_UID] = { "proc.uid", EXPR_NUM, "real user id" },
	[F_PROC_CGROUP] = { "proc.cgroup", EXPR_STR, "cgroup v2 path of the process" },
	[F_PROC_PNAME] = { "proc.pname", EXPR_STR, "command name of the parent process" },
	[F_PROC_ANCESTORS] = { "proc.ancestors", EXPR_STRLIST,
		"command names of the processes the taint passed through before this one "
		"(the reader of the weights first)" },
	[F_PROC_USER] = { "proc.user", EXPR_STR, "name of the user the process runs as" },
	[F_PROC_LOGINUID] = { "proc.loginuid", EXPR_NUM,
		"login uid: the user who logged in (kept across su and sudo); -1 if none" },
	[F_PROC_LOGIN_USER] = { "proc.login_user", EXPR_STR, "name of the login uid's user" },
	[F_PROC_SSH_CLIENT] = { "proc.ssh_client", EXPR_STR,
		"address the SSH login came from (SSH_CONNECTION of the process or an "
		"ancestor, else the login session's remote host); empty if none" },
	[F_CONTAINER_ID] = { "container.id", EXPR_STR,
		"container id from the cgroup path (64 hex digits); empty outside containers" },
	[F_CONTAINER_RUNTIME] = { "container.runtime", EXPR_STR,
		"docker, containerd, cri-o, podman or kubernetes; empty outside containers" },
	[F_K8S_POD_UID] = { "k8s.pod_uid", EXPR_STR, "Kubernetes pod uid from the cgroup path" },
	[F_K8S_NAMESPACE] = { "k8s.namespace", EXPR_STR,
		"the pod's Kubernetes namespace (from the kubelet's pod directory); empty if "
		"unknown" },
	[F_K8S_POD] = { "k8s.pod", EXPR_STR,
		"the pod's name (from the kubelet's pod directory); empty if unknown" },
	[F_TAINT_SET] = { "taint.set", EXPR_STRLIST,
		"names of the protect sets whose files the process holds data from" },
	[F_TAINT_BYTES_READ] = { "taint.bytes_read", EXPR_NUM,
		"bytes of protected files read along the chain (sum over sources)" },
	[F_TAINT_VIA] = { "taint.via", EXPR_STR,
		"how this process got its taint: read, mmap, fork, pipe, unix, preexisting" },
	[F_TAINT_DEPTH] = { "taint.depth", EXPR_NUM,
		"hops from the process that read the weights (0: it read them itself)" },
	[F_FILE_PATH] = { "file.path", EXPR_STRLIST, "paths of the protected files read" },
	[F_NET_FAMILY] = { "net.family", EXPR_STR,
		"ipv4, ipv6, or netfs (a write into a network filesystem: NFS, SMB, Ceph, 9p, "
		"AFS; the kernel sends its bytes; net.daddr is no address then, fs.* name the "
		"mount)" },
	[F_NET_PROTO] = { "net.proto", EXPR_STR,
		"tcp, udp, or raw (a connect event for a raw IP socket created: no destination)" },
	[F_NET_DADDR] = { "net.daddr", EXPR_ADDR, "destination address (compare with = or in CIDRs)" },
	[F_NET_DPORT] = { "net.dport", EXPR_NUM, "destination port" },
	[F_NET_BYTES] = { "net.bytes", EXPR_NUM,
		"payload bytes this process sent to this destination so far" },
	[F_NET_BLOCKED_BYTES] = { "net.blocked_bytes", EXPR_NUM,
		"payload bytes to this destination dropped by enforcement" },
	[F_NET_ALLOWED] = { "net.allowed", EXPR_BOOL,
		"the destination matches an allow entry (CIDR, ports, executable)" },
	[F_NET_CONTENT] = { "net.content", EXPR_STR,
		"what the flow's bytes look like, judged in the kernel: work (language, JSON, "
		"numbers and metrics as text), weights (binary, compressed, encrypted, or "
		"base64/base32/hex/base85 of binary), opaque (TLS records whose plaintext was not "
		"seen) or unknown (nothing sampled yet)" },
	[F_NET_DIRECTION] = { "net.direction", EXPR_STR,
		"outbound (the process connected or sent first) or inbound (it accepted the "
		"connection on a listening socket: a server answering); empty in activity "
		"read from captures or fixtures that do not have it" },
	[F_NET_LPORT] = { "net.lport", EXPR_NUM,
		"the sending socket's local port (a server's listening port for an inbound "
		"flow); 0 when not known (connect records)" },
	[F_FS_TYPE] = { "fs.type", EXPR_STR,
		"net.family netfs: the network filesystem's type (nfs4, cifs, smb3, ceph, 9p, "
		"afs); empty otherwise" },
	[F_FS_SOURCE] = { "fs.source", EXPR_STR,
		"net.family netfs: the mount's source (server:/export, //server/share); empty "
		"otherwise" },
	[F_FS_MOUNT] = { "fs.mount", EXPR_STR,
		"net.family netfs: the mount point written into; empty otherwise" },
	[F_PROC_TAINTED] = { "proc.tainted", EXPR_BOOL,
		"the process holds data from protected files (false only for control events "
		"of untainted processes)" },
	[F_CONTROL_KIND] = { "control.kind", EXPR_STR,
		"control events: packet_socket, xdp_socket, bpf_load, module_load or mount" },
	[F_CONTROL_DETAIL] = { "control.detail", EXPR_STR,
		"control events: the socket type (packet, xdp sockets), BPF program type, "
		"module file name (finit_module) or filesystem type (mount)" },
};
const size_t activity_nfields = F__COUNT;

/* The name table: every word of the vocabularies, indexed by their enums. */
#define ACT_WORDS_MAX 8	/* the longest vocabulary */
static const char *const words[ACT_VOCAB__COUNT][ACT_WORDS_MAX] = {
	[ACT_VOCAB_EVENT] = { [ACT_EV_CONNECT] = "connect", [ACT_EV_EGRESS] = "egress",
			      [ACT_EV_PROGRESS] = "progress", [ACT_EV_BUDGET] = "budget",
			      [ACT_EV_CONTENT] = "content", [ACT_EV_DNS_TUNNEL] = "dns-tunnel",
			      [ACT_EV_UNMETERED] = "unmetered", [ACT_EV_CONTROL] = "control" },
	[ACT_VOCAB_OUTCOME] = { [ACT_ALERT] = "alert", [ACT_BLOCKED] = "blocked",
				[ACT_KILLED] = "killed" },
	[ACT_VOCAB_MODE] = { [ACT_MONITOR] = "monitor", [ACT_ENFORCE] = "enforce" },
	[ACT_VOCAB_KILLER] = { [ACT_BY_KERNEL] = "kernel", [ACT_BY_AGENT] = "agent" },
};
_Static_assert((int)ACT_EV__COUNT <= ACT_WORDS_MAX && (int)ACT_OUTCOME__COUNT <= ACT_WORDS_MAX &&
	       (int)ACT_MODE__COUNT <= ACT_WORDS_MAX &&
	       (int)ACT_KILLER__COUNT <= ACT_WORDS_MAX, "name table rows too short");

const char *activity__word(enum act_vocab v, int value)
{
	if ((unsigned)v >= ACT_VOCAB__COUNT || value < 0 || value >= ACT_WORDS_MAX)
		return NULL;
	return words[v][value];
}

int activity__parse_word(enum act_vocab v, const char *word)
{
	for (int i = 0; word && (unsigned)v < ACT_VOCAB__COUNT && i < ACT_WORDS_MAX; i++)
		if (words[v][i] && !strcmp(words[v][i], word))
			return i;
	return -1;
}

void activity__get(const void *rec, unsigned id, struct expr_value *out)
{
	const struct activity *a = rec;

	switch (id) {
	case F_EVT_TYPE: out->s = activity__word(ACT_VOCAB_EVENT, a->event); break;
	case F_EVT_ACTION: out->s = activity__word(ACT_VOCAB_OUTCOME, a->action); break;
	case F_EVT_MODE: out->s = activity__word(ACT_VOCAB_MODE, a->mode); break;
	case F_PROC_PID: out->n = a->proc.pid; break;
	case F_PROC_PPID: out->n = a->proc.ppid; break;
	case F_PROC_NAME: out->s = a->proc.comm; break;
	case F_PROC_EXE: out->s = a->proc.exe; break;
	case F_PROC_CMDLINE: out->s = a->proc.cmdline; break;
	case F_PROC_UID: out->n = a->proc.uid; break;
	case F_PROC_CGROUP: out->s = a->proc.cgroup; break;
	case F_PROC_PNAME: out->s = a->pname; break;
	case F_PROC_ANCESTORS: out->list = a->ancestors; out->nlist = a->nancestors; break;
	case F_PROC_USER: out->s = a->proc.user; break;
	case F_PROC_LOGINUID:
		out->n = a->proc.has_loginuid ? (int64_t)a->proc.loginuid : -1;
		break;
	case F_PROC_LOGIN_USER: out->s = a->proc.login_user; break;
	case F_PROC_SSH_CLIENT: out->s = a->proc.ssh_client; break;
	case F_CONTAINER_ID: out->s = a->proc.container_id; break;
	case F_CONTAINER_RUNTIME: out->s = a->proc.container_runtime; break;
	case F_K8S_POD_UID: out->s = a->proc.pod_uid; break;
	case F_K8S_NAMESPACE: out->s = a->proc.pod_namespace; break;
	case F_K8S_POD: out->s = a->proc.pod_name; break;
	case F_TAINT_SET: out->list = a->sets; out->nlist = a->nsets; break;
	case F_TAINT_BYTES_READ: out->n = (int64_t)a->taint_bytes_read; break;
	case F_TAINT_VIA: out->s = a->taint_via; break;
	case F_TAINT_DEPTH: out->n = a->taint_depth; break;
	case F_FILE_PATH: out->list = a->paths; out->nlist = a->npaths; break;
	case F_NET_FAMILY: out->s = a->family; break;
	case F_NET_PROTO: out->s = a->protocol; break;
	case F_NET_DADDR:
		out->family = a->af;
		memcpy(out->addr, a->daddr_raw, 16);
		break;
	case F_NET_DPORT: out->n = a->dport; break;
	case F_NET_BYTES: out->n = (int64_t)a->bytes; break;
	case F_NET_BLOCKED_BYTES: out->n = (int64_t)a->blocked_bytes; break;
	case F_NET_ALLOWED: out->n = a->allowed; break;
	case F_NET_CONTENT: out->s = a->content; break;
	case F_NET_DIRECTION: out->s = a->direction; break;
	case F_NET_LPORT: out->n = a->lport; break;
	case F_FS_TYPE: out->s = a->fs_type; break;
	case F_FS_SOURCE: out->s = a->fs_type ? a->fs_source : ""; break;
	case F_FS_MOUNT: out->s = a->fs_type ? a->fs_mount : ""; break;
	case F_PROC_TAINTED: out->n = a->tainted; break;
	case F_CONTROL_KIND: out->s = a->control_kind; break;
	case F_CONTROL_DETAIL: out->s = a->control_detail; break;
	}
	if (!out->s)
		out->s = "";
}

int act_source__read_pct(const struct act_source *s)
{
	if (!s->size)
		return -1;
	return s->bytes_read >= s->size ? 100 : (int)(s->bytes_read * 100 / s->size);
}

const char *const activity__control_kinds[] = {
	[VIGIL_CTL_PACKET_SOCKET] = "packet_socket", [VIGIL_CTL_XDP_SOCKET] = "xdp_socket",
	[VIGIL_CTL_BPF_LOAD] = "bpf_load", [VIGIL_CTL_MODULE_LOAD] = "module_load",
	[VIGIL_CTL_MOUNT] = "mount", [VIGIL_CTL_BYPASS_DEVICE] = "bypass_device",
	[VIGIL_CTL_WEIGHTS_DISK] = "weights_disk", [VIGIL_CTL_CONFIG_WRITE] = "config_write",
	[VIGIL_CTL_PIN_UNLINK] = "pin_unlink", [VIGIL_CTL__COUNT] = NULL,
};

const char *activity__control_word(unsigned kind)
{
	return kind && kind < VIGIL_CTL__COUNT ? activity__control_kinds[kind] : NULL;
}

void activity__finish(struct activity *a)
{
	a->nancestors = 0;
	for (int i = 0; i + 1 < a->nchain && i < ACT_MAX_CHAIN; i++)
		a->ancestors[a->nancestors++] = a->chain[i].comm ? a->chain[i].comm : "";
	a->npaths = 0;
	a->taint_bytes_read = 0;
	for (int i = 0; i < a->nsources && i < ACT_MAX_SOURCES; i++) {
		a->paths[a->npaths++] = a->sources[i].path ? a->sources[i].path : "";
		a->taint_bytes_read += a->sources[i].bytes_read;
	}
	if (!a->pname)
		a->pname = "";
	if (!a->content)
		a->content = "unknown";
}
