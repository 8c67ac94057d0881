/* From a committed configuration to tunnels: each `then dynamic` term of each rule of each
 * service set is one peer to negotiate with, configured by its IKE and IPsec policies
 * (proposals in their order, the pre-shared key, the identities) and its own from and then
 * statements (traffic selectors, remote gateway, dead peer detection). A term iked cannot
 * serve is logged with the reason and left out; the others still come up. */
#include "iked_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_proposal.h"
#include "log.h"
#include "secbuf.h"

enum {
	IKED_DEFAULT_IKE_LIFETIME = 3600,
	IKED_DEFAULT_CHILD_LIFETIME = 28800,
	IKED_DEFAULT_DPD_INTERVAL = 10,
	IKED_DEFAULT_DPD_THRESHOLD = 3,
};

void
iked_tunnel_free(struct iked_tunnel *t)
{
	if (t == NULL)
		return;
	secbuf_free(t->psk);
	free(t->orphans);
	sodium_memzero(t, sizeof(*t));
	free(t);
}

static const Picsec__V1__IkePolicy *
find_ike_policy(const Picsec__V1__IpsecVpn *vpn, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < vpn->n_ike_policies; i++) {
		if (strcmp(vpn->ike_policies[i]->name, name) == 0)
			return vpn->ike_policies[i];
	}
	return NULL;
}

static const Picsec__V1__IpsecPolicy *
find_ipsec_policy(const Picsec__V1__IpsecVpn *vpn, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < vpn->n_ipsec_policies; i++) {
		if (strcmp(vpn->ipsec_policies[i]->name, name) == 0)
			return vpn->ipsec_policies[i];
	}
	return NULL;
}

static const Picsec__V1__IkeProposal *
find_ike_proposal(const Picsec__V1__IpsecVpn *vpn, const char *name)
{
	size_t i;

	for (i = 0; i < vpn->n_ike_proposals; i++) {
		if (strcmp(vpn->ike_proposals[i]->name, name) == 0)
			return vpn->ike_proposals[i];
	}
	return NULL;
}

static const Picsec__V1__IpsecProposal *
find_ipsec_proposal(const Picsec__V1__IpsecVpn *vpn, const char *name)
{
	size_t i;

	for (i = 0; i < vpn->n_ipsec_proposals; i++) {
		if (strcmp(vpn->ipsec_proposals[i]->name, name) == 0)
			return vpn->ipsec_proposals[i];
	}
	return NULL;
}

/* A prefix as a traffic selector (absent: everything of IPv4). */
static void
iked_ts(const Picsec__V1__IpPrefix *p, struct ike_ts_set *set)
{
	struct ike_ts *ts = &set->ts[0];
	uint32_t addr = 0, mask = 0;

	memset(set, 0, sizeof(*set));
	set->count = 1;
	ts->type = 7; /* TS_IPV4_ADDR_RANGE */
	ts->addr_len = 4;
	ts->end_port = 65535;
	if (p != NULL && p->addr.len == 4 && p->length <= 32) {
		addr = (uint32_t)p->addr.data[0] << 24 | (uint32_t)p->addr.data[1] << 16 |
		    (uint32_t)p->addr.data[2] << 8 | p->addr.data[3];
		mask = p->length == 0 ? 0 : ~0u << (32 - p->length);
	}
	addr &= mask;
	for (int i = 0; i < 4; i++) {
		ts->start[i] = (uint8_t)(addr >> (24 - 8 * i));
		ts->end[i] = (uint8_t)((addr | ~mask) >> (24 - 8 * i));
	}
}

/* The identities: local-id and remote-id, the gateway addresses when absent. */
static int
iked_ids(struct iked_tunnel *t, const Picsec__V1__IkePolicy *pol, char *err, size_t errlen)
{
	struct ike_peer_cfg *c = &t->cfg;
	const Picsec__V1__IkeLocalId *l = pol->local_id;
	const Picsec__V1__IkeRemoteId *r = pol->remote_id;
	const char *s;

	c->local_id_type = IKE_ID_IPV4;
	memcpy(c->local_id, t->local, 4);
	c->local_id_len = 4;
	if (l != NULL && l->address != NULL && l->address->addr.len == 4) {
		memcpy(c->local_id, l->address->addr.data, 4);
	} else if (l != NULL && (l->fqdn[0] != '\0' || l->key_id[0] != '\0')) {
		s = l->fqdn[0] != '\0' ? l->fqdn : l->key_id;
		c->local_id_type = l->fqdn[0] != '\0' ? IKE_ID_FQDN : IKE_ID_KEY_ID;
		c->local_id_len = strlen(s) < IKE_MAX_ID ? strlen(s) : IKE_MAX_ID;
		memcpy(c->local_id, s, c->local_id_len);
	} else if (l != NULL && l->distinguished_name) {
		snprintf(err, errlen, "local-id distinguished-name needs certificates");
		return -1;
	}
	c->remote_id_type = IKE_ID_IPV4;
	memcpy(c->remote_id, t->remote, 4);
	c->remote_id_len = 4;
	if (r == NULL)
		return 0;
	if (r->any_remote_id) {
		c->remote_id_type = 0;
		c->remote_id_len = 0;
	} else if (r->n_addresses > 0 && r->addresses[0]->addr.len == 4) {
		memcpy(c->remote_id, r->addresses[0]->addr.data, 4);
	} else if (r->n_fqdns > 0 || r->n_key_ids > 0) {
		s = r->n_fqdns > 0 ? r->fqdns[0] : r->key_ids[0];
		c->remote_id_type = r->n_fqdns > 0 ? IKE_ID_FQDN : IKE_ID_KEY_ID;
		c->remote_id_len = strlen(s) < IKE_MAX_ID ? strlen(s) : IKE_MAX_ID;
		memcpy(c->remote_id, s, c->remote_id_len);
	}
	return 0;
}

