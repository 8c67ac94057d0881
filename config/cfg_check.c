/* The commit checks (junos-features.md §13 and the source text): every value against the
 * schema again, choices, what each statement needs, and every reference between them.
 * Errors stop a commit; warnings (deprecated algorithms, IKEv1) do not. */
#include "cfg_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secbuf.h"

const struct cfg_node *
cfg_check_lookup(const struct cfg_node *parent, const char *keyword, const char *name)
{
	const struct cfg_node *n;

	cfg_each(n, parent, keyword) {
		if (strcmp(n->value, name) == 0)
			return n;
	}
	return NULL;
}

struct algorithm_status {
	const char *name;
	const char *status;
};

/* RFC 8221 (ESP and AH) and RFC 8247 (IKEv2): what is no longer recommended. */
static const struct algorithm_status deprecated[] = {
	{ "des-cbc", "DES is broken: RFC 8221 says MUST NOT" },
	{ "3des-cbc", "3DES is deprecated: RFC 8221 says SHOULD NOT" },
	{ "hmac-md5-96", "HMAC-MD5 is deprecated: RFC 8221 says MUST NOT" },
	{ "md5", "MD5 is deprecated: RFC 8247 says MUST NOT" },
	{ "group1", "the 768-bit MODP group is breakable: RFC 8247 says MUST NOT" },
	{ "group2", "the 1024-bit MODP group is weak: RFC 8247 says SHOULD NOT" },
	{ "group5", "the 1536-bit MODP group is weak: RFC 8247 says SHOULD NOT" },
	{ "group24", "RFC 8247 says SHOULD NOT for the 2048-bit MODP group with 256-bit subgroup" },
	{ "hmac-sha-256-96", "not an RFC algorithm (RFC 4868 truncates HMAC-SHA-256 to 128 "
	    "bits); only for peers that need it" },
	{ "hmac-sha2-256", "taken as hmac-sha-256-128 (RFC 4868)" },
};

void
cfg_check_algorithm_status(struct check_ctx *c, const struct cfg_node *n)
{
	size_t i;

	for (i = 0; i < sizeof(deprecated) / sizeof(deprecated[0]); i++) {
		if (strcmp(n->value, deprecated[i].name) == 0) {
			cfg_diag_node(c->d, CFG_WARNING, n, "%s; accepted for compatibility",
			    deprecated[i].status);
			return;
		}
	}
}

/* Every value against its type once more (a configuration read from disk was written by an
 * older picsec, or by hand), and no two members of one choice side by side. */
static void
check_values(struct check_ctx *c, const struct cfg_node *n)
{
	const struct cfg_node *k, *j;
	char canon[CFG_VALUE_MAX], err[512];

	if (n->value != NULL && n->schema->kind != CFG_CONTAINER) {
		if (cfg_value_check(n->schema, n->value, canon, sizeof(canon), err,
		    sizeof(err)) == -1)
			cfg_diag_node(c->d, CFG_ERROR, n, "%s", err);
		else if (n->schema->flags & CFG_F_SECRET)
			secure_wipe(canon, strlen(canon));
	}
	for (k = n->first; k != NULL; k = k->next) {
		if (k->inactive)
			continue;
		/* Once per run of one statement: a list of 10000 rules is one run. */
		if (k->schema->choice != NULL && (k->prev == NULL || k->prev->schema != k->schema)) {
			for (j = k->next; j != NULL; j = j->next) {
				if (!j->inactive && j->schema != k->schema && j->schema->choice != NULL &&
				    strcmp(j->schema->choice, k->schema->choice) == 0) {
					cfg_diag_node(c->d, CFG_ERROR, j, "'%s' and '%s' cannot both be "
					    "configured here: choose one", k->schema->keyword,
					    j->schema->keyword);
					break;
				}
			}
		}
		check_values(c, k);
	}
}

static void
check_term(struct check_ctx *c, const struct cfg_node *term)
{
	const struct cfg_node *then = cfg_child(term, "then");
	const struct cfg_node *manual = cfg_child(then, "manual");
	const struct cfg_node *dynamic = cfg_child(then, "dynamic");

	if (manual == NULL && dynamic == NULL) {
		cfg_diag_node(c->d, CFG_ERROR, then != NULL ? then : term,
		    "a term needs a manual or a dynamic security association");
		return;
	}
	if (!cfg_has(then, "remote-gateway"))
		cfg_diag_node(c->d, CFG_ERROR, then, "remote-gateway is required");
	if (manual != NULL)
		cfg_check_manual(c, manual, false);
	if (dynamic != NULL)
		cfg_check_dynamic(c, dynamic);
	if (cfg_has(then, "no-anti-replay") && cfg_has(then, "anti-replay-window-size"))
		cfg_diag_node(c->d, CFG_WARNING, cfg_child(then, "anti-replay-window-size"),
		    "no-anti-replay is set: the window size has no effect");
	if (cfg_has(then, "backup-remote-gateway") && manual != NULL)
		cfg_diag_node(c->d, CFG_WARNING, cfg_child(then, "backup-remote-gateway"),
		    "a backup gateway takes over by dead peer detection, which needs IKE: it has no "
		    "effect with a manual SA");
}

