/* Dynamic SAs: IKE and IPsec proposals and policies, and the references between them. */
#include "cfg_check.h"

#include <string.h>

static bool
is_gcm(const char *alg)
{
	return alg != NULL && strstr(alg, "-gcm") != NULL;
}

static void
check_ike_proposal(struct check_ctx *c, const struct cfg_node *p)
{
	const struct cfg_node *n;
	const char *method = cfg_leaf(p, "authentication-method");

	if (method != NULL && strcmp(method, "pre-shared-keys") != 0)
		cfg_diag_node(c->d, CFG_ERROR, cfg_child(p, "authentication-method"),
		    "picsec authenticates IKE with pre-shared-keys only (no certificates yet)");
	if (is_gcm(cfg_leaf(p, "encryption-algorithm")) && cfg_has(p, "authentication-algorithm"))
		cfg_diag_node(c->d, CFG_WARNING, cfg_child(p, "authentication-algorithm"),
		    "with the AEAD cipher %s this algorithm is only the PRF: IKE SA integrity "
		    "comes from the cipher (RFC 5282)", cfg_leaf(p, "encryption-algorithm"));
	if ((n = cfg_child(p, "dh-group")) != NULL)
		cfg_check_algorithm_status(c, n);
	if ((n = cfg_child(p, "authentication-algorithm")) != NULL)
		cfg_check_algorithm_status(c, n);
	if ((n = cfg_child(p, "encryption-algorithm")) != NULL)
		cfg_check_algorithm_status(c, n);
}

/* The proposals a policy lists exist in the list keyword of section. */
static void
check_proposal_refs(struct check_ctx *c, const struct cfg_node *policy,
    const struct cfg_node *section, const char *what)
{
	const struct cfg_node *ref;

	cfg_each(ref, policy, "proposals") {
		if (cfg_check_lookup(section, "proposal", ref->value) == NULL)
			cfg_diag_node(c->d, CFG_ERROR, ref, "%s proposal '%s' does not exist", what,
			    ref->value);
	}
}

static bool
ike_policy_uses_psk(struct check_ctx *c, const struct cfg_node *policy)
{
	const struct cfg_node *ike = cfg_child(c->vpn, "ike"), *ref, *prop;
	const char *method;

	/* Pre-shared keys are the default method, and the only one picsec has. */
	if (!cfg_has(policy, "proposals"))
		return true;
	cfg_each(ref, policy, "proposals") {
		prop = cfg_check_lookup(ike, "proposal", ref->value);
		method = prop != NULL ? cfg_leaf(prop, "authentication-method") : NULL;
		if (method == NULL || strcmp(method, "pre-shared-keys") == 0)
			return true;
	}
	return false;
}

static void
check_ike_policy(struct check_ctx *c, const struct cfg_node *policy)
{
	const struct cfg_node *ike = cfg_child(c->vpn, "ike"), *psk;
	const char *version = cfg_leaf(policy, "version");

	check_proposal_refs(c, policy, ike, "IKE");
	psk = cfg_child(policy, "pre-shared-key");
	if (psk != NULL && psk->first != NULL &&
	    strcmp(psk->first->schema->keyword, "hexadecimal") == 0)
		cfg_check_hex(c, psk->first);
	if (ike_policy_uses_psk(c, policy) && psk == NULL)
		cfg_diag_node(c->d, CFG_ERROR, policy, "pre-shared-key is required: the policy's "
		    "proposals authenticate with pre-shared-keys");
	if (version == NULL || strcmp(version, "2") != 0)
		cfg_diag_node(c->d, CFG_WARNING, policy, "version %s: picsec-iked speaks IKEv2 "
		    "only, so tunnels of this policy need 'version 2' to come up",
		    version != NULL ? version : "1 (the default)");
	if (version != NULL && strcmp(version, "2") == 0 && cfg_has(policy, "mode"))
		cfg_diag_node(c->d, CFG_WARNING, cfg_child(policy, "mode"), "mode applies to "
		    "IKEv1 only and is ignored with version 2");
}

