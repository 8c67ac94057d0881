/* The engine's Child SA events for one IKE SA (installed through sadb, removed, a new
 * inbound SPI for a rekey the peer asks), and the IKE SA a rekey makes taking over. */
#include "iked_impl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "log.h"
#include "u64map.h"

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

struct iked_child *
iked_sa_child_by_spi(struct iked_sa *sa, uint32_t spi_in)
{
	size_t i;

	for (i = 0; i < IKED_MAX_CHILDREN; i++) {
		if (sa->children[i].used && sa->children[i].info.spi_in == spi_in)
			return &sa->children[i];
	}
	return NULL;
}

void
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

void
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

uint32_t
iked_sa_events_spi(void *ctx, struct ike_sa *ike, uint8_t protocol)
{
	struct iked *ik = ctx;
	struct iked_sa *sa = iked_sa_of(ik, ike);

	return sa != NULL ? iked_spi_take(ik, sa->tunnel->local, protocol) : 0;
}

/* The IKE SA a rekey made takes over from sa: children, tunnel, timers of its own. */
void
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
	    iked_ip4(sa->peer, a), (unsigned long long)ike_sa_spi_i(ike),
	    (unsigned long long)ike_sa_spi_r(ike));
	if (t->sa_key == sa->key)
		t->sa_key = n->key;
	/* Established from the start: the timers of an established SA. */
	iked_sa_after(ik, n, IKE_SA_IDLE);
}
