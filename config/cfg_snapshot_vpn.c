/* The ipsec-vpn part of a snapshot: rules and terms, manual SAs, proposals, policies. */
#include "cfg_snapshot_impl.h"

#include <stdlib.h>
#include <string.h>

static const struct snap_enum auth_algorithms[] = {
	{ "hmac-md5-96", PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_MD5_96 },
	{ "hmac-sha1-96", PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96 },
	{ "hmac-sha-256-128", PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128 },
	{ "hmac-sha2-256", PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128 },
	{ "hmac-sha-256-96", PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_96 },
	{ NULL, 0 },
};

static const struct snap_enum enc_algorithms[] = {
	{ "des-cbc", PICSEC__V1__ENC_ALGORITHM__ENC_DES_CBC },
	{ "3des-cbc", PICSEC__V1__ENC_ALGORITHM__ENC_3DES_CBC },
	{ "aes-128-cbc", PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC },
	{ "aes-192-cbc", PICSEC__V1__ENC_ALGORITHM__ENC_AES192_CBC },
	{ "aes-256-cbc", PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC },
	{ "aes-128-gcm", PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM },
	{ "aes-192-gcm", PICSEC__V1__ENC_ALGORITHM__ENC_AES192_GCM },
	{ "aes-256-gcm", PICSEC__V1__ENC_ALGORITHM__ENC_AES256_GCM },
	{ NULL, 0 },
};

static const struct snap_enum protocols[] = {
	{ "ah", PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH },
	{ "esp", PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP },
	{ "bundle", PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE },
	{ NULL, 0 },
};

static const struct snap_enum directions[] = {
	{ "inbound", PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND },
	{ "outbound", PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND },
	{ "bidirectional", PICSEC__V1__SA_DIRECTION__SA_DIRECTION_BIDIRECTIONAL },
	{ NULL, 0 },
};

static const struct snap_enum dh_groups[] = {
	{ "group1", 1 }, { "group2", 2 }, { "group5", 5 }, { "group14", 14 }, { "group15", 15 },
	{ "group16", 16 }, { "group19", 19 }, { "group20", 20 }, { "group24", 24 },
	{ "group31", 31 }, { NULL, 0 },
};

static const struct snap_enum ike_hashes[] = {
	{ "md5", PICSEC__V1__IKE_HASH__IKE_HASH_MD5 },
	{ "sha1", PICSEC__V1__IKE_HASH__IKE_HASH_SHA1 },
	{ "sha-256", PICSEC__V1__IKE_HASH__IKE_HASH_SHA256 },
	{ "sha-384", PICSEC__V1__IKE_HASH__IKE_HASH_SHA384 },
	{ NULL, 0 },
};

static const struct snap_enum ike_methods[] = {
	{ "pre-shared-keys", PICSEC__V1__IKE_AUTH_METHOD__IKE_AUTH_PRE_SHARED_KEYS },
	{ "rsa-signatures", PICSEC__V1__IKE_AUTH_METHOD__IKE_AUTH_RSA_SIGNATURES },
	{ "dsa-signatures", PICSEC__V1__IKE_AUTH_METHOD__IKE_AUTH_DSA_SIGNATURES },
	{ "ecdsa-signatures-256", PICSEC__V1__IKE_AUTH_METHOD__IKE_AUTH_ECDSA_SIGNATURES_256 },
	{ "ecdsa-signatures-384", PICSEC__V1__IKE_AUTH_METHOD__IKE_AUTH_ECDSA_SIGNATURES_384 },
	{ NULL, 0 },
};

static const struct snap_enum establish[] = {
	{ "on-traffic", PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_ON_TRAFFIC },
	{ "immediately", PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_IMMEDIATELY },
	{ "responder-only", PICSEC__V1__ESTABLISH_TUNNELS__ESTABLISH_RESPONDER_ONLY },
	{ NULL, 0 },
};

Picsec__V1__ManualSa *
snap_manual(struct cfg_snapshot *s, const struct cfg_node *manual)
{
	Picsec__V1__ManualSa *m;
	Picsec__V1__ManualSaDirection *d;
	const struct cfg_node *dir, *auth, *enc;
	size_t i = 0;

	if (manual == NULL)
		return NULL;
	m = (Picsec__V1__ManualSa *)snap_new(s, &picsec__v1__manual_sa__descriptor);
	if (m == NULL)
		return NULL;
	m->n_directions = snap_count(manual, "direction");
	m->directions = (Picsec__V1__ManualSaDirection **)snap_array(s, m->n_directions, &picsec__v1__manual_sa_direction__descriptor);
	if (m->directions == NULL)
		m->n_directions = 0;
	cfg_each(dir, manual, "direction") {
		if (i >= m->n_directions)
			break;
		d = m->directions[i++];
		d->direction = snap_enum(directions, dir->value, 0);
		d->protocol = snap_enum(protocols, cfg_leaf(dir, "protocol"), 0);
		d->spi = snap_uint(dir, "spi", 0);
		d->auxiliary_spi = snap_uint(dir, "auxiliary-spi", 0);
		if ((auth = cfg_child(dir, "authentication")) != NULL) {
			d->auth_algorithm = snap_enum(auth_algorithms, cfg_leaf(auth, "algorithm"), 0);
			d->auth_key = snap_key(s, cfg_child(auth, "key"));
		}
		if ((enc = cfg_child(dir, "encryption")) != NULL) {
			d->enc_algorithm = snap_enum(enc_algorithms, cfg_leaf(enc, "algorithm"), 0);
			d->enc_key = snap_key(s, cfg_child(enc, "key"));
		}
	}
	return m;
}

