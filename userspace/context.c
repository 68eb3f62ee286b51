// SPDX-License-Identifier: GPL-2.0
/* Container, pod, user and login context of a process (context.h). */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"

#define MAX_ANCESTORS 16

/* Runtimes by the cgroup component naming their container: systemd
 * driver scopes "<prefix><64 hex>.scope", or the cgroupfs layout below. */
static const struct { const char *prefix, *runtime; } scopes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
};

static bool hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The last "pod<uid>" of a component, with - (cgroupfs) or _ (systemd
 * driver: kubepods-burstable-pod<uid>.slice), to the uid with -. */
static void pod_uid(const char *comp, size_t n, char *out, size_t len)
{
	const char *p = NULL;
	size_t k = 0;

	for (const char *q = comp; (q = memmem(q, comp + n - q, "pod", 3)); q += 3)
		p = q;
	if (!p)
		return;
	p += 3;
	while (p < comp + n && *p != '.' && k + 1 < len) {
		out[k++] = *p == '_' ? '-' : *p;
		p++;
	}
	out[k] = '\0';
	if (k != 36)	/* not a uid */
		out[0] = '\0';
}

void context__container(struct proc_info *pi)
{
	const char *c = pi->cgroup;
	bool kube = strstr(c, "kubepods") != NULL;

	pi->container_runtime[0] = pi->container_id[0] = pi->pod_uid[0] = '\0';
	while (*c) {
		const char *end;
		size_t n;

		while (*c == '/')
			c++;
		end = strchrnul(c, '/');
		n = end - c;
		if (kube && !pi->pod_uid[0])
			pod_uid(c, n, pi->pod_uid, sizeof(pi->pod_uid));
		for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
			size_t pl = strlen(scopes[i].prefix);

			if (n == pl + 64 + 6 && !strncmp(c, scopes[i].prefix, pl) &&
			    !strncmp(c + pl + 64, ".scope", 6) && hex64(c + pl, 64)) {
				snprintf(pi->container_runtime, sizeof(pi->container_runtime), "%s",
					 scopes[i].runtime);
				snprintf(pi->container_id, sizeof(pi->container_id), "%.64s", c + pl);
			}
		}
		/* cgroupfs: /docker/<id>, /kubepods/<qos>/pod<uid>/<id>, /libpod_parent/... */
		if (!pi->container_id[0] && hex64(c, n)) {
			snprintf(pi->container_id, sizeof(pi->container_id), "%.64s", c);
			snprintf(pi->container_runtime, sizeof(pi->container_runtime), "%s",
				 strstr(pi->cgroup, "/docker/") ? "docker" :
				 strstr(pi->cgroup, "libpod") ? "podman" :
				 kube ? "kubernetes" : "unknown");
		}
		c = end;
	}
}

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static void user_name(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	out[0] = '\0';
	if (uid == (uid_t)-1)
		return;
	if (!getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res)
		snprintf(out, len, "%s", pw.pw_name);
}

/* SSH_CONNECTION="client_ip client_port server_ip server_port" in pid's
 * environment: the client address. */