/* The proposals of both policies; picsec's defaults where a policy names none. */
static int
iked_proposals(struct iked_tunnel *t, const Picsec__V1__IpsecVpn *vpn,
    const Picsec__V1__IkePolicy *ike, const Picsec__V1__IpsecPolicy *ipsec, char *err,
    size_t errlen)
{
	static const uint8_t zero[4];
	Picsec__V1__IkeProposal dike = PICSEC__V1__IKE_PROPOSAL__INIT;
	Picsec__V1__IpsecProposal dipsec = PICSEC__V1__IPSEC_PROPOSAL__INIT;
	Picsec__V1__DhGroup pfs = ipsec != NULL ? ipsec->pfs_group :
	    PICSEC__V1__DH_GROUP__DH_GROUP_NONE;
	const Picsec__V1__IkeProposal *ip;
	const Picsec__V1__IpsecProposal *cp;
	struct ike_peer_cfg *c = &t->cfg;
	size_t i, n;

	dike.name = (char *)(uintptr_t)"picsec-default";
	dike.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	dike.authentication_algorithm = PICSEC__V1__IKE_HASH__IKE_HASH_SHA256;
	dike.dh_group = PICSEC__V1__DH_GROUP__DH_GROUP_14;
	dike.lifetime_seconds = IKED_DEFAULT_IKE_LIFETIME;
	dipsec.name = dike.name;
	dipsec.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	dipsec.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	dipsec.authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128;
	dipsec.lifetime_seconds = IKED_DEFAULT_CHILD_LIFETIME;
	t->ike_lifetime = t->child_lifetime = 0;
	n = ike->n_proposals > 0 ? ike->n_proposals : 1;
	for (i = 0; i < n && c->nike < IKE_MAX_PROPOSALS; i++) {
		ip = ike->n_proposals > 0 ? find_ike_proposal(vpn, ike->proposals[i]) : &dike;
		if (ip == NULL) {
			snprintf(err, errlen, "ike proposal %s does not exist", ike->proposals[i]);
			return -1;
		}
		if (ike_proposal_from_ike(ip, (uint8_t)(c->nike + 1), &c->ike[c->nike], err,
		    errlen) == -1)
			return -1;
		c->nike++;
		/* Junos: the shorter lifetime wins; ours is the first proposal's. */
		if (t->ike_lifetime == 0)
			t->ike_lifetime = ip->lifetime_seconds != 0 ? ip->lifetime_seconds :
			    IKED_DEFAULT_IKE_LIFETIME;
	}
	n = ipsec != NULL && ipsec->n_proposals > 0 ? ipsec->n_proposals : 1;
	for (i = 0; i < n && c->nchild < IKE_MAX_PROPOSALS; i++) {
		cp = ipsec != NULL && ipsec->n_proposals > 0 ?
		    find_ipsec_proposal(vpn, ipsec->proposals[i]) : &dipsec;
		if (cp == NULL) {
			snprintf(err, errlen, "ipsec proposal %s does not exist",
			    ipsec->proposals[i]);
			return -1;
		}
		if (cp->protocol == PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE) {
			snprintf(err, errlen, "ipsec proposal %s: protocol bundle is not negotiated "
			    "by IKEv2 (RFC 7296 §1.7 removed AH+ESP bundles)", cp->name);
			return -1;
		}
		if (ike_proposal_from_ipsec(cp, (uint8_t)(c->nchild + 1), pfs, zero,
		    &c->child[c->nchild], err, errlen) == -1)
			return -1;
		if (c->nchild > 0 && c->child[c->nchild].protocol != c->child[0].protocol) {
			snprintf(err, errlen, "ipsec proposals mix ESP and AH: picsec offers one "
			    "protocol per tunnel");
			return -1;
		}
		c->nchild++;
		if (t->child_lifetime == 0)
			t->child_lifetime = cp->lifetime_seconds != 0 ? cp->lifetime_seconds :
			    IKED_DEFAULT_CHILD_LIFETIME;
	}
	t->child_protocol = c->child[0].protocol;
	return 0;
}