static void
snap_term(struct cfg_snapshot *s, Picsec__V1__Term *t, const struct cfg_node *term)
{
	const struct cfg_node *from = cfg_child(term, "from");
	const struct cfg_node *then = cfg_child(term, "then");
	const struct cfg_node *dyn = cfg_child(then, "dynamic"), *dpd;

	t->name = snap_str(s, term->value);
	t->source_address = snap_prefix(s, cfg_leaf(from, "source-address"));
	t->destination_address = snap_prefix(s, cfg_leaf(from, "destination-address"));
	t->ipsec_inside_interface = snap_str(s, cfg_leaf(from, "ipsec-inside-interface"));
	t->remote_gateway = snap_address(s, cfg_leaf(then, "remote-gateway"));
	t->backup_remote_gateway = snap_address(s, cfg_leaf(then, "backup-remote-gateway"));
	t->manual = snap_manual(s, cfg_child(then, "manual"));
	if (dyn != NULL && (t->dynamic = (Picsec__V1__DynamicSa *)snap_new(s, &picsec__v1__dynamic_sa__descriptor)) != NULL) {
		t->dynamic->ike_policy = snap_str(s, cfg_leaf(dyn, "ike-policy"));
		t->dynamic->ipsec_policy = snap_str(s, cfg_leaf(dyn, "ipsec-policy"));
		t->dynamic->natt_install_interval = snap_uint(dyn, "natt-install-interval", 0);
	}
	t->syslog = cfg_has(then, "syslog");
	t->df_bit = snap_df(then);
	t->no_anti_replay = cfg_has(then, "no-anti-replay");
	t->anti_replay_window_size = snap_uint(then, "anti-replay-window-size", 0);
	t->tunnel_mtu = snap_uint(then, "tunnel-mtu", 0);
	t->copy_ttl_from_inner_ip_header = cfg_has(then, "copy-ttl-from-inner-ip-header");
	t->ttl = snap_uint(then, "ttl", 64);
	t->copy_tos_from_inner_ip_header = cfg_has(then, "copy-tos-from-inner-ip-header");
	t->tos = snap_uint(then, "tos", 0);
	t->initiate_dead_peer_detection = cfg_has(then, "initiate-dead-peer-detection");
	if ((dpd = cfg_child(then, "dead-peer-detection")) != NULL &&
	    (t->dead_peer_detection = (Picsec__V1__DeadPeerDetection *)snap_new(s, &picsec__v1__dead_peer_detection__descriptor)) != NULL) {
		t->dead_peer_detection->interval = snap_uint(dpd, "interval", 10);
		t->dead_peer_detection->threshold = snap_uint(dpd, "threshold", 3);
	}
}

void
snap_rules(struct cfg_snapshot *s, Picsec__V1__IpsecVpn *v, const struct cfg_node *vpn)
{
	const struct cfg_node *rule, *term;
	size_t i = 0, j;

	v->n_rules = snap_count(vpn, "rule");
	v->rules = (Picsec__V1__Rule **)snap_array(s, v->n_rules, &picsec__v1__rule__descriptor);
	if (v->rules == NULL)
		v->n_rules = 0;
	cfg_each(rule, vpn, "rule") {
		Picsec__V1__Rule *r;

		if (i >= v->n_rules)
			break;
		r = v->rules[i++];
		r->name = snap_str(s, rule->value);
		r->match_direction = snap_enum((const struct snap_enum[]){
		    { "input", PICSEC__V1__MATCH_DIRECTION__MATCH_DIRECTION_INPUT },
		    { "output", PICSEC__V1__MATCH_DIRECTION__MATCH_DIRECTION_OUTPUT },
		    { NULL, 0 } }, cfg_leaf(rule, "match-direction"), 0);
		r->n_terms = snap_count(rule, "term");
		r->terms = (Picsec__V1__Term **)snap_array(s, r->n_terms, &picsec__v1__term__descriptor);
		if (r->terms == NULL)
			r->n_terms = 0;
		j = 0;
		cfg_each(term, rule, "term") {
			if (j < r->n_terms)
				snap_term(s, r->terms[j++], term);
		}
	}
	v->n_rule_sets = snap_count(vpn, "rule-set");
	v->rule_sets = (Picsec__V1__RuleSet **)snap_array(s, v->n_rule_sets, &picsec__v1__rule_set__descriptor);
	if (v->rule_sets == NULL)
		v->n_rule_sets = 0;
	i = 0;
	cfg_each(rule, vpn, "rule-set") {
		if (i >= v->n_rule_sets)
			break;
		v->rule_sets[i]->name = snap_str(s, rule->value);
		v->rule_sets[i]->rules = snap_names(s, rule, "rule", &v->rule_sets[i]->n_rules);
		i++;
	}
}

