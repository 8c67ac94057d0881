/* The daemon's side of an IKE SA over its life: retransmission of our requests with
 * exponential back-off, dead peer detection, keepalives, rekeys when the window is free,
 * and what follows its establishment (duplicates settled, INITIAL_CONTACT) or its death.
 * The engine (ike_sa.c) decides what a message means (iked_rx.c feeds it); timers hold
 * our SPI. */
#include "iked_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "envelope.h"
#include "ike_msg.h"
#include "log.h"
#include "timer.h"
#include "u64map.h"

enum {
	IKED_MSG_MAX = 8192,
	IKED_RETRY_MAX_SECONDS = 60,	/* the longest wait before initiating again */
};

static const double iked_rtx_first = 0.5; /* seconds; doubled at each retransmission */

const char *
iked_ip4(const uint8_t a[4], char *buf)
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

static void
iked_sa_endpoints(struct iked_sa *sa)
{
	struct ike_endpoints ep;

	memcpy(ep.local, sa->tunnel->local, 4);
	memcpy(ep.remote, sa->peer, 4);
	ep.local_port = sa->local_port;
	ep.remote_port = sa->peer_port;
	ike_sa_set_endpoints(sa->ike, &ep);
}

bool
iked_sa_natt(const struct iked *ik, const struct iked_sa *sa)
{
	return ike_sa_nat_local(sa->ike) || ike_sa_nat_remote(sa->ike) ||
	    sa->local_port == ik->opts.natt_port;
}

/* Behind a NAT, its mapping is kept open with a one-octet 0xff (RFC 3948 §4). */
static void
iked_keepalive_timer(void *ctx, uint64_t key)
{
	static const uint8_t keepalive = 0xff;
	struct iked *ik = ctx;
	struct iked_sa *sa = u64map_get(ik->sas, key);

	if (sa == NULL)
		return;
	iked_send(ik, sa->tunnel->local, (uint16_t)ik->opts.natt_port, sa->peer, sa->peer_port,
	    &keepalive, 1);
	sa->keepalive_timer = timers_add(ik->timers, IKED_KEEPALIVE_SECONDS,
	    iked_keepalive_timer, key);
}

struct iked_sa *
iked_sa_alloc(struct iked *ik, struct iked_tunnel *t, bool initiator, uint32_t spi_in,
    const uint8_t peer[4], uint16_t peer_port, uint16_t local_port)
{
	struct iked_sa *sa = calloc(1, sizeof(*sa));
	struct ike_sa_events ev = { iked_sa_events_up, iked_sa_events_down, iked_sa_events_spi,
		ik };

	if (sa == NULL || (sa->ike = ike_sa_new(&t->cfg, initiator, spi_in)) == NULL) {
		free(sa);
		return NULL;
	}
	ike_sa_set_events(sa->ike, &ev);
	sa->tunnel = t;
	sa->initiator = initiator;
	memcpy(sa->peer, peer, 4);
	sa->peer_port = peer_port;
	sa->local_port = local_port;
	sa->created_ms = sa->last_heard_ms = monotonic_ms();
	iked_sa_endpoints(sa);
	return sa;
}

void
iked_sa_free(struct iked *ik, struct iked_sa *sa)
{
	if (sa == NULL)
		return;
	for (size_t i = 0; i < IKED_MAX_CHILDREN; i++) {
		if (sa->children[i].used)
			iked_sadb_remove(ik, &sa->children[i], "IKE SA gone");
	}
	if (sa->key != 0 && u64map_get(ik->sas, sa->key) == sa)
		u64map_take(ik->sas, sa->key);
	if (sa->halfopen_key != 0 && u64map_get(ik->halfopen, sa->halfopen_key) == sa)
		u64map_take(ik->halfopen, sa->halfopen_key);
	if (sa->tunnel != NULL && sa->tunnel->sa_key == sa->key)
		sa->tunnel->sa_key = 0;
	timers_cancel(ik->timers, sa->rtx_timer);
	timers_cancel(ik->timers, sa->dpd_timer);
	timers_cancel(ik->timers, sa->lifetime_timer);
	timers_cancel(ik->timers, sa->keepalive_timer);
	timers_cancel(ik->timers, sa->work_timer);
	ike_sa_free(sa->ike);
	free(sa->pending);
	free(sa);
}

