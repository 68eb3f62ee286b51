/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket, RUN_DIR/control.sock: a unix stream socket that only
 * root may use (the directory 0700, the socket 0600, and the peer's uid
 * checked with SO_PEERCRED). One request per connection: a command line
 * ("reload", "status", "stop", "stop unpin"), answered with one JSON
 * object, then the agent closes. Used by `vigil reload|status|stop`.
 *
 * Functions return 0 (or a descriptor) or a negative errno and fill a
 * caller-owned err.
 */
#ifndef VIGIL_CTL_H
#define VIGIL_CTL_H

#include <stddef.h>

#define CTL_SOCKET_NAME "control.sock"
#define CTL_MAX_REQUEST 256

/* Make run_dir (0700, root's, not writable by others) and listen on its
 * socket. Refuses if another agent answers there. */
int ctl__listen(const char *run_dir, char *err, size_t errlen);
/* Remove the socket (at stop). */
void ctl__unlink(const char *run_dir);
/* Accept one client, check it is root, read its command (at most 1 s).
 * Returns the client's descriptor, or a negative errno (then nothing to
 * answer). */
int ctl__accept(int lfd, char *cmd, size_t len);
/* Answer and close. */
void ctl__reply(int cfd, const char *text, size_t len);

/* Client: send cmd to the agent of run_dir and read its whole answer
 * (NUL-terminated, free it). */
int ctl__request(const char *run_dir, const char *cmd, char **reply, char *err, size_t errlen);

#endif
