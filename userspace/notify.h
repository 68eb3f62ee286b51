/* SPDX-License-Identifier: GPL-2.0 */
/* systemd's readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram of "KEY=VALUE" lines to $NOTIFY_SOCKET, if it is set. */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

/* Send state ("READY=1", "RELOADING=1", ...); 0 if sent or there is no
 * $NOTIFY_SOCKET, else a negative errno. */
int notify__send(const char *state);
/* "WATCHDOG=1" when systemd asked for it ($WATCHDOG_USEC, $WATCHDOG_PID):
 * called from the event loop's 1 s duty, so a hung loop misses it and
 * systemd restarts the agent (WatchdogSec=, Restart=on-failure). */
int notify__watchdog(void);

#endif
