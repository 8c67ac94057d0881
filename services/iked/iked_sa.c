/* The daemon's side of an IKE SA: which SA a datagram is for (by our SPI, and by the
 * peer's SPI for a retransmitted IKE_SA_INIT), retransmission of our requests with
 * exponential back-off, dead peer detection, and what follows an SA's establishment or
 * death. The engine (ike_sa.c) decides what a message means; timers hold our SPI. */
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
	IKED_HALF_OPEN_SECONDS = 30,	/* a responder waits this long for IKE_AUTH */
	IKED_RETRY_MAX_SECONDS = 60,	/* the longest wait before initiating again */
};

static const double iked_rtx_first = 0.5; /* seconds; doubled at each retransmission */

static void iked_sa_events_up(void *ctx, struct ike_sa *ike, const struct ike_child *c);
static void iked_sa_events_down(void *ctx, struct ike_sa *ike, const struct ike_child *c,
    const char *why);
static uint32_t iked_sa_events_spi(void *ctx, struct ike_sa *ike, uint8_t protocol);
static void iked_sa_after(struct iked *ik, struct iked_sa *sa, enum ike_sa_state before);
static void iked_sa_adopt(struct iked *ik, struct iked_sa *sa, struct ike_sa *ike);

static const char *
ip4(const uint8_t a[4], char *buf)
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

/* The header of a datagram that ike_pld_validate passed. */
static void
iked_header(const uint8_t *msg, struct ike_header *h)
{
	h->spi_i = ike_get64(msg);
	h->spi_r = ike_get64(msg + 8);
	h->exchange = msg[18];
	h->flags = msg[19];
}

/* Whether a message we made answers with that notify first (for the counters). */
static bool
iked_notify_is(const uint8_t *msg, size_t len, uint16_t type)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t bad;
	bool is;

	is = m != NULL && ike_msg_parse(msg, len, m, &bad) == IKE_PARSE_OK && m->nnotifies > 0 &&
	    m->notifies[0].type == type;
	free(m);
	return is;
}

