// SPDX-License-Identifier: GPL-2.0
/*
 * The one BPF object of vigil. The program files are compiled as a single
 * translation unit (a "unity build") so that every program shares the maps
 * and globals of lib/common.bpf.h without cross-object linking, and userspace
 * gets one skeleton. Each included file holds one hook family:
 *   files.bpf.c    page-cache reads and mmaps of protected files -> taint
 *   process.bpf.c  fork / exec / exit: taint inheritance and cleanup
 *   net.bpf.c      connect/sendmsg verdicts, send attribution, packet
 *                  accounting and drops, kills
 *   tamper.bpf.c   signals other processes send the agent, ptrace of it
 *   procmem.bpf.c  another process's memory: process_vm_readv/writev,
 *                  /proc/PID/mem opens (ptrace: tamper.bpf.c's program)
 *   unix.bpf.c     bytes queued on unix sockets (datagrams to a path too)
 *   write.bpf.c    write/writev of tainted processes into pipes, by bytes
 *   blindspot.bpf.c  blind-spot controls: packet/XDP sockets, BPF and
 *                  module loads, network/FUSE mounts (tracepoints of
 *                  rare syscalls)
 *   tls.bpf.c      uprobes on TLS libraries' writes: plaintext classes
 *   shm.bpf.c      opens of tmpfs, /dev/shm and memfd files: copies and
 *                  their readers (no page hook sees them)
 *   stage.bpf.c    tee, splice, vmsplice: pipe stages that never read,
 *                  write or send
 * and the fallback implementations of the same capabilities, loaded only
 * where the capability probe (userspace/caps.c) picks them:
 *   fentry.bpf.c   fentry/fexit: read, mmap, send
 *   lsm.bpf.c      BPF LSM: mmap, send
 *   kprobe.bpf.c   kprobes: read, mmap
 */
#include "files.bpf.c"
#include "process.bpf.c"
#include "net.bpf.c"
#include "relay.bpf.c"
#include "tamper.bpf.c"
#include "procmem.bpf.c"
#include "unix.bpf.c"
#include "write.bpf.c"
#include "blindspot.bpf.c"
#include "tls.bpf.c"
#include "shm.bpf.c"
#include "stage.bpf.c"
#include "clone.bpf.c"
#include "fentry.bpf.c"
#include "lsm.bpf.c"
#include "kprobe.bpf.c"

char LICENSE[] SEC("license") = "GPL";
