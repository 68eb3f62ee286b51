// SPDX-License-Identifier: GPL-2.0
/* Sinks that are file descriptors: stdout and a file. A file is opened with
 * O_APPEND, so copytruncate-style rotation just works, and reopened by path
 * on SIGHUP, so rename-style rotation does too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "sink.h"

#define IOV_MAX_LINES 64

struct fd_sink {
	int fd;
};

/* All n lines, each with its newline, in as few writev calls as the kernel
 * allows; a line is never split between two writes' worth of lines from
 * another writer because the file is O_APPEND and each writev is whole
 * lines. Returns lines fully written. */
static int write_lines(int fd, const struct sink_line *lines, int n)
{
	int done = 0;

	while (done < n) {
		struct iovec iov[2 * IOV_MAX_LINES];
		int k = 0, nl = n - done < IOV_MAX_LINES ? n - done : IOV_MAX_LINES;
		size_t want = 0;
		ssize_t w;

		for (int i = 0; i < nl; i++) {
			iov[k++] = (struct iovec){ (void *)lines[done + i].p, lines[done + i].len };
			iov[k++] = (struct iovec){ (void *)"\n", 1 };
			want += lines[done + i].len + 1;
		}
		w = writev(fd, iov, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return done;
		if ((size_t)w == want) {
			done += nl;
			continue;
		}
		/* short write (pipe, full disk): finish the line it stopped in,
		 * then go on from the next one */
		for (int i = 0; i < nl; i++) {
			size_t l = lines[done].len + 1;

			if ((size_t)w >= l) {
				w -= l;
				done++;
				continue;
			}
			while ((size_t)w < l) {
				const char *p = (size_t)w < lines[done].len ? lines[done].p + w : "\n";
				size_t rest = (size_t)w < lines[done].len ? lines[done].len - w : 1;
				ssize_t m = write(fd, p, rest);

				if (m < 0 && errno == EINTR)
					continue;
				if (m <= 0)
					return done;
				w += m;
			}
			done++;
			break;
		}
	}
	return done;
}

static int fd_write(struct sink *s, const struct sink_line *lines, int n)
{
	struct fd_sink *f = sink__priv(s);

	return write_lines(f->fd, lines, n);
}

static int stdout_open(struct sink *s, char *err, size_t errlen)
{
	struct fd_sink *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->fd = STDOUT_FILENO;
	sink__set_priv(s, f);
	return 0;
}

static void fd_close(struct sink *s)
{
	struct fd_sink *f = sink__priv(s);

	if (f && f->fd != STDOUT_FILENO)
		close(f->fd);
	free(f);
	sink__set_priv(s, NULL);
}

/* Alerts name processes, files and hosts: readable by root only, and never
 * through a symlink someone planted where the alert file will be. */
static int open_path(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		snprintf(err, errlen, "--alerts %s: %s", path, strerror(errno));
	return fd;
}

static int file_open(struct sink *s, char *err, size_t errlen)
{
	struct fd_sink *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->fd = open_path(sink__target(s), err, errlen);
	if (f->fd < 0) {
		free(f);
		return -EIO;
	}
	sink__set_priv(s, f);
	return 0;
}

static void file_reopen(struct sink *s)
{
	struct fd_sink *f = sink__priv(s);
	char err[512];
	int fd = open_path(sink__target(s), err, sizeof(err));

	if (fd < 0) {	/* keep writing to the old file rather than nowhere */
		log__warn("reopen: %s", err);
		sink__count_reopen(s, false);
		return;
	}
	close(f->fd);
	f->fd = fd;
	sink__count_reopen(s, true);
}

const struct sink_ops sink_stdout_ops = {
	.kind = "stdout",
	.open = stdout_open,
	.write = fd_write,
	.close = fd_close,
};

const struct sink_ops sink_file_ops = {
	.kind = "file",
	.open = file_open,
	.write = fd_write,
	.reopen = file_reopen,
	.close = fd_close,
};
