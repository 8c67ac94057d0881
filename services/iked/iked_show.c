/* What picsec-iked answers and follows on the bus, by message type: the configuration,
 * sadb's removals and expiries, the PICs' acquires, and the IKE show and clear commands. */
#include "iked_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "ike_kdf.h"
#include "ike_proposal.h"
#include "ike_sk.h"
#include "log.h"
#include "sa.pb-c.h"
#include "u64map.h"

enum { IKED_CONFIG_TIMEOUT_MS = 5000 };

static const char *
encr_name(const struct ike_transform *e)
{
	if (e == NULL)
		return "";
	switch (e->id) {
	case IKE_ENCR_3DES: return "3des-cbc";
	case IKE_ENCR_AES_CBC:
		return e->key_length == 256 ? "aes-256-cbc" : e->key_length == 192 ?
		    "aes-192-cbc" : "aes-128-cbc";
	case IKE_ENCR_AES_GCM_16:
		return e->key_length == 256 ? "aes-256-gcm" : e->key_length == 192 ?
		    "aes-192-gcm" : "aes-128-gcm";
	default: return "null";
	}
}

static const char *
integ_name(const struct ike_transform *i)
{
	if (i == NULL)
		return "";
	switch (i->id) {
	case IKE_INTEG_HMAC_MD5_96: return "hmac-md5-96";
	case IKE_INTEG_HMAC_SHA1_96: return "hmac-sha1-96";
	case IKE_INTEG_HMAC_SHA2_256_128: return "hmac-sha-256-128";
	case IKE_INTEG_HMAC_SHA2_384_192: return "hmac-sha-384-192";
	default: return "";
	}
}

static const char *
prf_name(const struct ike_transform *p)
{
	if (p == NULL)
		return "";
	switch (p->id) {
	case IKE_PRF_HMAC_MD5: return "hmac-md5";
	case IKE_PRF_HMAC_SHA1: return "hmac-sha1";
	case IKE_PRF_HMAC_SHA2_256: return "hmac-sha-256";
	case IKE_PRF_HMAC_SHA2_384: return "hmac-sha-384";
	default: return "";
	}
}

/* An identity as the show commands print it. */
static void
id_text(uint8_t type, const uint8_t *id, size_t len, char *out, size_t cap)
{
	if (type == IKE_ID_IPV4 && len == 4)
		snprintf(out, cap, "%u.%u.%u.%u", id[0], id[1], id[2], id[3]);
	else if (type == IKE_ID_FQDN || type == IKE_ID_KEY_ID)
		snprintf(out, cap, "%s %.*s", type == IKE_ID_FQDN ? "fqdn" : "key-id", (int)len,
		    (const char *)id);
	else
		snprintf(out, cap, "any");
}

struct list_walk {
	struct iked *ik;
	const uint8_t *peer; /* NULL: all */
	Picsec__V1__IkeSaInfo *infos, **ptrs;
	Picsec__V1__IkeChildInfo *children, **child_ptrs;
	Picsec__V1__IpAddress *addrs;
	char (*ids)[2][300];
	size_t n, cap;
};

