/* "Clearing Security Associations", iked's part: healthd says a PIC went down or came back
 * ("service.fwd.*") and a local gateway address went away or came back ("iface.*").
 * - clear-ike-sas-on-pic-restart: the IKE SAs of the tunnels on that PIC are deleted (a
 *   Delete to the peer each) and negotiated again once the PIC is back;
 * - clear-ipsec-sas-on-pic-restart: sadb deletes the IPsec SAs; the IKE SA left without its
 *   Child SA goes too (one Child SA per IKE SA here) and comes back with the PIC;
 * - gw-interface: while the address or the PIC is down the tunnel sends no IKE triggers
 *   (held); next-hop sets lose their IKE SAs at once, interface-style ones keep them until
 *   sadb deletes their Not Installed IPsec SAs when the address comes back.
 * Every act is published as an SaCleanup on "cleanup.<service-set>".
 * And sadb itself ("service.sadb"): one that restarted has none of the negotiated SAs. */
#include "iked_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "health.pb-c.h"
#include "health_follow.h"
#include "log.h"
#include "u64map.h"

static bool
iked_tunnel_should_hold(struct iked *ik, const struct iked_tunnel *t)
{
	bool pic_down = t->pic[0] != '\0' && health_pic_is_down(ik->downs, t->pic);
	bool gw_down = health_addr_is_down(ik->downs, t->local, 4);

	if (t->gw_interface && (pic_down || gw_down))
		return true;
	/* Negotiating towards a PIC that is not there would only be cleared again. */
	return pic_down && (t->clear_ike_on_pic || t->clear_ipsec_on_pic);
}

void
iked_tunnel_restart(struct iked *ik, struct iked_tunnel *t)
{
	if (t->held || t->establish != PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_IMMEDIATELY)
		return; /* on-traffic: the PIC's next acquire starts it */
	iked_initiate(ik, t);
}

static void
iked_cleanup_publish(struct iked *ik, const struct iked_tunnel *t,
    Picsec__V1__CleanupCause cause, size_t ike_sas, const char *detail)
{
	Picsec__V1__SaCleanup ev = PICSEC__V1__SA_CLEANUP__INIT;
	char topic[IKED_NAME_MAX + 16];

	ev.service_set = (char *)(uintptr_t)t->service_set;
	ev.pic = (char *)(uintptr_t)t->pic;
	ev.cause = cause;
	ev.by = (char *)(uintptr_t)"iked";
	ev.ike_sas_cleared = (uint32_t)ike_sas;
	ev.detail = (char *)(uintptr_t)detail;
	ev.triggers_stopped = t->held;
	snprintf(topic, sizeof(topic), "cleanup.%s", t->service_set);
	if (bus_publish(ik->bus, topic, MT(SA_CLEANUP), &ev.base) == -1)
		log_warnx("service set %s: cleanup event not published", t->service_set);
}

/* A PIC went down (or came back): the tunnels anchored on it. */
static void
iked_pic_change(struct iked *ik, const char *pic, bool down, const char *why)
{
	struct iked_tunnel *t;
	char detail[256];
	size_t n;

	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (strcmp(t->pic, pic) != 0)
			continue;
		t->held = iked_tunnel_should_hold(ik, t);
		if (!down) {
			if (t->held)
				continue;
			log_info("tunnel %s %s/%s: PIC %s is back", t->service_set, t->rule,
			    t->term, pic);
			iked_tunnel_restart(ik, t);
			continue;
		}
		if (t->clear_ike_on_pic) {
			snprintf(detail, sizeof(detail), "clear-ike-sas-on-pic-restart: PIC %s %s",
			    pic, why);
			n = iked_tunnel_close(ik, t, detail);
			iked_cleanup_publish(ik, t, PICSEC__V1__CLEANUP_CAUSE__CLEANUP_PIC_DOWN, n,
			    detail);
		} else if (t->gw_interface) {
			snprintf(detail, sizeof(detail), "gw-interface: PIC %s %s", pic, why);
			n = t->next_hop ? iked_tunnel_close(ik, t, detail) : 0;
			iked_cleanup_publish(ik, t,
			    PICSEC__V1__CLEANUP_CAUSE__CLEANUP_GATEWAY_PIC_DOWN, n, detail);
		}
	}
}

/* A local gateway address became unusable (or usable again). */
static void
iked_gateway_change(struct iked *ik, const uint8_t addr[4], bool down, const char *dev)
{
	struct iked_tunnel *t;
	char detail[256], a[INET_ADDRSTRLEN];
	size_t n;

	inet_ntop(AF_INET, addr, a, sizeof(a));
	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (!t->gw_interface || memcmp(t->local, addr, 4) != 0)
			continue;
		t->held = iked_tunnel_should_hold(ik, t);
		if (!down) {
			snprintf(detail, sizeof(detail), "gw-interface: local gateway %s is back on "
			    "%s", a, dev);
			iked_cleanup_publish(ik, t, PICSEC__V1__CLEANUP_CAUSE__CLEANUP_GATEWAY_UP, 0,
			    detail);
			iked_tunnel_restart(ik, t);
			continue;
		}
		snprintf(detail, sizeof(detail), "gw-interface: local gateway %s went away from %s",
		    a, dev);
		n = t->next_hop ? iked_tunnel_close(ik, t, detail) : 0;
		iked_cleanup_publish(ik, t, PICSEC__V1__CLEANUP_CAUSE__CLEANUP_GATEWAY_DOWN, n,
		    detail);
	}
}