void
iked_sa_dead(struct iked *ik, struct iked_sa *sa)
{
	struct iked_tunnel *t = sa->tunnel;
	bool was_up = sa->established_ms != 0;
	char a[INET_ADDRSTRLEN];
	double wait;

	log_info("IKE SA %016llx with %s: %s", (unsigned long long)sa->key, iked_ip4(sa->peer, a),
	    ike_sa_error(sa->ike));
	if (!was_up)
		ik->stats.failed++;
	if (t != NULL && t->sa_key == sa->key &&
	    t->establish == PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_IMMEDIATELY) {
		t->failures = was_up ? 0 : t->failures + 1;
		wait = t->failures == 0 ? 1.0 : (double)(1u << (t->failures < 6 ? t->failures : 6));
		if (wait > IKED_RETRY_MAX_SECONDS)
			wait = IKED_RETRY_MAX_SECONDS;
		timers_rearm(ik->timers, &t->start_timer, wait, iked_start_timer, t->id);
	}
	iked_sa_free(ik, sa);
}

static void
iked_rtx_timer(void *ctx, uint64_t key)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = u64map_get(ik->sas, key);
	const struct iked_tunnel *t;
	bool liveness;
	double wait;

	if (sa == NULL || sa->pending == NULL)
		return;
	sa->rtx_timer = 0;
	t = sa->tunnel;
	/* A liveness check is paced by dead-peer-detection's interval and threshold. */
	liveness = sa->established_ms != 0 && t != NULL && t->dpd;
	if (sa->tries >= (liveness ? t->dpd_threshold + 1 : IKED_RTX_TRIES)) {
		if (liveness)
			ik->stats.dpd_failures++;
		/* What the peer may have said unauthenticated (NO_PROPOSAL_CHOSEN) is the
		 * likelier reason than silence. */
		if (!liveness && ike_sa_error(sa->ike)[0] != '\0') {
			char why[256];

			snprintf(why, sizeof(why), "%s", ike_sa_error(sa->ike));
			ik->stats.no_proposal_chosen++;
			ike_sa_give_up(sa->ike, why);
		} else {
			ike_sa_give_up(sa->ike, liveness ? "dead peer: no answer to liveness "
			    "checks" : "the peer does not answer");
		}
		iked_sa_dead(ik, sa);
		return;
	}
	iked_send(ik, sa->tunnel != NULL ? sa->tunnel->local : sa->peer, sa->local_port,
	    sa->peer, sa->peer_port, sa->pending, sa->pending_len);
	sa->out_packets++;
	sa->out_bytes += sa->pending_len;
	ik->stats.retransmissions++;
	wait = liveness ? t->dpd_interval : iked_rtx_first * (double)(1u << sa->tries);
	sa->tries++;
	sa->rtx_timer = timers_add(ik->timers, wait, iked_rtx_timer, sa->key);
}

void
iked_sa_send(struct iked *ik, struct iked_sa *sa, const uint8_t *out, size_t len)
{
	bool request = len >= IKE_HDR_LEN && (out[19] & IKE_FLAG_RESPONSE) == 0;
	const struct iked_tunnel *t = sa->tunnel;
	double wait;

	if (len == 0)
		return;
	iked_send(ik, t->local, sa->local_port, sa->peer, sa->peer_port, out, len);
	sa->out_packets++;
	sa->out_bytes += len;
	if (!request)
		return;
	free(sa->pending);
	if ((sa->pending = malloc(len)) == NULL) {
		sa->pending_len = 0;
		return; /* the peer's silence then kills the SA on the next check */
	}
	memcpy(sa->pending, out, len);
	sa->pending_len = len;
	sa->tries = 1;
	wait = sa->established_ms != 0 && t->dpd && out[18] == IKE_INFORMATIONAL ?
	    t->dpd_interval : iked_rtx_first;
	timers_rearm(ik->timers, &sa->rtx_timer, wait, iked_rtx_timer, sa->key);
}

