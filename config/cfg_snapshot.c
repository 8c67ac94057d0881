/* Building a ConfigSnapshot. Every part of the message is allocated from one arena, so
 * the whole snapshot is wiped and freed in one go. */
#include "cfg_snapshot_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secbuf.h"

struct snap_block {
	struct snap_block *next;
	size_t size;
	max_align_t data[];
};

void *
snap_alloc(struct cfg_snapshot *s, size_t size)
{
	struct snap_block *b;

	b = calloc(1, sizeof(*b) + size);
	if (b == NULL) {
		s->failed = true;
		return NULL;
	}
	b->size = size;
	b->next = s->blocks;
	s->blocks = b;
	return b->data;
}

/* A string for a message field; protobuf-c wants "" rather than NULL. */
char *
snap_str(struct cfg_snapshot *s, const char *v)
{
	char *copy;

	if (v == NULL)
		return (char *)(uintptr_t)protobuf_c_empty_string;
	copy = snap_alloc(s, strlen(v) + 1);
	if (copy == NULL)
		return (char *)(uintptr_t)protobuf_c_empty_string;
	memcpy(copy, v, strlen(v) + 1);
	return copy;
}

void *
snap_new(struct cfg_snapshot *s, const ProtobufCMessageDescriptor *desc)
{
	void *m = snap_alloc(s, desc->sizeof_message);

	if (m != NULL)
		protobuf_c_message_init(desc, m);
	return m;
}

void **
snap_array(struct cfg_snapshot *s, size_t n, const ProtobufCMessageDescriptor *desc)
{
	void **a;
	size_t i;

	if (n == 0)
		return NULL;
	a = snap_alloc(s, n * sizeof(*a));
	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		a[i] = snap_new(s, desc);
		if (a[i] == NULL)
			return NULL;
	}
	return a;
}

size_t
snap_count(const struct cfg_node *parent, const char *keyword)
{
	const struct cfg_node *n;
	size_t count = 0;

	cfg_each(n, parent, keyword)
		count++;
	return count;
}

/* A repeated string field from a list or leaf-list. */
char **
snap_names(struct cfg_snapshot *s, const struct cfg_node *parent, const char *keyword,
    size_t *count)
{
	const struct cfg_node *n;
	char **a;
	size_t i = 0;

	*count = snap_count(parent, keyword);
	if (*count == 0)
		return NULL;
	a = snap_alloc(s, *count * sizeof(*a));
	if (a == NULL) {
		*count = 0;
		return NULL;
	}
	cfg_each(n, parent, keyword)
		a[i++] = snap_str(s, n->value);
	return a;
}

int
snap_enum(const struct snap_enum *table, const char *name, int fallback)
{
	if (name == NULL)
		return fallback;
	for (; table->name != NULL; table++) {
		if (strcmp(table->name, name) == 0)
			return table->value;
	}
	return fallback;
}

unsigned
snap_uint(const struct cfg_node *n, const char *keyword, unsigned def)
{
	const char *v = cfg_leaf(n, keyword);

	return v != NULL ? (unsigned)strtoul(v, NULL, 10) : def;
}

Picsec__V1__IpAddress *
snap_address(struct cfg_snapshot *s, const char *v)
{
	Picsec__V1__IpAddress *a;
	unsigned char buf[16];
	size_t len;

	if (v == NULL)
		return NULL;
	if (inet_pton(AF_INET, v, buf) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, v, buf) == 1)
		len = 16;
	else
		return NULL;
	a = (Picsec__V1__IpAddress *)snap_new(s, &picsec__v1__ip_address__descriptor);
	if (a == NULL || (a->addr.data = snap_alloc(s, len)) == NULL)
		return NULL;
	memcpy(a->addr.data, buf, len);
	a->addr.len = len;
	return a;
}

Picsec__V1__IpPrefix *
snap_prefix(struct cfg_snapshot *s, const char *v)
{
	Picsec__V1__IpPrefix *p;
	Picsec__V1__IpAddress *a;
	char addr[64];
	const char *slash;

	if (v == NULL || (slash = strchr(v, '/')) == NULL || (size_t)(slash - v) >= sizeof(addr))
		return NULL;
	memcpy(addr, v, (size_t)(slash - v));
	addr[slash - v] = '\0';
	a = snap_address(s, addr);
	p = (Picsec__V1__IpPrefix *)snap_new(s, &picsec__v1__ip_prefix__descriptor);
	if (a == NULL || p == NULL)
		return NULL;
	p->addr = a->addr;
	p->length = (uint32_t)strtoul(slash + 1, NULL, 10);
	return p;
}

