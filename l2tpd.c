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
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "dns.h"
#include "fmt.h"
#include "genl.h"
#include "hooks.h"
#include "log.h"
#include "proto.h"
#include "rundir.h"
#include "tunnel.h"

#define T_NETLINK_RETRY 5000

struct broker_io {
	int fd;
	int refused; /* ECONNREFUSED seen on send, reported from the loop */
	struct dns_query dns;
};

struct app {
	struct options opt;
	struct client_config cfg;
	struct client client;
	struct broker brokers[CLIENT_MAX_BROKERS]; /* opt.nbrokers in use */
	struct broker_io bio[CLIENT_MAX_BROKERS];
	struct l2tp_nl *nl;
	int nl_error;
	int64_t nl_retry_at;
	int ioctl_fd;
	int link_fd;
	int link_up; /* -1: unknown */
	struct rundir run;
	int lock_fd;        /* IFNAME.netNS.lock: one l2tpd per interface */
	int tunnel_lock_fd; /* tunnel-ID.netNS.lock: one per tunnel id */
	struct hooks hooks;
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

static int nl_tunnel_create(void *ctx, uint32_t tid, uint32_t peer, int fd)
{
	return l2tp_tunnel_create(ctx, tid, peer, fd);
}

static int nl_tunnel_destroy(void *ctx, uint32_t tid)
{
	return l2tp_tunnel_delete(ctx, tid);
}

static const struct tunnel_ops nl_tunnel_ops = {
	.create = nl_tunnel_create,
	.destroy = nl_tunnel_destroy,
};

static int io_tunnel_create(struct client *c, struct broker *b)
{
	struct app *a = app_of(c);
	uint32_t tid = a->cfg.tunnel_id;
	bool replaced;
	int r;

	if (!a->nl)
		return -ENOPROTOOPT;
	r = tunnel_create(&nl_tunnel_ops, a->nl, a->tunnel_lock_fd >= 0, tid,
			  b->peer_tunnel_id, bio_of(b)->fd, &replaced);
	if (replaced)
		log_warn("%s: removed stale kernel tunnel %u", b->name, tid);
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

static void io_hook(struct client *c, struct broker *b, const char *event)
{
	struct app *a = app_of(c);
	char addr[INET_ADDRSTRLEN];
	struct hook_job j;

	log_info("%s: %s %s", b->name, event, a->cfg.ifname);
	if (!a->opt.hook)
		return;
	hook_job_init(&j, event, b->mtu);
	fmt_inet_ntop(AF_INET, &b->addr.sin_addr, addr, sizeof(addr));
	/* HOOK_ENV_BYTES holds all of these at their longest */
	(void)hook_job_env(&j, "PATH", "%s", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	(void)hook_job_env(&j, "L2TPD_EVENT", "%s", event);
	(void)hook_job_env(&j, "L2TPD_IFNAME", "%s", a->cfg.ifname);
	(void)hook_job_env(&j, "L2TPD_BROKER", "%s", b->name);
	(void)hook_job_env(&j, "L2TPD_BROKER_ADDR", "%s:%u", addr, ntohs(b->addr.sin_port));
	(void)hook_job_env(&j, "L2TPD_UUID", "%s", a->cfg.uuid);
	(void)hook_job_env(&j, "L2TPD_MTU", "%d", b->mtu);
	(void)hook_job_env(&j, "L2TPD_TUNNEL_ID", "%u", a->cfg.tunnel_id);
	(void)hook_job_env(&j, "L2TPD_PEER_TUNNEL_ID", "%u", b->peer_tunnel_id);
	(void)hook_job_env(&j, "L2TPD_SESSION_ID", "%u", b->session_id);
	(void)hook_job_env(&j, "L2TPD_PEER_SESSION_ID", "%u", b->peer_session_id);
	hooks_push(&a->hooks, &j, now_ms());
}

/* IFNAME.state in the run directory, replaced whole on every change. */
static void write_status(struct app *a, struct broker *b)
{
	char name[32], addr[INET_ADDRSTRLEN] = "", text[1024];
	bool up = b->state == BS_KEEPALIVE;
	int n, r;

	fmt_snprintf(name, sizeof(name), "%s.state", a->cfg.ifname);
	if (b->sock_open || b->up_since)
		fmt_inet_ntop(AF_INET, &b->addr.sin_addr, addr, sizeof(addr));
	n = fmt_snprintf(text, sizeof(text),
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
	r = rundir_write(&a->run, name, text, (size_t)n);
	if (r < 0)
		log_warn("%s/%s: %s", a->run.path, name, strerror(-r));
}

static void remove_status(struct app *a)
{
	char name[32];

	fmt_snprintf(name, sizeof(name), "%s.state", a->cfg.ifname);
	(void)rundir_remove(&a->run, name);
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
	if (!tunnel_from_broker(&from, fl, &b->addr))
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
		hooks_reaped(&a->hooks, pid, now);
	hooks_run(&a->hooks, now);
}

/* Interface names and tunnel ids are per network namespace, and so are
 * the locks: named after the namespace's inode. */
static unsigned long long netns_id(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* One l2tpd per interface, and one per tunnel id: a second instance with
 * the same -t would otherwise find our tunnel "stale" and delete it. */
static int take_locks(struct app *a)
{
	char name[64], holder[32], other[32];
	unsigned long long ns = netns_id();
	int r = rundir_open(&a->run, RUNDIR_PATH, geteuid());

	if (r == -EPERM || r == -EACCES || r == -ENOTDIR) {
		log_err("refusing %s: %s", RUNDIR_PATH,
			r == -EPERM ? "owned by another user" :
			r == -EACCES ? "group or others may write to it" :
				       "not a directory");
		return r;
	}
	if (r < 0) {
		log_err("cannot use %s: %s", RUNDIR_PATH, strerror(-r));
		return r;
	}
	fmt_snprintf(name, sizeof(name), "%s.net%llu.lock", a->cfg.ifname, ns);
	fmt_snprintf(holder, sizeof(holder), "%ld", (long)getpid());
	a->lock_fd = rundir_lock(&a->run, name, holder, other, sizeof(other));
	if (a->lock_fd == -EBUSY) {
		log_err("another l2tpd (pid %s) is already running for interface %s",
			other[0] ? other : "?", a->cfg.ifname);
		return -EBUSY;
	}
	if (a->lock_fd < 0) {
		log_err("%s/%s: %s", RUNDIR_PATH, name, strerror(-a->lock_fd));
		return a->lock_fd;
	}
	fmt_snprintf(name, sizeof(name), "tunnel-%u.net%llu.lock", a->cfg.tunnel_id, ns);
	a->tunnel_lock_fd = rundir_lock(&a->run, name, a->cfg.ifname, other,
					sizeof(other));
	if (a->tunnel_lock_fd == -EBUSY) {
		log_err("tunnel id %u is in use by the l2tpd of interface %s; "
			"choose another with -t", a->cfg.tunnel_id,
			other[0] ? other : "?");
		return -EBUSY;
	}
	if (a->tunnel_lock_fd < 0) {
		log_err("%s/%s: %s", RUNDIR_PATH, name, strerror(-a->tunnel_lock_fd));
		return a->tunnel_lock_fd;
	}
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
		hooks_run(&a->hooks, now);
		if (got_term) {
			log_info("shutting down");
			client_stop(&a->client, PROTO_ERR_CLIENT_SHUTDOWN, now);
			remove_status(a);
			/* Exiting: the hooks left run in order, a down only
			 * after its up finished. */
			hooks_drain(&a->hooks, now_ms);
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
		if (hooks_deadline(&a->hooks) < deadline)
			deadline = hooks_deadline(&a->hooks);
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

	a->cfg.uuid = a->opt.uuid;
	a->cfg.ifname = a->opt.ifname;
	a->cfg.tunnel_id = a->opt.tunnel_id;
	a->cfg.limit_kbps = a->opt.limit_kbps;
	a->cfg.features = PROTO_FEATURE_UNIQUE_SESSION_ID;
	a->cfg.strategy = a->opt.strategy;
	a->link_fd = -1;
	a->link_up = -1;
	a->run.fd = -1;
	a->lock_fd = -1;
	a->tunnel_lock_fd = -1;
	hooks_init(&a->hooks, a->opt.hook, a->cfg.ifname, &hook_ops_process, NULL);

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)now_ms() ^ (uint64_t)getpid() << 32;
	a->rng = seed | 1;

	if (take_locks(a) < 0)
		return -1;
	a->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (a->ioctl_fd < 0) {
		log_err("socket: %s", strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < a->opt.nbrokers; i++) {
		struct broker *b = &a->brokers[i];

		fmt_snprintf(b->host, sizeof(b->host), "%s", a->opt.brokers[i].host);
		b->port = a->opt.brokers[i].port;
		fmt_snprintf(b->name, sizeof(b->name), "%s:%u", b->host, b->port);
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
		fmt_dprintf(STDERR_FILENO, "l2tpd: %s\n", err);
		cli_usage(STDERR_FILENO);
		return 2;
	}
	if (a.opt.help) {
		cli_usage(STDOUT_FILENO);
		return 0;
	}
	if (a.opt.version) {
		fmt_dprintf(STDOUT_FILENO, "l2tpd %s\n", L2TPD_VERSION);
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
