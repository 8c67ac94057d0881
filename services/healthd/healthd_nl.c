/* The host's addresses and links, from rtnetlink: a dump at start, then the kernel's change
 * messages. Every change of an address's usability (present, on a link that is up) is
 * published on "iface.<device>", which is what gw-interface's cleanup follows. A lost
 * message (ENOBUFS) is repaired by a new dump compared with what we had. */
#include "healthd_impl.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "bus.h"
#include "catalog.h"
#include "log.h"

enum { NL_MAX_LINKS = 256, NL_MAX_ADDRS = 512 };

struct nl_link {
	int index;
	char name[IFNAMSIZ];
	bool up;
};

struct nl_addr {
	int index;
	uint8_t family, len;
	uint8_t addr[16];
};

struct nl_table {
	struct nl_link links[NL_MAX_LINKS];
	size_t nlinks;
	struct nl_addr addrs[NL_MAX_ADDRS];
	size_t naddrs;
};

struct healthd_nl {
	struct healthd *hd;
	struct mnl_socket *events;
	ev_io w;
	struct nl_table cur;
	unsigned seq;
};

static struct nl_link *
nl_link(struct nl_table *t, int index)
{
	for (size_t i = 0; i < t->nlinks; i++) {
		if (t->links[i].index == index)
			return &t->links[i];
	}
	return NULL;
}

static bool
nl_usable(struct nl_table *t, const struct nl_addr *a)
{
	struct nl_link *l = nl_link(t, a->index);

	return l != NULL && l->up;
}

static struct nl_addr *
nl_addr_find(struct nl_table *t, const uint8_t *addr, size_t len)
{
	for (size_t i = 0; i < t->naddrs; i++) {
		if (t->addrs[i].len == len && memcmp(t->addrs[i].addr, addr, len) == 0)
			return &t->addrs[i];
	}
	return NULL;
}

static void
nl_publish(struct healthd_nl *nl, const char *dev, Picsec__V1__IfaceChange change,
    const struct nl_addr *a, bool usable)
{
	Picsec__V1__IfaceEvent ev = PICSEC__V1__IFACE_EVENT__INIT;
	Picsec__V1__IpAddress ip = PICSEC__V1__IP_ADDRESS__INIT;
	char topic[IFNAMSIZ + 8];

	ev.device = (char *)(uintptr_t)dev;
	ev.change = change;
	ev.usable = usable;
	if (a != NULL) {
		ip.addr.data = (uint8_t *)(uintptr_t)a->addr;
		ip.addr.len = a->len;
		ev.address = &ip;
	}
	snprintf(topic, sizeof(topic), "iface.%s", dev);
	if (bus_publish(nl->hd->bus, topic, MT(IFACE_EVENT), &ev.base) == -1)
		log_warnx("%s: change not published (queue full)", dev);
}

/* One RTM_{NEW,DEL}{LINK,ADDR} into t. */
static void
nl_parse(struct nl_table *t, const struct nlmsghdr *h)
{
	struct nlattr *attr;

	if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
		const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
		struct nl_link *l = nl_link(t, ifi->ifi_index);

		if (h->nlmsg_type == RTM_DELLINK) {
			if (l != NULL)
				*l = t->links[--t->nlinks];
			return;
		}
		if (l == NULL) {
			if (t->nlinks == NL_MAX_LINKS)
				return;
			l = &t->links[t->nlinks++];
			memset(l, 0, sizeof(*l));
			l->index = ifi->ifi_index;
		}
		l->up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING);
		mnl_attr_for_each(attr, h, sizeof(*ifi)) {
			if (mnl_attr_get_type(attr) == IFLA_IFNAME &&
			    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(attr));
		}
		return;
	}
	if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
		const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
		struct nl_addr a = { .index = (int)ifa->ifa_index, .family = ifa->ifa_family };
		struct nl_addr *have;
		bool found = false;

		a.len = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 16 : 0;
		if (a.len == 0)
			return;
		mnl_attr_for_each(attr, h, sizeof(*ifa)) {
			/* IFA_LOCAL is the address on point-to-point links; IFA_ADDRESS the peer
			 * there and the same elsewhere. */
			uint16_t type = mnl_attr_get_type(attr);

			if ((type == IFA_LOCAL || (type == IFA_ADDRESS && !found)) &&
			    mnl_attr_get_payload_len(attr) == a.len) {
				memcpy(a.addr, mnl_attr_get_payload(attr), a.len);
				found = true;
			}
		}
		if (!found)
			return;
		have = nl_addr_find(t, a.addr, a.len);
		if (h->nlmsg_type == RTM_DELADDR) {
			if (have != NULL)
				*have = t->addrs[--t->naddrs];
		} else if (have != NULL) {
			*have = a;
		} else if (t->naddrs < NL_MAX_ADDRS) {
			t->addrs[t->naddrs++] = a;
		}
	}
}

