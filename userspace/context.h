/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who and where a process is, for alerts and rules: the container (runtime
 * and id) and Kubernetes pod it runs in, read from its cgroup v2 path; the
 * user it runs as, the user who logged in (login uid, which su and sudo
 * keep) and, for an SSH login, the address it came from (SSH_CONNECTION in
 * the environment of the process or an ancestor, else the systemd-logind
 * session's REMOTE_HOST).
 *
 * The container part depends only on the cgroup string, so a replayed
 * capture derives the same; the user part and the pod's namespace and name
 * (from the kubelet's pod directory) are read once and recorded.
 */
#ifndef VIGIL_CONTEXT_H
#define VIGIL_CONTEXT_H

#include <stddef.h>
#include <sys/types.h>
#include "proc.h"

/* Fill pi's container fields from pi->cgroup ("" when none is found). */
void context__container(struct proc_info *pi);
/* Fill pi's user fields from /proc/<pi->pid> (and ancestors for SSH). */
void context__user(struct proc_info *pi);
/* Fill pi's pod namespace and name for its pod uid from the kubelet's
 * pod directory: every CRI runtime's pods have
 * DIR/<namespace>_<name>_<uid>/ (their logs), where Kubernetes names
 * cannot hold '_'. Remembers the last lookups; a pod not found (yet) is
 * looked up again next time. */
void context__pod(struct proc_info *pi);
/* The directory context__pod reads (default /var/log/pods); NULL or ""
 * turns the lookup off. */
void context__set_pods_dir(const char *dir);

#endif
