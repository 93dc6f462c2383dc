/* SPDX-License-Identifier: MIT */
/*
 * The hook queue against a fake process table and clock: environment
 * values whole, up/down pairs kept under flapping and a hung hook, the
 * order on exit, and no busy loop when fork fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hooks.h"
#include "proto.h"

struct fake {
	int64_t now;
	int fail_spawns; /* this many spawns fail with -ENOMEM */
	unsigned spawn_calls;
	pid_t next_pid;
	struct {
		char event[24];
		int64_t at;
		pid_t pid;
	} ran[256];
	unsigned nran;
	pid_t exit_pid; /* wait() reports this child at exit_at */
	int64_t exit_at;
};

static pid_t fake_spawn(void *ctx, const char *hook, const char *ifname,
			const struct hook_job *j)
{
	struct fake *f = ctx;

	(void)hook;
	(void)ifname;
	f->spawn_calls++;
	if (f->fail_spawns > 0) {
		f->fail_spawns--;
		return -ENOMEM;
	}
	if (f->nran < sizeof(f->ran) / sizeof(f->ran[0])) {
		snprintf(f->ran[f->nran].event, sizeof(f->ran[0].event), "%s", j->event);
		f->ran[f->nran].at = f->now;
		f->ran[f->nran].pid = f->next_pid;
		f->nran++;
	}
	return f->next_pid++;
}

static pid_t fake_wait(void *ctx, int timeout_ms)
{
	struct fake *f = ctx;

	if (f->exit_pid && f->exit_at <= f->now + timeout_ms) {
		pid_t pid = f->exit_pid;

		if (f->exit_at > f->now)
			f->now = f->exit_at;
		f->exit_pid = 0;
		return pid;
	}
	f->now += timeout_ms;
	return 0;
}

static const struct hook_ops fake_ops = { fake_spawn, fake_wait };
static struct fake fk;
static struct hooks hq;
static unsigned spins;

static int64_t fake_now(void)
{
	return fk.now;
}

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.next_pid = 100;
	spins = 0;
	hooks_init(&hq, "/hook", "l2tp0", &fake_ops, &fk);
}

static void event(const char *name)
{
	static struct hook_job j;

	hook_job_init(&j, name, 1446);
	hooks_push(&hq, &j, fk.now);
}

/* The loop's part: at each deadline, run what is due.  Counts the times
 * the deadline stayed at or before now, where the loop would spin. */
static void advance_to(int64_t t)
{
	while (hooks_deadline(&hq) <= t) {
		int64_t d = hooks_deadline(&hq);

		if (d > fk.now)
			fk.now = d;
		hooks_run(&hq, fk.now);
		if (hooks_deadline(&hq) <= fk.now) {
			spins++;
			return;
		}
	}
	fk.now = t;
}

/* The hook's view: ups and downs alternate, up first. */
static bool ran_paired(void)
{
	int up = 0;

	for (unsigned i = 0; i < fk.nran; i++) {
		if (!strcmp(fk.ran[i].event, "session.up"))
			up++;
		else if (!strcmp(fk.ran[i].event, "session.down"))
			up--;
		if (up < 0 || up > 1)
			return false;
	}
	return true;
}

static unsigned ran_count(const char *name)
{
	unsigned n = 0;

	for (unsigned i = 0; i < fk.nran; i++)
		n += !strcmp(fk.ran[i].event, name);
	return n;
}