static void
iked_list_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *sa = value;
	struct list_walk *w = arg;
	Picsec__V1__IkeSaInfo *info;
	Picsec__V1__IkeChildInfo *ci;
	const struct ike_proposal *p;
	const struct iked_tunnel *t = sa->tunnel;
	uint64_t now = monotonic_ms(), age;
	size_t i;

	(void)key;
	if (w->n >= w->cap || (w->peer != NULL && memcmp(w->peer, sa->peer, 4) != 0))
		return;
	info = &w->infos[w->n];
	picsec__v1__ike_sa_info__init(info);
	picsec__v1__ip_address__init(&w->addrs[2 * w->n]);
	picsec__v1__ip_address__init(&w->addrs[2 * w->n + 1]);
	w->addrs[2 * w->n].addr.data = sa->peer;
	w->addrs[2 * w->n].addr.len = 4;
	w->addrs[2 * w->n + 1].addr.data = (uint8_t *)(uintptr_t)t->local;
	w->addrs[2 * w->n + 1].addr.len = 4;
	info->remote_address = &w->addrs[2 * w->n];
	info->local_address = &w->addrs[2 * w->n + 1];
	info->remote_port = sa->peer_port;
	info->local_port = sa->local_port;
	info->nat_detected = iked_sa_natt(w->ik, sa);
	info->matured = sa->established_ms != 0;
	info->initiator = sa->initiator;
	info->initiator_spi = ike_sa_spi_i(sa->ike);
	info->responder_spi = ike_sa_spi_r(sa->ike);
	info->state = (char *)(uintptr_t)ike_sa_state_name(ike_sa_get_state(sa->ike));
	info->service_set = (char *)(uintptr_t)t->service_set;
	info->rule = (char *)(uintptr_t)t->rule;
	info->term = (char *)(uintptr_t)t->term;
	p = ike_sa_proposal(sa->ike);
	info->encryption = (char *)(uintptr_t)encr_name(ike_proposal_get(p, IKE_TF_ENCR));
	info->integrity = (char *)(uintptr_t)integ_name(ike_proposal_get(p, IKE_TF_INTEG));
	info->prf = (char *)(uintptr_t)prf_name(ike_proposal_get(p, IKE_TF_PRF));
	info->dh_group = ike_proposal_get(p, IKE_TF_DH) != NULL ?
	    ike_proposal_get(p, IKE_TF_DH)->id : 0;
	id_text(t->cfg.local_id_type, t->cfg.local_id, t->cfg.local_id_len, w->ids[w->n][0],
	    sizeof(w->ids[w->n][0]));
	id_text(t->cfg.remote_id_type, t->cfg.remote_id, t->cfg.remote_id_len, w->ids[w->n][1],
	    sizeof(w->ids[w->n][1]));
	info->local_id = w->ids[w->n][0];
	info->remote_id = w->ids[w->n][1];
	if (sa->established_ms != 0) {
		age = (now - sa->established_ms) / 1000;
		info->expires_seconds = age < t->ike_lifetime ? t->ike_lifetime - age : 0;
	}
	info->input_bytes = sa->in_bytes;
	info->output_bytes = sa->out_bytes;
	info->input_packets = sa->in_packets;
	info->output_packets = sa->out_packets;
	info->children_created = sa->children_created;
	info->children_deleted = sa->children_deleted;
	info->child_rekeys = sa->child_rekeys;
	info->children = &w->child_ptrs[w->n * IKED_MAX_CHILDREN];
	for (i = 0; i < IKED_MAX_CHILDREN; i++) {
		const struct iked_child *ch = &sa->children[i];

		if (!ch->used)
			continue;
		ci = &w->children[w->n * IKED_MAX_CHILDREN + info->n_children];
		picsec__v1__ike_child_info__init(ci);
		ci->protocol = ch->info.protocol == IKE_PROTO_AH ?
		    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH :
		    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
		ci->spi_in = ch->info.spi_in;
		ci->spi_out = ch->info.spi_out;
		ci->encryption = (char *)(uintptr_t)encr_name(ike_proposal_get(&ch->info.chosen,
		    IKE_TF_ENCR));
		ci->authentication = (char *)(uintptr_t)integ_name(ike_proposal_get(
		    &ch->info.chosen, IKE_TF_INTEG));
		ci->pfs_group = ike_proposal_get(&ch->info.chosen, IKE_TF_DH) != NULL ?
		    ike_proposal_get(&ch->info.chosen, IKE_TF_DH)->id : 0;
		age = (now - ch->created_ms) / 1000;
		ci->expires_seconds = age < t->child_lifetime ? t->child_lifetime - age : 0;
		info->children[info->n_children++] = ci;
	}
	w->ptrs[w->n++] = info;
}

static void
iked_get_list(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__IkeGetList *req = (const Picsec__V1__IkeGetList *)payload;
	Picsec__V1__IkeList list = PICSEC__V1__IKE_LIST__INIT;
	struct iked *ik = ctx;
	struct list_walk w = { .ik = ik, .cap = u64map_count(ik->sas) };

	if (req->peer != NULL && req->peer->addr.len != 0) {
		if (req->peer->addr.len != 4) {
			bus_reply_error(m, ERRC(INVALID_ARGUMENT), "the peer is an IPv4 address");
			return;
		}
		w.peer = req->peer->addr.data;
	}
	w.infos = calloc(w.cap + 1, sizeof(*w.infos));
	w.ptrs = calloc(w.cap + 1, sizeof(*w.ptrs));
	w.children = calloc((w.cap + 1) * IKED_MAX_CHILDREN, sizeof(*w.children));
	w.child_ptrs = calloc((w.cap + 1) * IKED_MAX_CHILDREN, sizeof(*w.child_ptrs));
	w.addrs = calloc(2 * w.cap + 2, sizeof(*w.addrs));
	w.ids = calloc(w.cap + 1, sizeof(*w.ids));
	if (w.infos == NULL || w.ptrs == NULL || w.children == NULL || w.child_ptrs == NULL ||
	    w.addrs == NULL || w.ids == NULL) {
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "out of memory");
		goto out;
	}
	u64map_foreach(ik->sas, iked_list_one, &w);
	list.sas = w.ptrs;
	list.n_sas = w.n;
	bus_reply(m, MT(IKE_LIST), &list.base);
out:
	free(w.infos);
	free(w.ptrs);
	free(w.children);
	free(w.child_ptrs);
	free(w.addrs);
	free(w.ids);
}

struct clear_walk {
	const uint8_t *peer;
	struct iked_sa **hits;
	size_t n, cap;
};