static int
nl_dump_cb(const struct nlmsghdr *h, void *arg)
{
	nl_parse(arg, h);
	return MNL_CB_OK;
}

/* A whole dump of links and addresses into t, on a socket of its own. */
static int
nl_dump(struct healthd_nl *nl, struct nl_table *t)
{
	static const int kinds[2] = { RTM_GETLINK, RTM_GETADDR };
	char buf[32768];
	struct mnl_socket *sk;
	struct nlmsghdr *h;
	struct rtgenmsg *g;
	unsigned portid;
	ssize_t n;
	int rc = -1, cb = MNL_CB_OK;

	memset(t, 0, sizeof(*t));
	if ((sk = mnl_socket_open(NETLINK_ROUTE)) == NULL ||
	    mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(sk);
	for (size_t k = 0; k < 2; k++) {
		h = mnl_nlmsg_put_header(buf);
		h->nlmsg_type = (uint16_t)kinds[k];
		h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		h->nlmsg_seq = ++nl->seq;
		g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
		g->rtgen_family = AF_UNSPEC;
		if (mnl_socket_sendto(sk, h, h->nlmsg_len) < 0)
			goto out;
		/* Bounded: a dump ends with NLMSG_DONE (MNL_CB_STOP) or an error. */
		for (int i = 0; i < 10000; i++) {
			if ((n = mnl_socket_recvfrom(sk, buf, sizeof(buf))) <= 0)
				goto out;
			if ((cb = mnl_cb_run(buf, (size_t)n, nl->seq, portid, nl_dump_cb, t)) <=
			    MNL_CB_STOP)
				break;
		}
		if (cb == MNL_CB_ERROR)
			goto out;
	}
	rc = 0;
out:
	if (sk != NULL)
		mnl_socket_close(sk);
	return rc;
}

/* Publishes what differs between old and t (then t is current). */
static void
nl_diff(struct healthd_nl *nl, struct nl_table *old, struct nl_table *t)
{
	const char *dev;

	for (size_t i = 0; i < t->naddrs; i++) {
		struct nl_addr *a = &t->addrs[i], *was = nl_addr_find(old, a->addr, a->len);
		bool now = nl_usable(t, a), before = was != NULL && nl_usable(old, was);
		struct nl_link *l = nl_link(t, a->index);

		dev = l != NULL ? l->name : "?";
		if (was == NULL)
			nl_publish(nl, dev, PICSEC__V1__IFACE_CHANGE__IFACE_ADDRESS_ADDED, a, now);
		else if (now != before)
			nl_publish(nl, dev, now ? PICSEC__V1__IFACE_CHANGE__IFACE_LINK_UP :
			    PICSEC__V1__IFACE_CHANGE__IFACE_LINK_DOWN, a, now);
	}
	for (size_t i = 0; i < old->naddrs; i++) {
		struct nl_addr *a = &old->addrs[i];
		struct nl_link *l = nl_link(old, a->index);

		if (nl_addr_find(t, a->addr, a->len) == NULL)
			nl_publish(nl, l != NULL ? l->name : "?",
			    PICSEC__V1__IFACE_CHANGE__IFACE_ADDRESS_REMOVED, a, false);
	}
}

static void
nl_resync(struct healthd_nl *nl)
{
	struct nl_table *t = malloc(sizeof(*t));

	if (t == NULL || nl_dump(nl, t) == -1) {
		log_warnx("netlink: dump failed: addresses may be stale");
		free(t);
		return;
	}
	nl_diff(nl, &nl->cur, t);
	nl->cur = *t;
	free(t);
}

static int
nl_event_cb(const struct nlmsghdr *h, void *arg)
{
	struct healthd_nl *nl = arg;
	struct nl_table *old = malloc(sizeof(*old));

	if (old == NULL)
		return MNL_CB_OK;
	*old = nl->cur;
	nl_parse(&nl->cur, h);
	nl_diff(nl, old, &nl->cur);
	free(old);
	return MNL_CB_OK;
}

static void
nl_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct healthd_nl *nl = w->data;
	char buf[16384];
	ssize_t n;

	(void)loop;
	(void)revents;
	for (int i = 0; i < 64; i++) {
		if ((n = recv(mnl_socket_get_fd(nl->events), buf, sizeof(buf), MSG_DONTWAIT)) < 0) {
			if (errno == ENOBUFS) {
				log_warnx("netlink: messages lost: dumping again");
				/* What is still queued is older than the dump to come: applied
				 * after it, it would undo newer changes (an address deleted and
				 * added again would stay deleted). Dropped, bounded. */
				for (int k = 0; k < 100000; k++) {
					if (recv(mnl_socket_get_fd(nl->events), buf, sizeof(buf),
					    MSG_DONTWAIT) < 0 && errno != ENOBUFS)
						break;
				}
				nl_resync(nl);
				continue;
			}
			return; /* EAGAIN: all read */
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, nl_event_cb, nl);
	}
}

