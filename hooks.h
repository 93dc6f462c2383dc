/* SPDX-License-Identifier: MIT */
/*
 * The hook queue: session.up, session.down and session.mtu-changed run one
 * at a time, in the order they happened, each with a snapshot of the facts
 * at the time of the event.
 *
 * Queued events coalesce, so the queue stays bounded however long a hook
 * hangs: an up that has not started yet and its own down are both dropped,
 * and a queued mtu-changed is replaced by a newer one.  A hook never sees a
 * down without the up before it, or an up whose down is lost.
 *
 * A hook still running after HOOK_T_SERIAL stops holding up the next one.
 * A failed spawn (fork under memory pressure) is retried with a back-off
 * and logged once.  Processes are started and reaped through hook_ops, so
 * the queue runs in tests without forking.
 */
#ifndef L2TPD_HOOKS_H
#define L2TPD_HOOKS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HOOK_QUEUE 8
#define HOOK_VARS 12
/* Every variable at its longest: PATH, UUID=238 bytes, BROKER=host:port
 * with a 255-byte host, BROKER_ADDR and eight numbers. */
#define HOOK_ENV_BYTES 1024
#define HOOK_T_SERIAL 10000
#define HOOK_T_RETRY_MIN 100
#define HOOK_T_RETRY_MAX 5000
#define HOOK_T_RETRY_DRAIN 800

struct hook_job {
	char event[24];
	char mtu[12];
	char env[HOOK_ENV_BYTES]; /* NUL-separated KEY=value strings */
	uint16_t env_at[HOOK_VARS];
	unsigned nenv;
	size_t env_used;
};

struct hook_ops {
	/* Starts hook for j; the pid, or -errno. */
	pid_t (*spawn)(void *ctx, const char *hook, const char *ifname,
		       const struct hook_job *j);
	/* Waits up to timeout_ms for a child to exit: its pid, or 0. */
	pid_t (*wait)(void *ctx, int timeout_ms);
};

struct hooks {
	const char *path; /* NULL: no hook, events are only logged */
	const char *ifname;
	const struct hook_ops *ops;
	void *ctx;
	struct hook_job queue[HOOK_QUEUE];
	unsigned count;
	pid_t pid; /* the hook running, 0 if none */
	int64_t started;
	int64_t retry_at; /* after a failed spawn; 0 otherwise */
	int64_t backoff;
	unsigned dropped; /* events lost to a full queue (cannot happen) */
};

void hooks_init(struct hooks *h, const char *path, const char *ifname,
		const struct hook_ops *ops, void *ctx);

/* A job for event with an empty environment. */
void hook_job_init(struct hook_job *j, const char *event, int mtu);
/* Adds KEY=value; -ENOSPC (and nothing added) if it does not fit whole. */
int hook_job_env(struct hook_job *j, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *hook_job_var(const struct hook_job *j, unsigned i);

/* Queues a copy of j (coalescing) and starts what may start now. */
void hooks_push(struct hooks *h, const struct hook_job *j, int64_t now);
/* Starts whatever may start now: after a child exited, or at the deadline. */
void hooks_run(struct hooks *h, int64_t now);
/* A child exited. */
void hooks_reaped(struct hooks *h, pid_t pid, int64_t now);
/* When hooks_run() has something to do; INT64_MAX if nothing. */
int64_t hooks_deadline(const struct hooks *h);
/* Exiting: starts every queued hook, each after the one before finished
 * or ran HOOK_T_SERIAL; now_fn reads the clock between waits. */
void hooks_drain(struct hooks *h, int64_t (*now_fn)(void));

extern const struct hook_ops hook_ops_process;

#endif
