/* SPDX-License-Identifier: MIT */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"

int rundir_open(struct rundir *d, const char *path, uid_t uid)
{
	struct stat st;
	int fd, err;

	d->fd = -1;
	d->path = path;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	err = !S_ISDIR(st.st_mode) ? -ENOTDIR : st.st_uid != uid ? -EPERM :
	      (st.st_mode & (S_IWGRP | S_IWOTH)) ? -EACCES : 0;
	if (err)
		goto fail;
	d->fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

void rundir_close(struct rundir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/* Whoever holds name wrote a line into it; at most cap - 1 bytes of it. */
static void read_holder(int fd, char *other, size_t cap)
{
	ssize_t n = pread(fd, other, cap - 1, 0);

	other[n > 0 ? n : 0] = '\0';
	other[strcspn(other, "\n")] = '\0';
}

int rundir_lock(struct rundir *d, const char *name, const char *holder,
		char *other, size_t cap)
{
	size_t n = strlen(holder);
	int fd, err;

	/* 0600: flock() works on a read-only descriptor, so a lock file
	 * anyone can open is a lock anyone can squat. */
	fd = openat(d->fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0)
		goto fail;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (err == -EBUSY && cap)
			read_holder(fd, other, cap);
		close(fd);
		return err;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, holder, n, 0) != (ssize_t)n ||
	    pwrite(fd, "\n", 1, (off_t)n) != 1)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err ? err : -EIO;
}

int rundir_write(struct rundir *d, const char *name, const char *text,
		 size_t n)
{
	char tmp[300];
	ssize_t w;
	int fd, k;

	k = fmt_snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (k < 0 || (size_t)k >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* A leftover, or anything planted under that name, goes first:
	 * O_EXCL|O_NOFOLLOW then create the one file written to. */
	if (unlinkat(d->fd, tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return -errno;
	w = write(fd, text, n);
	k = w < 0 ? -errno : w != (ssize_t)n ? -EIO : 0;
	if (close(fd) < 0 && !k)
		k = -errno;
	if (k) {
		(void)unlinkat(d->fd, tmp, 0);
		return k;
	}
	if (renameat(d->fd, tmp, d->fd, name) < 0) {
		k = -errno;
		(void)unlinkat(d->fd, tmp, 0);
		return k;
	}
	return 0;
}

int rundir_remove(struct rundir *d, const char *name)
{
	return unlinkat(d->fd, name, 0) < 0 ? -errno : 0;
}
