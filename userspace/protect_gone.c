// SPDX-License-Identifier: GPL-2.0
/* Names that went away (unlinked, renamed from): an entry leaves with its
 * file's last link; a file still held open stays protected until closed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "protect_state.h"

#define RECHECK_EVERY_NS (1000000000ull)

enum alive { GONE, UNLINKED_OPEN, LINKED };

int pgone__mount_id(int fd)
{
	struct { struct file_handle fh; unsigned char b[128]; } h;
	int mid = -1;

	h.fh.handle_bytes = 128;
	if (name_to_handle_at(fd, "", &h.fh, &mid, AT_EMPTY_PATH) && errno != EOVERFLOW)
		return -1;
	return mid;
}

/* Is the inode of slot still there? Its handle is opened through a
 * directory of the same mount: hint (the event's directory, mount id
 * hint_mid) or the nearest existing parent of its name. */
static enum alive file_alive(struct protect *p, uint32_t slot, int hint, int hint_mid)
{
	struct pfile *f = &p->files[slot];
	struct { struct file_handle fh; unsigned char b[HANDLE_MAX]; } h;
	char dir[PATH_MAX];
	enum alive ret = GONE;
	struct stat st;
	int mfd = -1, fd;

	if (!f->nhandle)
		return GONE;	/* no way to tell: its name is gone, so is the entry */
	snprintf(dir, sizeof(dir), "%s", f->path);
	if (hint >= 0 && hint_mid == f->mount_id)
		mfd = fcntl(hint, F_DUPFD_CLOEXEC, 0);
	for (char *sl; mfd < 0 && (sl = strrchr(dir, '/'));) {
		int d;

		if (sl == dir)
			sl[1] = '\0';
		else
			*sl = '\0';
		d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);	/* not O_PATH: EBADF */
		if (d >= 0 && pgone__mount_id(d) == f->mount_id)
			mfd = d;
		else if (d >= 0)
			close(d);
		if (sl == dir)
			break;
	}
	if (mfd < 0)
		return GONE;
	h.fh.handle_bytes = f->nhandle;
	h.fh.handle_type = f->handle_type;
	memcpy(h.fh.f_handle, f->handle, f->nhandle);
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	close(mfd);
	if (fd < 0)
		return GONE;
	if (!fstat(fd, &st))
		ret = st.st_nlink ? LINKED : UNLINKED_OPEN;
	close(fd);
	return ret;
}

/* The name `path` went away (unlinked, or renamed from). The entry leaves
 * with its last link; a file someone still holds open stays protected
 * until closed (protect__tick); one with another name stays as it is. */
void pgone__name_gone(struct protect *p, const char *path, int hint, int hint_mid)
{
	long s = ptable__find_path(p, path);
	struct pfile *f;

	if (s < 0)
		return;
	f = &p->files[s];
	switch (file_alive(p, s, hint, hint_mid)) {
	case GONE:
		ptable__remove(p, s);
		return;
	case UNLINKED_OPEN: {
		uint32_t *nu = realloc(p->unlinked, (p->nunlinked + 1) * sizeof(*nu));

		if (!nu)
			return;
		p->unlinked = nu;
		nu[p->nunlinked++] = s;
		f->state = F_UNLINKED;
		break;
	}
	case LINKED:
		break;
	}
	ptable__unindex_path(p, s);
	f->path_stale = true;
}

void protect__tick(struct protect *p)
{
	uint64_t now = clock__mono_ns();

	if (p->nunlinked && now - p->last_recheck_ns >= RECHECK_EVERY_NS) {
		size_t k = 0;

		p->last_recheck_ns = now;
		for (size_t i = 0; i < p->nunlinked; i++) {
			uint32_t s = p->unlinked[i];
			enum alive a = p->files[s].state == F_UNLINKED ? file_alive(p, s, -1, -1)
								       : LINKED;

			if (a == GONE)
				ptable__remove(p, s);
			else if (a == UNLINKED_OPEN)
				p->unlinked[k++] = s;
			else if (p->files[s].state == F_UNLINKED)
				p->files[s].state = F_LIVE;
		}
		p->nunlinked = k;
	}
	plimits__flush(p, false);
}