static void
iked_clear_one(uint64_t key, void *value, void *arg)
{
	struct iked_sa *sa = value;
	struct clear_walk *w = arg;

	(void)key;
	if (w->n < w->cap && (w->peer == NULL || memcmp(w->peer, sa->peer, 4) == 0))
		w->hits[w->n++] = sa;
}

static void
iked_clear(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__IkeClear *req = (const Picsec__V1__IkeClear *)payload;
	Picsec__V1__IkeCleared reply = PICSEC__V1__IKE_CLEARED__INIT;
	struct iked *ik = ctx;
	struct clear_walk w = { .cap = u64map_count(ik->sas) };
	struct iked_tunnel *t;
	size_t i;

	if (req->peer != NULL && req->peer->addr.len != 0) {
		if (req->peer->addr.len != 4) {
			bus_reply_error(m, ERRC(INVALID_ARGUMENT), "the peer is an IPv4 address");
			return;
		}
		w.peer = req->peer->addr.data;
	}
	if ((w.hits = calloc(w.cap + 1, sizeof(*w.hits))) == NULL) {
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "out of memory");
		return;
	}
	u64map_foreach(ik->sas, iked_clear_one, &w);
	for (i = 0; i < w.n; i++)
		iked_sa_close(ik, w.hits[i], "cleared by the operator");
	reply.count = (uint32_t)w.n;
	free(w.hits);
	/* Tunnels that come up by themselves do so again at once (Junos does the same). */
	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (t->establish == PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_IMMEDIATELY)
			iked_initiate(ik, t);
	}
	log_info("clear: %u IKE SA%s", reply.count, reply.count == 1 ? "" : "s");
	bus_reply(m, MT(IKE_CLEARED), &reply.base);
}

static void
iked_get_stats(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	struct iked *ik = ctx;

	(void)payload; /* per peer counters are not kept apart yet: the totals */
	bus_reply(m, MT(IKE_STATS), &ik->stats.base);
}

static void
iked_config_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	(void)m;
	iked_config(ctx, (const Picsec__V1__ConfigSnapshot *)payload);
}

static void
iked_config_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	(void)bus;
	(void)cookie;
	if (res->type == MT(CONFIG_SNAPSHOT))
		iked_config(ctx, (const Picsec__V1__ConfigSnapshot *)res->msg);
	else
		log_info("no configuration from configd yet (%s): waiting for its event",
		    res->error_text != NULL ? res->error_text : "no answer");
}

static void
iked_removed_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaRemoved *ev = (const Picsec__V1__SaRemoved *)payload;

	if (bus_msg_is_request(m))
		return; /* only sadb's own removals, published as events */
	iked_sadb_gone(ctx, ev->ids, ev->n_ids, ev->reason);
}

static void
iked_expire_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaExpire *ev = (const Picsec__V1__SaExpire *)payload;

	(void)m;
	iked_sadb_expired(ctx, ev->id, ev->hard);
}

static void
iked_acquire_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaAcquire *ev = (const Picsec__V1__SaAcquire *)payload;
	struct iked *ik = ctx;
	struct iked_tunnel *t = iked_tunnel_by_term_list(ik->tunnels, ev->service_set, ev->rule,
	    ev->term);

	(void)m;
	if (t == NULL || t->establish != PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_ON_TRAFFIC)
		return;
	if (t->sa_key == 0)
		log_info("traffic for %s %s/%s: negotiating", t->service_set, t->rule, t->term);
	iked_initiate(ik, t);
}

static const struct bus_handler iked_handlers[] = {
	[MT(CONFIG_SNAPSHOT)] = { iked_config_event },
	[MT(SA_REMOVED)] = { iked_removed_event },
	[MT(SA_EXPIRE)] = { iked_expire_event },
	[MT(SA_ACQUIRE)] = { iked_acquire_event },
	[MT(IKE_GET_LIST)] = { iked_get_list },
	[MT(IKE_CLEAR)] = { iked_clear },
	[MT(IKE_GET_STATS)] = { iked_get_stats },
	[MT(SERVICE_STATE)] = { iked_service_event },
	[MT(IFACE_EVENT)] = { iked_iface_event },
};

static void
iked_on_state(struct bus *bus, enum bus_state state, void *ctx)
{
	Picsec__V1__ConfigGetSnapshot req = PICSEC__V1__CONFIG_GET_SNAPSHOT__INIT;

	if (state != BUS_REGISTERED)
		return;
	iked_health_sync(ctx);
	if (bus_request(bus, "configd", MT(CONFIG_GET_SNAPSHOT), &req.base,
	    IKED_CONFIG_TIMEOUT_MS, iked_config_reply, ctx, 0) == 0)
		log_warn("asking configd for the configuration");
}

void
iked_handlers_install(struct iked *ik)
{
	bus_set_handlers(ik->bus, iked_handlers, ARRAY_SIZE(iked_handlers), ik);
	bus_on_state(ik->bus, iked_on_state, ik);
}
