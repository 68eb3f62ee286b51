// SPDX-License-Identifier: GPL-2.0
/* The control socket, both ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

static int sock_addr(const char *run_dir, struct sockaddr_un *sa, char *err, size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", run_dir,
			     CTL_SOCKET_NAME) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "run directory %s: path too long for a unix socket", run_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* A directory only root can change, made if missing. */
static int safe_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		int e = errno;

		snprintf(err, errlen, "run directory %s: cannot create: %s", dir, strerror(e));
		return -e;
	}
	if (lstat(dir, &st)) {
		int e = errno;

		snprintf(err, errlen, "run directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(err, errlen, "run directory %s: must be a directory owned by root and "
			 "writable by nobody else (found mode %04o, uid %u)", dir,
			 st.st_mode & 07777, st.st_uid);
		return -EPERM;
	}
	return 0;
}

static int set_timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

int ctl__listen(const char *run_dir, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r;
	mode_t um;

	if ((r = sock_addr(run_dir, &sa, err, errlen)) || (r = safe_dir(run_dir, err, errlen)))
		return r;
	if (!lstat(sa.sun_path, &st)) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", sa.sun_path);
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
			close(probe);
			snprintf(err, errlen, "another vigil agent is running (it answers on %s)",
				 sa.sun_path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(sa.sun_path);	/* left by an agent that died */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	um = umask(0177);	/* 0600 from the start: no window where others may connect */
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(um);
	if (r || chmod(sa.sun_path, 0600) || listen(fd, 8))
		goto fail;
	return fd;
fail:
	r = -errno;
	snprintf(err, errlen, "control socket %s: %s", sa.sun_path, strerror(-r));
	if (fd >= 0)
		close(fd);
	return r;
}

void ctl__unlink(const char *run_dir)
{
	struct sockaddr_un sa;
	char err[64];

	if (run_dir && !sock_addr(run_dir, &sa, err, sizeof(err)))
		unlink(sa.sun_path);
}

int ctl__accept(int lfd, char *cmd, size_t len)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	size_t got = 0;
	int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (cfd < 0)
		return -errno;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) || cred.uid != 0 ||
	    set_timeouts(cfd, 1000)) {
		close(cfd);
		return -EPERM;
	}
	/* one line; the client may or may not shut its side down after it */
	while (got + 1 < len) {
		ssize_t n = read(cfd, cmd + got, len - 1 - got);

		if (n <= 0)
			break;
		got += n;
		if (memchr(cmd, '\n', got))
			break;
	}
	cmd[got] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	if (!got) {
		close(cfd);
		return -EIO;
	}
	return cfd;
}

void ctl__reply(int cfd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = write(cfd, text, len);

		if (n <= 0)
			break;
		text += n;
		len -= n;
	}
	close(cfd);
}

int ctl__request(const char *run_dir, const char *cmd, char **reply, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	int fd, r;

	if ((r = sock_addr(run_dir, &sa, err, errlen)))
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		snprintf(err, errlen, "no agent answers on %s: %s%s", sa.sun_path, strerror(-r),
			 r == -ENOENT || r == -ECONNREFUSED ? " (is vigil running? is --run-dir "
			 "or run_dir: the agent's?)" : r == -EACCES ? " (root only)" : "");
		goto out;
	}
	/* a reload may take a while (a rescan of every protected path) */
	set_timeouts(fd, 60000);
	if (dprintf(fd, "%s\n", cmd) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(-r));
		goto out;
	}
	shutdown(fd, SHUT_WR);
	buf = malloc(cap);
	while (buf) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(-r));
			goto out;
		}
		if (!n) {
			buf[len] = '\0';
			*reply = buf;
			buf = NULL;
			r = len ? 0 : -EIO;
			if (r)
				snprintf(err, errlen, "%s: the agent closed without answering",
					 sa.sun_path);
			goto out;
		}
		len += n;
	}
	r = -ENOMEM;
	snprintf(err, errlen, "out of memory");
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}
