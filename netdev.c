/* SPDX-License-Identifier: MIT */
#include "netdev.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>

static int ifreq_for(struct ifreq *ifr, const char *ifname)
{
	size_t n = strlen(ifname);

	if (n == 0 || n >= sizeof(ifr->ifr_name))
		return -EINVAL;
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, ifname, n);
	return 0;
}

int netdev_set_mtu(int sock, const char *ifname, int mtu)
{
	struct ifreq ifr;

	if (ifreq_for(&ifr, ifname))
		return -EINVAL;
	ifr.ifr_mtu = mtu;
	return ioctl(sock, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
}

int netdev_set_up(int sock, const char *ifname, bool up)
{
	struct ifreq ifr;

	if (ifreq_for(&ifr, ifname))
		return -EINVAL;
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}
