// SPDX-License-Identifier: GPL-2.0
/* fuse_forward MOUNTPOINT HOST PORT: a FUSE filesystem holding one file,
 * "upload", whose every write is sent on to HOST:PORT over TCP — what
 * s3fs, rclone mount or sshfs do with the bytes a process writes into
 * them: the kernel hands them to this daemon through /dev/fuse, and the
 * daemon, not the writer, sends them out. Runs in the foreground until
 * unmounted; prints "ready" on stdout once mounted. */
#define FUSE_USE_VERSION 31
#include <arpa/inet.h>
#include <errno.h>
#include <fuse.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *host, *port;
static int sock = -1;
static off_t written;

static int fwd_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, "/upload"))
		return -ENOENT;
	st->st_mode = S_IFREG | 0666;
	st->st_nlink = 1;
	st->st_size = written;
	return 0;
}

static int fwd_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off; (void)fi; (void)flags;
	if (strcmp(path, "/"))
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "upload", NULL, 0, 0);
	return 0;
}

static int fwd_open(const char *path, struct fuse_file_info *fi)
{
	(void)fi;
	return strcmp(path, "/upload") ? -ENOENT : 0;
}

static int fwd_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi; (void)size;
	return strcmp(path, "/upload") ? -ENOENT : 0;
}

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, host, &a.sin_addr);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;

		if (s >= 0)
			close(s);
		return -err;
	}
	return s;
}

static int fwd_write(const char *path, const char *buf, size_t len, off_t off,
		     struct fuse_file_info *fi)
{
	size_t done = 0;

	(void)fi; (void)off;
	if (strcmp(path, "/upload"))
		return -ENOENT;
	if (sock < 0 && (sock = dial()) < 0) {
		int err = sock;

		sock = -1;
		return err;
	}
	while (done < len) {
		ssize_t n = send(sock, buf + done, len - done, MSG_NOSIGNAL);

		if (n < 0)
			return -errno;
		done += n;
	}
	written += len;
	return (int)len;
}

static int fwd_release(const char *path, struct fuse_file_info *fi)
{
	(void)path; (void)fi;
	if (sock >= 0) {
		close(sock);	/* one connection per open: the sink counts it whole */
		sock = -1;
	}
	return 0;
}

static void *fwd_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->direct_io = 0;
	printf("ready\n");
	fflush(stdout);
	return NULL;
}

static const struct fuse_operations ops = {
	.getattr = fwd_getattr, .readdir = fwd_readdir, .open = fwd_open,
	.truncate = fwd_truncate, .write = fwd_write, .release = fwd_release,
	.init = fwd_init,
};

int main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-f", "-s", "-o", "auto_unmount", NULL, NULL };

	if (argc != 4) {
		fprintf(stderr, "usage: fuse_forward MOUNTPOINT HOST PORT\n");
		return 2;
	}
	host = argv[2];
	port = argv[3];
	fargv[5] = argv[1];
	return fuse_main(6, fargv, &ops, NULL);
}
