/* SPDX-License-Identifier: MIT */
/*
 * l2tpd: the process around the protocol logic of client.c.  It owns every
 * descriptor, runs the single poll loop, and carries out what the state
 * machine asks for: UDP sockets, the kernel tunnel over generic netlink,
 * hooks, and the status file.
 *
 * Signals are blocked except while waiting in ppoll(), so handlers only set
 * flags and the loop acts on them between events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "dns.h"
#include "genl.h"
#include "log.h"
#include "proto.h"

#define T_NETLINK_RETRY 5000
#define STATUS_DIR "/var/run/l2tpd"

struct broker_io {
	int fd;
	int refused; /* ECONNREFUSED seen on send, reported from the loop */
	struct dns_query dns;
};

struct app {
	struct options opt;
	struct client_config cfg;
	struct client client;
	struct broker *brokers; /* opt.nbrokers of each */
	struct broker_io *bio;
	struct l2tp_nl *nl;
	int nl_error;
	int64_t nl_retry_at;
	int ioctl_fd;
	int link_fd;
	int link_up; /* -1: unknown */
	int lock_fd;
	uint64_t rng;
	time_t up_wall;
	const char *last_error;
};

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct app *app_of(struct client *c)
{
	return c->io;
}

static struct broker_io *bio_of(struct broker *b)
{
	return b->io;
}

static uint32_t app_random(struct client *c)
{
	struct app *a = app_of(c);

	/* xorshift64*: seeded from getrandom(), plenty for jitter */
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return (uint32_t)((a->rng * 2685821657736338717ull) >> 32);
}

static int io_resolve(struct client *c, struct broker *b)
{
	int n = dns_resolve_local(b->host, b->addrs, BROKER_MAX_ADDRS);
	int r;

	if (n != 0)
		return n;
	r = dns_query_start(&bio_of(b)->dns, b->host, now_ms());
	if (r < 0)
		log_warn("%s: cannot resolve: %s", b->name, strerror(-r));
	(void)c;
	return r;
}

static void io_resolve_cancel(struct client *c, struct broker *b)
{
	(void)c;
	dns_query_cancel(&bio_of(b)->dns);
}

static int io_open(struct client *c, struct broker *b)
{
	struct app *a = app_of(c);
	struct sockaddr_in local = { .sin_family = AF_INET,
				     .sin_addr = a->opt.local_ip };
	int probe = IP_PMTUDISC_PROBE;
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a->opt.bind_iface &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a->opt.bind_iface,
		       (socklen_t)strlen(a->opt.bind_iface) + 1) < 0)
		goto fail;
	if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) < 0)
		goto fail;
	bio_of(b)->fd = fd;
	bio_of(b)->refused = 0;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

static void io_close(struct client *c, struct broker *b)
{
	(void)c;
	if (bio_of(b)->fd >= 0)
		close(bio_of(b)->fd);
	bio_of(b)->fd = -1;
}

static int io_send(struct client *c, struct broker *b, const uint8_t *p,
		   size_t n)
{
	int fd = bio_of(b)->fd;
	ssize_t r;

	(void)c;
	if (fd < 0)
		return -EBADF;
	r = send(fd, p, n, 0);
	if (r < 0 && errno == ECONNREFUSED) {
		/* That was a pending ICMP error; this datagram was not sent. */
		bio_of(b)->refused++;
		r = send(fd, p, n, 0);
	}
	if (r < 0) {
		int err = errno;

		if (err != EMSGSIZE && err != EAGAIN)
			log_debug("%s: send: %s", b->name, strerror(err));
		return -err;
	}
	return 0;
}

