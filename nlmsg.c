/* SPDX-License-Identifier: MIT */
/*
 * The netlink message layer: writer, walkers, error replies, sockets.
 * See nlmsg.h for the wire format and the bounds every reader keeps.
 */
#include "nlmsg.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

void nlw_reserve_zero(struct nl_writer *w, size_t n, uint8_t **at)
{
	*at = NULL;
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	*at = w->buf + w->len;
	memset(*at, 0, n);
	w->len += n;
}

void nlw_start(struct nl_writer *w, uint8_t *buf, size_t cap, uint16_t type,
	       uint16_t flags, uint32_t seq)
{
	uint8_t *h;

	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->full = false;
	nlw_reserve_zero(w, NLMSG_HDRLEN, &h);
	if (!h)
		return;
	nl_put16(h + 4, type);
	nl_put16(h + 6, flags);
	nl_put32(h + 8, seq);
}

void nlw_attr(struct nl_writer *w, uint16_t type, const void *data, size_t len)
{
	uint8_t *a;

	if (len > UINT16_MAX - NLA_HDRLEN) {
		w->full = true;
		return;
	}
	nlw_reserve_zero(w, NL_ALIGN(NLA_HDRLEN + len), &a);
	if (!a)
		return;
	nl_put16(a, (uint16_t)(NLA_HDRLEN + len));
	nl_put16(a + 2, type);
	memcpy(a + NLA_HDRLEN, data, len);
}

void nlw_u8(struct nl_writer *w, uint16_t type, uint8_t v)
{
	nlw_attr(w, type, &v, sizeof(v));
}

void nlw_u16(struct nl_writer *w, uint16_t type, uint16_t v)
{
	nlw_attr(w, type, &v, sizeof(v));
}

void nlw_u32(struct nl_writer *w, uint16_t type, uint32_t v)
{
	nlw_attr(w, type, &v, sizeof(v));
}

void nlw_str(struct nl_writer *w, uint16_t type, const char *s)
{
	nlw_attr(w, type, s, strlen(s) + 1);
}

ssize_t nlw_finish(struct nl_writer *w)
{
	if (w->full)
		return -ENOSPC;
	nl_put32(w->buf, (uint32_t)w->len);
	return (ssize_t)w->len;
}

bool tlv_next(struct nl_iter *it, size_t hdr, bool len32, const uint8_t **rec,
	      size_t *len)
{
	size_t step;

	if (it->rem == 0)
		return false;
	if (it->rem < hdr) {
		it->bad = true;
		return false;
	}
	*len = len32 ? nl_get32(it->p) : nl_get16(it->p);
	if (*len < hdr || *len > it->rem) {
		it->bad = true;
		return false;
	}
	*rec = it->p;
	step = NL_ALIGN(*len);
	if (step > it->rem)
		step = it->rem;
	it->p += step;
	it->rem -= step;
	return true;
}

bool nl_next(struct nl_iter *it, struct nl_msg *m)
{
	const uint8_t *p;
	size_t len;

	if (!tlv_next(it, NLMSG_HDRLEN, true, &p, &len))
		return false;
	m->type = nl_get16(p + 4);
	m->flags = nl_get16(p + 6);
	m->seq = nl_get32(p + 8);
	m->body = p + NLMSG_HDRLEN;
	m->body_len = len - NLMSG_HDRLEN;
	return true;
}

bool nla_next(struct nl_iter *it, struct nla *a)
{
	const uint8_t *p;
	size_t len;

	if (!tlv_next(it, NLA_HDRLEN, false, &p, &len))
		return false;
	a->type = nl_get16(p + 2) & NLA_TYPE_MASK;
	a->val = p + NLA_HDRLEN;
	a->len = len - NLA_HDRLEN;
	return true;
}

int nl_error_code(const struct nl_msg *m, int *err)
{
	int32_t e;

	if (m->type != NLMSG_ERROR)
		return 0;
	if (m->body_len < sizeof(e))
		return -EBADMSG;
	memcpy(&e, m->body, sizeof(e));
	if (e > 0 || e < -4095)
		return -EBADMSG;
	*err = e;
	return 1;
}

int nl_parse_ack(const uint8_t *p, size_t n, uint32_t seq)
{
	struct nl_iter it = { p, n, false };
	struct nl_msg m;
	int err = 0, r;

	while (nl_next(&it, &m)) {
		if (m.seq != seq)
			continue;
		r = nl_error_code(&m, &err);
		if (r)
			return r < 0 ? r : err;
	}
	return it.bad ? -EBADMSG : 1;
}

int nl_socket(int proto, uint32_t groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int nl_send(int fd, const uint8_t *msg, size_t len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t r;

	r = sendto(fd, msg, len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}

ssize_t nl_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct sockaddr_nl from = { 0 };
	socklen_t fl;
	ssize_t r;

	for (;;) {
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		fl = sizeof(from);
		r = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (from.nl_pid != 0)
			continue; /* only the kernel may answer */
		if ((size_t)r > cap)
			return -ENOSPC;
		return r;
	}
}