/* Everything negotiated from, hashed: a commit that changes it renegotiates the tunnel. */
static uint64_t
iked_fingerprint(struct iked_tunnel *t)
{
	crypto_generichash_state st;
	const uint8_t *psk = t->cfg.psk;
	uint8_t out[8];
	uint64_t h;

	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	t->cfg.psk = NULL; /* where the key is is no part of it */
	crypto_generichash_update(&st, (const uint8_t *)&t->cfg, sizeof(t->cfg));
	t->cfg.psk = psk;
	crypto_generichash_update(&st, secbuf_cdata(t->psk), secbuf_len(t->psk));
	crypto_generichash_update(&st, t->local, 4);
	crypto_generichash_update(&st, t->remote, 4);
	crypto_generichash_update(&st, (const uint8_t *)&t->ike_lifetime, 4);
	crypto_generichash_update(&st, (const uint8_t *)&t->child_lifetime, 4);
	crypto_generichash_final(&st, out, sizeof(out));
	memcpy(&h, out, sizeof(h));
	return h;
}

uint64_t
iked_tunnel_id(const char *ss, const char *rule, const char *term)
{
	crypto_generichash_state st;
	uint8_t out[8];
	uint64_t h;

	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	crypto_generichash_update(&st, (const uint8_t *)ss, strlen(ss) + 1);
	crypto_generichash_update(&st, (const uint8_t *)rule, strlen(rule) + 1);
	crypto_generichash_update(&st, (const uint8_t *)term, strlen(term) + 1);
	crypto_generichash_final(&st, out, sizeof(out));
	memcpy(&h, out, sizeof(h));
	return h != 0 ? h : 1;
}

/* The PIC of the service set: ms-0/0/0 of its service interface ms-0/0/0.1. */
static void
iked_tunnel_pic(const Picsec__V1__ServiceSet *ss, char *out, size_t len)
{
	const char *ifl = ss->style == PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP ?
	    ss->inside_service_interface : ss->service_interface;
	const char *dot = ifl != NULL ? strrchr(ifl, '.') : NULL;

	if (dot == NULL || (size_t)(dot - ifl) >= len)
		out[0] = '\0';
	else
		snprintf(out, len, "%.*s", (int)(dot - ifl), ifl);
}

