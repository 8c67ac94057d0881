/* The IKE families (iked's IKE SAs per peer) and the tunnels: each term of a service set's
 * rules is one, manual or dynamic, configured (configd) against up (sadb, iked). */
#include "metricsd_format_impl.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* IKE SAs of one service set with one peer. */
struct ike_peer {
	const char *service_set;
	char peer[FMT_ADDR_MAX];
	uint64_t up, negotiating, children;
};

static void
fmt_ike_family(struct fmt *f, const struct ike_peer *peers, size_t n, const char *name,
    const char *help, size_t offset)
{
	struct fmt_labels l;
	uint64_t v;
	size_t i;

	fmt_family(f, name, "gauge", help);
	for (i = 0; i < n; i++) {
		l = (struct fmt_labels){ .n = 0 };
		fmt_label(&l, "service_set", peers[i].service_set);
		fmt_label(&l, "peer", peers[i].peer);
		memcpy(&v, (const char *)&peers[i] + offset, sizeof(v));
		fmt_u64(f, name, &l, v);
	}
}

void
fmt_ike(struct fmt *f)
{
	const Picsec__V1__IkeList *list = f->in->ike;
	const Picsec__V1__IkeSaInfo *sa;
	struct ike_peer *peers;
	char peer[FMT_ADDR_MAX];
	size_t i, k, n = 0;

	if (list == NULL)
		return;
	if ((peers = calloc(list->n_sas + 1, sizeof(*peers))) == NULL) {
		f->out->failed = true;
		return;
	}
	for (i = 0; i < list->n_sas; i++) {
		sa = list->sas[i];
		fmt_addr(sa->remote_address, peer, sizeof(peer));
		for (k = 0; k < n; k++) {
			if (strcmp(peers[k].service_set, sa->service_set) == 0 &&
			    strcmp(peers[k].peer, peer) == 0)
				break;
		}
		if (k == n) {
			peers[n].service_set = sa->service_set;
			memcpy(peers[n].peer, peer, sizeof(peer));
			n++;
		}
		if (!sa->matured) {
			peers[k].negotiating++;
			continue;
		}
		peers[k].up++;
		peers[k].children += sa->n_children;
	}
	fmt_ike_family(f, peers, n, "picsec_ike_sas_up",
	    "Established IKE SAs with the peer.", offsetof(struct ike_peer, up));
	fmt_ike_family(f, peers, n, "picsec_ike_sas_negotiating",
	    "IKE SAs with the peer still being negotiated.",
	    offsetof(struct ike_peer, negotiating));
	fmt_ike_family(f, peers, n, "picsec_ike_child_sas",
	    "Child SAs of the established IKE SAs with the peer.",
	    offsetof(struct ike_peer, children));
	free(peers);
}

enum { KIND_MANUAL, KIND_DYNAMIC, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = { "manual", "dynamic" };

struct set_tunnels {
	uint64_t configured[KIND_COUNT];
	uint64_t up[KIND_COUNT];
};

static const Picsec__V1__Rule *
rule_by_name(const Picsec__V1__ConfigSnapshot *c, const char *name)
{
	size_t i;

	if (c->ipsec_vpn == NULL)
		return NULL;
	for (i = 0; i < c->ipsec_vpn->n_rules; i++) {
		if (strcmp(c->ipsec_vpn->rules[i]->name, name) == 0)
			return c->ipsec_vpn->rules[i];
	}
	return NULL;
}

static bool
sa_of(const Picsec__V1__Sa *sa, int origin, const char *set, const char *rule,
    const char *term)
{
	return sa != NULL && (int)sa->origin == origin && strcmp(sa->service_set, set) == 0 &&
	    strcmp(sa->rule, rule) == 0 && strcmp(sa->term, term) == 0;
}

/* A manual term is up when sadb has its SAs and every one is installed. */
static bool
manual_up(const Picsec__V1__SaList *list, const char *set, const char *rule, const char *term)
{
	size_t i, n = 0;

	for (i = 0; i < list->n_sas; i++) {
		if (!sa_of(list->sas[i]->sa, PICSEC__V1__SA_ORIGIN__SA_ORIGIN_MANUAL, set, rule,
		    term))
			continue;
		if (!list->sas[i]->installed)
			return false;
		n++;
	}
	return n > 0;
}

static bool
dynamic_installed(const Picsec__V1__SaList *list, const char *set, const char *rule,
    const char *term, int direction, uint32_t spi)
{
	const Picsec__V1__SaInfo *si;
	size_t i;

	for (i = 0; i < list->n_sas; i++) {
		si = list->sas[i];
		if (sa_of(si->sa, PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC, set, rule, term) &&
		    (int)si->sa->direction == direction && si->sa->spi == spi)
			return si->installed;
	}
	return false;
}

/* A dynamic term is up when an established IKE SA of it has a Child SA whose two SAs are
 * installed. */
static bool
dynamic_up(const Picsec__V1__SaList *sas, const Picsec__V1__IkeList *ike, const char *set,
    const char *rule, const char *term)
{
	const Picsec__V1__IkeSaInfo *sa;
	const Picsec__V1__IkeChildInfo *c;
	size_t i, k;

	for (i = 0; i < ike->n_sas; i++) {
		sa = ike->sas[i];
		if (!sa->matured || strcmp(sa->service_set, set) != 0 ||
		    strcmp(sa->rule, rule) != 0 || strcmp(sa->term, term) != 0)
			continue;
		for (k = 0; k < sa->n_children; k++) {
			c = sa->children[k];
			if (dynamic_installed(sas, set, rule, term,
			    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND, c->spi_in) &&
			    dynamic_installed(sas, set, rule, term,
			    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND, c->spi_out))
				return true;
		}
	}
	return false;
}

static void
count_set(const struct metricsd_input *in, const Picsec__V1__ServiceSet *ss,
    struct set_tunnels *t)
{
	const Picsec__V1__Rule *rule;
	const Picsec__V1__Term *term;
	size_t r, i;