static int io_tunnel_create(struct client *c, struct broker *b)
{
	struct app *a = app_of(c);
	uint32_t tid = a->cfg.tunnel_id;
	int r;

	if (!a->nl)
		return -ENOPROTOOPT;
	r = l2tp_tunnel_create(a->nl, tid, b->peer_tunnel_id, bio_of(b)->fd);
	if (r == -EEXIST) {
		log_warn("%s: removing stale kernel tunnel %u", b->name, tid);
		(void)l2tp_tunnel_delete(a->nl, tid);
		r = l2tp_tunnel_create(a->nl, tid, b->peer_tunnel_id,
				       bio_of(b)->fd);
	}
	if (r < 0) {
		log_err("%s: TUNNEL_CREATE %u: %s", b->name, tid, strerror(-r));
		return r;
	}
	r = l2tp_session_create(a->nl, tid, b->session_id, b->peer_session_id,
				a->cfg.ifname);
	if (r < 0) {
		log_err("%s: SESSION_CREATE %u/%u %s: %s", b->name, tid,
			b->session_id, a->cfg.ifname, strerror(-r));
		(void)l2tp_tunnel_delete(a->nl, tid);
		return r;
	}
	a->up_wall = time(NULL);
	return 0;
}

static void io_tunnel_delete(struct client *c, struct broker *b)
{
	struct app *a = app_of(c);
	uint32_t tid = a->cfg.tunnel_id;
	int r;

	if (!a->nl)
		return;
	(void)netdev_set_up(a->ioctl_fd, a->cfg.ifname, false);
	r = l2tp_session_delete(a->nl, tid, b->session_id);
	if (r < 0 && r != -ENODEV)
		log_warn("%s: SESSION_DELETE %u/%u: %s", b->name, tid,
			 b->session_id, strerror(-r));
	r = l2tp_tunnel_delete(a->nl, tid);
	if (r < 0 && r != -ENODEV)
		log_warn("%s: TUNNEL_DELETE %u: %s", b->name, tid, strerror(-r));
}

static int io_set_mtu(struct client *c, struct broker *b, int mtu)
{
	struct app *a = app_of(c);
	int r = netdev_set_mtu(a->ioctl_fd, a->cfg.ifname, mtu);

	/* Current kernels ignore the session MTU; older ones want it. */
	if (r == 0 && a->nl)
		(void)l2tp_session_set_mtu(a->nl, a->cfg.tunnel_id,
					   b->session_id, (uint16_t)mtu);
	return r;
}

/*
 * Hooks run one at a time, in the order the events happened, so a
 * session.down never overtakes the session.up it pairs with.  A hook that
 * is still running after T_HOOK_SERIAL stops holding up the next one, so a
 * hung hook delays later hooks by that much at most and the tunnel not at
 * all.  Each job carries a snapshot of the facts at the time of the event.
 */
#define HOOK_QUEUE 8
#define HOOK_VARS 12
#define T_HOOK_SERIAL 10000

struct hook_job {
	char event[24];
	char mtu[12];
	char env[HOOK_VARS][160];
	unsigned nenv;
};

static struct hook_job hook_queue[HOOK_QUEUE];
static unsigned hook_count;
static pid_t hook_pid;
static int64_t hook_started;

