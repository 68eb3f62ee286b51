// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "copies.h"
#include "log.h"
#include "notify.h"
#include "persist.h"
#include "pin.h"
#include "state.h"
#include "status.h"

int persist__open(struct agent *a)
{
	static struct pin pin;
	const struct agent_opts *o = a->o;

	if (!o->pin)
		return 0;
	if (pin__open(&pin, o->pin_dir ? o->pin_dir : CONFIG_DEFAULT_PIN_DIR, o->run_dir))
		return -1;
	a->pin = a->ld.pin = &pin;
	a->ld.rs = &a->rs;
	return 0;
}

/* ---- spent budgets across reboots (state.h) ---- */

static void state_save(struct agent *a)
{
	uint64_t spent[VIGIL_MAX_SETS] = { 0 };
	int err;

	for (size_t s = 0; s < a->rs.nsets && s < VIGIL_MAX_SETS && a->budgets.view; s++)
		spent[s] = __atomic_load_n(&a->budgets.view[s].spent, __ATOMIC_SEQ_CST);
	err = state__write(a->o->state_file, &a->rs, spent);
	if (err && err != a->state_err)
		status__error(a, "state file %s: cannot write it: %s (spent budgets would not "
			      "survive a reboot)", a->o->state_file, strerror(-err));
	a->state_err = err;
}

void persist__restore(struct agent *a)
{
	struct state_sets st;
	uint64_t now = (uint64_t)time(NULL);
	char why[256];
	int err;

	copies__restore(a);	/* before attach: a copy is protected before anyone reads it */
	if (a->pin && a->pin->adopted)	/* windows go on where the old agent was */
		for (unsigned i = 0; i < a->pin->old.nsets; i++)
			a->budgets.window_start[i] = a->pin->old.window_start[i];
	if (!a->o->state_file || (a->pin && a->pin->adopted) || !a->budgets.view)
		return;
	err = state__read(a->o->state_file, &st, why, sizeof(why));
	if (err == -ENOENT)
		return;
	for (size_t s = 0; s < a->rs.nsets && s < VIGIL_MAX_SETS; s++) {
		const struct protect_set *ps = &a->rs.sets[s];
		uint64_t v = err ? (a->o->enforce ? a->budgets.limit[s] : 0) :
			     state__spent_for(&st, ps->name,
					      ps->has_window ? ps->window_s : a->rs.default_window_s,
					      now);

		if (v)
			__atomic_fetch_add(&a->budgets.view[s].spent, v, __ATOMIC_SEQ_CST);
	}
	if (err)
		snprintf(a->state_why, sizeof(a->state_why), "state file %s: %s", why,
			 a->o->enforce ? "every budget counts as spent (fail closed)" :
			 "budgets start afresh");
}

/* ---- pinned enforcement (pin.h) ---- */

void persist__started(struct agent *a)
{
	if (a->state_why[0])
		status__error(a, "%s", a->state_why);
	if (a->copies_why[0])
		status__error(a, "%s", a->copies_why);
	if (a->pin) {
		if (a->pin->found)
			status__adopt(a);
		pin__write_ledger(a->pin, false, &a->rs, a->budgets.window_start);
	}
}

void persist__tick(struct agent *a)
{
	if (a->pin)
		pin__write_ledger(a->pin, false, &a->rs, a->budgets.window_start);
	if (a->o->state_file) {
		state_save(a);
		copies__save(a, false);
	}
	notify__watchdog();	/* the unit's liveness, beside the ledger's */
}

void persist__stop(struct agent *a)
{
	if (a->o->state_file) {
		state_save(a);
		copies__save(a, true);
	}
}

void persist__close(struct agent *a)
{
	if (a->pin && a->unpin) {
		pin__remove(a->pin->dir, a->o->run_dir);
		log__info("pins removed: enforcement stops with this agent");
	} else if (a->pin && a->ld.nlinks) {
		pin__write_ledger(a->pin, true, &a->rs, a->budgets.window_start);
		log__info("pinned programs in %s keep enforcing ('vigil stop --unpin' removes "
			  "them)", a->pin->dir);
	}
}
