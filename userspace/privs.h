/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's own privileges: what it needs only to start is given up
 * before it reports agent_start. */
#ifndef VIGIL_PRIVS_H
#define VIGIL_PRIVS_H

/* Drop CAP_SYS_ADMIN from the effective, permitted, inheritable and
 * ambient sets (and the bounding set where CAP_SETPCAP allows). libbpf
 * needs it only while loading, to search kernel modules' BTF for a kfunc
 * vmlinux lacks (6.1: bpf_sock_destroy); nothing after that does. 0, or
 * -errno. */
int privs__drop_sys_admin(void);

#endif
