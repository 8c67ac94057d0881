/* Service sets on the PIC (DESIGN §4): per set a veth pair whose kernel end carries the
 * inside service interface's name and whose other end the PIC serves with AF_XDP; routes
 * to the remote prefixes into it (next-hop style) or a tc egress program diverting the
 * rules' traffic into it (interface style). And the outside device, where the local
 * gateway lives: XDP steers ESP and AH to the PIC there, and the PIC transmits there. */
#include "fwd_impl.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <netinet/in.h>

#include "fwd_bpf.h"
#include "fwd_nl.h"
#include "fwd_xsk.h"
#include "log.h"
#include "secbuf.h"
#include "u64map.h"

struct fwd_set *
fwd_set_find(struct fwd *f, const char *name)
{
	struct fwd_set *s;

	for (s = f->sets; s != NULL; s = s->next) {
		if (strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

void
fwd_outside_close(struct fwd *f)
{
	if (f->outside_xsk != NULL)
		ev_io_stop(f->loop, &f->outside_io);
	fwd_xsk_free(f->outside_xsk);
	f->outside_xsk = NULL;
	fwd_xdp_detach(f->outside_xdp);
	f->outside_xdp = NULL;
	f->outside_ifindex = 0;
	f->outside[0] = '\0';
}

/* The receive queues of a device (sysfs); 0 when it cannot be read. */
static unsigned
fwd_rx_queues(const char *dev)
{
	char path[96];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", dev);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "rx-", 3) == 0;
	closedir(d);
	return n;
}

/* The outside device is where the first set's local gateway lives. */
static int
fwd_outside_open(struct fwd *f, uint32_t local)
{
	char err[200];
	int ifindex, rc;

	if (f->outside_xsk != NULL)
		return 0;
	if ((rc = fwd_nl_addr_dev(f->nl, (const uint8_t *)&local, &ifindex)) != 0) {
		snprintf(f->error, sizeof(f->error), "local gateway %s is on no device%s",
		    inet_ntoa((struct in_addr){ local }), rc == -ENOENT ? "" : " (netlink error)");
		return -1;
	}
	if (if_indextoname((unsigned)ifindex, f->outside) == NULL) {
		snprintf(f->error, sizeof(f->error), "device %d: %s", ifindex, strerror(errno));
		return -1;
	}
	/* One AF_XDP socket, on queue 0: what RSS spreads to other queues would pass to the
	 * kernel and be lost. */
	if (fwd_rx_queues(f->outside) > 1) {
		snprintf(f->error, sizeof(f->error), "outside device %s has %u receive queues; the "
		    "PIC serves one: ethtool -L %s combined 1", f->outside,
		    fwd_rx_queues(f->outside), f->outside);
		f->outside[0] = '\0';
		return -1;
	}
	f->outside_ifindex = ifindex;
	f->outside_mtu = fwd_link_mtu(f->outside);
	if (fwd_link_mac(f->outside, f->outside_mac) != 0 ||
	    (f->outside_xdp = fwd_xdp_attach(FWD_XDP_OUTSIDE, ifindex, false, err,
	    sizeof(err))) == NULL ||
	    (f->outside_xsk = fwd_xsk_new(f->outside, fwd_xdp_xskmap(f->outside_xdp), f->frames,
	    err, sizeof(err))) == NULL) {
		snprintf(f->error, sizeof(f->error), "outside device %s: %s", f->outside, err);
		fwd_outside_close(f);
		return -1;
	}
	ev_io_init(&f->outside_io, fwd_outside_rx, fwd_xsk_fd(f->outside_xsk), EV_READ);
	f->outside_io.data = f;
	ev_io_start(f->loop, &f->outside_io);
	log_info("outside device %s: XDP in %s mode, AF_XDP in copy mode, MTU %u", f->outside,
	    fwd_xdp_mode(f->outside_xdp), f->outside_mtu);
	return 0;
}

/* The local gateways the outside program steers: every ready set's. */
static void
fwd_outside_gateways(struct fwd *f)
{
	int fd = f->outside_xdp != NULL ? fwd_xdp_gateways(f->outside_xdp) : -1;
	uint32_t key, next, one = 1;
	struct fwd_set *s;

	if (fd < 0)
		return;
	while (bpf_map_get_next_key(fd, NULL, &key) == 0 && bpf_map_delete_elem(fd, &key) == 0)
		;
	(void)next;
	for (s = f->sets; s != NULL; s = s->next) {
		if (s->ready && bpf_map_update_elem(fd, &s->local, &one, BPF_ANY) != 0)
			log_warn("local gateway map");
	}
}

static void
fwd_set_free(struct fwd *f, struct fwd_set *s)
{
	size_t i;

	if (s->xsk != NULL)
		ev_io_stop(f->loop, &s->io);
	fwd_xsk_free(s->xsk);
	fwd_xdp_detach(s->xdp);
	for (i = 0; i < s->ntcs; i++)
		fwd_tc_detach(s->tcs[i]);
	free(s->tcs);
	if (s->inside[0] != '\0' && fwd_nl_link_del(f->nl, s->inside) != 0 && errno != ENODEV)
		log_warnx("service set %s: %s not deleted", s->name, s->inside);
	free(s->routes);
	free(s->out);
	free(s->spare);
	free(s->pending);
	free(s->dyn);
	free(s->spd);
	free(s->packed);
	free(s);
}

/* Junos "ge-0/0/0.0" is the Linux device "ge-0-0-0" (unit 0 only). */
static int
fwd_linux_name(const char *ifl, char *out, size_t outlen)
{
	const char *dot = strrchr(ifl, '.');
	size_t n = dot != NULL ? (size_t)(dot - ifl) : strlen(ifl), i;

	if (dot != NULL && strcmp(dot, ".0") != 0)
		return -1;
	if (n == 0 || n >= outlen || n >= IFNAMSIZ)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = ifl[i] == '/' ? '-' : ifl[i];
	out[n] = '\0';
	return 0;
}

static int
fwd_set_open(struct fwd *f, struct fwd_set *s, const Picsec__V1__PicServiceSet *m)
{
	char err[200], path[128];
	int rc;
	size_t i;

	if (strlen(m->inside_interface) == 0 || strlen(m->inside_interface) >= IFNAMSIZ) {
		snprintf(s->error, sizeof(s->error), "inside interface '%s' is no device name",
		    m->inside_interface);
		return -1;
	}
	snprintf(s->inside, sizeof(s->inside), "%s", m->inside_interface);
	if (strlen(s->inside) + 4 < IFNAMSIZ)
		snprintf(s->pic_end, sizeof(s->pic_end), "%s.pic", s->inside);
	else
		snprintf(s->pic_end, sizeof(s->pic_end), "pic%08x", (unsigned)s->local ^
		    (unsigned)strlen(s->name) * 2654435761u);
	/* A veth left by an earlier PIC goes: its routes and programs with it. */
	(void)fwd_nl_link_del(f->nl, s->inside);
	if ((rc = fwd_nl_veth_add(f->nl, s->inside, s->pic_end)) != 0) {
		snprintf(s->error, sizeof(s->error), "service veth %s: %s", s->inside,
		    strerror(-rc));
		s->inside[0] = '\0';
		return -1;
	}
	s->inside_ifindex = (int)if_nametoindex(s->inside);
	s->pic_ifindex = (int)if_nametoindex(s->pic_end);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", s->inside);
	/* Decrypted packets come back in through the veth from anywhere: no reverse path. */
	if (fwd_sysctl(path, "0") != 0)
		log_warn("%s", path);
	/* ICMP "fragmentation needed" comes from the local gateway address. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", s->inside);
	if (fwd_sysctl(path, "1") != 0)
		log_warn("%s", path);
	if ((rc = fwd_link_no_offloads(s->inside)) != 0)
		log_warnx("service set %s: offloads of %s stay on (%s): forwarded TCP may carry "
		    "unfinished checksums", s->name, s->inside, strerror(-rc));
	if (s->inside_ifindex == 0 || s->pic_ifindex == 0 ||
	    fwd_link_mac(s->inside, s->inside_mac) != 0 ||
	    fwd_link_mac(s->pic_end, s->pic_mac) != 0 ||
	    fwd_nl_link_setup(f->nl, s->pic_ifindex, true, 0) != 0 ||
	    fwd_nl_link_setup(f->nl, s->inside_ifindex, true, 0) != 0) {
		snprintf(s->error, sizeof(s->error), "service veth %s: setting it up failed",
		    s->inside);
		return -1;
	}
	/* Native only: generic XDP never sees what tc redirected. */
	if ((s->xdp = fwd_xdp_attach(FWD_XDP_SERVICE, s->pic_ifindex, true, err,
	    sizeof(err))) == NULL ||
	    (s->xsk = fwd_xsk_new(s->pic_end, fwd_xdp_xskmap(s->xdp), f->frames, err,
	    sizeof(err))) == NULL) {
		snprintf(s->error, sizeof(s->error), "%s: %s", s->pic_end, err);
		return -1;
	}
	ev_io_init(&s->io, fwd_service_rx, fwd_xsk_fd(s->xsk), EV_READ);
	s->io.data = s;
	ev_io_start(f->loop, &s->io);
	if (s->style == PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP) {
		for (i = 0; i < s->nroutes; i++) {
			if ((rc = fwd_nl_route(f->nl, false, (const uint8_t *)&s->routes[i].addr,
			    (unsigned)__builtin_popcount(s->routes[i].mask),
			    s->inside_ifindex)) != 0)
				log_warnx("service set %s: route into %s: %s", s->name, s->inside,
				    strerror(-rc));
		}
	} else {
		if ((s->tcs = calloc(m->n_applied_interfaces + 1, sizeof(*s->tcs))) == NULL)
			return -1;
		for (i = 0; i < m->n_applied_interfaces; i++) {
			char dev[IFNAMSIZ];
			int ifindex;

			if (fwd_linux_name(m->applied_interfaces[i], dev, sizeof(dev)) != 0 ||
			    (ifindex = (int)if_nametoindex(dev)) == 0) {
				log_warnx("service set %s: interface %s has no Linux device (%s): "
				    "nothing diverted there", s->name, m->applied_interfaces[i],
				    dev);
				continue;
			}
			if ((s->tcs[s->ntcs] = fwd_tc_attach(ifindex, err, sizeof(err))) == NULL) {
				snprintf(s->error, sizeof(s->error), "%s: %s", dev, err);
				return -1;
			}
			s->ntcs++;
		}
	}
	log_info("service set %s: %s <-> %s (AF_XDP), %s style", s->name, s->inside, s->pic_end,
	    s->style == PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP ? "next-hop" :
	    "interface");
	return 0;
}

static struct fwd_set *
fwd_set_new(struct fwd *f, const Picsec__V1__PicServiceSet *m, const uint8_t *packed,
    size_t len)
{
	struct fwd_set *s = calloc(1, sizeof(*s));
	size_t i;

	if (s == NULL)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", m->name);
	if ((s->packed = malloc(len + 1)) == NULL ||
	    (s->routes = calloc(m->n_remote_prefixes + 1, sizeof(*s->routes))) == NULL ||
	    fwd_dynterms_set(s, m) == -1) {
		free(s->packed);
		free(s->routes);
		free(s->dyn);
		free(s);
		return NULL;
	}
	memcpy(s->packed, packed, len);
	s->packed_len = len;
	s->fwd = f;
	s->style = m->style;
	if (m->local_gateway != NULL && m->local_gateway->addr.len == 4)
		memcpy(&s->local, m->local_gateway->addr.data, 4);
	for (i = 0; i < m->n_remote_prefixes; i++) {
		if (m->remote_prefixes[i]->addr.len == 4)
			s->routes[s->nroutes++] = fwd_prefix_of(m->remote_prefixes[i]);
	}
	if (s->local == 0)
		snprintf(s->error, sizeof(s->error), "no IPv4 local gateway");
	else if (fwd_outside_open(f, s->local) != 0)
		snprintf(s->error, sizeof(s->error), "%s", f->error);
	else if (fwd_set_open(f, s, m) == 0)
		s->ready = true;
	if (!s->ready)
		log_warnx("service set %s: not ready: %s", s->name, s->error);
	return s;
}

static void
fwd_sa_link(uint64_t id, void *value, void *arg)
{
	struct fwd_sa *sa = value;

	(void)id;
	sa->set = fwd_set_find(arg, sa->service_set);
}

/* Every SA's set pointer, after sets came or went (the packet path uses them). */
void
fwd_sas_link(struct fwd *f)
{
	u64map_foreach(f->sas, fwd_sa_link, f);
}

void
fwd_sets_apply(struct fwd *f, Picsec__V1__PicServiceSet *const *sets, size_t n)
{
	struct fwd_set *keep = NULL, *s, **pp, *next;
	struct fwd_dynterm *old_dyn;
	uint8_t *packed;
	size_t i, len, nold;

	for (i = 0; i < n; i++) {
		len = protobuf_c_message_get_packed_size(&sets[i]->base);
		if ((packed = malloc(len + 1)) == NULL)
			continue;
		protobuf_c_message_pack(&sets[i]->base, packed);
		/* Unchanged and working: keep it as it is. */
		for (pp = &f->sets; *pp != NULL; pp = &(*pp)->next) {
			if (strcmp((*pp)->name, sets[i]->name) == 0)
				break;
		}
		s = *pp;
		if (s != NULL && s->ready && s->packed_len == len &&
		    memcmp(s->packed, packed, len) == 0) {
			*pp = s->next;
		} else {
			old_dyn = NULL;
			nold = 0;
			if (s != NULL) {
				*pp = s->next;
				old_dyn = s->dyn;
				nold = s->ndyn;
				s->dyn = NULL;
				fwd_set_free(f, s);
			}
			s = fwd_set_new(f, sets[i], packed, len);
			if (s != NULL)
				fwd_dynterms_inherit(s, old_dyn, nold);
			free(old_dyn);
		}
		free(packed);
		if (s != NULL) {
			s->next = keep;
			keep = s;
		}
	}
	for (s = f->sets; s != NULL; s = next) {
		next = s->next;
		log_info("service set %s: gone from this PIC", s->name);
		fwd_set_free(f, s);
	}
	f->sets = keep;
	fwd_sas_link(f);
	if (f->sets == NULL)
		fwd_outside_close(f);
	fwd_outside_gateways(f);
}

void
fwd_sets_free(struct fwd *f)
{
	struct fwd_set *s, *next;

	for (s = f->sets; s != NULL; s = next) {
		next = s->next;
		fwd_set_free(f, s);
	}
	f->sets = NULL;
	fwd_outside_close(f);
}