SUITE(hooks_env_whole)
{
	static struct hook_job j;
	char uuid[PROTO_UUID_MAX + 1], broker[260], want[300];
	static char big[HOOK_ENV_BYTES];
	unsigned n = 0;

	/* 236 ASCII bytes and a 2-byte UTF-8 character: 238 */
	memset(uuid, 'u', PROTO_UUID_MAX - 2);
	memcpy(uuid + PROTO_UUID_MAX - 2, "\xc3\xa9", 3);
	memset(broker, 'b', 253);
	memcpy(broker + 253, ":65535", 7);
	CHECK_EQ(strlen(broker), 259);
	hook_job_init(&j, "session.mtu-changed", 1446);
	CHECK_EQ(hook_job_env(&j, "PATH", "%s",
			      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_EVENT", "%s", "session.mtu-changed"), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_IFNAME", "%s", "abcdefghijklmno"), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_BROKER", "%s", broker), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_BROKER_ADDR", "%s:%u", "255.255.255.255", 65535), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_UUID", "%s", uuid), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_MTU", "%d", -2147483647 - 1), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_TUNNEL_ID", "%u", 4294967295u), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_PEER_TUNNEL_ID", "%u", 4294967295u), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_SESSION_ID", "%u", 4294967295u), 0);
	CHECK_EQ(hook_job_env(&j, "L2TPD_PEER_SESSION_ID", "%u", 4294967295u), 0);
	CHECK_EQ(j.nenv, 11);
	snprintf(want, sizeof(want), "L2TPD_UUID=%s", uuid);
	CHECK(hook_job_var(&j, 5) && !strcmp(hook_job_var(&j, 5), want));
	CHECK_EQ(strlen(hook_job_var(&j, 5)), 11 + 238);
	snprintf(want, sizeof(want), "L2TPD_BROKER=%s", broker);
	CHECK(hook_job_var(&j, 3) && !strcmp(hook_job_var(&j, 3), want));
	CHECK(hook_job_var(&j, 10) &&
	      !strcmp(hook_job_var(&j, 10), "L2TPD_PEER_SESSION_ID=4294967295"));
	CHECK(hook_job_var(&j, 11) == NULL);
	CHECK(!strcmp(j.mtu, "1446"));

	/* what does not fit is refused whole, never cut */
	while (hook_job_env(&j, "X", "%s", uuid) == 0)
		n++;
	CHECK(n <= 1);
	CHECK(j.nenv <= HOOK_VARS);
	for (unsigned i = 0; i < j.nenv; i++)
		CHECK(strlen(hook_job_var(&j, i)) == 11 + 238 ||
		      strncmp(hook_job_var(&j, i), "X=", 2));
	hook_job_init(&j, "session.up", 0);
	memset(big, 'k', HOOK_ENV_BYTES - 2);
	CHECK_EQ(hook_job_env(&j, "K", "%s", big), -ENOSPC);
	CHECK_EQ(j.nenv, 0);
	CHECK_EQ(j.env_used, 0);
}

/* 12 ups and downs, a tunnel flapping every 5 s, every hook hanging. */
SUITE(hooks_flap_pairs)
{
	unsigned most = 0;

	setup();
	for (int i = 0; i < 12; i++) {
		advance_to(i * 5000);
		event(i % 2 ? "session.down" : "session.up");
		if (i % 2 == 0)
			event("session.mtu-changed");
		most = hq.count > most ? hq.count : most;
	}
	CHECK(most <= 4);
	advance_to(200000);
	CHECK_EQ(spins, 0);
	CHECK_EQ(hq.count, 0);
	CHECK_EQ(hq.dropped, 0);
	CHECK(ran_paired());
	CHECK_EQ(ran_count("session.up"), ran_count("session.down"));
	CHECK(ran_count("session.up") >= 2);
	/* the first one runs at once */
	CHECK(fk.nran > 0 && !strcmp(fk.ran[0].event, "session.up"));
	CHECK_EQ(fk.ran[0].at, 0);

	/* 1000 flaps while one hook hangs: bounded, still paired */
	setup();
	most = 0;
	for (int i = 0; i < 2000; i++) {
		advance_to(i * 10);
		event(i % 2 ? "session.down" : "session.up");
		most = hq.count > most ? hq.count : most;
	}
	CHECK(most <= 4);
	advance_to(10000000);
	CHECK_EQ(spins, 0);
	CHECK_EQ(hq.dropped, 0);
	CHECK(ran_paired());
	CHECK_EQ(ran_count("session.up"), ran_count("session.down"));

	/* a newer mtu-changed replaces the queued one */
	setup();
	event("session.up");
	event("session.mtu-changed");
	event("session.mtu-changed");
	CHECK_EQ(hq.count, 1);
	event("session.down");
	CHECK_EQ(hq.count, 2);
	advance_to(100000);
	CHECK_EQ(fk.nran, 3);
	CHECK(ran_paired());
}