static Picsec__V1__IkeRemoteId *
snap_remote_id(struct cfg_snapshot *s, const struct cfg_node *id)
{
	Picsec__V1__IkeRemoteId *r;
	const struct cfg_node *a;
	size_t n, i = 0;

	r = (Picsec__V1__IkeRemoteId *)snap_new(s, &picsec__v1__ike_remote_id__descriptor);
	if (r == NULL)
		return NULL;
	r->any_remote_id = cfg_has(id, "any-remote-id");
	n = snap_count(id, "ipv4_addr") + snap_count(id, "ipv6-addr");
	if (n > 0 && (r->addresses = snap_alloc(s, n * sizeof(*r->addresses))) != NULL) {
		cfg_each(a, id, "ipv4_addr")
			r->addresses[i++] = snap_address(s, a->value);
		cfg_each(a, id, "ipv6-addr")
			r->addresses[i++] = snap_address(s, a->value);
		r->n_addresses = i;
	}
	r->fqdns = snap_names(s, id, "fqdn", &r->n_fqdns);
	r->key_ids = snap_names(s, id, "key-id", &r->n_key_ids);
	return r;
}

static void
snap_ike(struct cfg_snapshot *s, Picsec__V1__IpsecVpn *v, const struct cfg_node *ike)
{
	const struct cfg_node *n, *id;
	size_t i = 0;

	v->n_ike_proposals = snap_count(ike, "proposal");
	v->ike_proposals = (Picsec__V1__IkeProposal **)snap_array(s, v->n_ike_proposals, &picsec__v1__ike_proposal__descriptor);
	if (v->ike_proposals == NULL)
		v->n_ike_proposals = 0;
	cfg_each(n, ike, "proposal") {
		Picsec__V1__IkeProposal *p;

		if (i >= v->n_ike_proposals)
			break;
		p = v->ike_proposals[i++];
		p->name = snap_str(s, n->value);
		p->description = snap_str(s, cfg_leaf(n, "description"));
		p->authentication_method = snap_enum(ike_methods,
		    cfg_leaf(n, "authentication-method"), 0);
		/* Junos' defaults as the source text gives them: sha1 and 3des-cbc; group2. */
		p->dh_group = snap_enum(dh_groups, cfg_leaf(n, "dh-group"), 2);
		p->authentication_algorithm = snap_enum(ike_hashes,
		    cfg_leaf(n, "authentication-algorithm"), PICSEC__V1__IKE_HASH__IKE_HASH_SHA1);
		p->encryption_algorithm = snap_enum(enc_algorithms,
		    cfg_leaf(n, "encryption-algorithm"), PICSEC__V1__ENC_ALGORITHM__ENC_3DES_CBC);
		p->lifetime_seconds = snap_uint(n, "lifetime-seconds", 3600);
	}
	v->n_ike_policies = snap_count(ike, "policy");
	v->ike_policies = (Picsec__V1__IkePolicy **)snap_array(s, v->n_ike_policies, &picsec__v1__ike_policy__descriptor);
	if (v->ike_policies == NULL)
		v->n_ike_policies = 0;
	i = 0;
	cfg_each(n, ike, "policy") {
		Picsec__V1__IkePolicy *p;

		if (i >= v->n_ike_policies)
			break;
		p = v->ike_policies[i++];
		p->name = snap_str(s, n->value);
		p->description = snap_str(s, cfg_leaf(n, "description"));
		p->mode = cfg_leaf(n, "mode") != NULL && strcmp(cfg_leaf(n, "mode"), "aggressive") ==
		    0 ? PICSEC__V1__IKE_MODE__IKE_MODE_AGGRESSIVE : PICSEC__V1__IKE_MODE__IKE_MODE_MAIN;
		p->version = snap_uint(n, "version", 1);
		p->proposals = snap_names(s, n, "proposals", &p->n_proposals);
		if ((id = cfg_child(n, "local-id")) != NULL &&
		    (p->local_id = (Picsec__V1__IkeLocalId *)snap_new(s, &picsec__v1__ike_local_id__descriptor)) != NULL) {
			p->local_id->address = snap_address(s, cfg_leaf(id, "ipv4_addr") != NULL ?
			    cfg_leaf(id, "ipv4_addr") : cfg_leaf(id, "ipv6-addr"));
			p->local_id->fqdn = snap_str(s, cfg_leaf(id, "fqdn"));
			p->local_id->key_id = snap_str(s, cfg_leaf(id, "key-id"));
			p->local_id->distinguished_name = cfg_has(id, "distinguished-name");
		}
		if ((id = cfg_child(n, "remote-id")) != NULL)
			p->remote_id = snap_remote_id(s, id);
		p->pre_shared_key = snap_key(s, cfg_child(n, "pre-shared-key"));
		p->respond_bad_spi_max_responses = cfg_has(n, "respond-bad-spi") ?
		    snap_uint(cfg_child(n, "respond-bad-spi"), "max-responses", 5) : 0;
	}
}

