/* What comes in and what we start: which IKE SA a datagram is for (by our SPI, and a
 * retransmitted IKE_SA_INIT by the peer's), new responder SAs (cookies first when busy),
 * new initiator SAs, and what follows each message the engine takes (iked_sa_after). */
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
};

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
		log_debug("IKE_SA_INIT from %s: no tunnel with that peer", iked_ip4(peer, a));
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
		    iked_ip4(peer, a));
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
		log_info("IKE_SA_INIT from %s refused: %s", iked_ip4(peer, a), ike_sa_error(sa->ike));
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
