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
#include <net/if.h>
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
#include "linkwatch.h"
#include "log.h"
#include "netdev.h"
#include "proto.h"
#include "rundir.h"
#include "tunnel.h"

#define T_NETLINK_RETRY 5000
#define T_POLL_MAX 3600000

struct app;

/*
 * Something the loop waits for: a descriptor to read, a deadline, or both.
 * fd and deadline point at the owner's own values, so a watch registered
 * once never goes stale: a watch with an fd is idle while that is -1, one
 * without is driven by its deadline alone (INT64_MAX: nothing due).
 */
struct watch {
	const int *fd;
	const int64_t *deadline;
	void (*on_read)(struct app *a, unsigned arg, int64_t now);
	void (*on_due)(struct app *a, unsigned arg, int64_t now);
	/* a broker's resolver: its index; its sockets: index *
	 * BROKER_MAX_ADDRS + slot */
	unsigned arg;
};

/* Per broker its sockets and its resolver, then the link, the hooks and
 * the clock of the state machine (or of the netlink retry). */
enum { MAX_WATCHES = (BROKER_MAX_ADDRS + 1) * CLIENT_MAX_BROKERS + 3 };

struct broker_io {
	int fd[BROKER_MAX_ADDRS];                /* by slot (client_ops) */
	union sockaddr_inet peer[BROKER_MAX_ADDRS]; /* what fd[k] is connected to */
	struct dns_query dns;
	char name[CLI_HOST_MAX + 10]; /* host:port or [v6]:port, for logs */
	bool said_family, said_scope; /* usable_addrs() logged why, once */
};

struct app {
	struct options opt;
	struct client_config cfg;
	struct client client;
	struct broker_io bio[CLIENT_MAX_BROKERS]; /* opt.nbrokers in use */
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
	struct watch watches[MAX_WATCHES];
	unsigned nwatches;
	int64_t hooks_at;  /* hooks_deadline(), kept current by refresh() */
	int64_t clock_at;  /* the state machine's deadline, or the netlink retry */
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

static uint32_t app_random(void *ctx)
{
	struct app *a = ctx;

	/* xorshift64*: seeded from getrandom(), plenty for jitter */
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return (uint32_t)((a->rng * 2685821657736338717ull) >> 32);
}

/*
 * The addresses this process can reach the broker at, kept in the
 * resolver's order: only -l's family when -l is given, and a link-local
 * IPv6 one only with a scope, its own or -I's interface.  Each reason is
 * logged once per broker.  The count, or -EAFNOSUPPORT / -EINVAL when no
 * address is left.
 */
static int usable_addrs(struct app *a, unsigned i, union sockaddr_inet *addrs,
			int n)
{
	struct broker_io *io = &a->bio[i];
	sa_family_t only = a->opt.local.sa.sa_family;
	int k = 0, err = 0;

	for (int j = 0; j < n; j++) {
		union sockaddr_inet x = addrs[j];
		char t[ADDR_STRLEN];

		(void)addr_format(&x, false, t, sizeof(t));
		if (only && x.sa.sa_family != only) {
			if (!io->said_family)
				log_warn("%s: %s is not of the family of -l: not used",
					 io->name, t);
			io->said_family = true;
			err = -EAFNOSUPPORT;
			continue;
		}
		if (x.sa.sa_family == AF_INET6 && !x.in6.sin6_scope_id &&
		    IN6_IS_ADDR_LINKLOCAL(&x.in6.sin6_addr)) {
			if (a->opt.bind_iface)
				x.in6.sin6_scope_id = if_nametoindex(a->opt.bind_iface);
			if (!x.in6.sin6_scope_id) {
				if (!io->said_scope)
					log_warn("%s: link-local %s needs an interface: "
						 "give %%IFNAME or -I", io->name, t);
				io->said_scope = true;
				err = -EINVAL;
				continue;
			}
		}
		addrs[k++] = x;
	}
	return k ? k : err;
}

static int io_resolve(void *ctx, unsigned i, const char *host,
		      union sockaddr_inet *addrs, unsigned max)
{
	struct app *a = ctx;
	int n = dns_lookup_local(host, addrs, (int)max);
	int r;

