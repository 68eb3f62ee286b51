// SPDX-License-Identifier: GPL-2.0
/* Protect by intent's limits (docs/SECURITY.md): owners and the files and
 * watches each holds, the owner a set expects, per-set and table limits;
 * what they refuse is counted and reported, one line per cause a minute. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "protect_state.h"

#define REPORT_EVERY_NS (60ull * 1000000000ull)

struct owner *plimits__owner(struct protect *p, uint32_t uid)
{
	size_t h;

	for (h = (uid * 0x9E3779B1u) & (p->owners_cap - 1); p->owners_cap && p->owners[h].used;
	     h = (h + 1) & (p->owners_cap - 1))
		if (p->owners[h].uid == uid)
			return &p->owners[h];
	/* a new owner: grow first (pointers to owners live only until here) */
	if ((p->nowners + 1) * 2 > p->owners_cap) {
		size_t ncap = p->owners_cap ? p->owners_cap * 2 : 64;
		struct owner *no = calloc(ncap, sizeof(*no));

		if (!no)
			return NULL;
		for (size_t i = 0; i < p->owners_cap; i++) {
			if (!p->owners[i].used)
				continue;
			for (h = (p->owners[i].uid * 0x9E3779B1u) & (ncap - 1); no[h].used;
			     h = (h + 1) & (ncap - 1))
				;
			no[h] = p->owners[i];
		}
		free(p->owners);
		p->owners = no;
		p->owners_cap = ncap;
	}
	for (h = (uid * 0x9E3779B1u) & (p->owners_cap - 1); p->owners[h].used;
	     h = (h + 1) & (p->owners_cap - 1))
		;
	p->owners[h] = (struct owner){ .uid = uid, .used = true };
	p->nowners++;
	return &p->owners[h];
}

static const char *user_name(uint32_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, len, "%s", pw ? pw->pw_name : "no such user");
	return buf;
}

/* A file or directory left out: counted, reported by flush_reports. */
void plimits__refuse(struct protect *p, enum rkind kind, uint32_t key, const char *path,
		   const char *detail)
{
	struct report *r = NULL, *nr;

	for (size_t i = 0; i < p->nreports && !r; i++)
		if (p->reports[i].kind == kind && p->reports[i].key == key)
			r = &p->reports[i];
	if (!r) {
		nr = realloc(p->reports, (p->nreports + 1) * sizeof(*nr));
		if (!nr)
			return;
		p->reports = nr;
		r = &nr[p->nreports++];
		memset(r, 0, sizeof(*r));
		r->kind = kind;
		r->key = key;
	}
	if (!r->first) {
		r->first = strdup(path);
		snprintf(r->detail, sizeof(r->detail), "%s", detail ? detail : "");
	}
	r->pending++;
	r->total++;
	if (kind == R_OWNER_WATCHES || kind == R_WATCH_TOTAL || kind == R_SET_WATCHES)
		p->watches_skipped++;
	else if (kind == R_LINK || kind == R_ROOT_LINK)
		p->links++;
	else if (kind != R_NOTICE)
		p->skipped++;
}