struct child_ids {
	uint64_t *ids;
	size_t n, cap;
};

static void
iked_child_ids_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *sa = value;
	struct child_ids *w = arg;

	(void)key;
	for (size_t i = 0; i < IKED_MAX_CHILDREN; i++) {
		for (size_t k = 0; k < 2 && sa->children[i].used; k++) {
			if (sa->children[i].ids[k] == 0)
				continue;
			if (w->ids != NULL && w->n < w->cap)
				w->ids[w->n] = sa->children[i].ids[k];
			w->n++;
		}
	}
}

/* sadb came back as a new process: the negotiated SAs were in the old one's memory only
 * (the new one streams the PIC a snapshot without them) and their keys are wiped here
 * once installed, so they cannot be installed again. Each Child SA is as if sadb had
 * removed it: the IKE SA goes and the tunnel negotiates anew. The SPIs at hand were the
 * old sadb's to give: the new one is asked for its own. */
static void
iked_sadb_restarted(struct iked *ik)
{
	struct child_ids w = { 0 };

	for (struct iked_pool *p = ik->pools; p != NULL; p = p->next) {
		p->n = 0;
		p->asking = false;
	}
	iked_census_forget(ik);
	u64map_foreach(ik->sas, iked_child_ids_one, &w);
	log_info("sadb restarted: %zu negotiated SAs went with it: negotiating anew", w.n);
	if (w.n == 0 || (w.ids = calloc(w.n, sizeof(*w.ids))) == NULL)
		return;
	w.cap = w.n;
	w.n = 0;
	u64map_foreach(ik->sas, iked_child_ids_one, &w);
	iked_sadb_gone(ik, w.ids, w.n, "sadb restarted");
	free(w.ids);
}

void
iked_service_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ServiceState *st = (const Picsec__V1__ServiceState *)payload;
	struct iked *ik = ctx;
	bool down;

	struct iked_tunnel *t;

	(void)m;
	if (strcmp(st->name, "sadb") == 0) {
		/* healthd says the same incarnation again when it restarts (adopting it). */
		if (st->state == PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP &&
		    st->incarnation != 0) {
			if (ik->sadb_incarnation != 0 && st->incarnation != ik->sadb_incarnation)
				iked_sadb_restarted(ik);
			ik->sadb_incarnation = st->incarnation;
		}
		return;
	}
	/* Only PICs our tunnels use are remembered: anyone may publish on service.*. */
	if (strncmp(st->name, "fwd.", 4) != 0 || st->name[4] == '\0' ||
	    strlen(st->name + 4) >= IKED_NAME_MAX)
		return;
	for (t = ik->tunnels; t != NULL && strcmp(t->pic, st->name + 4) != 0; t = t->next)
		;
	if (t == NULL && !health_pic_is_down(ik->downs, st->name + 4))
		return;
	if (st->state != PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN &&
	    st->state != PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP)
		return; /* init and unresponsive change nothing yet */
	down = st->state == PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN;
	if (!health_set_pic(ik->downs, st->name + 4, down))
		return;
	log_info("PIC %s is %s%s%s", st->name + 4, down ? "down" : "up", down ? ": " : "",
	    down ? st->cause : "");
	iked_pic_change(ik, st->name + 4, down, st->cause);
}

void
iked_iface_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__IfaceEvent *ev = (const Picsec__V1__IfaceEvent *)payload;
	struct iked *ik = ctx;

	struct iked_tunnel *t;

	(void)m;
	if (ev->address == NULL || ev->address->addr.len != 4)
		return;
	/* Only our gateways' addresses are remembered (the host may have many). */
	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (memcmp(t->local, ev->address->addr.data, 4) == 0)
			break;
	}
	if (t == NULL && !health_set_addr(ik->downs, ev->address->addr.data, 4, false))
		return;
	if (health_set_addr(ik->downs, ev->address->addr.data, 4, !ev->usable))
		iked_gateway_change(ik, ev->address->addr.data, !ev->usable, ev->device);
}

void
iked_health_sync(struct iked *ik)
{
	Picsec__V1__IpAddress *ips = NULL, **ptrs = NULL;
	struct iked_tunnel *t;
	size_t n = 0;

	for (t = ik->tunnels; t != NULL; t = t->next)
		n++;
	if (n > 0 && ((ips = calloc(n, sizeof(*ips))) == NULL ||
	    (ptrs = calloc(n, sizeof(*ptrs))) == NULL))
		goto out;
	n = 0;
	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (!t->gw_interface)
			continue;
		picsec__v1__ip_address__init(&ips[n]);
		ips[n].addr.data = t->local;
		ips[n].addr.len = 4;
		ptrs[n] = &ips[n];
		n++;
	}
	health_follow_sync(ik->bus, ptrs, n, iked_iface_event, iked_service_event, ik);
out:
	free(ips);
	free(ptrs);
}

void
iked_health_apply(struct iked *ik)
{
	for (struct iked_tunnel *t = ik->tunnels; t != NULL; t = t->next)
		t->held = iked_tunnel_should_hold(ik, t);
}

void
iked_health_subscribe(struct iked *ik)
{
	if (bus_subscribe(ik->bus, "service.fwd.") == -1 || bus_subscribe(ik->bus, "iface.") == -1 ||
	    bus_subscribe(ik->bus, "service.sadb") == -1)
		log_warnx("cannot follow healthd's events: PIC and gateway cleanup is off");
}

void
iked_health_free(struct iked *ik)
{
	health_downs_free(ik->downs);
	ik->downs = NULL;
}