static void
iked_dpd_timer(void *ctx, uint64_t key)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = u64map_get(ik->sas, key);
	uint8_t out[IKED_MSG_MAX];
	size_t len;
	uint64_t idle;

	if (sa == NULL || sa->tunnel == NULL)
		return;
	sa->dpd_timer = 0;
	idle = monotonic_ms() - sa->last_heard_ms;
	/* Only a quiet peer is asked (RFC 7296 §2.4: liveness is checked when nothing came). */
	if (idle >= sa->tunnel->dpd_interval * 1000ull && !ike_sa_awaiting(sa->ike) &&
	    ike_sa_liveness(sa->ike, out, sizeof(out), &len) == 0) {
		ik->stats.dpd_requests_out++;
		iked_sa_send(ik, sa, out, len);
	}
	sa->dpd_timer = timers_add(ik->timers, sa->tunnel->dpd_interval, iked_dpd_timer, key);
}

/* Rekeys wait for the window (one request of ours at a time): a Child SA first, as its
 * keys wear out sooner. */
static void
iked_work_timer(void *ctx, uint64_t key)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = u64map_get(ik->sas, key);
	enum ike_sa_state before;
	uint8_t out[IKED_MSG_MAX];
	struct iked_child *ch = NULL;
	uint64_t now;
	uint32_t spi;
	size_t i, len;

	if (sa == NULL)
		return;
	sa->work_timer = 0;
	if (ike_sa_get_state(sa->ike) != IKE_SA_ESTABLISHED)
		return;
	if (ike_sa_awaiting(sa->ike)) {
		iked_sa_work_soon(ik, sa);
		return;
	}
	/* A rekey the peer refused (TEMPORARY_FAILURE, a crossing one) is tried again after
	 * a while: what was rekeyed is gone by then, what was not is still wanted. */
	now = monotonic_ms();
	for (i = 0; i < IKED_MAX_CHILDREN && ch == NULL; i++) {
		if (sa->children[i].used && sa->children[i].rekey_wanted &&
		    now - sa->children[i].rekey_sent_ms >= IKED_REKEY_RETRY_MS)
			ch = &sa->children[i];
	}
	before = ike_sa_get_state(sa->ike);
	if (ch != NULL) {
		if ((spi = iked_spi_take(ik, sa->tunnel->local, ch->info.protocol)) == 0) {
			iked_sa_work_soon(ik, sa);
			return;
		}
		ch->rekey_sent_ms = now;
		if (ike_sa_rekey_child(sa->ike, ch->info.spi_in, spi, out, sizeof(out), &len) == 0)
			iked_sa_send(ik, sa, out, len);
	} else if (sa->ike_rekey_wanted && now - sa->ike_rekey_sent_ms >= IKED_REKEY_RETRY_MS) {
		sa->ike_rekey_sent_ms = now;
		if (ike_sa_rekey(sa->ike, out, sizeof(out), &len) == 0)
			iked_sa_send(ik, sa, out, len);
	}
	iked_sa_after(ik, sa, before);
}

/* Seconds until the first wanted rekey may be asked again. */
static double
iked_work_delay(const struct iked_sa *sa)
{
	uint64_t now = monotonic_ms(), wait = IKED_REKEY_RETRY_MS, age;
	size_t i;

	for (i = 0; i < IKED_MAX_CHILDREN; i++) {
		if (!sa->children[i].used || !sa->children[i].rekey_wanted)
			continue;
		age = now - sa->children[i].rekey_sent_ms;
		wait = age >= IKED_REKEY_RETRY_MS ? 0 : wait < IKED_REKEY_RETRY_MS - age ? wait :
		    IKED_REKEY_RETRY_MS - age;
	}
	if (sa->ike_rekey_wanted) {
		age = now - sa->ike_rekey_sent_ms;
		wait = age >= IKED_REKEY_RETRY_MS ? 0 : wait < IKED_REKEY_RETRY_MS - age ? wait :
		    IKED_REKEY_RETRY_MS - age;
	}
	return wait == 0 ? 0.01 : (double)wait / 1000.0;
}