static void
snap_ipsec(struct cfg_snapshot *s, Picsec__V1__IpsecVpn *v, const struct cfg_node *ipsec)
{
	const struct cfg_node *n;
	size_t i = 0;

	v->n_ipsec_proposals = snap_count(ipsec, "proposal");
	v->ipsec_proposals = (Picsec__V1__IpsecProposal **)snap_array(s, v->n_ipsec_proposals, &picsec__v1__ipsec_proposal__descriptor);
	if (v->ipsec_proposals == NULL)
		v->n_ipsec_proposals = 0;
	cfg_each(n, ipsec, "proposal") {
		Picsec__V1__IpsecProposal *p;

		if (i >= v->n_ipsec_proposals)
			break;
		p = v->ipsec_proposals[i++];
		p->name = snap_str(s, n->value);
		p->description = snap_str(s, cfg_leaf(n, "description"));
		p->protocol = snap_enum(protocols, cfg_leaf(n, "protocol"),
		    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP);
		p->authentication_algorithm = snap_enum(auth_algorithms,
		    cfg_leaf(n, "authentication-algorithm"), 0);
		p->encryption_algorithm = snap_enum(enc_algorithms,
		    cfg_leaf(n, "encryption-algorithm"), 0);
		p->lifetime_seconds = snap_uint(n, "lifetime-seconds", 28800);
	}
	v->n_ipsec_policies = snap_count(ipsec, "policy");
	v->ipsec_policies = (Picsec__V1__IpsecPolicy **)snap_array(s, v->n_ipsec_policies, &picsec__v1__ipsec_policy__descriptor);
	if (v->ipsec_policies == NULL)
		v->n_ipsec_policies = 0;
	i = 0;
	cfg_each(n, ipsec, "policy") {
		Picsec__V1__IpsecPolicy *p;

		if (i >= v->n_ipsec_policies)
			break;
		p = v->ipsec_policies[i++];
		p->name = snap_str(s, n->value);
		p->description = snap_str(s, cfg_leaf(n, "description"));
		p->pfs_group = snap_enum(dh_groups,
		    cfg_leaf(cfg_child(n, "perfect-forward-secrecy"), "keys"), 0);
		p->proposals = snap_names(s, n, "proposals", &p->n_proposals);
		p->proposal_set = snap_str(s, cfg_leaf(n, "proposal-set"));
	}
}

void
snap_proposals(struct cfg_snapshot *s, Picsec__V1__IpsecVpn *v, const struct cfg_node *vpn)
{
	const struct cfg_node *trace = cfg_child(vpn, "traceoptions");

	snap_ike(s, v, cfg_child(vpn, "ike"));
	snap_ipsec(s, v, cfg_child(vpn, "ipsec"));
	v->establish_tunnels = snap_enum(establish, cfg_leaf(vpn, "establish-tunnels"), 0);
	v->clear_ike_sas_on_pic_restart = cfg_has(vpn, "clear-ike-sas-on-pic-restart");
	v->clear_ipsec_sas_on_pic_restart = cfg_has(vpn, "clear-ipsec-sas-on-pic-restart");
	v->no_ipsec_tunnel_in_traceroute = cfg_has(vpn, "no-ipsec-tunnel-in-traceroute");
	v->disable_natt = cfg_has(vpn, "disable-natt");
	if (trace != NULL && (v->traceoptions = (Picsec__V1__Traceoptions *)snap_new(s, &picsec__v1__traceoptions__descriptor)) != NULL) {
		v->traceoptions->file = snap_str(s, cfg_leaf(trace, "file"));
		v->traceoptions->level = snap_str(s, cfg_leaf(trace, "level") != NULL ?
		    cfg_leaf(trace, "level") : "error");
		v->traceoptions->flags = snap_names(s, trace, "flag", &v->traceoptions->n_flags);
	}
}
