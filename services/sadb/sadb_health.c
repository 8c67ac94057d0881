/* "Clearing Security Associations", sadb's part, on healthd's events ("service.fwd.*" for
 * the PICs, "iface.*" for the local gateway addresses):
 * - clear-ipsec-sas-on-pic-restart: when a PIC goes down, the negotiated SAs of its service
 *   sets are deleted (iked sends the Deletes and negotiates again when the PIC is back) and
 *   the configured ones start over (counters, lifetimes) in the next incarnation;
 *   without it they survive and the new incarnation gets them with its snapshot;
 * - gw-interface: while the set's local gateway address or its PIC is down, its SAs are
 *   kept here but off the PIC (Not Installed); next-hop sets lose their negotiated SAs at
 *   once (cleared), interface-style sets keep them Not Installed until the address comes
 *   back, when they are deleted. Configured SAs go back to the PIC then, from scratch.
 * Every act is published as an SaCleanup on "cleanup.<service-set>". */
#include "sadb_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "health.pb-c.h"
#include "health_follow.h"
#include "log.h"

struct sadb_set *
sadb_set_find(struct sadb_pic *pic, const char *name)
{
	struct sadb_set *set;

	for (set = pic != NULL ? pic->sets : NULL; set != NULL; set = set->next) {
		if (strcmp(set->name, name) == 0)
			return set;
	}
	return NULL;
}

bool
sadb_set_should_withhold(struct sadb *sd, const char *pic, const struct sadb_set *set)
{
	return set->gw_interface && (health_pic_is_down(sd->downs, pic) ||
	    health_addr_is_down(sd->downs, set->local, set->local_msg.addr.len));
}

static void
sadb_cleanup_publish(struct sadb *sd, const struct sadb_pic *pic, const struct sadb_set *set,
    Picsec__V1__CleanupCause cause, unsigned cleared, unsigned not_installed,
    const char *detail)
{
	Picsec__V1__SaCleanup ev = PICSEC__V1__SA_CLEANUP__INIT;
	char topic[SADB_NAME_MAX + 16];

	ev.service_set = (char *)(uintptr_t)set->name;
	ev.pic = (char *)(uintptr_t)pic->name;
	ev.cause = cause;
	ev.by = (char *)(uintptr_t)"sadb";
	ev.ipsec_sas_cleared = cleared;
	ev.ipsec_sas_not_installed = not_installed;
	ev.detail = (char *)(uintptr_t)detail;
	ev.triggers_stopped = set->withheld;
	snprintf(topic, sizeof(topic), "cleanup.%s", set->name);
	if (bus_publish(sd->bus, topic, MT(SA_CLEANUP), &ev.base) == -1)
		log_warnx("service set %s: cleanup event not published", set->name);
	log_info("service set %s: %s: %u IPsec SAs cleared, %u not installed", set->name, detail,
	    cleared, not_installed);
}

/* The SAs of one service set: arrays sized for every SA of the PIC (free them). */
struct set_sas {
	uint64_t *off;		/* leave the PIC */
	Picsec__V1__Sa **on;	/* go (back) to the PIC */
	uint64_t *deleted;	/* negotiated SAs deleted: iked is told */
	size_t noff, non, ndeleted;
	unsigned withheld;
};

static int
set_sas_alloc(struct set_sas *x, const struct sadb_pic *pic)
{
	size_t n = 1;

	for (const struct sadb_sa *sa = pic->sas; sa != NULL; sa = sa->next)
		n++;
	memset(x, 0, sizeof(*x));
	x->off = calloc(n, sizeof(*x->off));
	x->on = calloc(n, sizeof(*x->on));
	x->deleted = calloc(n, sizeof(*x->deleted));
	return x->off != NULL && x->on != NULL && x->deleted != NULL ? 0 : -1;
}

static void
set_sas_done(struct sadb *sd, struct sadb_pic *pic, struct set_sas *x, const char *why)
{
	/* At once, not with the turn's Child SA changes: a set withheld and back within one
	 * turn must reach the PIC as a removal, then its SAs from scratch. */
	sadb_pic_publish_removes(sd, pic, x->off, x->noff, false);
	if (x->non > 0)
		sadb_pic_publish_upserts(sd, pic, x->on, x->non, false);
	if (x->ndeleted > 0)
		sadb_dynamic_removed(sd, x->deleted, x->ndeleted, why);
	free(x->off);
	free(x->on);
	free(x->deleted);
}