struct healthd_nl *
healthd_nl_new(struct healthd *hd, char *err, size_t errlen)
{
	struct healthd_nl *nl = calloc(1, sizeof(*nl));

	if (nl == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	nl->hd = hd;
	nl->seq = (unsigned)time(NULL);
	/* Subscribed before the dump, so that nothing falls between them. */
	if ((nl->events = mnl_socket_open(NETLINK_ROUTE)) == NULL ||
	    mnl_socket_bind(nl->events, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	    MNL_SOCKET_AUTOPID) < 0 || nl_dump(nl, &nl->cur) == -1) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		healthd_nl_free(nl);
		return NULL;
	}
	nl->w.data = nl;
	ev_io_init(&nl->w, nl_readable, mnl_socket_get_fd(nl->events), EV_READ);
	ev_io_start(hd->loop, &nl->w);
	log_info("watching %zu addresses on %zu links", nl->cur.naddrs, nl->cur.nlinks);
	return nl;
}

void
healthd_nl_free(struct healthd_nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->events != NULL) {
		ev_io_stop(nl->hd->loop, &nl->w);
		mnl_socket_close(nl->events);
	}
	free(nl);
}

void
healthd_nl_state(struct healthd_nl *nl, const Picsec__V1__IfaceGetState *q,
    Picsec__V1__IfaceState *st)
{
	Picsec__V1__IfaceEvent **evs = calloc(q->n_addresses + 1, sizeof(*evs));

	st->addresses = evs;
	st->n_addresses = 0;
	for (size_t i = 0; evs != NULL && i < q->n_addresses; i++) {
		const Picsec__V1__IpAddress *ip = q->addresses[i];
		Picsec__V1__IfaceEvent *ev = calloc(1, sizeof(*ev));
		struct nl_addr *a;
		struct nl_link *l;

		if (ev == NULL || ip == NULL)
			break;
		picsec__v1__iface_event__init(ev);
		ev->address = (Picsec__V1__IpAddress *)(uintptr_t)ip;
		a = nl_addr_find(&nl->cur, ip->addr.data, ip->addr.len);
		l = a != NULL ? nl_link(&nl->cur, a->index) : NULL;
		ev->device = (char *)(uintptr_t)(l != NULL ? l->name : "");
		ev->usable = a != NULL && nl_usable(&nl->cur, a);
		ev->change = a == NULL ? PICSEC__V1__IFACE_CHANGE__IFACE_ADDRESS_REMOVED :
		    ev->usable ? PICSEC__V1__IFACE_CHANGE__IFACE_LINK_UP :
		    PICSEC__V1__IFACE_CHANGE__IFACE_LINK_DOWN;
		evs[st->n_addresses++] = ev;
	}
}

void
healthd_nl_state_free(Picsec__V1__IfaceState *st)
{
	for (size_t i = 0; i < st->n_addresses; i++)
		free(st->addresses[i]);
	free(st->addresses);
}
