/* rtnetlink requests with libmnl. Each request waits for its answer (an ACK, or the dump's
 * end); the PIC sets up rarely and asks about next hops at most once a second per peer. */
#include "fwd_nl.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

struct fwd_nl {
	struct mnl_socket *sk;
	unsigned portid, seq;
	uint8_t buf[32768]; /* a dump part fits (the kernel sends at most a page or 8 KiB) */
};

struct fwd_nl *
fwd_nl_new(char *err, size_t errlen)
{
	struct fwd_nl *nl = calloc(1, sizeof(*nl));
	struct timeval timeout = { .tv_sec = 1 };

	if (nl == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		fwd_nl_free(nl);
		return NULL;
	}
	/* An answer that never comes must not stop the PIC. */
	if (setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &timeout,
	    sizeof(timeout)) == -1) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		fwd_nl_free(nl);
		return NULL;
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned)getpid();
	return nl;
}

void
fwd_nl_free(struct fwd_nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->sk != NULL)
		mnl_socket_close(nl->sk);
	free(nl);
}

static struct nlmsghdr *
fwd_nl_start(struct fwd_nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++nl->seq;
	return h;
}

/* Sends h and reads until the ACK or the dump's end; cb sees each answer. 0 or -errno. */
static int
fwd_nl_talk(struct fwd_nl *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
	unsigned seq = h->nlmsg_seq;
	uint8_t stale[512];
	ssize_t n;
	int rc;

	/* A reply that came after its request timed out would be read as this one's (and
	 * fail the sequence check, leaving this reply behind): throw late ones away first. */
	while (recv(mnl_socket_get_fd(nl->sk), stale, sizeof(stale), MSG_DONTWAIT) > 0)
		;
	if (mnl_socket_sendto(nl->sk, h, h->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		rc = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
	} while (rc > 0);
	return rc < 0 ? -errno : 0;
}

int
fwd_nl_veth_add(struct fwd_nl *nl, const char *name, const char *peer)
{
	struct nlmsghdr *h = fwd_nl_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	struct nlattr *linkinfo, *data, *peer_attr;
	struct ifinfomsg *pifi;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	peer_attr = mnl_attr_nest_start(h, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(h, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	mnl_attr_nest_end(h, peer_attr);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, linkinfo);
	return fwd_nl_talk(nl, h, NULL, NULL);
}

int
fwd_nl_link_del(struct fwd_nl *nl, const char *name)
{
	struct nlmsghdr *h = fwd_nl_start(nl, RTM_DELLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	return fwd_nl_talk(nl, h, NULL, NULL);
}

int
fwd_nl_link_setup(struct fwd_nl *nl, int ifindex, bool noarp, unsigned mtu)
{
	struct nlmsghdr *h = fwd_nl_start(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP | (noarp ? IFF_NOARP : 0);
	ifi->ifi_change = IFF_UP | IFF_NOARP;
	if (mtu != 0)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	return fwd_nl_talk(nl, h, NULL, NULL);
}

int
fwd_nl_route(struct fwd_nl *nl, bool del, const uint8_t dst[4], unsigned len, int oif)
{
	struct nlmsghdr *h = fwd_nl_start(nl, del ? RTM_DELROUTE : RTM_NEWROUTE,
	    NLM_F_ACK | (del ? 0 : NLM_F_CREATE | NLM_F_REPLACE));
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));

	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = (uint8_t)len;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	mnl_attr_put(h, RTA_DST, 4, dst);
	mnl_attr_put_u32(h, RTA_OIF, (uint32_t)oif);
	return fwd_nl_talk(nl, h, NULL, NULL);
}

struct route_answer {
	uint8_t gateway[4];
	bool have_gateway;
	int oif;
};

static int
fwd_nl_route_attr(const struct nlattr *a, void *data)
{
	struct route_answer *ra = data;

	if (mnl_attr_get_type(a) == RTA_GATEWAY && mnl_attr_get_payload_len(a) == 4) {
		memcpy(ra->gateway, mnl_attr_get_payload(a), 4);
		ra->have_gateway = true;
	} else if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == 4) {
		ra->oif = (int)mnl_attr_get_u32(a);
	}
	return MNL_CB_OK;
}

static int
fwd_nl_route_cb(const struct nlmsghdr *h, void *data)
{
	if (h->nlmsg_type == RTM_NEWROUTE)
		mnl_attr_parse(h, sizeof(struct rtmsg), fwd_nl_route_attr, data);
	return MNL_CB_OK;
}

int
fwd_nl_route_get(struct fwd_nl *nl, const uint8_t dst[4], uint8_t nexthop[4], int *oif)
{
	/* The answer is one message, then the ACK that ends the exchange. */
	struct nlmsghdr *h = fwd_nl_start(nl, RTM_GETROUTE, NLM_F_ACK);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	struct route_answer ra = { .oif = 0 };
	int rc;

	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = 32;
	mnl_attr_put(h, RTA_DST, 4, dst);
	if ((rc = fwd_nl_talk(nl, h, fwd_nl_route_cb, &ra)) != 0)
		return rc;
	if (ra.oif == 0)
		return -ENETUNREACH;
	memcpy(nexthop, ra.have_gateway ? ra.gateway : dst, 4);
	*oif = ra.oif;
	return 0;
}

struct neigh_query {
	int oif;
	uint8_t ip[4], mac[6];
	bool found;
};

static int
fwd_nl_neigh_cb(const struct nlmsghdr *h, void *data)
{
	struct neigh_query *q = data;
	const struct ndmsg *nd = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;
	const uint8_t *ip = NULL, *mac = NULL;

	if (h->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != AF_INET ||
	    nd->ndm_ifindex != q->oif)
		return MNL_CB_OK;
	/* Entries still being resolved or that failed carry no usable address. */
	if (nd->ndm_state & (NUD_INCOMPLETE | NUD_FAILED | NUD_NONE))
		return MNL_CB_OK;
	mnl_attr_for_each(a, h, sizeof(*nd)) {
		if (mnl_attr_get_type(a) == NDA_DST && mnl_attr_get_payload_len(a) == 4)
			ip = mnl_attr_get_payload(a);
		else if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6)
			mac = mnl_attr_get_payload(a);
	}
	if (ip != NULL && mac != NULL && memcmp(ip, q->ip, 4) == 0) {
		memcpy(q->mac, mac, 6);
		q->found = true;
	}
	return MNL_CB_OK;
}

