/* SPDX-License-Identifier: MIT */
/*
 * The run directory (/var/run/l2tpd): one-instance locks and status files.
 *
 * Only the owner may hold a lock or plant a file there, so the directory
 * is refused unless it belongs to that owner and nobody else can write to
 * it.  Locks are flock()s on files only the owner can open; the kernel
 * drops them when the holder dies, so a crash leaves nothing stale.  Every
 * file is opened relative to the checked directory and never through a
 * symlink.
 */
#ifndef L2TPD_RUNDIR_H
#define L2TPD_RUNDIR_H

#include <stddef.h>
#include <sys/types.h>

#define RUNDIR_PATH "/var/run/l2tpd"

struct rundir {
	int fd; /* the directory, -1 if not open */
	const char *path;
};

/*
 * Creates path 0755 if missing and opens it.  0, or -ENOTDIR (not a
 * directory, or a symlink), -EPERM (another owner than uid), -EACCES (group
 * or other may write), or another -errno.
 */
int rundir_open(struct rundir *d, const char *path, uid_t uid);
void rundir_close(struct rundir *d);

/*
 * Takes the lock name (a file in the directory) and writes holder into it,
 * for whoever finds it taken.  The lock's fd (close-on-exec, kept open for
 * as long as the lock is held), or -EBUSY with the holder's text in
 * other[cap] (may be empty), or another -errno.
 */
int rundir_lock(struct rundir *d, const char *name, const char *holder,
		char *other, size_t cap);

/* Replaces name with text in one rename: a reader never sees half of it.
 * 0 or -errno. */
int rundir_write(struct rundir *d, const char *name, const char *text,
		 size_t n);
int rundir_remove(struct rundir *d, const char *name);

#endif