	if (n > 0)
		return usable_addrs(a, i, addrs, n);
	if (n < 0)
		return n;
	r = dns_query_start(&a->bio[i].dns, host, now_ms());
	if (r < 0)
		log_warn("%s: cannot resolve: %s", a->bio[i].name, strerror(-r));
	return r;
}

static void io_resolve_cancel(void *ctx, unsigned i)
{
	struct app *a = ctx;

	dns_query_cancel(&a->bio[i].dns);
}

static int io_open(void *ctx, unsigned i, unsigned slot,
		   const union sockaddr_inet *to)
{
	struct app *a = ctx;
	bool v6 = to->sa.sa_family == AF_INET6;
	union sockaddr_inet local = a->opt.local; /* of to's family, or unset */
	int probe = v6 ? IPV6_PMTUDISC_PROBE : IP_PMTUDISC_PROBE;
	int fd, err;

	if (!local.sa.sa_family)
		local.sa.sa_family = to->sa.sa_family; /* the wildcard */
	fd = socket(to->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a->opt.bind_iface &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a->opt.bind_iface,
		       (socklen_t)strlen(a->opt.bind_iface) + 1) < 0)
		goto fail;
	/* the probes must leave unfragmented, whatever the route's MTU says */
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &probe,
		       sizeof(probe)) < 0)
		goto fail;
	if (bind(fd, &local.sa, addr_len(&local)) < 0)
		goto fail;
	if (connect(fd, &to->sa, addr_len(to)) < 0)
		goto fail;
	a->bio[i].fd[slot] = fd;
	a->bio[i].peer[slot] = *to;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

static void io_close(void *ctx, unsigned i, unsigned slot)
{
	struct app *a = ctx;

	if (a->bio[i].fd[slot] >= 0)
		close(a->bio[i].fd[slot]);
	a->bio[i].fd[slot] = -1;
}

static void io_adopt(void *ctx, unsigned i, unsigned slot)
{
	struct broker_io *io = &((struct app *)ctx)->bio[i];

	io->fd[0] = io->fd[slot];
	io->peer[0] = io->peer[slot];
	io->fd[slot] = -1;
}

static int io_send(void *ctx, unsigned i, unsigned slot, const uint8_t *p,
		   size_t n)
{
	struct app *a = ctx;
	int fd = a->bio[i].fd[slot];

	if (fd < 0)
		return -EBADF;
	if (send(fd, p, n, 0) < 0) {
		int err = errno;

		if (err != EMSGSIZE && err != EAGAIN && err != ECONNREFUSED)
			log_debug("%s: send: %s", a->bio[i].name, strerror(err));
		return -err;
	}
	return 0;
}

static int nl_tunnel_create(void *ctx, const struct l2tp_parm *p)
{
	return l2tp_tunnel_create(ctx, p);
}

static int nl_tunnel_destroy(void *ctx, uint32_t tid)
{
	return l2tp_tunnel_delete(ctx, tid);
}

static const struct tunnel_ops nl_tunnel_ops = {
	.create = nl_tunnel_create,
	.destroy = nl_tunnel_destroy,
};

static int io_tunnel_create(void *ctx, unsigned i, const struct tunnel_params *t)
{
	struct app *a = ctx;
	struct l2tp_parm p = { .tunnel_id = t->tunnel_id,
			       .peer_tunnel_id = t->peer_tunnel_id,
			       .session_id = t->session_id,
			       .peer_session_id = t->peer_session_id,
			       .fd = a->bio[i].fd[0], .ifname = a->cfg.ifname };
	const char *name = a->bio[i].name;
	bool replaced;
	int r;

	if (!a->nl)
		return -ENOPROTOOPT;
	r = tunnel_create(&nl_tunnel_ops, a->nl, a->tunnel_lock_fd >= 0, &p,
			  &replaced);
	if (replaced)
		log_warn("%s: removed stale kernel tunnel %u", name, t->tunnel_id);
	if (r < 0) {
		log_err("%s: TUNNEL_CREATE %u: %s", name, t->tunnel_id, strerror(-r));
		return r;
	}
	r = l2tp_session_create(a->nl, &p);
	if (r < 0) {
		log_err("%s: SESSION_CREATE %u/%u %s: %s", name, t->tunnel_id,
			t->session_id, a->cfg.ifname, strerror(-r));
		(void)l2tp_tunnel_delete(a->nl, t->tunnel_id);
		return r;
	}
	a->up_wall = time(NULL);
	return 0;
}