void
iked_sa_work_soon(struct iked *ik, struct iked_sa *sa)
{
	bool wanted = sa->ike_rekey_wanted;

	for (size_t i = 0; i < IKED_MAX_CHILDREN; i++)
		wanted |= sa->children[i].used && sa->children[i].rekey_wanted;
	/* Soon when the window is free, else when it may be: a refused rekey waits its time. */
	if (wanted && !timers_pending(ik->timers, sa->work_timer))
		sa->work_timer = timers_add(ik->timers, ike_sa_awaiting(sa->ike) ? 0.5 :
		    iked_work_delay(sa), iked_work_timer, sa->key);
}

/* The other IKE SAs of sa's tunnel, for INITIAL_CONTACT. */
struct others_walk {
	const struct iked_sa *sa;
	struct iked_sa *hits[64];
	size_t n;
};

static void
iked_others_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *o = value;
	struct others_walk *w = arg;

	(void)key;
	if (o != w->sa && o->tunnel == w->sa->tunnel && w->n < sizeof(w->hits) / sizeof(*w->hits))
		w->hits[w->n++] = o;
}

/* Two IKE SAs for one tunnel. Both ends initiated at once (we initiated one, the peer the
 * other): both keep the one whose initiator SPI is lower and delete the other, so they
 * agree without a word. The peer initiated both: it replaced the older (a restart), which
 * goes. */
static void
iked_sa_settle(struct iked *ik, struct iked_sa *sa)
{
	struct iked_tunnel *t = sa->tunnel;
	struct iked_sa *other = t->sa_key != 0 && t->sa_key != sa->key ?
	    u64map_get(ik->sas, t->sa_key) : NULL;
	struct others_walk w = { .sa = sa };
	size_t i;

	/* INITIAL_CONTACT: the peer holds nothing else of ours; what we hold from before its
	 * IKE_SA_INIT is stale, and a Delete would go unanswered. (What came up meanwhile is
	 * both ends initiating at once: settled below.) */
	if (ike_sa_peer_initial_contact(sa->ike)) {
		u64map_foreach(ik->sas, iked_others_one, &w);
		for (i = 0; i < w.n; i++) {
			if (w.hits[i]->established_ms == 0 ||
			    w.hits[i]->established_ms >= sa->created_ms)
				continue;
			log_info("IKE SA %016llx: the peer made INITIAL_CONTACT: gone",
			    (unsigned long long)w.hits[i]->key);
			if (other == w.hits[i])
				other = NULL;
			iked_sa_free(ik, w.hits[i]);
		}
	}
	if (other == NULL || other->established_ms == 0) {
		t->sa_key = sa->key;
		return;
	}
	if (other->initiator == sa->initiator ||
	    ike_sa_spi_i(other->ike) > ike_sa_spi_i(sa->ike)) {
		t->sa_key = sa->key;
		iked_sa_close(ik, other, other->initiator == sa->initiator ?
		    "replaced by a newer IKE SA with the same peer" :
		    "a duplicate of an established IKE SA");
		return;
	}
	iked_sa_close(ik, sa, "a duplicate of an established IKE SA");
}

/* The IKE SA's lifetime: its initiator rekeys it first; the responder at the end, if the
 * initiator did not (one side at a time keeps collisions rare, §2.8.2). */
static void
iked_lifetime_timer(void *ctx, uint64_t key)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = u64map_get(ik->sas, key);

	if (sa == NULL)
		return;
	sa->lifetime_timer = 0;
	sa->ike_rekey_wanted = true;
	iked_sa_work_soon(ik, sa);
}