Picsec__V1__Secret *
snap_key(struct cfg_snapshot *s, const struct cfg_node *key)
{
	Picsec__V1__Secret *secret;
	unsigned char bytes[256];
	int len;

	if (key == NULL)
		return NULL;
	len = cfg_key_bytes(key, bytes, sizeof(bytes));
	secret = (Picsec__V1__Secret *)snap_new(s, &picsec__v1__secret__descriptor);
	if (len < 0 || secret == NULL || (secret->material.data = snap_alloc(s, (size_t)len)) ==
	    NULL) {
		secure_wipe(bytes, sizeof(bytes));
		return NULL;
	}
	memcpy(secret->material.data, bytes, (size_t)len);
	secret->material.len = (size_t)len;
	secure_wipe(bytes, sizeof(bytes));
	return secret;
}


int
snap_df(const struct cfg_node *n)
{
	if (cfg_has(n, "clear-dont-fragment-bit"))
		return PICSEC__V1__DF_BIT__DF_BIT_CLEAR;
	if (cfg_has(n, "copy-dont-fragment-bit"))
		return PICSEC__V1__DF_BIT__DF_BIT_COPY;
	if (cfg_has(n, "set-dont-fragment-bit"))
		return PICSEC__V1__DF_BIT__DF_BIT_SET;
	return PICSEC__V1__DF_BIT__DF_BIT_UNSET;
}


/* Where an interface-style service set is applied: "ge-0/0/0.0" per unit and direction. */
static char **
snap_applied(struct cfg_snapshot *s, const struct cfg_node *root, const char *set,
    const char *dir, size_t *count)
{
	const struct cfg_node *ifd, *unit, *fam, *ref;
	char name[160], **out = NULL, **grown;
	size_t n = 0;

	cfg_each(ifd, cfg_child(root, "interfaces"), "interface-name") {
		cfg_each(unit, ifd, "unit") {
			cfg_each(fam, unit, "family") {
				cfg_each(ref, cfg_child(cfg_child(fam, "service"), dir), "service-set") {
					if (strcmp(ref->value, set) != 0)
						continue;
					grown = snap_alloc(s, (n + 1) * sizeof(*grown));
					if (grown == NULL)
						break;
					if (n > 0)
						memcpy(grown, out, n * sizeof(*grown));
					out = grown;
					snprintf(name, sizeof(name), "%s.%s", ifd->value, unit->value);
					out[n++] = snap_str(s, name);
				}
			}
		}
	}
	*count = n;
	return out;
}

/* The rules a service set puts in effect: its rules, then its rule sets' rules, in order. */
static char **
snap_set_rules(struct cfg_snapshot *s, const struct cfg_node *vpn, const struct cfg_node *set,
    size_t *count)
{
	const struct cfg_node *ref, *rs, *r;
	size_t n = snap_count(set, "ipsec-vpn-rules"), i = 0;
	char **out;

	cfg_each(ref, set, "ipsec-vpn-rule-sets")
		n += snap_count(cfg_check_lookup(vpn, "rule-set", ref->value), "rule");
	*count = 0;
	if (n == 0 || (out = snap_alloc(s, n * sizeof(*out))) == NULL)
		return NULL;
	cfg_each(ref, set, "ipsec-vpn-rules")
		out[i++] = snap_str(s, ref->value);
	cfg_each(ref, set, "ipsec-vpn-rule-sets") {
		rs = cfg_check_lookup(vpn, "rule-set", ref->value);
		cfg_each(r, rs, "rule")
			out[i++] = snap_str(s, r->value);
	}
	*count = i;
	return out;
}