static void io_tunnel_delete(void *ctx, unsigned i, const struct tunnel_params *t)
{
	struct app *a = ctx;
	const char *name = a->bio[i].name;
	struct l2tp_parm p = { .tunnel_id = t->tunnel_id,
			       .session_id = t->session_id };
	int r;

	if (!a->nl)
		return;
	(void)netdev_set_up(a->ioctl_fd, a->cfg.ifname, false);
	r = l2tp_session_delete(a->nl, &p);
	if (r < 0 && r != -ENODEV)
		log_warn("%s: SESSION_DELETE %u/%u: %s", name, t->tunnel_id,
			 t->session_id, strerror(-r));
	r = l2tp_tunnel_delete(a->nl, t->tunnel_id);
	if (r < 0 && r != -ENODEV)
		log_warn("%s: TUNNEL_DELETE %u: %s", name, t->tunnel_id, strerror(-r));
}

static int io_set_mtu(void *ctx, unsigned i, const struct tunnel_params *t,
		      int mtu)
{
	struct app *a = ctx;
	int r = netdev_set_mtu(a->ioctl_fd, a->cfg.ifname, mtu);

	(void)i;
	/* Current kernels ignore the session MTU; older ones want it. */
	if (r == 0 && a->nl) {
		struct l2tp_parm p = { .tunnel_id = t->tunnel_id,
				       .session_id = t->session_id,
				       .mtu = (uint16_t)mtu };

		(void)l2tp_session_set_mtu(a->nl, &p);
	}
	return r;
}

