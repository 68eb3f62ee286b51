/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copies of the weights that survive a reboot (or an unpinned stop): the
 * copies file, beside the state file (`STATE_FILE.copies`). A file a
 * tainted process wrote is protected by the kernel (vg_files) and named by
 * the derived-file ledger (derived.h); a reboot clears both, so a copy made
 * before it would leave unnoticed after it. The agent writes every copy it
 * knows (its path, inode, sets, the original files and the hops behind
 * it) to this file, atomically and signed like the state file (state.h),
 * once a second when it changed and at stop. An agent that starts without
 * pinned state to adopt protects again each copy that is still there (the
 * same inode at the same path), under its old id, with its origin: its
 * readers' alerts name the weights, as before the reboot. An adopted agent
 * (the kernel kept the copies) restores only the names and origins.
 *
 * A file that exists but does not validate: an agent_error naming it, and
 * nothing is taken from it (a spent budget can fail closed; a list of
 * copies that cannot be trusted names nothing to protect).
 */
#ifndef VIGIL_COPIES_H
#define VIGIL_COPIES_H

#include <stdbool.h>
#include <stddef.h>

struct agent;

/* Before attach: restore the copies file's copies (see above). */
void copies__restore(struct agent *a);
/* Every second and at stop: write the file if the copies changed
 * (force: write it anyway). */
void copies__save(struct agent *a, bool force);

#endif
