// SPDX-License-Identifier: GPL-2.0
/* Sinks that are file descriptors: stdout and a file. A file is opened with
 * O_APPEND, so copytruncate-style rotation just works, and reopened by path
 * on SIGHUP, so rename-style rotation does too. Its own rotation
 * (max_size=, max_age=) renames PATH to PATH.1.gz (gzip, written to a
 * temporary name first, so a shipper never sees half a file), shifting older
 * ones up to PATH.KEEP.gz; a line never straddles two files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <time.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "safefile.h"
#include "sink.h"

#define IOV_MAX_LINES 64

struct fd_sink {
	int fd;
	/* rotation (file only): 0 = off */
	unsigned long long max_size, size;
	unsigned long long max_age_s;
	time_t opened;
	unsigned keep;
	bool compress;
	time_t retry_after;	/* a rotation failed: not again before this */
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

/* Alerts name processes, files and hosts: never through a symlink someone
 * planted where the alert file goes, ours, regular, 0600 (or 0640 for the
 * --file-group); safefile.h. */
static int open_path(struct sink *s, const char *path, bool truncate, char *err, size_t errlen)
{
	char why[512];
	int fd = safefile__open_output(path, truncate, sink__file_gid(s), why, sizeof(why));

	if (fd < 0)
		snprintf(err, errlen, "--alerts %.400s", why);
	return fd;
}

static struct fd_sink *file_state(struct sink *s)
{
	struct fd_sink *f = sink__priv(s);

	if (!f) {
		f = calloc(1, sizeof(*f));
		if (f) {
			f->fd = -1;
			f->keep = 5;
			f->compress = true;
			sink__set_priv(s, f);
		}
	}
	return f;
}

/* "90", "90s", "15m", "24h", "7d" */
static bool parse_duration(const char *v, unsigned long long *out)
{
	char *end;
	unsigned long long x, mul = 1;

	if (!isdigit((unsigned char)*v))
		return false;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno)
		return false;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	if (*end || !x || x > 366ull * 86400 / mul)
		return false;
	*out = x * mul;
	return true;
}

static int file_set(struct sink *s, const char *key, const char *v, char *err, size_t errlen)
{
	struct fd_sink *f = file_state(s);
	unsigned long long x;
	char e[128];

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!strcmp(key, "max_size")) {
		if (addr__parse_size(v, &x, e, sizeof(e)) || x < 4096) {
			snprintf(err, errlen, "max_size=%s: want a size of at least 4096 (K/M/G)", v);
			return -EINVAL;
		}
		f->max_size = x;
	} else if (!strcmp(key, "max_age")) {
		if (!parse_duration(v, &x)) {
			snprintf(err, errlen, "max_age=%s: want a duration such as 3600, 90m, 24h, 7d",
				 v);
			return -EINVAL;
		}
		f->max_age_s = x;
	} else if (!strcmp(key, "keep")) {
		errno = 0;
		x = strtoull(v, NULL, 10);
		if (!isdigit((unsigned char)*v) || strspn(v, "0123456789") != strlen(v) || x < 1 ||
		    x > 1000) {
			snprintf(err, errlen, "keep=%s: want 1-1000 rotated files", v);
			return -EINVAL;
		}
		f->keep = x;
	} else if (!strcmp(key, "compress")) {
		if (strcmp(v, "gzip") && strcmp(v, "none")) {
			snprintf(err, errlen, "compress=%s: want gzip or none", v);
			return -EINVAL;
		}
		f->compress = !strcmp(v, "gzip");
	} else {
		return -ENOENT;
	}
	return 0;
}

/* Take a freshly opened fd for the current file. */
static void file_adopt(struct fd_sink *f, int fd)
{
	struct stat st;

	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	f->size = fstat(fd, &st) ? 0 : (unsigned long long)st.st_size;
	f->opened = time(NULL);
}

static int file_open(struct sink *s, char *err, size_t errlen)
{
	struct fd_sink *f = file_state(s);
	int fd;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fd = open_path(s, sink__target(s), false, err, errlen);
	if (fd < 0)
		return -EIO;
	file_adopt(f, fd);
	return 0;
}

static void file_reopen(struct sink *s)
{
	struct fd_sink *f = sink__priv(s);
	char err[512];
	int fd = open_path(s, sink__target(s), false, err, sizeof(err));

	if (fd < 0) {	/* keep writing to the old file rather than nowhere */
		log__warn("reopen: %s", err);
		sink__count_reopen(s, false);
		return;
	}
	file_adopt(f, fd);
	sink__count_reopen(s, true);
}