static void io_hook(void *ctx, const struct client_event *e, const char *event)
{
	struct app *a = ctx;
	char addr[ADDR_STRLEN] = "";
	struct hook_job j;

	log_info("%s: %s %s", e->name, event, a->cfg.ifname);
	if (!a->opt.hook)
		return;
	hook_job_init(&j, event, e->mtu);
	(void)addr_format(&e->addr, true, addr, sizeof(addr));
	/* HOOK_ENV_BYTES holds all of these at their longest */
	(void)hook_job_env(&j, "PATH", "%s", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	(void)hook_job_env(&j, "L2TPD_EVENT", "%s", event);
	(void)hook_job_env(&j, "L2TPD_IFNAME", "%s", a->cfg.ifname);
	(void)hook_job_env(&j, "L2TPD_BROKER", "%s", a->bio[e->broker].name);
	(void)hook_job_env(&j, "L2TPD_BROKER_ADDR", "%s", addr);
	(void)hook_job_env(&j, "L2TPD_UUID", "%s", a->cfg.uuid);
	(void)hook_job_env(&j, "L2TPD_MTU", "%d", e->mtu);
	(void)hook_job_env(&j, "L2TPD_TUNNEL_ID", "%u", a->cfg.tunnel_id);
	(void)hook_job_env(&j, "L2TPD_PEER_TUNNEL_ID", "%u", e->ids.peer_tunnel_id);
	(void)hook_job_env(&j, "L2TPD_SESSION_ID", "%u", e->ids.session_id);
	(void)hook_job_env(&j, "L2TPD_PEER_SESSION_ID", "%u", e->ids.peer_session_id);
	hooks_push(&a->hooks, &j, now_ms());
}

/* IFNAME.state in the run directory, replaced whole on every change. */
static void write_status(struct app *a, const struct client_event *e)
{
	char name[32], addr[ADDR_STRLEN] = "", text[1024];
	bool up = e->state == BS_KEEPALIVE;
	int n, r;

	fmt_snprintf(name, sizeof(name), "%s.state", a->cfg.ifname);
	if (e->addr_known)
		(void)addr_format(&e->addr, true, addr, sizeof(addr));
	else
		fmt_snprintf(addr, sizeof(addr), ":%u", e->port);
	n = fmt_snprintf(text, sizeof(text),
		     "state=%s\nbroker=%s\nbroker_addr=%s\n"
		     "tunnel_id=%u\npeer_tunnel_id=%u\nsession_id=%u\npeer_session_id=%u\n"
		     "mtu=%d\nup_since_mono_ms=%lld\nup_since_wall=%lld\n"
		     "reconnects=%u\nlast_error=%s\n",
		     broker_state_name(e->state), a->bio[e->broker].name, addr,
		     a->cfg.tunnel_id, e->ids.peer_tunnel_id,
		     e->ids.session_id, e->ids.peer_session_id,
		     e->mtu, (long long)e->up_since, up ? (long long)a->up_wall : 0LL,
		     e->reconnects, e->last_error ? strerror(e->last_error) : "");
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

static void io_changed(void *ctx, const struct client_event *e)
{
	if (e->current)
		write_status(ctx, e);
}

static const struct client_ops app_ops = {
	.resolve = io_resolve,
	.resolve_cancel = io_resolve_cancel,
	.open = io_open,
	.close = io_close,
	.send = io_send,
	.adopt = io_adopt,
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
static void read_broker(struct app *a, unsigned arg, int64_t now)
{
	unsigned i = arg / BROKER_MAX_ADDRS, slot = arg % BROKER_MAX_ADDRS;
	struct broker_io *io = &a->bio[i];
	uint8_t buf[PROTO_MAX_DGRAM];
	union sockaddr_inet from = { 0 };
	socklen_t fl = sizeof(from);
	struct proto_msg m;
	ssize_t n;

	n = recvfrom(io->fd[slot], buf, sizeof(buf), 0, &from.sa, &fl);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_on_sock_error(&a->client, i, slot, errno, now);
		return;
	}
	if (!tunnel_from_broker(&from, fl, &io->peer[slot]))
		return;
	if (proto_decode(buf, (size_t)n, PROTO_FROM_BROKER, &m) == 0)
		client_on_msg(&a->client, i, slot, &m, now);
}

/* The resolver's one entry, for its socket readable and its deadline. */
static void dns_step(struct app *a, unsigned i, int64_t now)
{
	union sockaddr_inet addrs[BROKER_MAX_ADDRS];
	int r = dns_query_run(&a->bio[i].dns, addrs, BROKER_MAX_ADDRS, now);

	if (r > 0)
		r = usable_addrs(a, i, addrs, r);
	if (r != 0)
		client_on_resolved(&a->client, i, addrs, r, now);
}

static void read_link(struct app *a, unsigned arg, int64_t now)
{
	uint8_t buf[NL_BUF_SIZE];
	bool up;

	for (;;) {
		ssize_t n = link_watch_read(a->link_fd, buf, sizeof(buf));
		int r;

		(void)arg;
		if (n == -ENOBUFS)
			(void)link_watch_query(a->link_fd, a->opt.bind_iface);
		if (n == -EINTR || n == -ENOBUFS)
			continue;
		if (n < 0)
			return;
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

static void hooks_due(struct app *a, unsigned arg, int64_t now)
{
	(void)arg;
	hooks_run(&a->hooks, now);
}

static void clock_due(struct app *a, unsigned arg, int64_t now)
{
	(void)arg;
	if (a->nl)
		client_on_timer(&a->client, now);
	else
		try_netlink(a, now);
}

static void watch_add(struct app *a, const int *fd, const int64_t *deadline,
		      void (*on_read)(struct app *, unsigned, int64_t),
		      void (*on_due)(struct app *, unsigned, int64_t),
		      unsigned arg)
{
	a->watches[a->nwatches++] = (struct watch){
		.fd = fd, .deadline = deadline, .on_read = on_read,
		.on_due = on_due, .arg = arg };
}

/* The deadlines that are computed rather than stored. */
static void refresh(struct app *a)
{
	a->hooks_at = hooks_deadline(&a->hooks);
	a->clock_at = a->nl ? client_next_deadline(&a->client) : a->nl_retry_at;
}

static bool watch_idle(const struct watch *w)
{
	return w->fd && *w->fd < 0;
}

static void run_timers(struct app *a, int64_t now)
{
	refresh(a);
	for (unsigned i = 0; i < a->nwatches; i++) {
		const struct watch *w = &a->watches[i];

		if (!watch_idle(w) && w->deadline && *w->deadline <= now)
			w->on_due(a, w->arg, now);
	}
}

/* The descriptors to wait for, in pfd with their watch in who; *next is
 * the earliest deadline. */
static nfds_t build_pollset(struct app *a, struct pollfd *pfd, unsigned *who,
			    int64_t *next)
{
	nfds_t n = 0;

	refresh(a);
	*next = INT64_MAX;
	for (unsigned i = 0; i < a->nwatches; i++) {
		const struct watch *w = &a->watches[i];

		if (watch_idle(w))
			continue;
		if (w->deadline && *w->deadline < *next)
			*next = *w->deadline;
		if (w->fd) {
			pfd[n] = (struct pollfd){ .fd = *w->fd, .events = POLLIN };
			who[n++] = i;
		}
	}
	return n;
}

/* Signals are delivered only in here. */
static int wait_events(struct pollfd *pfd, nfds_t n, int64_t next,
		       int64_t now, const sigset_t *wait_mask)
{
	int64_t wait = next - now;
	struct timespec ts;

	if (wait < 0)
		wait = 0;
	if (wait > T_POLL_MAX)
		wait = T_POLL_MAX;
	ts = (struct timespec){ wait / 1000, (long)(wait % 1000) * 1000000 };
	return ppoll(pfd, n, next == INT64_MAX ? NULL : &ts, wait_mask);
}

static void dispatch(struct app *a, const struct pollfd *pfd,
		     const unsigned *who, nfds_t n, int64_t now)
{
	for (nfds_t k = 0; k < n; k++) {
		const struct watch *w = &a->watches[who[k]];

		/* closed, maybe reused, since the set was built */
		if (pfd[k].revents && *w->fd == pfd[k].fd)
			w->on_read(a, w->arg, now);
	}
}

static int run(struct app *a)
{
	struct pollfd pfd[MAX_WATCHES];
	unsigned who[MAX_WATCHES];
	sigset_t wait_mask;
	int64_t now, next;

	setup_signals(&wait_mask);
	now = now_ms();
	try_netlink(a, now);
	for (;;) {
		nfds_t n;
		int r;

		if (got_chld) {
			got_chld = 0;
			reap_children(a, now);
		}
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
		run_timers(a, now);
		n = build_pollset(a, pfd, who, &next);
		r = wait_events(pfd, n, next, now, &wait_mask);
		/* The one clock read per wakeup; handling an event takes far
		 * less than the millisecond the timers are kept in. */
		now = now_ms();
		if (r < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			client_stop(&a->client, PROTO_ERR_CLIENT_FAILURE, now);
			return 1;
		}
		if (r > 0)
			dispatch(a, pfd, who, n, now);
	}
}

static int setup(struct app *a)
{
	struct client_broker specs[CLIENT_MAX_BROKERS];
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
		const struct broker_spec *s = &a->opt.brokers[i];

		specs[i] = (struct client_broker){ .host = s->host, .port = s->port };
		(void)cli_format_broker(s, a->bio[i].name, sizeof(a->bio[i].name));
		dns_query_init(&a->bio[i].dns);
		for (unsigned k = 0; k < BROKER_MAX_ADDRS; k++) {
			a->bio[i].fd[k] = -1;
			watch_add(a, &a->bio[i].fd[k], NULL, read_broker, NULL,
				  i * BROKER_MAX_ADDRS + k);
		}
		watch_add(a, &a->bio[i].dns.fd, &a->bio[i].dns.deadline, dns_step,
			  dns_step, i);
	}
	client_init(&a->client, &a->cfg, &app_ops, a, specs, a->opt.nbrokers);
	if (a->opt.bind_iface) {
		a->link_fd = link_watch_open();
		if (a->link_fd < 0)
			log_warn("cannot follow link state of %s: %s",
				 a->opt.bind_iface, strerror(-a->link_fd));
		else
			(void)link_watch_query(a->link_fd, a->opt.bind_iface);
	}
	watch_add(a, &a->link_fd, NULL, read_link, NULL, 0);
	watch_add(a, NULL, &a->hooks_at, NULL, hooks_due, 0);
	watch_add(a, NULL, &a->clock_at, NULL, clock_due, 0);
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
