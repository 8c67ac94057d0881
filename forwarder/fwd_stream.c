/* The PIC's SA set, as sadb streams it (DESIGN §2): a snapshot, then numbered updates; a
 * gap or a new sadb incarnation means a new snapshot. Until sadb answers, the PIC keeps
 * what it holds: traffic never waits for sadb. An SA that comes again unchanged keeps its
 * state (sequence number, replay window, counters). What an SA costs the PIC at rest is
 * kept small (bench/scale, 100,000 SAs): a digest of its parameters, not their packed
 * copy, and its keys until its first packet makes its contexts (dp_sa.c). */
#include "fwd_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bus.h"
#include "catalog.h"
#include "log.h"
#include "secbuf.h"
#include "timer.h"
#include "u64map.h"

enum { FWD_SNAPSHOT_TIMEOUT_MS = 3000 };
static const double fwd_resync_seconds = 1.0;

void
fwd_sa_free(struct fwd *f, struct fwd_sa *sa)
{
	if (sa == NULL)
		return;
	if (sa->lookup_key != 0 &&
	    u64map_get(fwd_inbound_map(f, sa->lookup_proto), sa->lookup_key) == sa)
		u64map_take(fwd_inbound_map(f, sa->lookup_proto), sa->lookup_key);
	dp_sa_free(sa->dp);
	free(sa);
}

/* SPIs are unique per destination (RFC 4301 §4.1), so the local gateway is part of it. */
uint64_t
fwd_inbound_key(uint32_t local, uint32_t spi)
{
	return (uint64_t)local << 32 | spi;
}

struct u64map *
fwd_inbound_map(struct fwd *f, uint8_t protocol)
{
	return protocol == 51 ? f->inbound_ah : f->inbound;
}

/* A hash of the SA's keys, to know a replacement under the same keys. */
static void
fwd_key_hash(const Picsec__V1__Sa *m, uint8_t out[16])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 16);
	if (m->enc_key != NULL)
		crypto_generichash_update(&st, m->enc_key->material.data, m->enc_key->material.len);
	crypto_generichash_update(&st, (const uint8_t *)"|", 1);
	if (m->auth_key != NULL)
		crypto_generichash_update(&st, m->auth_key->material.data,
		    m->auth_key->material.len);
	crypto_generichash_final(&st, out, 16);
}

struct fwd_prefix
fwd_prefix_of(const Picsec__V1__IpPrefix *p)
{
	struct fwd_prefix fp = { 0, 0 };
	uint32_t len;

	if (p == NULL || p->addr.len != 4)
		return fp;
	len = p->length > 32 ? 32 : p->length;
	fp.mask = len == 0 ? 0 : htonl(~(uint32_t)0 << (32 - len));
	memcpy(&fp.addr, p->addr.data, 4);
	fp.addr &= fp.mask;
	return fp;
}

static uint32_t
fwd_addr_of(const Picsec__V1__IpAddress *a)
{
	uint32_t v = 0;

	if (a != NULL && a->addr.len == 4)
		memcpy(&v, a->addr.data, 4);
	return v;
}

/* A digest of the Sa packed with seq_start left out: equal digests, same SA. The packed
 * bytes (keys among them) are in wiped memory while they exist. -1: out of memory. */
static int
fwd_sa_digest(const Picsec__V1__Sa *m, uint8_t out[16])
{
	Picsec__V1__Sa copy = *m;
	uint8_t *buf;
	size_t len;

	copy.seq_start = 0;
	len = protobuf_c_message_get_packed_size(&copy.base);
	if ((buf = wiping_alloc(len + 1)) == NULL)
		return -1;
	protobuf_c_message_pack(&copy.base, buf);
	crypto_generichash(out, 16, buf, len, NULL, 0);
	wiping_free(buf);
	return 0;
}

/* The proto's algorithms as libpicsec-dp names them; -1 for one this PIC does not have. A
 * table, not a cast: a value added to the proto is refused until the datapath knows it. */
static int
fwd_enc_of(Picsec__V1__EncAlgorithm a, enum dp_enc *out)
{
	static const struct {
		Picsec__V1__EncAlgorithm proto;
		enum dp_enc dp;
	} map[] = {
		{ PICSEC__V1__ENC_ALGORITHM__ENC_NULL, DP_ENC_NULL },
		{ PICSEC__V1__ENC_ALGORITHM__ENC_DES_CBC, DP_ENC_DES_CBC },
		{ PICSEC__V1__ENC_ALGORITHM__ENC_3DES_CBC, DP_ENC_3DES_CBC },
		{ PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC, DP_ENC_AES128_CBC },
		{ PICSEC__V1__ENC_ALGORITHM__ENC_AES192_CBC, DP_ENC_AES192_CBC },
		{ PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC, DP_ENC_AES256_CBC },
		{ PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM, DP_ENC_AES128_GCM },
		{ PICSEC__V1__ENC_ALGORITHM__ENC_AES192_GCM, DP_ENC_AES192_GCM },
		{ PICSEC__V1__ENC_ALGORITHM__ENC_AES256_GCM, DP_ENC_AES256_GCM },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].proto == a) {
			*out = map[i].dp;
			return 0;
		}
	}
	return -1;
}

