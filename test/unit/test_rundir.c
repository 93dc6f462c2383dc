/* SPDX-License-Identifier: MIT */
/*
 * The run directory in a temporary directory: who may own it, locks that
 * exclude and name their holder, and status files no symlink can redirect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "rundir.h"

static char base[64], dir[96];

static void remove_base(void)
{
	char cmd[128];

	if (!base[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("  (could not remove %s)\n", base);
	base[0] = '\0';
}

static void fresh(void)
{
	remove_base();
	snprintf(base, sizeof(base), "/tmp/l2tpd-rundir.XXXXXX");
	if (!mkdtemp(base))
		base[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/run", base);
}

static const char *at(const char *name)
{
	static char p[160];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

SUITE(rundir_owner)
{
	struct rundir d;
	struct stat st;
	int fd;

	fresh();
	CHECK(base[0] != '\0');
	/* created 0755 when missing */
	umask(022);
	CHECK_EQ(rundir_open(&d, dir, geteuid()), 0);
	CHECK(d.fd >= 0);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0755);
	rundir_close(&d);
	CHECK_EQ(d.fd, -1);
	/* an existing one is used as it is */
	CHECK_EQ(rundir_open(&d, dir, geteuid()), 0);
	rundir_close(&d);

	/* another owner */
	CHECK_EQ(rundir_open(&d, dir, geteuid() + 1), -EPERM);
	CHECK_EQ(d.fd, -1);
	/* group or other may write */
	CHECK(chmod(dir, 0775) == 0);
	CHECK_EQ(rundir_open(&d, dir, geteuid()), -EACCES);
	CHECK(chmod(dir, 0757) == 0);
	CHECK_EQ(rundir_open(&d, dir, geteuid()), -EACCES);
	CHECK(chmod(dir, 01777) == 0);
	CHECK_EQ(rundir_open(&d, dir, geteuid()), -EACCES);
	CHECK(chmod(dir, 0700) == 0);
	CHECK_EQ(rundir_open(&d, dir, geteuid()), 0);
	rundir_close(&d);

	/* not a directory, or a symlink to one */
	CHECK(rename(dir, at("../real")) == 0);
	CHECK(symlink("real", dir) == 0);
	CHECK_EQ(rundir_open(&d, dir, geteuid()), -ENOTDIR);
	CHECK(unlink(dir) == 0);
	fd = open(dir, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(rundir_open(&d, dir, geteuid()), -ENOTDIR);
	/* a parent that is missing */
	CHECK_EQ(rundir_open(&d, "/nonexistent-l2tpd/x/y", geteuid()), -ENOENT);
}

SUITE(rundir_lock)
{
	struct rundir d;
	char other[64];
	struct stat st;
	int a, b, fd;

	fresh();
	CHECK_EQ(rundir_open(&d, dir, geteuid()), 0);
	a = rundir_lock(&d, "tunnel-1.lock", "l2tp0", other, sizeof(other));
	CHECK(a >= 0);
	CHECK(fcntl(a, F_GETFD) & FD_CLOEXEC);
	/* a second holder is refused and told who has it */
	memset(other, 'Z', sizeof(other));
	b = rundir_lock(&d, "tunnel-1.lock", "mesh1", other, sizeof(other));
	CHECK_EQ(b, -EBUSY);
	CHECK(!strcmp(other, "l2tp0"));
	/* another name is another lock */
	b = rundir_lock(&d, "tunnel-2.lock", "mesh1", other, sizeof(other));
	CHECK(b >= 0);
	close(b);
	/* released with its holder */
	close(a);
	b = rundir_lock(&d, "tunnel-1.lock", "mesh1", other, sizeof(other));
	CHECK(b >= 0);
	CHECK(slurp(at("tunnel-1.lock"), other, sizeof(other)) == 6);
	CHECK(!strcmp(other, "mesh1\n"));
	/* only the owner may open a lock file: flock() needs no write access */
	CHECK(stat(at("tunnel-1.lock"), &st) == 0 && (st.st_mode & 0777) == 0600);
	close(b);
	fd = open(at("old.lock"), O_WRONLY | O_CREAT, 0666);
	CHECK(fd >= 0);
	close(fd);
	CHECK(chmod(at("old.lock"), 0666) == 0);
	b = rundir_lock(&d, "old.lock", "a-longer-name-than-fits", other, 4);
	CHECK(b >= 0);
	CHECK(stat(at("old.lock"), &st) == 0 && (st.st_mode & 0777) == 0600);
	/* the holder's text is cut to what the caller has room for */
	CHECK_EQ(rundir_lock(&d, "old.lock", "x", other, 4), -EBUSY);
	CHECK(!strcmp(other, "a-l"));
	close(b);
	/* a symlink is not followed */
	CHECK(symlink("../victim", at("link.lock")) == 0);
	CHECK_EQ(rundir_lock(&d, "link.lock", "x", other, sizeof(other)), -ELOOP);
	CHECK(access(at("../victim"), F_OK) != 0);
	rundir_close(&d);
}