static bool ssh_of(pid_t pid, char *out, size_t len)
{
	char path[64], env[16384];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	n = read_file(path, env, sizeof(env));
	for (ssize_t i = 0; i < n; i += strlen(env + i) + 1) {
		if (!strncmp(env + i, "SSH_CONNECTION=", 15) || !strncmp(env + i, "SSH_CLIENT=", 11)) {
			const char *v = strchr(env + i, '=') + 1;
			size_t k = strcspn(v, " ");

			if (k && k < len) {
				snprintf(out, len, "%.*s", (int)k, v);
				return true;
			}
		}
	}
	return false;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	pid_t ppid = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return 0;
	if (sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

void context__user(struct proc_info *pi)
{
	char path[64], buf[128];
	unsigned long v;

	pi->has_loginuid = false;
	pi->ssh_client[0] = '\0';
	user_name(pi->uid, pi->user, sizeof(pi->user));
	snprintf(path, sizeof(path), "/proc/%d/loginuid", pi->pid);
	if (read_file(path, buf, sizeof(buf)) > 0 && sscanf(buf, "%lu", &v) == 1 &&
	    v != 4294967295ul) {
		pi->loginuid = (uid_t)v;
		pi->has_loginuid = true;
		user_name(pi->loginuid, pi->login_user, sizeof(pi->login_user));
	}
	/* the process or the closest ancestor with an SSH session */
	for (pid_t p = pi->pid, d = 0; p > 1 && d < MAX_ANCESTORS; p = parent_of(p), d++)
		if (ssh_of(p, pi->ssh_client, sizeof(pi->ssh_client)))
			break;
	if (!pi->ssh_client[0]) {
		/* logind knows where a session came from */
		char sess[128], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/sessionid", pi->pid);
		if (read_file(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%lu", &v) != 1 ||
		    v == 4294967295ul)
			return;
		snprintf(sess, sizeof(sess), "/run/systemd/sessions/%lu", v);
		f = fopen(sess, "re");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "REMOTE_HOST=", 12)) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(pi->ssh_client, sizeof(pi->ssh_client), "%.63s", line + 12);
			}
		if (f)
			fclose(f);
	}
}

/* ---- Kubernetes pod namespace and name ----------------------------------- */

#define POD_CACHE 32

static char pods_dir[256] = "/var/log/pods";
static struct pod_entry {
	char uid[40], ns[64], name[254];
} pod_cache[POD_CACHE];
static unsigned pod_next;

void context__set_pods_dir(const char *dir)
{
	snprintf(pods_dir, sizeof(pods_dir), "%s", dir ? dir : "");
	memset(pod_cache, 0, sizeof(pod_cache));
}

/* "<namespace>_<name>_<uid>": true and the two names if it is uid's */
static bool pod_dir_name(const char *d, const char *uid, struct pod_entry *out)
{
	const char *a = strchr(d, '_'), *b = strrchr(d, '_');
	size_t ul = strlen(uid);

	if (!a || a == b || strcmp(b + 1, uid) || strlen(b + 1) != ul || a == d || b == a + 1 ||
	    (size_t)(a - d) >= sizeof(out->ns) || (size_t)(b - a - 1) >= sizeof(out->name))
		return false;
	snprintf(out->ns, sizeof(out->ns), "%.*s", (int)(a - d), d);
	snprintf(out->name, sizeof(out->name), "%.*s", (int)(b - a - 1), a + 1);
	snprintf(out->uid, sizeof(out->uid), "%s", uid);
	return true;
}

void context__pod(struct proc_info *pi)
{
	struct pod_entry found = { 0 };
	struct dirent *d;
	DIR *dir;

	pi->pod_namespace[0] = pi->pod_name[0] = '\0';
	if (!pi->pod_uid[0] || !pods_dir[0])
		return;
	for (unsigned i = 0; i < POD_CACHE; i++)
		if (!strcmp(pod_cache[i].uid, pi->pod_uid)) {
			snprintf(pi->pod_namespace, sizeof(pi->pod_namespace), "%s", pod_cache[i].ns);
			snprintf(pi->pod_name, sizeof(pi->pod_name), "%s", pod_cache[i].name);
			return;
		}
	dir = opendir(pods_dir);
	while (dir && (d = readdir(dir)))
		if (pod_dir_name(d->d_name, pi->pod_uid, &found))
			break;
	if (dir)
		closedir(dir);
	if (!found.uid[0])
		return;
	pod_cache[pod_next++ % POD_CACHE] = found;
	snprintf(pi->pod_namespace, sizeof(pi->pod_namespace), "%s", found.ns);
	snprintf(pi->pod_name, sizeof(pi->pod_name), "%s", found.name);
}