static uint64_t
iked_halfopen_key(const uint8_t peer[4], uint64_t spi_i)
{
	uint8_t in[12], out[8];
	uint64_t h;

	memcpy(in, peer, 4);
	memcpy(in + 4, &spi_i, 8);
	crypto_generichash(out, sizeof(out), in, sizeof(in), NULL, 0);
	memcpy(&h, out, sizeof(h));
	return h != 0 ? h : 1;
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

static struct iked_sa *
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
	sa->spi_in = spi_in;
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

/* The next attempt of an initiator whose SA died: soon after a success, later after each
 * failure in a row. */
static void
iked_retry_timer(void *ctx, uint64_t id)
{
	struct iked *ik = ctx;
	struct iked_tunnel *t = iked_tunnel_by_id(ik, id);

	if (t != NULL) {
		t->start_timer = 0;
		iked_initiate(ik, t);
	}
}

static void
iked_sa_dead(struct iked *ik, struct iked_sa *sa)
{
	struct iked_tunnel *t = sa->tunnel;
	bool was_up = sa->established_ms != 0;
	char a[INET_ADDRSTRLEN];
	double wait;

	log_info("IKE SA %016llx with %s: %s", (unsigned long long)sa->key, ip4(sa->peer, a),
	    ike_sa_error(sa->ike));
	if (!was_up)
		ik->stats.failed++;
	if (t != NULL && t->sa_key == sa->key &&
	    t->establish == PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_IMMEDIATELY) {
		t->failures = was_up ? 0 : t->failures + 1;
		wait = t->failures == 0 ? 1.0 : (double)(1u << (t->failures < 6 ? t->failures : 6));
		if (wait > IKED_RETRY_MAX_SECONDS)
			wait = IKED_RETRY_MAX_SECONDS;
		timers_rearm(ik->timers, &t->start_timer, wait, iked_retry_timer, t->id);
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

static void
iked_halfopen_timer(void *ctx, uint64_t key)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = u64map_get(ik->sas, key);

	if (sa == NULL || sa->established_ms != 0)
		return;
	sa->lifetime_timer = 0;
	ike_sa_give_up(sa->ike, "no IKE_AUTH followed IKE_SA_INIT");
	iked_sa_dead(ik, sa);
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
	    ip4(sa->peer, a), sa->initiator ? "initiator" : "responder", t->service_set, t->rule,
	    t->term);
	if (t->dpd)
		sa->dpd_timer = timers_add(ik->timers, t->dpd_interval, iked_dpd_timer, sa->key);
	if (ike_sa_nat_local(sa->ike))
		sa->keepalive_timer = timers_add(ik->timers, IKED_KEEPALIVE_SECONDS,
		    iked_keepalive_timer, sa->key);
	iked_sa_settle(ik, sa);
}

/* After the engine took a message or made a request: what changed. May free sa. */
static void
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

struct iked_sa *
iked_sa_initiate(struct iked *ik, struct iked_tunnel *t, uint32_t spi_in)
{
	uint8_t out[IKED_MSG_MAX];
	struct iked_sa *sa;
	size_t len;

	if ((sa = iked_sa_alloc(ik, t, true, spi_in, t->remote, (uint16_t)ik->opts.port,
	    (uint16_t)ik->opts.port)) == NULL)
		return NULL;
	/* Nothing else with this peer (a first start, or all gone): say so (§2.4). */
	ike_sa_set_initial_contact(sa->ike, t->sa_key == 0);
	if (ike_sa_start(sa->ike, out, sizeof(out), &len) != 0 || len == 0) {
		log_warnx("%s %s/%s: IKE_SA_INIT not made: %s", t->service_set, t->rule, t->term,
		    ike_sa_error(sa->ike));
		iked_sa_free(ik, sa);
		return NULL;
	}
	sa->key = ike_sa_spi_i(sa->ike);
	if (u64map_put(ik->sas, sa->key, sa) == -1) {
		iked_sa_free(ik, sa);
		return NULL;
	}
	t->sa_key = sa->key;
	ik->stats.sa_init_requests_out++;
	iked_sa_send(ik, sa, out, len);
	return sa;
}

/* A new peer's IKE_SA_INIT: a responder SA for the tunnel of that pair of gateways. */
static void
iked_sa_respond(struct iked *ik, struct iked_sock *s, const uint8_t peer[4], uint16_t port,
    const uint8_t *msg, size_t len, uint64_t spi_i)
{
	struct iked_tunnel *t = iked_tunnel_by_peer(ik, s->addr, peer);
	uint8_t out[IKED_MSG_MAX];
	char a[INET_ADDRSTRLEN];
	struct iked_sa *sa;
	uint32_t spi;
	size_t outlen;

	if (t == NULL) {
		log_debug("IKE_SA_INIT from %s: no tunnel with that peer", ip4(peer, a));
		ik->stats.dropped_other++;
		return;
	}
	if (u64map_count(ik->halfopen) >= IKED_HALF_OPEN_MAX) {
		ik->stats.dropped_other++;
		return;
	}
	ik->stats.sa_init_requests_in++;
	if (iked_cookie_needed(ik)) {
		struct ike_msg *m = calloc(1, sizeof(*m));
		uint8_t bad;
		bool valid;

		if (m == NULL || ike_msg_parse(msg, len, m, &bad) != IKE_PARSE_OK) {
			free(m);
			ik->stats.dropped_malformed++;
			return;
		}
		valid = iked_cookie_valid(ik, m, peer);
		if (!valid)
			iked_cookie_send(ik, s, peer, port, m);
		free(m);
		if (!valid)
			return;
	}
	/* Its inbound SPI now: the IKE_AUTH that follows needs it at once. */
	if ((spi = iked_spi_take(ik, t->local, t->child_protocol)) == 0) {
		log_info("IKE_SA_INIT from %s: no SPI at hand yet; the peer will retransmit",
		    ip4(peer, a));
		return;
	}
	if ((sa = iked_sa_alloc(ik, t, false, spi, peer, port, s->port)) == NULL)
		return;
	if (ike_sa_input(sa->ike, msg, len, out, sizeof(out), &outlen) != 0) {
		ik->stats.dropped_other++;
		iked_sa_free(ik, sa);
		return;
	}
	sa->in_packets++;
	sa->in_bytes += len;
	if (ike_sa_get_state(sa->ike) != IKE_SA_INIT_DONE) {
		/* Refused (INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN): answered, nothing kept. */
		if (iked_notify_is(out, outlen, IKE_N_INVALID_KE_PAYLOAD))
			ik->stats.invalid_ke_sent++;
		else
			ik->stats.no_proposal_chosen++;
		log_info("IKE_SA_INIT from %s refused: %s", ip4(peer, a), ike_sa_error(sa->ike));
		iked_send(ik, t->local, s->port, peer, port, out, outlen);
		iked_sa_free(ik, sa);
		return;
	}
	sa->key = ike_sa_spi_r(sa->ike);
	sa->halfopen_key = iked_halfopen_key(peer, spi_i);
	if (u64map_put(ik->sas, sa->key, sa) == -1 ||
	    u64map_put(ik->halfopen, sa->halfopen_key, sa) == -1) {
		iked_sa_free(ik, sa);
		return;
	}
	sa->lifetime_timer = timers_add(ik->timers, IKED_HALF_OPEN_SECONDS, iked_halfopen_timer,
	    sa->key);
	iked_sa_send(ik, sa, out, outlen);
}

void
iked_sa_input(struct iked *ik, struct iked_sock *s, const uint8_t peer[4], uint16_t port,
    const uint8_t *msg, size_t len)
{
	uint8_t out[IKED_MSG_MAX], bad;
	struct ike_header h;
	struct iked_sa *sa;
	enum ike_sa_state before;
	uint16_t old_peer, old_local;
	uint32_t deleted_before;
	size_t outlen;

	if (ike_pld_validate(msg, len, &bad) != IKE_PARSE_OK) {
		ik->stats.dropped_malformed++;
		return;
	}
	iked_header(msg, &h);
	if ((h.flags & IKE_FLAG_INITIATOR) != 0 && h.spi_r == 0) {
		if (h.exchange != IKE_SA_INIT || (h.flags & IKE_FLAG_RESPONSE) != 0) {
			ik->stats.dropped_other++;
			return;
		}
		sa = u64map_get(ik->halfopen, iked_halfopen_key(peer, h.spi_i));
		if (sa == NULL) {
			iked_sa_respond(ik, s, peer, port, msg, len, h.spi_i);
			return;
		}
	} else {
		/* Our SPI: the responder's when the peer initiated the IKE SA, else ours. */
		sa = u64map_get(ik->sas, (h.flags & IKE_FLAG_INITIATOR) != 0 ? h.spi_r : h.spi_i);
	}
	if (sa == NULL || memcmp(sa->peer, peer, 4) != 0) {
		ik->stats.dropped_unknown_spi++;
		return;
	}
	before = ike_sa_get_state(sa->ike);
	/* Answers go where the last good message came from (a NAT may have moved it); the
	 * Child SA installed while the engine takes it uses those ports too. */
	old_peer = sa->peer_port;
	old_local = sa->local_port;
	deleted_before = sa->children_deleted;
	sa->peer_port = port;
	sa->local_port = s->port;
	if (ike_sa_input(sa->ike, msg, len, out, sizeof(out), &outlen) != 0) {
		sa->peer_port = old_peer;
		sa->local_port = old_local;
		ik->stats.dropped_other++;
		return;
	}
	/* NAT found: IKE_AUTH and all after it on port 4500 (§2.23). */
	if (before == IKE_SA_INIT_SENT && ike_sa_get_state(sa->ike) == IKE_SA_AUTH_SENT &&
	    (ike_sa_nat_local(sa->ike) || ike_sa_nat_remote(sa->ike))) {
		sa->local_port = (uint16_t)ik->opts.natt_port;
		sa->peer_port = (uint16_t)ik->opts.natt_port;
	}
	sa->last_heard_ms = monotonic_ms();
	sa->in_packets++;
	sa->in_bytes += len;
	if (h.exchange == IKE_INFORMATIONAL && (h.flags & IKE_FLAG_RESPONSE) != 0 &&
	    sa->pending != NULL)
		ik->stats.dpd_responses_in++;
	/* A request that took Child SAs or the IKE SA away carried Deletes; an empty one is
	 * the peer's liveness check. */
	if (h.exchange == IKE_INFORMATIONAL && (h.flags & IKE_FLAG_RESPONSE) == 0) {
		if (sa->children_deleted != deleted_before ||
		    ike_sa_get_state(sa->ike) == IKE_SA_DEAD)
			ik->stats.delete_payloads_in++;
		else
			ik->stats.dpd_requests_in++;
	}
	iked_sa_send(ik, sa, out, outlen);
	iked_sa_after(ik, sa, before);
}

void
iked_sa_close(struct iked *ik, struct iked_sa *sa, const char *why)
{
	uint8_t out[IKED_MSG_MAX];
	char a[INET_ADDRSTRLEN];
	size_t len;

	log_info("IKE SA %016llx with %s: closing: %s", (unsigned long long)sa->key,
	    ip4(sa->peer, a), why);
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

/* The engine's events, by the engine's SA: ours is found by its SPI. */
static struct iked_sa *
iked_sa_of(struct iked *ik, struct ike_sa *ike)
{
	struct iked_sa *sa = u64map_get(ik->sas, ike_sa_spi_i(ike));

	if (sa == NULL || sa->ike != ike)
		sa = u64map_get(ik->sas, ike_sa_spi_r(ike));
	return sa != NULL && sa->ike == ike ? sa : NULL;
}

struct iked_child *
iked_sa_child_by_id(struct iked_sa *sa, uint64_t id)
{
	size_t i;

	for (i = 0; id != 0 && i < IKED_MAX_CHILDREN; i++) {
		if (sa->children[i].used && (sa->children[i].ids[0] == id ||
		    sa->children[i].ids[1] == id))
			return &sa->children[i];
	}
	return NULL;
}

static struct iked_child *
iked_sa_child_by_spi(struct iked_sa *sa, uint32_t spi_in)
{
	size_t i;

	for (i = 0; i < IKED_MAX_CHILDREN; i++) {
		if (sa->children[i].used && sa->children[i].info.spi_in == spi_in)
			return &sa->children[i];
	}
	return NULL;
}

static void
iked_sa_events_up(void *ctx, struct ike_sa *ike, const struct ike_child *c)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = iked_sa_of(ik, ike);
	struct iked_child *ch = NULL;
	size_t i;

	if (sa == NULL)
		return;
	for (i = 0; i < IKED_MAX_CHILDREN && ch == NULL; i++) {
		if (!sa->children[i].used)
			ch = &sa->children[i];
	}
	if (ch == NULL) {
		log_warnx("IKE SA %016llx: no room for another Child SA",
		    (unsigned long long)sa->key);
		return;
	}
	memset(ch, 0, sizeof(*ch));
	ch->used = true;
	ch->info = *c;
	ch->info.keymat = NULL;
	ch->info.encr_in = ch->info.integ_in = ch->info.encr_out = ch->info.integ_out = NULL;
	ch->created_ms = monotonic_ms();
	sa->children_created++;
	if (sa->children_created > 1) {
		sa->child_rekeys++;
		ik->stats.child_sa_rekeys++;
	}
	iked_keylog_child(ik, sa, c);
	iked_sadb_install(ik, sa, ch, c);
}

static void
iked_sa_events_down(void *ctx, struct ike_sa *ike, const struct ike_child *c, const char *why)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = iked_sa_of(ik, ike);
	struct iked_child *ch;

	if (sa == NULL || (ch = iked_sa_child_by_spi(sa, c->spi_in)) == NULL)
		return;
	sa->children_deleted++;
	iked_sadb_remove(ik, ch, why);
	memset(ch, 0, sizeof(*ch));
}