static void
snap_service_set(struct cfg_snapshot *s, Picsec__V1__ServiceSet *m, const struct cfg_node *root,
    const struct cfg_node *vpn, const struct cfg_node *set)
{
	const struct cfg_node *ifs = cfg_child(set, "interface-service");
	const struct cfg_node *nh = cfg_child(set, "next-hop-service");
	const struct cfg_node *opts = cfg_child(set, "ipsec-vpn-options");
	const struct cfg_node *lg = cfg_child(opts, "local-gateway");

	m->name = snap_str(s, set->value);
	m->style = ifs != NULL ? PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_INTERFACE :
	    nh != NULL ? PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP : 0;
	m->service_interface = snap_str(s, cfg_leaf(ifs, "service-interface"));
	m->inside_service_interface = snap_str(s, cfg_leaf(nh, "inside-service-interface"));
	m->outside_service_interface = snap_str(s, cfg_leaf(nh, "outside-service-interface"));
	m->ipsec_vpn_rules = snap_names(s, set, "ipsec-vpn-rules", &m->n_ipsec_vpn_rules);
	m->ipsec_vpn_rule_sets = snap_names(s, set, "ipsec-vpn-rule-sets",
	    &m->n_ipsec_vpn_rule_sets);
	m->rules = snap_set_rules(s, vpn, set, &m->n_rules);
	if (lg != NULL && (m->local_gateway = (Picsec__V1__LocalGateway *)snap_new(s, &picsec__v1__local_gateway__descriptor)) != NULL) {
		m->local_gateway->address = snap_address(s, lg->value);
		m->local_gateway->routing_instance = snap_str(s, cfg_leaf(lg, "routing-instance"));
		m->local_gateway->gw_interface = snap_str(s, cfg_leaf(lg, "gw-interface"));
		m->local_gateway->interface = snap_str(s, cfg_leaf(lg, "interface"));
	}
	m->anti_replay_window_size = snap_uint(opts, "anti-replay-window-size", 128);
	m->no_anti_replay = cfg_has(opts, "no-anti-replay");
	m->df_bit = snap_df(opts);
	m->passive_mode_tunneling = cfg_has(opts, "passive-mode-tunneling");
	m->tunnel_mtu = snap_uint(opts, "tunnel-mtu", 0);
	m->udp_encapsulate_dest_port = cfg_has(opts, "udp-encapsulate") ?
	    snap_uint(cfg_child(opts, "udp-encapsulate"), "dest-port", 4565) : 0;
	m->no_nat_traversal = cfg_has(opts, "no-nat-traversal");
	m->nat_keepalive = snap_uint(opts, "nat-keepalive", 0);
	m->tcp_mss = snap_uint(set, "tcp-mss", 0);
	m->applied_input = snap_applied(s, root, set->value, "input", &m->n_applied_input);
	m->applied_output = snap_applied(s, root, set->value, "output", &m->n_applied_output);
}

static void
snap_interfaces(struct cfg_snapshot *s, Picsec__V1__ConfigSnapshot *m,
    const struct cfg_node *root)
{
	const struct cfg_node *ifd, *unit, *fam, *addr;
	Picsec__V1__Interface *itf;
	char name[160];
	size_t n = 0, i = 0, a;

	cfg_each(ifd, cfg_child(root, "interfaces"), "interface-name")
		n += snap_count(ifd, "unit");
	m->interfaces = (Picsec__V1__Interface **)snap_array(s, n, &picsec__v1__interface__descriptor);
	if (m->interfaces == NULL)
		return;
	cfg_each(ifd, cfg_child(root, "interfaces"), "interface-name") {
		cfg_each(unit, ifd, "unit") {
			itf = m->interfaces[i++];
			snprintf(name, sizeof(name), "%s.%s", ifd->value, unit->value);
			itf->name = snap_str(s, name);
			itf->service_domain = snap_str(s, cfg_leaf(unit, "service-domain"));
			a = 0;
			cfg_each(fam, unit, "family")
				a += snap_count(fam, "address");
			if (a > 0 && (itf->addresses = snap_alloc(s, a * sizeof(*itf->addresses))) !=
			    NULL) {
				cfg_each(fam, unit, "family") {
					cfg_each(addr, fam, "address")
						itf->addresses[itf->n_addresses++] =
						    snap_prefix(s, addr->value);
				}
			}
		}
	}
	m->n_interfaces = i;
}