void plimits__flush(struct protect *p, bool force)
{
	uint64_t now = clock__mono_ns();

	for (size_t i = 0; i < p->nreports; i++) {
		struct report *r = &p->reports[i];
		char msg[PATH_MAX + 2048], more[64] = "", who[64];
		const char *path = r->first ? r->first : "?";

		if (!p->report)
			return;	/* kept until there is somewhere to say it */
		if (!r->pending || (!force && r->last_ns && now - r->last_ns < REPORT_EVERY_NS))
			continue;
		if (r->pending > 1)
			snprintf(more, sizeof(more), " and %zu more", r->pending - 1);
		switch (r->kind) {
		case R_OWNER_FILES:
			snprintf(msg, sizeof(msg), "not protected: %s%s: uid %u (%s) already owns "
				 "%s protected files, the limit per owner (limits: files_per_owner)",
				 path, more, r->key, user_name(r->key, who, sizeof(who)), r->detail);
			break;
		case R_RESERVED:
			snprintf(msg, sizeof(msg), "not protected: %s%s: files of owners other "
				 "than root fill 3/4 of the protected-file table (%s entries); "
				 "the rest is kept for root's files", path, more, r->detail);
			break;
		case R_TABLE:
			snprintf(msg, sizeof(msg), "not protected: %s%s: the protected-file "
				 "table is full (%s entries)", path, more, r->detail);
			break;
		case R_SET_FILES:
			snprintf(msg, sizeof(msg), "not protected: %s%s: %s", path, more, r->detail);
			break;
		case R_OWNER_MISMATCH:
			snprintf(msg, sizeof(msg), "not protected: %s%s: owned by uid %u (%s), "
				 "not by %s", path, more, r->key,
				 user_name(r->key, who, sizeof(who)), r->detail);
			break;
		case R_MAP:
			snprintf(msg, sizeof(msg), "not protected: %s%s: adding it to the "
				 "kernel's protected-file map failed: %s", path, more, r->detail);
			break;
		case R_OWNER_WATCHES:
			snprintf(msg, sizeof(msg), "not watched: %s%s: uid %u (%s) already owns "
				 "%s watched directories, the limit per owner (limits: "
				 "watches_per_owner); weights created there later are protected "
				 "only at the next reload or restart", path, more, r->key,
				 user_name(r->key, who, sizeof(who)), r->detail);
			break;
		case R_SET_WATCHES:
		case R_WATCH_TOTAL:
			snprintf(msg, sizeof(msg), "not watched: %s%s: %s; weights created "
				 "there later are protected only at the next reload or restart",
				 path, more, r->detail);
			break;
		case R_LINK:
			snprintf(msg, sizeof(msg), "not protected: %s%s: a symlink of uid %u (%s) "
				 "to %s, which no protect set covers; vigil never follows links "
				 "(a link's target is protected only where it lies itself)", path,
				 more, r->key, user_name(r->key, who, sizeof(who)), r->detail);
			break;
		case R_ROOT_LINK:
			snprintf(msg, sizeof(msg), "not walked: %s%s: %s", path, more, r->detail);
			break;
		case R_NOTICE:
			snprintf(msg, sizeof(msg), "%s", r->detail);
			break;
		}
		p->report(p->report_ctx, msg);
		free(r->first);
		r->first = NULL;
		r->pending = 0;
		r->last_ns = now;
	}
}

/* Owner of /home/<name> for a path below it, -1 if the path is not in a
 * home (or the home cannot be examined). */
static long home_owner(struct protect *p, const char *path)
{
	const char *name = path + 6, *end;
	char dir[PATH_MAX];
	struct stat st;

	if (strncmp(path, "/home/", 6) || !(end = strchr(name, '/')) ||
	    (size_t)(end - name) > NAME_MAX || end == name)
		return -1;
	if (strlen(p->home_name) == (size_t)(end - name) &&
	    !strncmp(p->home_name, name, end - name))
		return p->home_uid;
	snprintf(dir, sizeof(dir), "%.*s", (int)(end - path), path);
	snprintf(p->home_name, sizeof(p->home_name), "%.*s", (int)(end - name), name);
	/* stat, not lstat: only root can put a link into /home (/home/alice ->
	 * /data/alice), and then the directory it leads to is the home */
	p->home_uid = stat(dir, &st) ? -1 : (long)st.st_uid;
	return p->home_uid;
}

/* Does the owner of this file fit the set (owner:, or the default)? */
bool plimits__owner_ok(struct protect *p, const struct protect_set *s, const char *path,
		     uint32_t uid, char *why, size_t len)
{
	long home = home_owner(p, path);

	if (s->has_owner) {
		const struct owner_rule *o = &s->owner;

		if (o->any || (o->home && home >= 0 && (uint32_t)home == uid))
			return true;
		for (size_t i = 0; i < o->nuids; i++)
			if (o->uids[i] == uid)
				return true;
		snprintf(why, len, "an owner protect set '%s' accepts (its owner: key)", s->name);
		return false;
	}
	if (home < 0 || uid == 0 || (uint32_t)home == uid)
		return true;
	snprintf(why, len, "root or the owner of its home (uid %ld), as protect set '%s' "
		 "expects with no owner: key", home, s->name);
	return false;
}

size_t plimits__capacity(const struct protect *p)
{
	return p->capacity ? p->capacity : VIGIL_MAX_PROTECTED_FILES;
}

unsigned long long plimits__files_per_owner(const struct protect *p)
{
	return p->rs->limits.files_per_owner ? p->rs->limits.files_per_owner
					     : RULES_FILES_PER_OWNER;
}

/* Whether set s may take one more file; reports why not. */
bool plimits__set_has_room(struct protect *p, size_t s, const char *path)
{
	const struct protect_set *set = &p->rs->sets[s];
	char d[200];

	if (!set->max_files || p->set_files[s] < set->max_files)
		return true;
	snprintf(d, sizeof(d), "protect set '%s' holds its max_files (%llu)", set->name,
		 set->max_files);
	plimits__refuse(p, R_SET_FILES, (uint32_t)s, path, d);
	return false;
}

unsigned long long plimits__watches_per_owner(const struct protect *p)
{
	return p->rs->limits.watches_per_owner ? p->rs->limits.watches_per_owner
					       : RULES_WATCHES_PER_OWNER;
}