static void
check_rules(struct check_ctx *c)
{
	const struct cfg_node *rule, *term, *ref;

	cfg_each(rule, c->vpn, "rule") {
		if (!cfg_has(rule, "match-direction"))
			cfg_diag_node(c->d, CFG_ERROR, rule, "match-direction is required "
			    "(input or output)");
		if (!cfg_has(rule, "term"))
			cfg_diag_node(c->d, CFG_ERROR, rule, "a rule needs at least one term");
		cfg_each(term, rule, "term")
			check_term(c, term);
	}
	cfg_each(rule, c->vpn, "rule-set") {
		cfg_each(ref, rule, "rule") {
			if (cfg_check_lookup(c->vpn, "rule", ref->value) == NULL)
				cfg_diag_node(c->d, CFG_ERROR, ref, "rule '%s' does not exist",
				    ref->value);
		}
	}
}

/* Every term of the rules a service set uses: calls fn(c, set, rule, term). */
typedef void term_fn(struct check_ctx *c, const struct cfg_node *set,
    const struct cfg_node *term);

static void
each_set_term(struct check_ctx *c, const struct cfg_node *set, term_fn *fn)
{
	const struct cfg_node *ref, *rs, *rref, *rule, *term;

	cfg_each(ref, set, "ipsec-vpn-rules") {
		rule = cfg_check_lookup(c->vpn, "rule", ref->value);
		cfg_each(term, rule, "term")
			fn(c, set, term);
	}
	cfg_each(ref, set, "ipsec-vpn-rule-sets") {
		rs = cfg_check_lookup(c->vpn, "rule-set", ref->value);
		cfg_each(rref, rs, "rule") {
			rule = cfg_check_lookup(c->vpn, "rule", rref->value);
			cfg_each(term, rule, "term")
				fn(c, set, term);
		}
	}
}

static void
check_inside_interface(struct check_ctx *c, const struct cfg_node *set,
    const struct cfg_node *term)
{
	const struct cfg_node *want = cfg_child(term, "from");
	const char *inside = cfg_leaf(cfg_child(set, "next-hop-service"),
	    "inside-service-interface");

	want = cfg_child(want, "ipsec-inside-interface");
	if (want != NULL && inside != NULL && strcmp(want->value, inside) != 0)
		cfg_diag_node(c->d, CFG_ERROR, want, "service set '%s' uses this term, but its "
		    "inside-service-interface is %s", set->value, inside);
}

static void
check_service_set(struct check_ctx *c, const struct cfg_node *set)
{
	const struct cfg_node *ref, *opts = cfg_child(set, "ipsec-vpn-options");
	const struct cfg_node *nh = cfg_child(set, "next-hop-service");
	const struct cfg_node *ifs = cfg_child(set, "interface-service");
	bool has_rules = cfg_has(set, "ipsec-vpn-rules") || cfg_has(set, "ipsec-vpn-rule-sets");

	cfg_each(ref, set, "ipsec-vpn-rules") {
		if (c->vpn == NULL || cfg_check_lookup(c->vpn, "rule", ref->value) == NULL)
			cfg_diag_node(c->d, CFG_ERROR, ref, "IPsec rule '%s' does not exist",
			    ref->value);
	}
	cfg_each(ref, set, "ipsec-vpn-rule-sets") {
		if (c->vpn == NULL || cfg_check_lookup(c->vpn, "rule-set", ref->value) == NULL)
			cfg_diag_node(c->d, CFG_ERROR, ref, "IPsec rule set '%s' does not exist",
			    ref->value);
	}
	if (nh == NULL && ifs == NULL)
		cfg_diag_node(c->d, CFG_ERROR, set, "a service set needs interface-service or "
		    "next-hop-service");
	if (ifs != NULL && !cfg_has(ifs, "service-interface"))
		cfg_diag_node(c->d, CFG_ERROR, ifs, "service-interface is required");
	if (nh != NULL && !cfg_has(nh, "inside-service-interface"))
		cfg_diag_node(c->d, CFG_ERROR, nh, "inside-service-interface is required");
	if (nh != NULL && !cfg_has(nh, "outside-service-interface"))
		cfg_diag_node(c->d, CFG_ERROR, nh, "outside-service-interface is required");
	if (has_rules && !cfg_has(opts, "local-gateway"))
		cfg_diag_node(c->d, CFG_ERROR, set, "a service set with IPsec rules needs "
		    "ipsec-vpn-options local-gateway");
	if ((ref = cfg_child(opts, "ike-access-profile")) != NULL)
		cfg_diag_node(c->d, CFG_ERROR, ref, "access profile '%s' does not exist (picsec "
		    "has no [edit access] profiles: dynamic endpoints are not supported)",
		    ref->value);
	if ((ref = cfg_child(opts, "trusted-ca")) != NULL)
		cfg_diag_node(c->d, CFG_ERROR, ref, "CA profile '%s' does not exist (picsec has "
		    "no certificate authorities)", ref->value);
	if (opts != NULL && cfg_has(opts, "no-anti-replay") &&
	    cfg_has(opts, "anti-replay-window-size"))
		cfg_diag_node(c->d, CFG_WARNING, cfg_child(opts, "anti-replay-window-size"),
		    "no-anti-replay is set: the window size has no effect");
	if (nh != NULL && c->vpn != NULL)
		each_set_term(c, set, check_inside_interface);
}

