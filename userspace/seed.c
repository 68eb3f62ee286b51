// SPDX-License-Identifier: GPL-2.0
/* Seeding taint from /proc: every in-scope process's fds and mappings. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "correlate.h"
#include "protect.h"
#include "seed.h"
#include "tls.h"

static void seed_one(struct agent *a, pid_t pid, uint64_t kdev, uint64_t ino, int *seeded)
{
	uint32_t mask;
	int id = protect__lookup(a->prot, kdev, ino, &mask);
	struct vigil_taint t = { 0 };

	if (id <= 0)
		return;
	t.set_mask = mask;
	t.via = VIGIL_VIA_PREEXISTING;
	t.first_file_id = id;
	t.since_ns = clock__mono_ns();
	if (kmaps__taint_start(a->ld.skel, pid, &t) == 0)
		(*seeded)++;
	tls__scan_pid(a->tls, pid);	/* no TAINT record: its TLS uprobes now */
	corr__inject(a->corr, pid, 0, VIGIL_VIA_PREEXISTING, id, mask, 0, t.since_ns);
}

int seed__processes(struct agent *a)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;
	int seeded = 0;

	if (!proc)
		return 0;
	while ((d = readdir(proc))) {
		char path[PATH_MAX], line[1024];
		pid_t pid = atoi(d->d_name);
		struct dirent *fe;
		DIR *fds;
		FILE *maps;

		if (pid <= 0 || pid == getpid() || !scope__contains(&a->scope, pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		if ((fds = opendir(path))) {
			while ((fe = readdir(fds))) {
				char fp[PATH_MAX];
				struct stat st;

				if (fe->d_name[0] == '.')
					continue;
				snprintf(fp, sizeof(fp), "/proc/%d/fd/%s", pid, fe->d_name);
				if (!stat(fp, &st) && S_ISREG(st.st_mode))
					seed_one(a, pid, protect__kdev(st.st_dev), st.st_ino, &seeded);
			}
			closedir(fds);
		}
		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
		if ((maps = fopen(path, "r"))) {
			while (fgets(line, sizeof(line), maps)) {
				unsigned maj, min;
				unsigned long long ino;

				if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 && ino)
					seed_one(a, pid, ((uint64_t)maj << 20) | min, ino, &seeded);
			}
			fclose(maps);
		}
	}
	closedir(proc);
	return seeded;
}