static struct iked_tunnel *
iked_tunnel_new(const Picsec__V1__ConfigSnapshot *snap, const Picsec__V1__ServiceSet *ss,
    const Picsec__V1__Rule *rule, const Picsec__V1__Term *term, char *err, size_t errlen)
{
	const Picsec__V1__IpsecVpn *vpn = snap->ipsec_vpn;
	const Picsec__V1__IkePolicy *ike = find_ike_policy(vpn, term->dynamic->ike_policy);
	const Picsec__V1__IpsecPolicy *ipsec = find_ipsec_policy(vpn, term->dynamic->ipsec_policy);
	struct iked_tunnel *t;

	if (ike == NULL) {
		snprintf(err, errlen, "no ike-policy: picsec authenticates with a pre-shared key, "
		    "which only an ike policy has");
		return NULL;
	}
	if (ike->version != 2) {
		snprintf(err, errlen, "ike policy %s is IKE version %u: picsec-iked speaks IKEv2 "
		    "only (set version 2)", ike->name, ike->version != 0 ? ike->version : 1);
		return NULL;
	}
	if (ike->pre_shared_key == NULL || ike->pre_shared_key->material.len == 0) {
		snprintf(err, errlen, "ike policy %s has no pre-shared-key", ike->name);
		return NULL;
	}
	if (ss->local_gateway == NULL || ss->local_gateway->address == NULL ||
	    ss->local_gateway->address->addr.len != 4 || term->remote_gateway == NULL ||
	    term->remote_gateway->addr.len != 4) {
		snprintf(err, errlen, "IPv4 local and remote gateways are needed (IPv6 IKE is "
		    "not done yet)");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->psk = secbuf_copy(ike->pre_shared_key->material.data,
	    ike->pre_shared_key->material.len)) == NULL) {
		iked_tunnel_free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(t->service_set, sizeof(t->service_set), "%s", ss->name);
	snprintf(t->rule, sizeof(t->rule), "%s", rule->name);
	snprintf(t->term, sizeof(t->term), "%s", term->name);
	t->id = iked_tunnel_id(ss->name, rule->name, term->name);
	memcpy(t->local, ss->local_gateway->address->addr.data, 4);
	memcpy(t->remote, term->remote_gateway->addr.data, 4);
	t->cfg.psk = secbuf_cdata(t->psk);
	t->cfg.psk_len = secbuf_len(t->psk);
	if (iked_ids(t, ike, err, errlen) == -1 ||
	    iked_proposals(t, vpn, ike, ipsec, err, errlen) == -1) {
		iked_tunnel_free(t);
		return NULL;
	}
	/* The outbound SA's traffic: from the term's source to its destination. */
	iked_ts(term->source_address, &t->cfg.local_ts);
	iked_ts(term->destination_address, &t->cfg.remote_ts);
	t->establish = vpn->establish_tunnels;
	t->clear_ike_on_pic = vpn->clear_ike_sas_on_pic_restart;
	t->clear_ipsec_on_pic = vpn->clear_ipsec_sas_on_pic_restart;
	t->gw_interface = ss->local_gateway->gw_interface != NULL &&
	    ss->local_gateway->gw_interface[0] != '\0';
	t->next_hop = ss->style == PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP;
	iked_tunnel_pic(ss, t->pic, sizeof(t->pic));
	t->cfg.no_natt = vpn->disable_natt || ss->no_nat_traversal;
	t->cfg.force_encap = ss->udp_encapsulate_dest_port != 0 && !t->cfg.no_natt;
	t->dpd = term->initiate_dead_peer_detection || term->dead_peer_detection != NULL;
	t->dpd_interval = term->dead_peer_detection != NULL &&
	    term->dead_peer_detection->interval != 0 ? term->dead_peer_detection->interval :
	    IKED_DEFAULT_DPD_INTERVAL;
	t->dpd_threshold = term->dead_peer_detection != NULL &&
	    term->dead_peer_detection->threshold != 0 ? term->dead_peer_detection->threshold :
	    IKED_DEFAULT_DPD_THRESHOLD;
	t->fingerprint = iked_fingerprint(t);
	return t;
}

static const Picsec__V1__Rule *
find_rule(const Picsec__V1__IpsecVpn *vpn, const char *name)
{
	size_t i;

	for (i = 0; i < vpn->n_rules; i++) {
		if (strcmp(vpn->rules[i]->name, name) == 0)
			return vpn->rules[i];
	}
	return NULL;
}

struct iked_tunnel *
iked_tunnels_build(const Picsec__V1__ConfigSnapshot *snap)
{
	struct iked_tunnel *list = NULL, *t;
	const Picsec__V1__ServiceSet *ss;
	const Picsec__V1__Rule *rule;
	size_t i, r, k;
	char err[256];

	if (snap->ipsec_vpn == NULL)
		return NULL;
	for (i = 0; i < snap->n_service_sets; i++) {
		ss = snap->service_sets[i];
		for (r = 0; r < ss->n_rules; r++) {
			if ((rule = find_rule(snap->ipsec_vpn, ss->rules[r])) == NULL)
				continue;
			for (k = 0; k < rule->n_terms; k++) {
				if (rule->terms[k]->dynamic == NULL)
					continue;
				if (iked_tunnel_by_term_list(list, ss->name, rule->name,
				    rule->terms[k]->name) != NULL)
					continue; /* a rule named twice */
				t = iked_tunnel_new(snap, ss, rule, rule->terms[k], err,
				    sizeof(err));
				if (t == NULL) {
					log_warnx("service set %s, rule %s, term %s: %s", ss->name,
					    rule->name, rule->terms[k]->name, err);
					continue;
				}
				t->next = list;
				list = t;
			}
		}
	}
	return list;
}

struct iked_tunnel *
iked_tunnel_by_term_list(struct iked_tunnel *list, const char *service_set, const char *rule,
    const char *term)
{
	struct iked_tunnel *t;

	for (t = list; t != NULL; t = t->next) {
		if (strcmp(t->service_set, service_set) == 0 && strcmp(t->rule, rule) == 0 &&
		    strcmp(t->term, term) == 0)
			return t;
	}
	return NULL;
}

struct iked_tunnel *
iked_tunnel_by_peer(struct iked *ik, const uint8_t local[4], const uint8_t remote[4])
{
	struct iked_tunnel *t;

	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (memcmp(t->local, local, 4) == 0 && memcmp(t->remote, remote, 4) == 0)
			return t;
	}
	return NULL;
}

struct iked_tunnel *
iked_tunnel_by_id(struct iked *ik, uint64_t id)
{
	struct iked_tunnel *t;

	for (t = ik->tunnels; t != NULL; t = t->next) {
		if (t->id == id)
			return t;
	}
	return NULL;
}