/* interfaces X unit N family F service input|output service-set S */
static void
check_interfaces(struct check_ctx *c, const struct cfg_node *services)
{
	const struct cfg_node *ifd, *unit, *fam, *dir, *ref, *set;
	static const char *const dirs[] = { "input", "output" };
	const char *first;
	size_t i;

	cfg_each(ifd, cfg_child(c->root, "interfaces"), "interface-name") {
		first = NULL;
		cfg_each(unit, ifd, "unit") {
			cfg_each(fam, unit, "family") {
				for (i = 0; i < 2; i++) {
					dir = cfg_child(cfg_child(fam, "service"), dirs[i]);
					cfg_each(ref, dir, "service-set") {
						set = cfg_check_lookup(services, "service-set",
						    ref->value);
						if (set == NULL)
							cfg_diag_node(c->d, CFG_ERROR, ref,
							    "service set '%s' does not exist",
							    ref->value);
						else if (!cfg_has(set, "interface-service"))
							cfg_diag_node(c->d, CFG_ERROR, ref,
							    "service set '%s' is next-hop style: it "
							    "is used through routes, not applied to an "
							    "interface", ref->value);
						else if (first == NULL)
							first = ref->value;
						/* One tc egress program per device: a
						 * second set's would replace the first's,
						 * whose traffic would then leave in clear. */
						else if (strcmp(first, ref->value) != 0)
							cfg_diag_node(c->d, CFG_ERROR, ref,
							    "interface %s carries service set "
							    "'%s' already: picsec applies one "
							    "service set to an interface",
							    ifd->value, first);
					}
				}
			}
		}
	}
}

static void
check_security_sas(struct check_ctx *c)
{
	const struct cfg_node *sa, *dyn, *ref;

	cfg_each(sa, cfg_child(cfg_child(c->root, "security"), "ipsec"), "security-association") {
		if (!cfg_has(sa, "manual") && !cfg_has(sa, "dynamic"))
			cfg_diag_node(c->d, CFG_ERROR, sa, "a security association needs manual or "
			    "dynamic");
		if (cfg_has(sa, "manual"))
			cfg_check_manual(c, cfg_child(sa, "manual"), true);
		if ((dyn = cfg_child(sa, "dynamic")) != NULL) {
			ref = cfg_child(dyn, "ipsec-policy");
			if (ref == NULL)
				cfg_diag_node(c->d, CFG_ERROR, dyn, "ipsec-policy is required");
			else if (c->vpn == NULL || cfg_check_lookup(cfg_child(c->vpn, "ipsec"),
			    "policy", ref->value) == NULL)
				cfg_diag_node(c->d, CFG_ERROR, ref, "IPsec policy '%s' does not exist",
				    ref->value);
		}
	}
}

/* protocols ospf|ospf3 area A interface I ipsec-sa X */
static void
check_ospf(struct check_ctx *c, const char *which)
{
	const struct cfg_node *sas = cfg_child(cfg_child(c->root, "security"), "ipsec");
	const struct cfg_node *area, *ifl, *ref, *sa;
	const char *mode;
	bool v3 = strcmp(which, "ospf3") == 0;

	cfg_each(area, cfg_child(cfg_child(c->root, "protocols"), which), "area") {
		cfg_each(ifl, area, "interface") {
			if ((ref = cfg_child(ifl, "ipsec-sa")) == NULL)
				continue;
			sa = cfg_check_lookup(sas, "security-association", ref->value);
			if (sa == NULL) {
				cfg_diag_node(c->d, CFG_ERROR, ref, "security association '%s' does "
				    "not exist under [edit security ipsec]", ref->value);
				continue;
			}
			if (!v3)
				continue;
			mode = cfg_leaf(sa, "mode");
			if (cfg_has(sa, "dynamic") || mode == NULL || strcmp(mode, "transport") != 0)
				cfg_diag_node(c->d, CFG_ERROR, ref, "OSPFv3 takes only manual, "
				    "transport-mode SAs (RFC 4552): '%s' is %s", ref->value,
				    cfg_has(sa, "dynamic") ? "dynamic" : "in tunnel mode");
		}
	}
}

void
cfg_check(const struct cfg_node *root, struct cfg_diags *d)
{
	const struct cfg_node *services = cfg_child(root, "services"), *set;
	struct check_ctx c = { .root = root, .d = d };

	c.vpn = cfg_child(services, "ipsec-vpn");
	check_values(&c, root);
	if (c.vpn != NULL) {
		check_rules(&c);
		cfg_check_proposals(&c);
	}
	cfg_each(set, services, "service-set")
		check_service_set(&c, set);
	check_interfaces(&c, services);
	check_security_sas(&c);
	check_ospf(&c, "ospf");
	check_ospf(&c, "ospf3");
	cfg_check_spis(&c);
	free(c.spis);
}