static int
fwd_auth_of(Picsec__V1__AuthAlgorithm a, enum dp_auth *out)
{
	static const struct {
		Picsec__V1__AuthAlgorithm proto;
		enum dp_auth dp;
	} map[] = {
		{ PICSEC__V1__AUTH_ALGORITHM__AUTH_NONE, DP_AUTH_NONE },
		{ PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_MD5_96, DP_AUTH_HMAC_MD5_96 },
		{ PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96, DP_AUTH_HMAC_SHA1_96 },
		{ PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128, DP_AUTH_HMAC_SHA256_128 },
		{ PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_96, DP_AUTH_HMAC_SHA256_96 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].proto == a) {
			*out = map[i].dp;
			return 0;
		}
	}
	return -1;
}

/* sa->dp for m, or NULL with the reason in err. */
static void
fwd_sa_prepare(struct fwd_sa *sa, const Picsec__V1__Sa *m, uint64_t seq_floor, char *err,
    size_t errlen)
{
	struct dp_sa_params p;

	memset(&p, 0, sizeof(p));
	if (m->local_gateway == NULL || m->local_gateway->addr.len != 4 ||
	    m->remote_gateway == NULL || m->remote_gateway->addr.len != 4) {
		snprintf(err, errlen, "IPv4 gateways only");
		return;
	}
	if (m->mode != PICSEC__V1__SA_MODE__SA_MODE_TUNNEL) {
		snprintf(err, errlen, "transport mode SAs are not served by a services PIC");
		return;
	}
	if (fwd_enc_of(m->enc_algorithm, &p.enc) == -1 ||
	    fwd_auth_of(m->auth_algorithm, &p.auth) == -1) {
		snprintf(err, errlen, "algorithm not supported by this PIC");
		return;
	}
	p.dir = sa->outbound ? DP_DIR_OUT : DP_DIR_IN;
	switch (m->protocol) {
	case PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP: p.proto = DP_PROTO_ESP; break;
	case PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH: p.proto = DP_PROTO_AH; break;
	case PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE: p.proto = DP_PROTO_BUNDLE; break;
	default:
		snprintf(err, errlen, "unknown protocol %d", (int)m->protocol);
		return;
	}
	p.mode = DP_MODE_TUNNEL;
	p.spi = m->spi;
	p.aux_spi = m->auxiliary_spi;
	if (m->enc_key != NULL) {
		p.enc_key = m->enc_key->material.data;
		p.enc_key_len = m->enc_key->material.len;
	}
	if (m->auth_key != NULL) {
		p.auth_key = m->auth_key->material.data;
		p.auth_key_len = m->auth_key->material.len;
	}
	memcpy(p.local, m->local_gateway->addr.data, 4);
	memcpy(p.remote, m->remote_gateway->addr.data, 4);
	p.encap_sport = (uint16_t)m->encap_sport;
	p.encap_dport = (uint16_t)m->encap_dport;
	p.replay_window = m->replay_window;
	p.esn = m->esn;
	p.tunnel_mtu = m->tunnel_mtu > 65535 ? 65535 : (uint16_t)m->tunnel_mtu;
	p.df = m->df_bit == PICSEC__V1__DF_BIT__DF_BIT_CLEAR ? DP_DF_CLEAR :
	    m->df_bit == PICSEC__V1__DF_BIT__DF_BIT_SET ? DP_DF_SET : DP_DF_COPY;
	p.ttl = m->ttl > 255 ? 255 : (uint8_t)m->ttl;
	p.tos = m->tos > 255 ? 255 : (uint8_t)m->tos;
	/* Never below what this PIC already sent under the same key. */
	p.seq_start = m->seq_start > seq_floor ? m->seq_start : seq_floor;
	sa->dp = dp_sa_new(&p, err, errlen);
}

/* Makes the PIC hold m: a new SA, or the one it has when unchanged. Whether an SA that an
 * SPD holds was replaced (its SPD must change now, not at the next sync). */