int
fwd_nl_neigh_get(struct fwd_nl *nl, int oif, const uint8_t ip[4], uint8_t mac[6])
{
	struct nlmsghdr *h = fwd_nl_start(nl, RTM_GETNEIGH, NLM_F_DUMP);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(h, sizeof(*nd));
	struct neigh_query q = { .oif = oif };
	int rc;

	/* A dump filtered by device: a GET of one entry needs kernel 5.x strict checking. */
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = oif;
	mnl_attr_put_u32(h, NDA_IFINDEX, (uint32_t)oif);
	memcpy(q.ip, ip, 4);
	if ((rc = fwd_nl_talk(nl, h, fwd_nl_neigh_cb, &q)) != 0)
		return rc;
	if (!q.found)
		return -ENOENT;
	memcpy(mac, q.mac, 6);
	return 0;
}

struct addr_query {
	uint8_t ip[4];
	int ifindex;
};

static int
fwd_nl_addr_cb(const struct nlmsghdr *h, void *data)
{
	struct addr_query *q = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;

	if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET)
		return MNL_CB_OK;
	mnl_attr_for_each(a, h, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL && mnl_attr_get_payload_len(a) == 4 &&
		    memcmp(mnl_attr_get_payload(a), q->ip, 4) == 0)
			q->ifindex = (int)ifa->ifa_index;
	}
	return MNL_CB_OK;
}

int
fwd_nl_addr_dev(struct fwd_nl *nl, const uint8_t ip[4], int *ifindex)
{
	struct nlmsghdr *h = fwd_nl_start(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	struct addr_query q = { .ifindex = 0 };
	int rc;

	ifa->ifa_family = AF_INET;
	memcpy(q.ip, ip, 4);
	if ((rc = fwd_nl_talk(nl, h, fwd_nl_addr_cb, &q)) != 0)
		return rc;
	if (q.ifindex == 0)
		return -ENOENT;
	*ifindex = q.ifindex;
	return 0;
}

int
fwd_link_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd == -1)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1)
		rc = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}

unsigned
fwd_link_mtu(const char *name)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned mtu = 0;

	if (fd == -1)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (unsigned)ifr.ifr_mtu;
	close(fd);
	return mtu;
}

int
fwd_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	size_t len = strlen(value);

	if (fd == -1)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		rc = -errno;
	close(fd);
	return rc;
}

int
fwd_link_no_offloads(const char *name)
{
	/* Off in this order: segmentation depends on scatter-gather and checksumming. */
	static const uint32_t cmds[] = { ETHTOOL_SGSO, ETHTOOL_STSO, ETHTOOL_SSG,
	    ETHTOOL_STXCSUM };
	struct ethtool_value ev;
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;
	size_t i;

	if (fd == -1)
		return -errno;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && rc == 0; i++) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		ev.cmd = cmds[i];
		ev.data = 0;
		ifr.ifr_data = (void *)&ev;
		if (ioctl(fd, SIOCETHTOOL, &ifr) == -1)
			rc = -errno;
	}
	close(fd);
	return rc;
}