static void
snap_ospf(struct cfg_snapshot *s, Picsec__V1__ConfigSnapshot *m, const struct cfg_node *root)
{
	static const char *const which[] = { "ospf", "ospf3" };
	const struct cfg_node *area, *ifl;
	Picsec__V1__OspfIpsecSa **grown;
	size_t v;

	for (v = 0; v < 2; v++) {
		cfg_each(area, cfg_child(cfg_child(root, "protocols"), which[v]), "area") {
			cfg_each(ifl, area, "interface") {
				if (!cfg_has(ifl, "ipsec-sa"))
					continue;
				grown = snap_alloc(s, (m->n_ospf + 1) * sizeof(*grown));
				if (grown == NULL)
					return;
				if (m->n_ospf > 0)
					memcpy(grown, m->ospf, m->n_ospf * sizeof(*grown));
				m->ospf = grown;
				grown[m->n_ospf] = (Picsec__V1__OspfIpsecSa *)snap_new(s, &picsec__v1__ospf_ipsec_sa__descriptor);
				if (grown[m->n_ospf] == NULL)
					return;
				grown[m->n_ospf]->ospf3 = v == 1;
				grown[m->n_ospf]->area = snap_str(s, area->value);
				grown[m->n_ospf]->interface = snap_str(s, ifl->value);
				grown[m->n_ospf]->ipsec_sa = snap_str(s, cfg_leaf(ifl, "ipsec-sa"));
				m->n_ospf++;
			}
		}
	}
}

static void
snap_security(struct cfg_snapshot *s, Picsec__V1__ConfigSnapshot *m,
    const struct cfg_node *root)
{
	const struct cfg_node *sas = cfg_child(cfg_child(root, "security"), "ipsec"), *sa;
	Picsec__V1__SecurityAssociation *out;
	const char *mode;
	size_t i = 0;

	m->n_security_associations = snap_count(sas, "security-association");
	m->security_associations = (Picsec__V1__SecurityAssociation **)snap_array(s,
	    m->n_security_associations, &picsec__v1__security_association__descriptor);
	if (m->security_associations == NULL)
		m->n_security_associations = 0;
	cfg_each(sa, sas, "security-association") {
		if (i >= m->n_security_associations)
			break;
		out = m->security_associations[i++];
		out->name = snap_str(s, sa->value);
		out->description = snap_str(s, cfg_leaf(sa, "description"));
		mode = cfg_leaf(sa, "mode");
		out->transport_mode = mode != NULL && strcmp(mode, "transport") == 0;
		out->manual = snap_manual(s, cfg_child(sa, "manual"));
		out->dynamic_ipsec_policy = snap_str(s, cfg_leaf(cfg_child(sa, "dynamic"),
		    "ipsec-policy"));
		out->replay_window_size = snap_uint(cfg_child(sa, "dynamic"), "replay-window-size",
		    0);
	}
}

struct cfg_snapshot *
cfg_snapshot_build(const struct cfg_node *root, uint64_t generation, const char *user,
    const char *comment, uint64_t committed_ns)
{
	const struct cfg_node *services = cfg_child(root, "services"), *set;
	const struct cfg_node *vpn = cfg_child(services, "ipsec-vpn");
	Picsec__V1__ConfigSnapshot *m;
	struct cfg_snapshot *s;
	size_t i = 0;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	m = s->msg = (Picsec__V1__ConfigSnapshot *)snap_new(s, &picsec__v1__config_snapshot__descriptor);
	if (m == NULL)
		goto error;
	m->generation = generation;
	m->committed_ns = committed_ns;
	m->committed_by = snap_str(s, user);
	m->comment = snap_str(s, comment);
	m->ipsec_vpn = (Picsec__V1__IpsecVpn *)snap_new(s, &picsec__v1__ipsec_vpn__descriptor);
	if (m->ipsec_vpn != NULL && vpn != NULL) {
		snap_rules(s, m->ipsec_vpn, vpn);
		snap_proposals(s, m->ipsec_vpn, vpn);
	}
	m->n_service_sets = snap_count(services, "service-set");
	m->service_sets = (Picsec__V1__ServiceSet **)snap_array(s, m->n_service_sets, &picsec__v1__service_set__descriptor);
	if (m->service_sets == NULL)
		m->n_service_sets = 0;
	cfg_each(set, services, "service-set") {
		if (i < m->n_service_sets)
			snap_service_set(s, m->service_sets[i++], root, vpn, set);
	}
	snap_interfaces(s, m, root);
	snap_ospf(s, m, root);
	snap_security(s, m, root);
	if (s->failed)
		goto error;
	return s;
error:
	cfg_snapshot_free(s);
	return NULL;
}

const Picsec__V1__ConfigSnapshot *
cfg_snapshot_msg(const struct cfg_snapshot *s)
{
	return s->msg;
}

void
cfg_snapshot_free(struct cfg_snapshot *s)
{
	struct snap_block *b;

	if (s == NULL)
		return;
	while ((b = s->blocks) != NULL) {
		s->blocks = b->next;
		secure_wipe(b->data, b->size);
		free(b);
	}
	free(s);
}