static bool
fwd_sa_upsert(struct fwd *f, const Picsec__V1__Sa *m)
{
	struct fwd_sa *old = u64map_get(f->sas, m->id), *sa;
	uint64_t floor = 0;
	uint8_t digest[16];
	char err[128] = "";
	bool replaced;

	if (fwd_sa_digest(m, digest) == -1) {
		log_warnx("SA %016llx: out of memory", (unsigned long long)m->id);
		return false;
	}
	if (old != NULL && memcmp(old->digest, digest, sizeof(digest)) == 0)
		return false; /* the same SA: keep its state */
	if ((sa = calloc(1, sizeof(*sa))) == NULL) {
		log_warnx("SA %016llx: out of memory", (unsigned long long)m->id);
		return false;
	}
	sa->id = m->id;
	memcpy(sa->digest, digest, sizeof(digest));
	snprintf(sa->service_set, sizeof(sa->service_set), "%s", m->service_set);
	sa->set = fwd_set_find(f, sa->service_set);
	sa->order = m->order;
	sa->arrival = ++f->sa_arrivals;
	sa->outbound = m->direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND;
	sa->src = fwd_prefix_of(m->source);
	sa->dst = fwd_prefix_of(m->destination);
	sa->local = fwd_addr_of(m->local_gateway);
	sa->remote = fwd_addr_of(m->remote_gateway);
	fwd_key_hash(m, sa->key_hash);
	/* Same SA under the same keys with other settings: keep counting upwards. */
	if (old != NULL && old->dp != NULL && old->outbound && sa->outbound &&
	    memcmp(old->key_hash, sa->key_hash, sizeof(sa->key_hash)) == 0)
		floor = dp_sa_seq(old->dp);
	fwd_sa_prepare(sa, m, floor, err, sizeof(err));
	if (sa->dp == NULL)
		log_warnx("SA %016llx (%s, SPI %u): not installed: %s", (unsigned long long)m->id,
		    m->service_set, m->spi, err);
	/* ...and inbound, the same replay window: a replacement must not reopen it. */
	if (old != NULL && old->dp != NULL && sa->dp != NULL &&
	    memcmp(old->key_hash, sa->key_hash, sizeof(sa->key_hash)) == 0)
		dp_sa_inherit(sa->dp, old->dp);
	if (u64map_put(f->sas, sa->id, sa) == -1) {
		/* The old one stays (the map still holds it): nothing dangles. */
		fwd_sa_free(f, sa);
		return false;
	}
	replaced = old != NULL && old->outbound && old->dp != NULL && old->set != NULL;
	fwd_sa_bury(f, old);
	if (sa->outbound && sa->dp != NULL && sa->set != NULL)
		fwd_set_take(f, sa);
	if (!sa->outbound && sa->dp != NULL) {
		/* A bundle is found by its outer header, AH. */
		struct u64map *map;

		sa->lookup_proto = m->protocol == PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP ?
		    50 : 51;
		map = fwd_inbound_map(f, sa->lookup_proto);
		sa->lookup_key = fwd_inbound_key(sa->local, m->spi);
		if (u64map_get(map, sa->lookup_key) != NULL)
			log_warnx("SA %016llx: SPI %u to this gateway is held twice: the newer wins",
			    (unsigned long long)sa->id, m->spi);
		if (u64map_put(map, sa->lookup_key, sa) == -1)
			sa->lookup_key = 0;
	}
	return replaced;
}

static void
fwd_sa_remove(struct fwd *f, uint64_t id)
{
	fwd_sa_bury(f, u64map_take(f->sas, id));
}

struct keep_only {
	struct fwd *f;
	struct u64map *keep;
	uint64_t *drop;
	size_t ndrop;
};

static void
fwd_collect_gone(uint64_t id, void *value, void *arg)
{
	struct keep_only *k = arg;

	(void)value;
	if (u64map_get(k->keep, id) == NULL)
		k->drop[k->ndrop++] = id;
}

static void
fwd_apply_snapshot(struct fwd *f, const Picsec__V1__SaSnapshot *snap)
{
	struct keep_only k = { .f = f };
	size_t i;

	fwd_sets_apply(f, snap->service_sets, snap->n_service_sets);
	k.keep = u64map_new();
	k.drop = calloc(u64map_count(f->sas) + 1, sizeof(*k.drop));
	if (k.keep == NULL || k.drop == NULL) {
		log_warnx("out of memory applying the snapshot");
		goto out;
	}
	for (i = 0; i < snap->n_sas; i++) {
		fwd_sa_upsert(f, snap->sas[i]);
		u64map_put(k.keep, snap->sas[i]->id, k.keep);
	}
	u64map_foreach(f->sas, fwd_collect_gone, &k);
	for (i = 0; i < k.ndrop; i++)
		fwd_sa_remove(f, k.drop[i]);
	fwd_sets_refresh(f);
	f->stream_incarnation = snap->incarnation;
	f->stream_seq = snap->seq;
	f->synced = true;
	f->status_full = true; /* a new sadb may know nothing of our counters */
	log_info("snapshot %016llx/%llu: %zu service set%s, %zu SA%s",
	    (unsigned long long)snap->incarnation, (unsigned long long)snap->seq,
	    snap->n_service_sets, snap->n_service_sets == 1 ? "" : "s", snap->n_sas,
	    snap->n_sas == 1 ? "" : "s");
out:
	u64map_free(k.keep);
	free(k.drop);
}