static void
check_ipsec_proposal(struct check_ctx *c, const struct cfg_node *p)
{
	const char *proto = cfg_leaf(p, "protocol");
	const char *enc = cfg_leaf(p, "encryption-algorithm");
	const struct cfg_node *n;

	if (proto == NULL)
		proto = "esp";
	if (strcmp(proto, "ah") == 0 && enc != NULL)
		cfg_diag_node(c->d, CFG_ERROR, cfg_child(p, "encryption-algorithm"),
		    "encryption cannot be configured with protocol ah");
	if (strcmp(proto, "ah") == 0 && !cfg_has(p, "authentication-algorithm"))
		cfg_diag_node(c->d, CFG_ERROR, p, "protocol ah needs an authentication-algorithm");
	if (is_gcm(enc) && strcmp(proto, "bundle") == 0)
		cfg_diag_node(c->d, CFG_ERROR, cfg_child(p, "encryption-algorithm"),
		    "%s cannot be bundled with AH: use protocol esp", enc);
	if (is_gcm(enc) && strcmp(proto, "esp") == 0 && cfg_has(p, "authentication-algorithm"))
		cfg_diag_node(c->d, CFG_ERROR, cfg_child(p, "authentication-algorithm"),
		    "%s is an AEAD cipher (RFC 4106): it takes no authentication-algorithm", enc);
	if ((n = cfg_child(p, "authentication-algorithm")) != NULL)
		cfg_check_algorithm_status(c, n);
	if ((n = cfg_child(p, "encryption-algorithm")) != NULL)
		cfg_check_algorithm_status(c, n);
}

static void
check_ipsec_policy(struct check_ctx *c, const struct cfg_node *policy)
{
	const struct cfg_node *n;

	check_proposal_refs(c, policy, cfg_child(c->vpn, "ipsec"), "IPsec");
	if (!cfg_has(policy, "proposals") && !cfg_has(policy, "proposal-set"))
		cfg_diag_node(c->d, CFG_ERROR, policy, "proposals (or a proposal-set) are required");
	if ((n = cfg_child(cfg_child(policy, "perfect-forward-secrecy"), "keys")) != NULL)
		cfg_check_algorithm_status(c, n);
}

void
cfg_check_proposals(struct check_ctx *c)
{
	const struct cfg_node *ike = cfg_child(c->vpn, "ike");
	const struct cfg_node *ipsec = cfg_child(c->vpn, "ipsec");
	const struct cfg_node *n;

	cfg_each(n, ike, "proposal")
		check_ike_proposal(c, n);
	cfg_each(n, ike, "policy")
		check_ike_policy(c, n);
	cfg_each(n, ipsec, "proposal")
		check_ipsec_proposal(c, n);
	cfg_each(n, ipsec, "policy")
		check_ipsec_policy(c, n);
}

void
cfg_check_dynamic(struct check_ctx *c, const struct cfg_node *dynamic)
{
	const struct cfg_node *ike_ref = cfg_child(dynamic, "ike-policy");
	const struct cfg_node *ipsec_ref = cfg_child(dynamic, "ipsec-policy");

	if (ipsec_ref == NULL)
		cfg_diag_node(c->d, CFG_ERROR, dynamic, "ipsec-policy is required");
	else if (cfg_check_lookup(cfg_child(c->vpn, "ipsec"), "policy", ipsec_ref->value) == NULL)
		cfg_diag_node(c->d, CFG_ERROR, ipsec_ref, "IPsec policy '%s' does not exist",
		    ipsec_ref->value);
	if (ike_ref == NULL)
		cfg_diag_node(c->d, CFG_ERROR, dynamic, "ike-policy is required: it holds the "
		    "pre-shared key, and pre-shared keys are how picsec authenticates IKE");
	else if (cfg_check_lookup(cfg_child(c->vpn, "ike"), "policy", ike_ref->value) == NULL)
		cfg_diag_node(c->d, CFG_ERROR, ike_ref, "IKE policy '%s' does not exist",
		    ike_ref->value);
}
