// SPDX-License-Identifier: GPL-2.0
/* Another process's memory (lib/procmem.bpf.h says what taints whom):
 *   process_vm_readv, process_vm_writev  their syscall tracepoints (rare
 *                                syscalls: run only for them)
 *   open of /proc/PID/mem        shm.bpf.c's programs at the exit of open,
 *                                openat and openat2 (one program per
 *                                tracepoint): procmem__opened
 *   ptrace                       tamper.bpf.c's sys_enter_ptrace program */
#include "lib/procmem.bpf.h"

SEC("tp/syscalls/sys_enter_process_vm_readv")
int vigil_sys_vm_readv(struct trace_event_raw_sys_enter *ctx)
{
	procmem__taint_reader((__u32)ctx->args[0]);
	return 0;
}

SEC("tp/syscalls/sys_enter_process_vm_writev")
int vigil_sys_vm_writev(struct trace_event_raw_sys_enter *ctx)
{
	procmem__taint_target((__u32)ctx->args[0]);
	return 0;
}
