/* SPDX-License-Identifier: MIT */
#include "hooks.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"

void hooks_init(struct hooks *h, const char *path, const char *ifname,
		const struct hook_ops *ops, void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->path = path;
	h->ifname = ifname;
	h->ops = ops;
	h->ctx = ctx;
}

void hook_job_init(struct hook_job *j, const char *event, int mtu)
{
	memset(j, 0, sizeof(*j));
	fmt_snprintf(j->event, sizeof(j->event), "%s", event);
	fmt_snprintf(j->mtu, sizeof(j->mtu), "%d", mtu);
}

int hook_job_env(struct hook_job *j, const char *key, const char *fmt, ...)
{
	size_t room = sizeof(j->env) - j->env_used;
	char *slot = j->env + j->env_used;
	va_list ap;
	int k, v;

	if (j->nenv == HOOK_VARS)
		return -ENOSPC;
	k = fmt_snprintf(slot, room, "%s=", key);
	if (k < 0 || (size_t)k >= room)
		goto full;
	va_start(ap, fmt);
	v = fmt_vsnprintf(slot + k, room - (size_t)k, fmt, ap);
	va_end(ap);
	if (v < 0 || (size_t)v >= room - (size_t)k)
		goto full;
	j->env_at[j->nenv++] = (uint16_t)j->env_used;
	j->env_used += (size_t)k + (size_t)v + 1;
	return 0;
full:
	*slot = '\0';
	return -ENOSPC;
}

const char *hook_job_var(const struct hook_job *j, unsigned i)
{
	return i < j->nenv ? j->env + j->env_at[i] : NULL;
}

static bool is_event(const struct hook_job *j, const char *event)
{
	return !strcmp(j->event, event);
}

/* Where a new event can fold into what is queued: -1 to append, or the
 * index from which the queue is cut and the event dropped (a down that
 * meets its own up not yet started), or HOOK_QUEUE + i to replace entry i
 * (a newer mtu-changed). */
static int coalesce_at(const struct hooks *h, const struct hook_job *j)
{
	const struct hook_job *last = h->count ? &h->queue[h->count - 1] : NULL;

	if (is_event(j, "session.mtu-changed") && last &&
	    is_event(last, "session.mtu-changed"))
		return HOOK_QUEUE + (int)h->count - 1;
	if (!is_event(j, "session.down"))
		return -1;
	for (unsigned i = h->count; i-- > 0;) {
		if (is_event(&h->queue[i], "session.down"))
			return -1;
		if (is_event(&h->queue[i], "session.up"))
			return (int)i;
	}
	return -1;
}

void hooks_push(struct hooks *h, const struct hook_job *j, int64_t now)
{
	int at;

	if (!h->path)
		return;
	at = coalesce_at(h, j);
	if (at >= HOOK_QUEUE) {
		h->queue[at - HOOK_QUEUE] = *j;
	} else if (at >= 0) {
		log_debug("hook %s: %u queued event(s) up to %s dropped with it",
			  j->event, h->count - (unsigned)at, j->event);
		h->count = (unsigned)at;
	} else if (h->count == HOOK_QUEUE) {
		/* Coalescing keeps at most four queued; kept as a guard. */
		h->dropped++;
		log_err("hooks are not finishing; %s %s skipped", h->path, j->event);
		return;
	} else {
		h->queue[h->count++] = *j;
	}
	hooks_run(h, now);
}

static bool may_start(const struct hooks *h, int64_t now)
{
	if (!h->count || (h->retry_at && now < h->retry_at))
		return false;
	return !h->pid || now - h->started >= HOOK_T_SERIAL;
}

void hooks_run(struct hooks *h, int64_t now)
{
	while (may_start(h, now)) {
		pid_t pid = h->ops->spawn(h->ctx, h->path, h->ifname, &h->queue[0]);

		if (pid < 0) {
			if (!h->backoff)
				log_err("cannot run hook %s %s: %s; retrying", h->path,
					h->queue[0].event, strerror((int)-pid));
			h->backoff = h->backoff ? h->backoff * 2 : HOOK_T_RETRY_MIN;
			if (h->backoff > HOOK_T_RETRY_MAX)
				h->backoff = HOOK_T_RETRY_MAX;
			h->retry_at = now + h->backoff;
			return;
		}
		if (h->backoff)
			log_info("hook %s runs again", h->path);
		h->backoff = 0;
		h->retry_at = 0;
		h->pid = pid;
		h->started = now;
		memmove(&h->queue[0], &h->queue[1],
			sizeof(h->queue[0]) * --h->count);
	}
}

void hooks_reaped(struct hooks *h, pid_t pid, int64_t now)
{
	if (pid > 0 && pid == h->pid)
		h->pid = 0;
	hooks_run(h, now);
}

int64_t hooks_deadline(const struct hooks *h)
{
	int64_t d;

	if (!h->count)
		return INT64_MAX;
	d = h->pid ? h->started + HOOK_T_SERIAL : INT64_MIN;
	if (h->retry_at > d)
		d = h->retry_at;
	return d == INT64_MIN ? INT64_MAX : d;
}

void hooks_drain(struct hooks *h, int64_t (*now_fn)(void))
{
	int64_t now = now_fn();

	hooks_run(h, now);
	while (h->count) {
		int64_t until = hooks_deadline(h);
		pid_t pid;

		/* l2tpd is exiting: a fork failing for a second is given up */
		if (until == INT64_MAX || h->backoff > HOOK_T_RETRY_DRAIN)
			break;
		pid = until > now ? h->ops->wait(h->ctx, (int)(until - now)) : 0;
		now = now_fn();
		hooks_reaped(h, pid, now);
	}
}

/* Runs in the child: a clean process image for the hook. */
static void exec_hook(const char *hook, const char *ifname,
		      const struct hook_job *j)
{
	char *env[HOOK_VARS + 1];
	char *argv[5], path[PATH_MAX], name[IFNAMSIZ];
	struct hook_job own = *j;
	sigset_t none;

	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* execve() wants mutable strings; these are the child's own copies. */
	if (fmt_snprintf(path, sizeof(path), "%s", hook) >= (int)sizeof(path) ||
	    fmt_snprintf(name, sizeof(name), "%s", ifname) >= (int)sizeof(name))
		_exit(127);
	for (unsigned i = 0; i < own.nenv; i++)
		env[i] = own.env + own.env_at[i];
	env[own.nenv] = NULL;
	argv[0] = path;
	argv[1] = own.event;
	argv[2] = name;
	argv[3] = is_event(&own, "session.mtu-changed") ? own.mtu : NULL;
	argv[4] = NULL;
	execve(hook, argv, env);
	_exit(127);
}

static pid_t process_spawn(void *ctx, const char *hook, const char *ifname,
			   const struct hook_job *j)
{
	pid_t pid = fork();

	(void)ctx;
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_hook(hook, ifname, j);
	return pid;
}

static pid_t process_wait(void *ctx, int timeout_ms)
{
	const struct timespec tick = { 0, 20 * 1000000 };

	(void)ctx;
	for (;;) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);

		if (pid != 0 || timeout_ms <= 0)
			return pid > 0 ? pid : 0;
		nanosleep(&tick, NULL);
		timeout_ms -= 20;
	}
}

const struct hook_ops hook_ops_process = {
	.spawn = process_spawn,
	.wait = process_wait,
};