/* Exiting: a down starts after its up finished, or not at all. */
SUITE(hooks_stop_order)
{
	/* the up runs 3 s; the down waits for it */
	setup();
	event("session.up");
	CHECK_EQ(fk.nran, 1);
	fk.now = 500;
	event("session.down");
	CHECK_EQ(fk.nran, 1);
	fk.exit_pid = fk.ran[0].pid;
	fk.exit_at = 3000;
	hooks_drain(&hq, fake_now);
	CHECK_EQ(fk.nran, 2);
	CHECK(!strcmp(fk.ran[1].event, "session.down"));
	CHECK(fk.ran[1].at >= 3000);
	CHECK_EQ(hq.count, 0);

	/* an up that never started: neither runs */
	setup();
	event("session.down"); /* of an earlier session: runs */
	event("session.up");
	event("session.down");
	CHECK_EQ(hq.count, 0);
	hooks_drain(&hq, fake_now);
	CHECK_EQ(fk.nran, 1);

	/* a hung up: the down waits its HOOK_T_SERIAL, not forever */
	setup();
	event("session.up");
	event("session.down");
	hooks_drain(&hq, fake_now);
	CHECK_EQ(fk.nran, 2);
	CHECK_EQ(fk.ran[1].at, HOOK_T_SERIAL);

	/* no hook configured: nothing queued, nothing run */
	setup();
	hq.path = NULL;
	event("session.up");
	CHECK_EQ(hq.count, 0);
	CHECK_EQ(fk.nran, 0);
}

/* fork() failing: retried with a back-off, never a deadline in the past. */
SUITE(hooks_spawn_failure)
{
	/* with a hook hung for long: the old busy loop */
	setup();
	event("session.up");
	fk.now = 60000;
	fk.fail_spawns = 1000000;
	event("session.down");
	CHECK_EQ(fk.spawn_calls, 2);
	CHECK(hooks_deadline(&hq) > fk.now);
	advance_to(120000);
	CHECK_EQ(spins, 0);
	/* 60 s: 100+200+...+5000 ms, then every 5 s: about 17 tries */
	CHECK(fk.spawn_calls <= 25);
	CHECK(fk.spawn_calls >= 10);
	CHECK_EQ(hq.count, 1);
	fk.fail_spawns = 0;
	advance_to(130000);
	CHECK_EQ(hq.count, 0);
	CHECK_EQ(fk.nran, 2);
	CHECK(!strcmp(fk.ran[1].event, "session.down"));
	CHECK_EQ(hq.backoff, 0);

	/* nothing running: the first failure schedules the retry */
	setup();
	fk.fail_spawns = 2;
	event("session.up");
	CHECK_EQ(hooks_deadline(&hq), HOOK_T_RETRY_MIN);
	advance_to(HOOK_T_RETRY_MIN);
	CHECK_EQ(hooks_deadline(&hq), 3 * HOOK_T_RETRY_MIN);
	advance_to(3 * HOOK_T_RETRY_MIN);
	CHECK_EQ(fk.nran, 1);
	CHECK_EQ(fk.ran[0].at, 3 * HOOK_T_RETRY_MIN);
	CHECK_EQ(hooks_deadline(&hq), INT64_MAX);

	/* at exit, a failing fork does not hang the drain */
	setup();
	fk.fail_spawns = 1000000;
	event("session.up");
	event("session.mtu-changed");
	fk.now = 1;
	hooks_drain(&hq, fake_now);
	CHECK(hq.count <= 2);
	CHECK(fk.spawn_calls < 40);
}