/* A configured SA starting over: new counters, the sequence above the journal's mark. */
static void
sadb_sa_restart(struct sadb *sd, struct sadb_sa *sa)
{
	sa->installed = false;
	sa->created_ns = realtime_ns();
	sa->bytes = 0;
	if (sa->msg.direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND)
		sa->msg.seq_start = sadb_journal_start(sd, sa->id, sa->key_fingerprint);
}

/* gw-interface: set goes off the PIC (withhold) or back on it. */
static void
sadb_set_transition(struct sadb *sd, struct sadb_pic *pic, struct sadb_set *set, bool withhold,
    Picsec__V1__CleanupCause cause, const char *detail)
{
	bool next_hop = set->msg.style == PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP;
	struct sadb_sa *sa, *next;
	struct set_sas x;
	bool dynamic;

	if (set_sas_alloc(&x, pic) == -1) {
		log_warnx("service set %s: out of memory: no cleanup", set->name);
		goto out;
	}
	set->withheld = withhold;
	for (sa = pic->sas; sa != NULL; sa = next) {
		next = sa->next;
		if (strcmp(sa->service_set, set->name) != 0)
			continue;
		dynamic = sa->msg.origin == PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC;
		/* Down: next-hop sets clear their negotiated SAs. Back: the Not Installed
		 * ones are deleted. Both: iked negotiates anew. */
		if (dynamic && (!withhold || next_hop)) {
			if (!sa->withheld)
				x.off[x.noff++] = sa->id;
			x.deleted[x.ndeleted++] = sa->id;
			sadb_pic_unlink(sd, sa);
			continue;
		}
		if (withhold && !sa->withheld) {
			x.off[x.noff++] = sa->id;
			sa->withheld = true;
			sa->installed = false;
		} else if (!withhold && sa->withheld) {
			sa->withheld = false;
			sadb_sa_restart(sd, sa);
			x.on[x.non++] = &sa->msg;
		}
		x.withheld += sa->withheld;
	}
	sadb_cleanup_publish(sd, pic, set, cause, (unsigned)x.ndeleted, x.withheld, detail);
	set_sas_done(sd, pic, &x, detail);
out:
	return;
}

/* Every service set whose withholding changed, after a PIC or an address did. */
static void
sadb_withhold_update(struct sadb *sd, Picsec__V1__CleanupCause down_cause,
    Picsec__V1__CleanupCause up_cause, const char *detail)
{
	struct sadb_pic *pic;
	struct sadb_set *set;
	bool now;

	for (pic = sd->pics; pic != NULL; pic = pic->next) {
		for (set = pic->sets; set != NULL; set = set->next) {
			now = sadb_set_should_withhold(sd, pic->name, set);
			if (now != set->withheld)
				sadb_set_transition(sd, pic, set, now, now ? down_cause : up_cause,
				    detail);
		}
	}
}

/* clear-ipsec-sas-on-pic-restart: the PIC is gone; so are its SAs. */
static void
sadb_pic_clear(struct sadb *sd, struct sadb_pic *pic, const char *detail)
{
	struct sadb_sa *sa, *next;
	struct sadb_set *set;
	struct set_sas x;
	unsigned cleared;

	for (set = pic->sets; set != NULL; set = set->next) {
		if (set_sas_alloc(&x, pic) == -1) {
			log_warnx("service set %s: out of memory: no cleanup", set->name);
			continue;
		}
		cleared = 0;
		for (sa = pic->sas; sa != NULL; sa = next) {
			next = sa->next;
			if (strcmp(sa->service_set, set->name) != 0)
				continue;
			cleared++;
			if (sa->msg.origin == PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC) {
				x.off[x.noff++] = sa->id;
				x.deleted[x.ndeleted++] = sa->id;
				sadb_pic_unlink(sd, sa);
			} else {
				sadb_sa_restart(sd, sa);
			}
		}
		sadb_cleanup_publish(sd, pic, set, PICSEC__V1__CLEANUP_CAUSE__CLEANUP_PIC_DOWN,
		    cleared, 0, detail);
		set_sas_done(sd, pic, &x, detail);
	}
}