SUITE(rundir_status_file)
{
	static const char text[] = "state=keepalive\nmtu=1446\n";
	static char longname[300];
	char buf[256];
	struct rundir d;
	struct stat st;
	int fd;

	fresh();
	CHECK_EQ(rundir_open(&d, dir, geteuid()), 0);
	CHECK_EQ(rundir_write(&d, "l2tp0.state", text, strlen(text)), 0);
	CHECK_EQ(slurp(at("l2tp0.state"), buf, sizeof(buf)), strlen(text));
	CHECK(!strcmp(buf, text));
	CHECK(access(at("l2tp0.state.tmp"), F_OK) != 0);

	/* a symlink planted as the temporary file: removed, not followed */
	fd = open(at("../victim"), O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0 && write(fd, "victim\n", 7) == 7);
	close(fd);
	CHECK(symlink("../victim", at("l2tp0.state.tmp")) == 0);
	CHECK_EQ(rundir_write(&d, "l2tp0.state", "state=x\n", 8), 0);
	CHECK(slurp(at("../victim"), buf, sizeof(buf)) == 7);
	CHECK(!strcmp(buf, "victim\n"));
	CHECK(lstat(at("l2tp0.state"), &st) == 0 && S_ISREG(st.st_mode));
	CHECK(slurp(at("l2tp0.state"), buf, sizeof(buf)) == 8);

	/* ... or as the status file itself: replaced, not written through */
	CHECK(unlink(at("l2tp0.state")) == 0);
	CHECK(symlink("../victim", at("l2tp0.state")) == 0);
	CHECK_EQ(rundir_write(&d, "l2tp0.state", text, strlen(text)), 0);
	CHECK(slurp(at("../victim"), buf, sizeof(buf)) == 7);
	CHECK(lstat(at("l2tp0.state"), &st) == 0 && S_ISREG(st.st_mode));
	CHECK((st.st_mode & 0777) == 0644);

	/* a leftover temporary file with other content goes first */
	fd = open(at("l2tp0.state.tmp"), O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, "leftover-leftover-leftover-leftover\n", 36) == 36);
	close(fd);
	CHECK_EQ(rundir_write(&d, "l2tp0.state", "state=y\n", 8), 0);
	CHECK(slurp(at("l2tp0.state"), buf, sizeof(buf)) == 8);
	CHECK(!strcmp(buf, "state=y\n"));

	/* a name too long for the temporary */
	memset(longname, 'n', sizeof(longname) - 1);
	CHECK_EQ(rundir_write(&d, longname, "x", 1), -ENAMETOOLONG);

	CHECK_EQ(rundir_remove(&d, "l2tp0.state"), 0);
	CHECK(access(at("l2tp0.state"), F_OK) != 0);
	CHECK_EQ(rundir_remove(&d, "l2tp0.state"), -ENOENT);
	rundir_close(&d);
	remove_base();
}