static uint32_t
iked_sa_events_spi(void *ctx, struct ike_sa *ike, uint8_t protocol)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = iked_sa_of(ik, ike);

	return sa != NULL ? iked_spi_take(ik, sa->tunnel->local, protocol) : 0;
}

/* The IKE SA a rekey made takes over from sa: children, tunnel, timers of its own. */
static void
iked_sa_adopt(struct iked *ik, struct iked_sa *sa, struct ike_sa *ike)
{
	struct iked_sa *n = calloc(1, sizeof(*n));
	struct iked_tunnel *t = sa->tunnel;
	char a[INET_ADDRSTRLEN];

	if (n == NULL) {
		ike_sa_free(ike);
		iked_sa_close(ik, sa, "out of memory for its rekeyed IKE SA");
		return;
	}
	n->ike = ike;
	n->tunnel = t;
	n->initiator = ike_sa_initiator(ike);
	n->key = n->initiator ? ike_sa_spi_i(ike) : ike_sa_spi_r(ike);
	memcpy(n->peer, sa->peer, 4);
	n->peer_port = sa->peer_port;
	n->local_port = sa->local_port;
	n->created_ms = n->last_heard_ms = monotonic_ms();
	memcpy(n->children, sa->children, sizeof(n->children));
	memset(sa->children, 0, sizeof(sa->children));
	n->children_created = sa->children_created;
	n->children_deleted = sa->children_deleted;
	n->child_rekeys = sa->child_rekeys;
	if (u64map_put(ik->sas, n->key, n) == -1) {
		ike_sa_free(ike);
		free(n);
		return;
	}
	ik->stats.ike_sa_rekeys++;
	log_info("IKE SA %016llx with %s rekeyed: now %016llx:%016llx", (unsigned long long)sa->key,
	    ip4(sa->peer, a), (unsigned long long)ike_sa_spi_i(ike),
	    (unsigned long long)ike_sa_spi_r(ike));
	if (t->sa_key == sa->key)
		t->sa_key = n->key;
	/* Established from the start: the timers of an established SA. */
	iked_sa_after(ik, n, IKE_SA_IDLE);
}