static void
iked_sa_established(struct iked *ik, struct iked_sa *sa, bool by_rekey)
{
	struct iked_tunnel *t = sa->tunnel;
	char a[INET_ADDRSTRLEN];
	double life;

	sa->established_ms = monotonic_ms();
	iked_keylog_ike(ik, sa);
	timers_cancel(ik->timers, sa->lifetime_timer);
	life = (double)t->ike_lifetime * (sa->initiator ? 0.9 : 1.0);
	sa->lifetime_timer = timers_add(ik->timers, life > 1 ? life : 1, iked_lifetime_timer,
	    sa->key);
	if (by_rekey) {
		if (t->dpd)
			sa->dpd_timer = timers_add(ik->timers, t->dpd_interval, iked_dpd_timer,
			    sa->key);
		if (ike_sa_nat_local(sa->ike))
			sa->keepalive_timer = timers_add(ik->timers, IKED_KEEPALIVE_SECONDS,
			    iked_keepalive_timer, sa->key);
		return;
	}
	ik->stats.established++;
	t->failures = 0;
	if (sa->halfopen_key != 0) {
		u64map_take(ik->halfopen, sa->halfopen_key);
		sa->halfopen_key = 0;
	}
	log_info("IKE SA %016llx:%016llx with %s established as %s (%s %s/%s)",
	    (unsigned long long)ike_sa_spi_i(sa->ike), (unsigned long long)ike_sa_spi_r(sa->ike),
	    iked_ip4(sa->peer, a), sa->initiator ? "initiator" : "responder", t->service_set, t->rule,
	    t->term);
	if (t->dpd)
		sa->dpd_timer = timers_add(ik->timers, t->dpd_interval, iked_dpd_timer, sa->key);
	if (ike_sa_nat_local(sa->ike))
		sa->keepalive_timer = timers_add(ik->timers, IKED_KEEPALIVE_SECONDS,
		    iked_keepalive_timer, sa->key);
	iked_sa_settle(ik, sa);
}

/* After the engine took a message or made a request: what changed. May free sa. */
void
iked_sa_after(struct iked *ik, struct iked_sa *sa, enum ike_sa_state before)
{
	enum ike_sa_state now = ike_sa_get_state(sa->ike);
	struct ike_sa *rekeyed = ike_sa_take_rekeyed(sa->ike);

	if (sa->pending != NULL && !ike_sa_awaiting(sa->ike) && now != IKE_SA_INIT_SENT &&
	    now != IKE_SA_AUTH_SENT) {
		free(sa->pending);
		sa->pending = NULL;
		timers_cancel(ik->timers, sa->rtx_timer);
		sa->rtx_timer = 0;
	}
	if (rekeyed != NULL)
		iked_sa_adopt(ik, sa, rekeyed);
	if (now == IKE_SA_DEAD) {
		iked_sa_dead(ik, sa);
		return;
	}
	if (now == IKE_SA_ESTABLISHED && before != IKE_SA_ESTABLISHED)
		iked_sa_established(ik, sa, before == IKE_SA_IDLE);
	else if (now == IKE_SA_ESTABLISHED && !ike_sa_awaiting(sa->ike))
		iked_sa_work_soon(ik, sa); /* the window is free: a rekey may wait */
}

void
iked_sa_close(struct iked *ik, struct iked_sa *sa, const char *why)
{
	uint8_t out[IKED_MSG_MAX];
	char a[INET_ADDRSTRLEN];
	size_t len;

	log_info("IKE SA %016llx with %s: closing: %s", (unsigned long long)sa->key,
	    iked_ip4(sa->peer, a), why);
	/* An outstanding request of ours blocks the Delete (window of one): the SA goes
	 * without it, and the peer's DPD or lifetime ends its side. */
	if (ike_sa_get_state(sa->ike) == IKE_SA_ESTABLISHED &&
	    ike_sa_delete(sa->ike, out, sizeof(out), &len) == 0) {
		ik->stats.delete_payloads_out++;
		iked_send(ik, sa->tunnel->local, sa->local_port, sa->peer, sa->peer_port, out,
		    len);
	}
	if (sa->tunnel != NULL && sa->tunnel->sa_key == sa->key)
		sa->tunnel->sa_key = 0;
	iked_sa_free(ik, sa);
}
