// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	default: return "not a regular file";
	}
}

static int blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) ? -errno : 0;
}

int safefile__open_input(const char *path, unsigned long long max, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO with no writer must not wait for one */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int ret;

	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(err, errlen, "%s: not a regular file (%s)", path, type_name(st.st_mode));
		goto bad;
	}
	if ((unsigned long long)st.st_size > max) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: too big (%llu bytes, at most %llu)", path,
			 (unsigned long long)st.st_size, max);
		goto bad;
	}
	if ((ret = blocking(fd))) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return ret;
}

int safefile__read(const char *path, size_t max, char **out, size_t *len,
		   char *err, size_t errlen)
{
	int fd = safefile__open_input(path, max, err, errlen);
	size_t cap = 0, n = 0;
	char *buf = NULL;
	int ret = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t k;

		if (cap - n < 4096 + 1) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb;

			if (ncap > max + 4096 + 1)
				ncap = max + 4096 + 1;
			nb = ncap > cap ? realloc(buf, ncap) : NULL;
			if (!nb) {
				ret = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory", path);
				break;
			}
			buf = nb;
			cap = ncap;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
			break;
		}
		if (!k)
			break;
		n += k;
		if (n > max) {	/* it grew after fstat */
			ret = -EFBIG;
			snprintf(err, errlen, "%s: too big (more than %zu bytes)", path, max);
			break;
		}
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	if (!buf && !(buf = malloc(1))) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int safefile__open_output(const char *path, bool truncate, gid_t gid, char *err, size_t errlen)
{
	int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
		    (truncate ? 0 : O_APPEND);
	mode_t mode = gid == (gid_t)-1 ? 0600 : 0640;
	bool created = true;
	struct stat st;
	int fd, ret;

	fd = open(path, flags | O_CREAT | O_EXCL, mode);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = open(path, flags);
	}
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
			 "is a symbolic link (vigil does not write through links)" :
			 errno == ENXIO ? "not a regular file (a FIFO)" : strerror(errno));
		return ret;
	}
	ret = -EPERM;
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s)", path, type_name(st.st_mode));
	} else if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not by uid %u that vigil runs as",
			 path, (unsigned)st.st_uid, (unsigned)geteuid());
	} else if (st.st_nlink != 1) {
		snprintf(err, errlen, "%s: has %lu hard links (another name for another file?)",
			 path, (unsigned long)st.st_nlink);
	} else if (st.st_mode & S_IWOTH) {
		snprintf(err, errlen, "%s: writable by every user (mode %04o)", path,
			 (unsigned)(st.st_mode & 07777));
	} else {
		ret = 0;
	}
	/* created, or rewritten whole: exactly our mode and group, whatever
	 * the umask or the old file said */
	if (!ret && (created || truncate) &&
	    ((gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid)) || fchmod(fd, mode))) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot set mode or group: %s", path, strerror(errno));
	}
	if (!ret && truncate && ftruncate(fd, 0)) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot truncate: %s", path, strerror(errno));
	}
	if (!ret && (ret = blocking(fd)))
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}