static void job_env(struct hook_job *j, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void job_env(struct hook_job *j, const char *key, const char *fmt, ...)
{
	char *slot;
	va_list ap;
	int k;

	if (j->nenv == HOOK_VARS)
		return;
	slot = j->env[j->nenv];
	k = snprintf(slot, sizeof(j->env[0]), "%s=", key);
	if (k < 0 || (size_t)k >= sizeof(j->env[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(slot + k, sizeof(j->env[0]) - (size_t)k, fmt, ap);
	va_end(ap);
	j->nenv++;
}

/* Runs in the child: a clean process image for the hook. */
static void exec_hook(const char *hook, const char *ifname, struct hook_job *j)
{
	char *env[HOOK_VARS + 1];
	char *argv[5];
	sigset_t none;

	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (unsigned i = 0; i < j->nenv; i++)
		env[i] = j->env[i];
	env[j->nenv] = NULL;
	/* execve() wants mutable strings; this is the child's own copy. */
	argv[0] = strdup(hook);
	argv[1] = j->event;
	argv[2] = strdup(ifname);
	if (!argv[0] || !argv[2])
		_exit(127);
	argv[3] = strcmp(j->event, "session.mtu-changed") ? NULL : j->mtu;
	argv[4] = NULL;
	execve(hook, argv, env);
	_exit(127);
}

/* all: start every queued hook now, without waiting (l2tpd is exiting). */
static void hooks_run(struct app *a, int64_t now, bool all)
{
	while (hook_count &&
	       (all || !hook_pid || now - hook_started >= T_HOOK_SERIAL)) {
		pid_t pid = fork();

		if (pid < 0) {
			log_err("cannot run hook %s %s: %s", a->opt.hook,
				hook_queue[0].event, strerror(errno));
			return; /* tried again at the next event */
		}
		if (pid == 0)
			exec_hook(a->opt.hook, a->cfg.ifname, &hook_queue[0]);
		hook_pid = pid;
		hook_started = now;
		memmove(&hook_queue[0], &hook_queue[1],
			sizeof(hook_queue[0]) * --hook_count);
	}
}

static int64_t hooks_deadline(void)
{
	return hook_count && hook_pid ? hook_started + T_HOOK_SERIAL : INT64_MAX;
}

static void io_hook(struct client *c, struct broker *b, const char *event)
{
	struct app *a = app_of(c);
	char addr[INET_ADDRSTRLEN];
	struct hook_job *j;

	log_info("%s: %s %s", b->name, event, a->cfg.ifname);
	if (!a->opt.hook)
		return;
	if (hook_count == HOOK_QUEUE) {
		log_warn("%s: hooks are not finishing; %s %s skipped", b->name,
			 a->opt.hook, event);
		return;
	}
	j = &hook_queue[hook_count++];
	memset(j, 0, sizeof(*j));
	snprintf(j->event, sizeof(j->event), "%s", event);
	snprintf(j->mtu, sizeof(j->mtu), "%d", b->mtu);
	inet_ntop(AF_INET, &b->addr.sin_addr, addr, sizeof(addr));
	job_env(j, "PATH", "%s", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	job_env(j, "L2TPD_EVENT", "%s", event);
	job_env(j, "L2TPD_IFNAME", "%s", a->cfg.ifname);
	job_env(j, "L2TPD_BROKER", "%s", b->name);
	job_env(j, "L2TPD_BROKER_ADDR", "%s:%u", addr, ntohs(b->addr.sin_port));
	job_env(j, "L2TPD_UUID", "%s", a->cfg.uuid);
	job_env(j, "L2TPD_MTU", "%d", b->mtu);
	job_env(j, "L2TPD_TUNNEL_ID", "%u", a->cfg.tunnel_id);
	job_env(j, "L2TPD_PEER_TUNNEL_ID", "%u", b->peer_tunnel_id);
	job_env(j, "L2TPD_SESSION_ID", "%u", b->session_id);
	job_env(j, "L2TPD_PEER_SESSION_ID", "%u", b->peer_session_id);
	hooks_run(a, now_ms(), false);
}

/* Writes IFNAME.state next to a temporary file and renames it over, so a
 * reader never sees half a file. */
static void write_status(struct app *a, struct broker *b)
{
	char path[128], tmp[140], addr[INET_ADDRSTRLEN] = "", text[1024];
	bool up = b->state == BS_KEEPALIVE;
	int n, fd;
	ssize_t w;

	if (mkdir(STATUS_DIR, 0755) < 0 && errno != EEXIST)
		return;
	snprintf(path, sizeof(path), STATUS_DIR "/%s.state", a->cfg.ifname);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (b->sock_open || b->up_since)
		inet_ntop(AF_INET, &b->addr.sin_addr, addr, sizeof(addr));
	n = snprintf(text, sizeof(text),
		     "state=%s\nbroker=%s\nbroker_addr=%s:%u\n"
		     "tunnel_id=%u\npeer_tunnel_id=%u\nsession_id=%u\npeer_session_id=%u\n"
		     "mtu=%d\nup_since_mono_ms=%lld\nup_since_wall=%lld\n"
		     "reconnects=%u\nlast_error=%s\n",
		     broker_state_name(b->state), b->name, addr, b->port,
		     a->cfg.tunnel_id, up ? b->peer_tunnel_id : 0,
		     up ? b->session_id : 0, up ? b->peer_session_id : 0,
		     b->mtu, (long long)b->up_since, up ? (long long)a->up_wall : 0LL,
		     b->reconnects, b->last_error ? strerror(b->last_error) : "");
	if (n < 0 || (size_t)n >= sizeof(text))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	w = write(fd, text, (size_t)n);
	if (close(fd) == 0 && w == n)
		rename(tmp, path);
	else
		unlink(tmp);
}

static void remove_status(struct app *a)
{
	char path[128];

	snprintf(path, sizeof(path), STATUS_DIR "/%s.state", a->cfg.ifname);
	unlink(path);
}

static void io_changed(struct client *c, struct broker *b)
{
	/* Only the broker that matters: the selected one, or any while
	 * nothing is selected yet. */
	if (c->selected >= 0 && c->selected != b->index)
		return;
	write_status(app_of(c), b);
}

static const struct client_ops app_ops = {
	.resolve = io_resolve,
	.resolve_cancel = io_resolve_cancel,
	.open = io_open,
	.close = io_close,
	.send = io_send,
	.tunnel_create = io_tunnel_create,
	.tunnel_delete = io_tunnel_delete,
	.set_mtu = io_set_mtu,
	.hook = io_hook,
	.changed = io_changed,
	.random = app_random,
};

/* One datagram per wakeup: an idle tunnel then costs one recv per message
 * instead of a second one that only says EAGAIN, and a flood cannot keep
 * the loop here. */
static void read_broker(struct app *a, struct broker *b, int64_t now)
{
	struct broker_io *io = bio_of(b);
	uint8_t buf[PROTO_MAX_DGRAM];
	struct sockaddr_in from = { 0 };
	socklen_t fl = sizeof(from);
	struct proto_msg m;
	ssize_t n;

	n = recvfrom(io->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_on_sock_error(&a->client, b, errno, now);
		return;
	}
	if (fl != sizeof(from) || from.sin_family != AF_INET ||
	    from.sin_addr.s_addr != b->addr.sin_addr.s_addr ||
	    from.sin_port != b->addr.sin_port)
		return;
	if (proto_decode(buf, (size_t)n, PROTO_FROM_BROKER, &m) == 0)
		client_on_msg(&a->client, b, &m, now);
}

static void read_dns(struct app *a, struct broker *b, int64_t now)
{
	int r = dns_query_read(&bio_of(b)->dns, b->addrs, BROKER_MAX_ADDRS, now);

	if (r != 0)
		client_on_resolved(&a->client, b, r, now);
}

static void read_link(struct app *a, int64_t now)
{
	uint8_t buf[NL_BUF_SIZE];
	bool up;

	for (;;) {
		ssize_t n = recv(a->link_fd, buf, sizeof(buf), 0);
		int r;

		if (n < 0) {
			if (errno == ENOBUFS)
				(void)link_watch_query(a->link_fd, a->opt.bind_iface);
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return;
		}
		r = nl_parse_link(buf, (size_t)n, a->opt.bind_iface, &up);
		if (r <= 0 || (int)up == a->link_up)
			continue;
		log_info("bind interface %s is %s", a->opt.bind_iface,
			 up ? "up" : "down");
		a->link_up = up;
		client_link(&a->client, up, now);
	}
}

static void try_netlink(struct app *a, int64_t now)
{
	int r = l2tp_nl_open(&a->nl);

	if (r == 0) {
		log_info("kernel L2TP ready (genl family %u)", l2tp_nl_family(a->nl));
		client_start(&a->client, now);
		return;
	}
	a->nl = NULL;
	if (r != a->nl_error) {
		if (r == -ENOENT)
			log_err("kernel has no L2TP netlink family: load the modules "
				"l2tp_core, l2tp_netlink and l2tp_eth; retrying every %d s",
				T_NETLINK_RETRY / 1000);
		else
			log_err("cannot open generic netlink: %s; retrying every %d s",
				strerror(-r), T_NETLINK_RETRY / 1000);
		a->nl_error = r;
	}
	a->nl_retry_at = now + T_NETLINK_RETRY;
}

static void reap_children(struct app *a, int64_t now)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		if (pid == hook_pid)
			hook_pid = 0;
	hooks_run(a, now, false);
}

/* One l2tpd per interface: an abstract unix socket is released by the
 * kernel when the holder dies, so a crash leaves no stale lock. */
static int take_lock(struct app *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n;

	a->lock_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (a->lock_fd < 0)
		return -errno;
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "l2tpd/%s",
		     a->cfg.ifname);
	if (bind(a->lock_fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0)
		return -errno;
	return 0;
}

static void setup_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	sigdelset(wait_mask, SIGTERM);
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGHUP);
	sigdelset(wait_mask, SIGCHLD);
}

enum { MAX_POLL = 2 * CLIENT_MAX_BROKERS + 1 };

static int run(struct app *a)
{
	struct pollfd pfd[MAX_POLL];
	struct broker *owner[MAX_POLL];
	bool is_dns[MAX_POLL];
	sigset_t wait_mask;
	int64_t now;

	setup_signals(&wait_mask);
	now = now_ms();
	try_netlink(a, now);
	for (;;) {
		int64_t deadline;
		unsigned n = 0;
		int timeout, r;

		if (got_chld) {
			got_chld = 0;
			reap_children(a, now);
		}
		hooks_run(a, now, false);
		if (got_term) {
			log_info("shutting down");
			client_stop(&a->client, PROTO_ERR_CLIENT_SHUTDOWN, now);
			remove_status(a);
			/* Exiting: whatever hook is left starts now. */
			hooks_run(a, now, true);
			return 0;
		}
		if (got_hup) {
			got_hup = 0;
			if (a->nl)
				client_reselect(&a->client, now);
		}
		if (!a->nl) {
			if (now >= a->nl_retry_at)
				try_netlink(a, now);
		}
		for (unsigned i = 0; i < a->client.nbrokers; i++) {
			struct broker *b = &a->brokers[i];
			struct broker_io *io = &a->bio[i];

			if (io->refused) {
				io->refused = 0;
				client_on_sock_error(&a->client, b, ECONNREFUSED, now);
			}
			if (io->dns.fd >= 0 && now >= io->dns.deadline) {
				int e = dns_query_timeout(&io->dns, now);

				if (e < 0)
					client_on_resolved(&a->client, b, e, now);
			}
		}
		if (client_next_deadline(&a->client) <= now)
			client_on_timer(&a->client, now);

		deadline = a->nl ? client_next_deadline(&a->client) : a->nl_retry_at;
		if (hooks_deadline() < deadline)
			deadline = hooks_deadline();
		for (unsigned i = 0; i < a->client.nbrokers; i++) {
			struct broker_io *io = &a->bio[i];

			if (io->fd >= 0) {
				pfd[n] = (struct pollfd){ .fd = io->fd, .events = POLLIN };
				owner[n] = &a->brokers[i];
				is_dns[n++] = false;
			}
			if (io->dns.fd >= 0) {
				pfd[n] = (struct pollfd){ .fd = io->dns.fd, .events = POLLIN };
				owner[n] = &a->brokers[i];
				is_dns[n++] = true;
				if (io->dns.deadline < deadline)
					deadline = io->dns.deadline;
			}
		}
		if (a->link_fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = a->link_fd, .events = POLLIN };
			owner[n] = NULL;
			is_dns[n++] = false;
		}
		if (deadline == INT64_MAX)
			timeout = -1;
		else if (deadline <= now)
			timeout = 0;
		else if (deadline - now > 3600000)
			timeout = 3600000;
		else
			timeout = (int)(deadline - now);

		struct timespec ts = { timeout / 1000, (long)(timeout % 1000) * 1000000 };
		r = ppoll(pfd, n, timeout < 0 ? NULL : &ts, &wait_mask);
		/* The one clock read per wakeup; handling an event takes far
		 * less than the millisecond the timers are kept in. */
		now = now_ms();
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			client_stop(&a->client, PROTO_ERR_CLIENT_FAILURE, now);
			return 1;
		}
		for (unsigned i = 0; i < n && r > 0; i++) {
			if (!pfd[i].revents)
				continue;
			if (!owner[i])
				read_link(a, now);
			else if (is_dns[i] && bio_of(owner[i])->dns.fd == pfd[i].fd)
				read_dns(a, owner[i], now);
			else if (!is_dns[i] && bio_of(owner[i])->fd == pfd[i].fd)
				read_broker(a, owner[i], now);
		}
	}
}