static void fwd_ask_snapshot(struct fwd *f);

static void
fwd_resync(void *ctx, uint64_t id)
{
	(void)id;
	((struct fwd *)ctx)->resync_timer = 0;
	fwd_ask_snapshot(ctx);
}

static void
fwd_snapshot_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct fwd *f = ctx;
	const Picsec__V1__SaSnapshot *snap;

	(void)bus;
	(void)cookie;
	f->snapshot_req = 0;
	if (res->type != MT(SA_SNAPSHOT)) {
		log_info("no snapshot from sadb (%s): keeping what the PIC holds, asking again",
		    res->error_text != NULL ? res->error_text : "no answer");
		timers_rearm(f->timers, &f->resync_timer, fwd_resync_seconds, fwd_resync, 0);
		return;
	}
	snap = (const Picsec__V1__SaSnapshot *)res->msg;
	if (strcmp(snap->pic, f->pic) != 0) {
		log_warnx("sadb answered with the snapshot of PIC %s", snap->pic);
		timers_rearm(f->timers, &f->resync_timer, fwd_resync_seconds, fwd_resync, 0);
		return;
	}
	fwd_apply_snapshot(f, snap);
	/* Updates that went by while we asked, newer than the snapshot: ask again. */
	if (f->seen_seq > snap->seq)
		fwd_ask_snapshot(f);
	fwd_status_soon(f);
}

static void
fwd_ask_snapshot(struct fwd *f)
{
	Picsec__V1__SaGetSnapshot req = PICSEC__V1__SA_GET_SNAPSHOT__INIT;

	if (f->snapshot_req != 0)
		return;
	f->seen_seq = 0;
	req.pic = f->pic;
	f->snapshot_req = bus_request(f->bus, "sadb", MT(SA_GET_SNAPSHOT), &req.base,
	    FWD_SNAPSHOT_TIMEOUT_MS, fwd_snapshot_reply, f, 0);
	if (f->snapshot_req == 0)
		timers_rearm(f->timers, &f->resync_timer, fwd_resync_seconds, fwd_resync, 0);
}

void
fwd_stream_start(struct fwd *f)
{
	fwd_ask_snapshot(f);
}

void
fwd_stream_update(struct fwd *f, const Picsec__V1__SaUpdate *up)
{
	bool replaced = false;
	size_t i;

	if (strcmp(up->pic, f->pic) != 0)
		return;
	if (f->snapshot_req != 0) {
		if (up->seq > f->seen_seq)
			f->seen_seq = up->seq;
		return;
	}
	if (!f->synced || up->incarnation != f->stream_incarnation ||
	    up->seq != f->stream_seq + 1) {
		if (f->synced && up->incarnation == f->stream_incarnation &&
		    up->seq <= f->stream_seq)
			return; /* already in the snapshot */
		log_info("update %016llx/%llu after %016llx/%llu: asking for a snapshot",
		    (unsigned long long)up->incarnation, (unsigned long long)up->seq,
		    (unsigned long long)f->stream_incarnation,
		    (unsigned long long)f->stream_seq);
		fwd_ask_snapshot(f);
		f->seen_seq = up->incarnation == f->stream_incarnation ? up->seq : 0;
		return;
	}
	if (up->service_sets_changed)
		fwd_sets_apply(f, up->service_sets, up->n_service_sets);
	for (i = 0; i < up->n_remove; i++)
		fwd_sa_remove(f, up->remove[i]);
	for (i = 0; i < up->n_upsert; i++)
		replaced |= fwd_sa_upsert(f, up->upsert[i]);
	/* New sets: everything anew. An SA replaced under the same id: its SPD at once (the
	 * old one is passed over already; the new one carries its traffic now). Else the
	 * SPDs follow within FWD_SYNC_MS. */
	if (up->service_sets_changed)
		fwd_sets_refresh(f);
	else
		fwd_sets_sync(f, replaced);
	f->stream_seq = up->seq;
	fwd_status_soon(f);
}