static void rotated_name(char *buf, size_t len, const char *path, unsigned k, bool gz)
{
	snprintf(buf, len, "%s.%u%s", path, k, gz ? ".gz" : "");
}

/* src -> dst.tmp (gzip) -> dst, then src removed. */
static int gzip_file(struct sink *s, const char *src, const char *dst)
{
	char tmp[PATH_MAX + 64], buf[65536];
	int in, out;
	gzFile gz;
	ssize_t n;
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -errno;
	unlink(tmp);
	out = open_path(s, tmp, true, buf, sizeof(buf));
	if (out < 0) {
		close(in);
		return out;
	}
	gz = gzdopen(out, "wb6");
	if (!gz) {
		close(out);
		close(in);
		unlink(tmp);
		return -ENOMEM;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (gzwrite(gz, buf, (unsigned)n) != (int)n) {
			r = -EIO;
			break;
		}
	if (n < 0)
		r = -errno;
	if (gzclose(gz) != Z_OK && !r)
		r = -EIO;
	close(in);
	if (!r && rename(tmp, dst))
		r = -errno;
	if (r)
		unlink(tmp);
	else
		unlink(src);
	return r;
}

/* PATH -> PATH.1[.gz], older ones shifted, the oldest past keep removed;
 * then a new PATH. On failure the current file stays in use. */
static void file_rotate(struct sink *s, struct fd_sink *f)
{
	const char *path = sink__target(s);
	char from[PATH_MAX + 16], to[PATH_MAX + 16], plain[PATH_MAX + 16], err[512];
	int fd;

	rotated_name(to, sizeof(to), path, f->keep, f->compress);
	unlink(to);
	for (unsigned k = f->keep; k > 1; k--) {
		rotated_name(from, sizeof(from), path, k - 1, f->compress);
		rotated_name(to, sizeof(to), path, k, f->compress);
		if (rename(from, to) && errno != ENOENT)
			log__warn("rotate %s: %s", from, strerror(errno));
	}
	rotated_name(plain, sizeof(plain), path, 1, false);
	if (rename(path, plain)) {
		log__warn("rotate %s: %s", path, strerror(errno));
		f->retry_after = time(NULL) + 60;
		sink__count_rotation(s, false);
		return;
	}
	fd = open_path(s, path, false, err, sizeof(err));
	if (fd < 0) {	/* put it back and keep writing where we were */
		log__warn("rotate: %s", err);
		if (rename(plain, path))
			log__warn("rotate: %s stays %s: %s", path, plain, strerror(errno));
		f->retry_after = time(NULL) + 60;
		sink__count_rotation(s, false);
		return;
	}
	file_adopt(f, fd);
	sink__count_rotation(s, true);
	if (f->compress) {
		int r;

		rotated_name(to, sizeof(to), path, 1, true);
		r = gzip_file(s, plain, to);
		if (r)	/* the plain file stays: nothing lost */
			log__warn("rotate: gzip %s: %s", plain, strerror(-r));
	}
}

static bool file_due(const struct fd_sink *f, size_t next)
{
	if (!f->size || time(NULL) < f->retry_after)
		return false;	/* an empty file takes at least one line */
	if (f->max_size && f->size + next > f->max_size)
		return true;
	return f->max_age_s && (unsigned long long)(time(NULL) - f->opened) >= f->max_age_s;
}

static int file_write(struct sink *s, const struct sink_line *lines, int n)
{
	struct fd_sink *f = sink__priv(s);
	int done = 0;

	if (!f->max_size && !f->max_age_s) {
		done = write_lines(f->fd, lines, n);
		return done;
	}
	while (done < n) {
		unsigned long long room = 0;
		int k = 0, w;

		if (file_due(f, lines[done].len + 1))
			file_rotate(s, f);
		/* the run of lines that fits in this file */
		while (done + k < n && (!f->max_size || k == 0 ||
					f->size + room + lines[done + k].len + 1 <= f->max_size)) {
			room += lines[done + k].len + 1;
			k++;
		}
		w = write_lines(f->fd, lines + done, k);
		for (int i = 0; i < w; i++)
			f->size += lines[done + i].len + 1;
		done += w;
		if (w < k)
			break;
	}
	return done;
}

const struct sink_ops sink_stdout_ops = {
	.kind = "stdout",
	.open = stdout_open,
	.write = fd_write,
	.close = fd_close,
};

const struct sink_ops sink_file_ops = {
	.kind = "file",
	.set = file_set,
	.open = file_open,
	.write = file_write,
	.reopen = file_reopen,
	.close = fd_close,
};