void
sadb_service_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ServiceState *st = (const Picsec__V1__ServiceState *)payload;
	struct sadb *sd = ctx;
	struct sadb_pic *pic;
	char detail[256];
	bool down;

	(void)m;
	/* A name too long for a PIC would be kept truncated: never matched again, never
	 * cleared by its UP, one more entry per DOWN. */
	if (strncmp(st->name, "fwd.", 4) != 0 || st->name[4] == '\0' ||
	    strlen(st->name + 4) >= SADB_NAME_MAX ||
	    (st->state != PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN &&
	    st->state != PICSEC__V1__SERVICE_STATE_KIND__SERVICE_UP))
		return;
	down = st->state == PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN;
	/* Only PICs sadb streams to are remembered: anyone may publish on service.*. */
	pic = sadb_pic_find(sd, st->name + 4);
	if (pic == NULL && !health_pic_is_down(sd->downs, st->name + 4))
		return;
	if (!health_set_pic(sd->downs, st->name + 4, down))
		return;
	log_info("PIC %s is %s%s%s", st->name + 4, down ? "down" : "up", down ? ": " : "",
	    down ? st->cause : "");
	if (down && pic != NULL && sd->clear_ipsec_on_pic) {
		snprintf(detail, sizeof(detail), "clear-ipsec-sas-on-pic-restart: PIC %s %s",
		    pic->name, st->cause);
		sadb_pic_clear(sd, pic, detail);
	}
	snprintf(detail, sizeof(detail), "gw-interface: PIC %s %s%s", st->name + 4,
	    down ? "went down: " : "is back", down ? st->cause : "");
	sadb_withhold_update(sd, PICSEC__V1__CLEANUP_CAUSE__CLEANUP_GATEWAY_PIC_DOWN,
	    PICSEC__V1__CLEANUP_CAUSE__CLEANUP_GATEWAY_UP, detail);
}

/* Whether addr is the local gateway of a gw-interface service set. */
static bool
sadb_is_watched(struct sadb *sd, const uint8_t *addr, size_t len)
{
	for (struct sadb_pic *pic = sd->pics; pic != NULL; pic = pic->next) {
		for (struct sadb_set *set = pic->sets; set != NULL; set = set->next) {
			if (set->gw_interface && set->local_msg.addr.len == len &&
			    memcmp(set->local, addr, len) == 0)
				return true;
		}
	}
	return false;
}

void
sadb_iface_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__IfaceEvent *ev = (const Picsec__V1__IfaceEvent *)payload;
	struct sadb *sd = ctx;
	char detail[256], a[INET6_ADDRSTRLEN];
	size_t len;

	(void)m;
	if (ev->address == NULL || ((len = ev->address->addr.len) != 4 && len != 16))
		return;
	/* Only gw-interface gateways are remembered (the host may have many addresses). */
	if (!sadb_is_watched(sd, ev->address->addr.data, len) &&
	    !health_addr_is_down(sd->downs, ev->address->addr.data, len))
		return;
	if (!health_set_addr(sd->downs, ev->address->addr.data, len, !ev->usable))
		return;
	inet_ntop(len == 4 ? AF_INET : AF_INET6, ev->address->addr.data, a, sizeof(a));
	snprintf(detail, sizeof(detail), "gw-interface: local gateway %s %s %s", a,
	    ev->usable ? "is back on" : "went away from", ev->device);
	sadb_withhold_update(sd, PICSEC__V1__CLEANUP_CAUSE__CLEANUP_GATEWAY_DOWN,
	    PICSEC__V1__CLEANUP_CAUSE__CLEANUP_GATEWAY_UP, detail);
}

void
sadb_health_sync(struct sadb *sd)
{
	Picsec__V1__IpAddress *ips = NULL, **ptrs = NULL;
	struct sadb_pic *pic;
	struct sadb_set *set;
	size_t n = 0;

	for (pic = sd->pics; pic != NULL; pic = pic->next) {
		for (set = pic->sets; set != NULL; set = set->next)
			n += set->gw_interface;
	}
	if (n > 0 && ((ips = calloc(n, sizeof(*ips))) == NULL ||
	    (ptrs = calloc(n, sizeof(*ptrs))) == NULL))
		goto out;
	n = 0;
	for (pic = sd->pics; pic != NULL; pic = pic->next) {
		for (set = pic->sets; set != NULL; set = set->next) {
			if (!set->gw_interface)
				continue;
			ips[n] = set->local_msg;
			ptrs[n] = &ips[n];
			n++;
		}
	}
	health_follow_sync(sd->bus, ptrs, n, sadb_iface_event, sadb_service_event, sd);
out:
	free(ips);
	free(ptrs);
}

void
sadb_health_subscribe(struct sadb *sd)
{
	if (bus_subscribe(sd->bus, "service.fwd.") == -1 || bus_subscribe(sd->bus, "iface.") == -1)
		log_warnx("cannot follow healthd's events: PIC and gateway cleanup is off");
}

void
sadb_health_free(struct sadb *sd)
{
	health_downs_free(sd->downs);
	sd->downs = NULL;
}