	for (r = 0; r < ss->n_rules; r++) {
		if ((rule = rule_by_name(in->config, ss->rules[r])) == NULL)
			continue;
		for (i = 0; i < rule->n_terms; i++) {
			term = rule->terms[i];
			if (term->manual != NULL) {
				t->configured[KIND_MANUAL]++;
				if (in->sas != NULL &&
				    manual_up(in->sas, ss->name, rule->name, term->name))
					t->up[KIND_MANUAL]++;
			} else if (term->dynamic != NULL) {
				t->configured[KIND_DYNAMIC]++;
				if (in->sas != NULL && in->ike != NULL &&
				    dynamic_up(in->sas, in->ike, ss->name, rule->name, term->name))
					t->up[KIND_DYNAMIC]++;
			}
		}
	}
}

/* Up is written only for the kinds whose sources answered: a tunnel that cannot be seen
 * is not known to be down. */
void
fmt_tunnels(struct fmt *f)
{
	const Picsec__V1__ConfigSnapshot *c = f->in->config;
	struct set_tunnels *sets;
	struct fmt_labels l;
	size_t i, k;
	bool known[KIND_COUNT];

	if (c == NULL)
		return;
	if ((sets = calloc(c->n_service_sets + 1, sizeof(*sets))) == NULL) {
		f->out->failed = true;
		return;
	}
	for (i = 0; i < c->n_service_sets; i++)
		count_set(f->in, c->service_sets[i], &sets[i]);
	known[KIND_MANUAL] = f->in->sas != NULL;
	known[KIND_DYNAMIC] = f->in->sas != NULL && f->in->ike != NULL;

	fmt_family(f, "picsec_tunnels_configured", "gauge",
	    "Tunnels (terms of the service set's rules) in the committed configuration.");
	for (i = 0; i < c->n_service_sets; i++) {
		for (k = 0; k < KIND_COUNT; k++) {
			l = (struct fmt_labels){ .n = 0 };
			fmt_label(&l, "service_set", c->service_sets[i]->name);
			fmt_label(&l, "kind", kind_names[k]);
			fmt_u64(f, "picsec_tunnels_configured", &l, sets[i].configured[k]);
		}
	}
	if (known[KIND_MANUAL] || known[KIND_DYNAMIC]) {
		fmt_family(f, "picsec_tunnels_up", "gauge",
		    "Configured tunnels that are up: manual, its SAs installed; dynamic, an "
		    "established IKE SA with a Child SA whose SAs are installed.");
	}
	for (i = 0; i < c->n_service_sets; i++) {
		for (k = 0; k < KIND_COUNT; k++) {
			if (!known[k])
				continue;
			l = (struct fmt_labels){ .n = 0 };
			fmt_label(&l, "service_set", c->service_sets[i]->name);
			fmt_label(&l, "kind", kind_names[k]);
			fmt_u64(f, "picsec_tunnels_up", &l, sets[i].up[k]);
		}
	}
	free(sets);
}