static int setup(struct app *a)
{
	uint64_t seed = 0;
	int r;

	a->cfg.uuid = a->opt.uuid;
	a->cfg.ifname = a->opt.ifname;
	a->cfg.tunnel_id = a->opt.tunnel_id;
	a->cfg.limit_kbps = a->opt.limit_kbps;
	a->cfg.features = PROTO_FEATURE_UNIQUE_SESSION_ID;
	a->cfg.strategy = a->opt.strategy;
	a->link_fd = -1;
	a->link_up = -1;
	a->lock_fd = -1;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)now_ms() ^ (uint64_t)getpid() << 32;
	a->rng = seed | 1;

	r = take_lock(a);
	if (r < 0) {
		log_err("another l2tpd is already running for interface %s",
			a->cfg.ifname);
		return -1;
	}
	a->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (a->ioctl_fd < 0) {
		log_err("socket: %s", strerror(errno));
		return -1;
	}
	a->brokers = calloc(a->opt.nbrokers, sizeof(*a->brokers));
	a->bio = calloc(a->opt.nbrokers, sizeof(*a->bio));
	if (!a->brokers || !a->bio) {
		log_err("out of memory");
		return -1;
	}
	for (unsigned i = 0; i < a->opt.nbrokers; i++) {
		struct broker *b = &a->brokers[i];

		snprintf(b->host, sizeof(b->host), "%s", a->opt.brokers[i].host);
		b->port = a->opt.brokers[i].port;
		snprintf(b->name, sizeof(b->name), "%s:%u", b->host, b->port);
		a->bio[i].fd = -1;
		dns_query_init(&a->bio[i].dns);
		b->io = &a->bio[i];
	}
	client_init(&a->client, &a->cfg, &app_ops, a, a->brokers, a->opt.nbrokers);
	if (a->opt.bind_iface) {
		a->link_fd = link_watch_open();
		if (a->link_fd < 0)
			log_warn("cannot follow link state of %s: %s",
				 a->opt.bind_iface, strerror(-a->link_fd));
		else
			(void)link_watch_query(a->link_fd, a->opt.bind_iface);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct app a;
	char err[256];

	if (cli_parse(argc, argv, &a.opt, err, sizeof(err)) < 0) {
		fprintf(stderr, "l2tpd: %s\n", err);
		cli_usage(stderr);
		return 2;
	}
	if (a.opt.help) {
		cli_usage(stdout);
		return 0;
	}
	if (a.opt.version) {
		printf("l2tpd %s\n", L2TPD_VERSION);
		return 0;
	}
	log_open(a.opt.foreground, a.opt.debug);
	if (a.opt.ignored_p)
		log_warn("-p is obsolete and ignored");
	if (setup(&a) < 0)
		return 1;
	log_info("starting: uuid %s, interface %s, tunnel id %u, %u broker(s)",
		 a.cfg.uuid, a.cfg.ifname, a.cfg.tunnel_id, a.opt.nbrokers);
	return run(&a);
}
