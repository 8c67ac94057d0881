/* Diffie-Hellman for IKEv2 (ike_dh.h). */
#include "ike_dh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

enum ike_dh_kind { DH_MODP, DH_ECP, DH_X25519 };

struct ike_dh_group {
	uint16_t id;
	enum ike_dh_kind kind;
	size_t public_len, shared_len;
	const char *name;	     /* OpenSSL's group or curve name */
	BIGNUM *(*prime)(BIGNUM *);  /* MODP groups OpenSSL has no name for */
};

static const struct ike_dh_group ike_dh_groups[] = {
	{ IKE_DH_MODP768, DH_MODP, 96, 96, NULL, BN_get_rfc2409_prime_768 },
	{ IKE_DH_MODP1024, DH_MODP, 128, 128, NULL, BN_get_rfc2409_prime_1024 },
	{ IKE_DH_MODP1536, DH_MODP, 192, 192, "modp_1536", NULL },
	{ IKE_DH_MODP2048, DH_MODP, 256, 256, "modp_2048", NULL },
	{ IKE_DH_MODP3072, DH_MODP, 384, 384, "modp_3072", NULL },
	{ IKE_DH_MODP4096, DH_MODP, 512, 512, "modp_4096", NULL },
	{ IKE_DH_MODP2048_256, DH_MODP, 256, 256, "dh_2048_256", NULL },
	{ IKE_DH_ECP256, DH_ECP, 64, 32, "P-256", NULL },
	{ IKE_DH_ECP384, DH_ECP, 96, 48, "P-384", NULL },
	{ IKE_DH_CURVE25519, DH_X25519, 32, 32, NULL, NULL },
};

struct ike_dh {
	const struct ike_dh_group *g;
	EVP_PKEY *key;		/* MODP, ECP */
	uint8_t x25519[32];	/* our private scalar */
	uint8_t pub[IKE_DH_MAX_PUBLIC];
};

static const struct ike_dh_group *
ike_dh_find(uint16_t group)
{
	size_t i;

	for (i = 0; i < sizeof(ike_dh_groups) / sizeof(ike_dh_groups[0]); i++) {
		if (ike_dh_groups[i].id == group)
			return &ike_dh_groups[i];
	}
	return NULL;
}

bool
ike_dh_supported(uint16_t group)
{
	return ike_dh_find(group) != NULL;
}

size_t
ike_dh_public_len(uint16_t group)
{
	const struct ike_dh_group *g = ike_dh_find(group);

	return g != NULL ? g->public_len : 0;
}

size_t
ike_dh_shared_len(uint16_t group)
{
	const struct ike_dh_group *g = ike_dh_find(group);

	return g != NULL ? g->shared_len : 0;
}

uint16_t
ike_dh_group(const struct ike_dh *dh)
{
	return dh->g->id;
}

const uint8_t *
ike_dh_public(const struct ike_dh *dh)
{
	return dh->pub;
}

static void
ike_dh_openssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();

	snprintf(err, errlen, "%s: %s", what, e != 0 ? ERR_reason_error_string(e) : "failed");
	ERR_clear_error();
}

/* The domain parameters (MODP: p and g, or a named group; ECP: the curve) as a key
 * template, with pub (encoded as OpenSSL wants it) when given, and with priv too (a key
 * pair: the providers take a private key only with its public one) when given. */
static EVP_PKEY *
ike_dh_template(const struct ike_dh_group *g, const uint8_t *pub, size_t pub_len,
    const BIGNUM *priv)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	BIGNUM *p = NULL, *gen = NULL, *y = NULL;
	int ok = bld != NULL;

	if (g->kind == DH_ECP) {
		ok = ok && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		    g->name, 0);
		if (pub != NULL)
			ok = ok && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
			    pub, pub_len);
	} else if (g->name != NULL) {
		ok = ok && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		    g->name, 0);
	} else {
		ok = ok && (p = g->prime(NULL)) != NULL && (gen = BN_new()) != NULL &&
		    BN_set_word(gen, 2) && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, gen);
	}
	if (g->kind == DH_MODP && pub != NULL)
		ok = ok && (y = BN_bin2bn(pub, (int)pub_len, NULL)) != NULL &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y);
	if (priv != NULL)
		ok = ok && pub != NULL &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
	ok = ok && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, g->kind == DH_ECP ? "EC" : "DH", NULL)) !=
	    NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &key, priv != NULL ? EVP_PKEY_KEYPAIR : pub != NULL ?
	    EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS, params) == 1;
	if (!ok) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	OSSL_PARAM_free(params); /* priv's copy (a secure BIGNUM's) is wiped with it */
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(p);
	BN_free(gen);
	BN_free(y);
	return key;
}

/* Our public value in IKEv2's form: MODP y left-padded; ECP x | y without the 0x04. */
static int
ike_dh_export(struct ike_dh *dh)
{
	const struct ike_dh_group *g = dh->g;
	uint8_t enc[1 + 2 * 66];
	BIGNUM *y = NULL;
	size_t len = 0;
	int rc = -1;

	if (g->kind == DH_ECP) {
		if (EVP_PKEY_get_octet_string_param(dh->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
		    enc, sizeof(enc), &len) == 1 && len == 1 + g->public_len && enc[0] == 0x04) {
			memcpy(dh->pub, enc + 1, g->public_len);
			rc = 0;
		}
		return rc;
	}
	if (EVP_PKEY_get_bn_param(dh->key, OSSL_PKEY_PARAM_PUB_KEY, &y) == 1 &&
	    BN_bn2binpad(y, dh->pub, (int)g->public_len) == (int)g->public_len)
		rc = 0;
	BN_free(y);
	return rc;
}

struct ike_dh *
ike_dh_new(uint16_t group, char *err, size_t errlen)
{
	const struct ike_dh_group *g = ike_dh_find(group);
	struct ike_dh *dh;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *params = NULL;

	if (g == NULL) {
		snprintf(err, errlen, "DH group %u is not supported", group);
		return NULL;
	}
	if (sodium_init() < 0 || (dh = calloc(1, sizeof(*dh))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dh->g = g;
	if (g->kind == DH_X25519) {
		randombytes_buf(dh->x25519, sizeof(dh->x25519));
		crypto_scalarmult_base(dh->pub, dh->x25519);
		return dh;
	}
	if ((params = ike_dh_template(g, NULL, 0, NULL)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &dh->key) != 1 ||
	    ike_dh_export(dh) != 0) {
		ike_dh_openssl_error(err, errlen, "DH key generation");
		ike_dh_free(dh);
		dh = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(params);
	return dh;
}

struct ike_dh *
ike_dh_new_x25519(const uint8_t priv[32])
{
	struct ike_dh *dh = calloc(1, sizeof(*dh));

	if (dh == NULL)
		return NULL;
	dh->g = ike_dh_find(IKE_DH_CURVE25519);
	memcpy(dh->x25519, priv, 32);
	crypto_scalarmult_base(dh->pub, dh->x25519);
	return dh;
}

/* g^x mod p for a MODP group (1 < x < p - 1), in IKEv2's form: left-padded to the prime's
 * length, into pub. p and g are the template's, whether named or given. */
static int
ike_dh_modp_public(const struct ike_dh_group *g, const BIGNUM *x, uint8_t *pub, char *err,
    size_t errlen)
{
	EVP_PKEY *params = ike_dh_template(g, NULL, 0, NULL);
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *p = NULL, *gen = NULL, *pm1 = NULL, *y = NULL;
	int rc = -1;

	if (params == NULL || ctx == NULL ||
	    EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_P, &p) != 1 ||
	    EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_G, &gen) != 1 ||
	    (pm1 = BN_dup(p)) == NULL || !BN_sub_word(pm1, 1) || (y = BN_new()) == NULL) {
		ike_dh_openssl_error(err, errlen, "DH: the group's parameters");
		goto out;
	}
	if (BN_cmp(x, BN_value_one()) <= 0 || BN_cmp(x, pm1) >= 0) {
		snprintf(err, errlen, "DH group %u: the private exponent is not between 1 and "
		    "p - 1", g->id);
		goto out;
	}
	if (BN_mod_exp_mont_consttime(y, gen, x, p, ctx, NULL) != 1 ||
	    BN_bn2binpad(y, pub, (int)g->public_len) != (int)g->public_len) {
		ike_dh_openssl_error(err, errlen, "DH: g^x mod p");
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(params);
	BN_CTX_free(ctx);
	BN_free(p);
	BN_free(gen);
	BN_free(pm1);
	BN_free(y);
	return rc;
}

/* d * G for an ECP group (0 < d < n), as OpenSSL encodes a point (0x04 | x | y), into enc of
 * 1 + public_len octets. */
static int
ike_dh_ecp_public(const struct ike_dh_group *g, const BIGNUM *d, uint8_t *enc, char *err,
    size_t errlen)
{
	EC_GROUP *curve = EC_GROUP_new_by_curve_name_ex(NULL, NULL, EC_curve_nist2nid(g->name));
	BN_CTX *ctx = BN_CTX_secure_new();
	EC_POINT *point = NULL;
	int rc = -1;

	if (curve == NULL || ctx == NULL || (point = EC_POINT_new(curve)) == NULL) {
		ike_dh_openssl_error(err, errlen, "DH: the curve");
		goto out;
	}
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(curve)) >= 0) {
		snprintf(err, errlen, "DH group %u: the private scalar is not between 0 and the "
		    "curve's order", g->id);
		goto out;
	}
	if (EC_POINT_mul(curve, point, d, NULL, NULL, ctx) != 1 ||
	    EC_POINT_point2oct(curve, point, POINT_CONVERSION_UNCOMPRESSED, enc,
	    1 + g->public_len, ctx) != 1 + g->public_len) {
		ike_dh_openssl_error(err, errlen, "DH: d * G");
		goto out;
	}
	rc = 0;
out:
	EC_POINT_free(point);
	EC_GROUP_free(curve);
	BN_CTX_free(ctx);
	return rc;
}

struct ike_dh *
ike_dh_new_private(uint16_t group, const uint8_t *priv, size_t len, char *err, size_t errlen)
{
	const struct ike_dh_group *g = ike_dh_find(group);
	uint8_t enc[1 + IKE_DH_MAX_PUBLIC];
	struct ike_dh *dh = NULL;
	BIGNUM *x = NULL;
	size_t enc_len;
	int rc = -1;

	if (g == NULL) {
		snprintf(err, errlen, "DH group %u is not supported", group);
		return NULL;
	}
	/* MODP: up to the prime's length; ECP: up to a coordinate's; X25519: 32 octets. */
	if (g->kind == DH_X25519 ? len != 32 : len == 0 || len > (g->kind == DH_MODP ?
	    g->public_len : g->shared_len)) {
		snprintf(err, errlen, "DH group %u: a private value of %zu octets", group, len);
		return NULL;
	}
	if (g->kind == DH_X25519) {
		if (sodium_init() < 0 || (dh = ike_dh_new_x25519(priv)) == NULL)
			snprintf(err, errlen, "out of memory");
		return dh;
	}
	if ((dh = calloc(1, sizeof(*dh))) == NULL || (x = BN_secure_new()) == NULL ||
	    BN_bin2bn(priv, (int)len, x) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	dh->g = g;
	if (g->kind == DH_MODP) {
		enc_len = g->public_len;
		if (ike_dh_modp_public(g, x, enc, err, errlen) != 0)
			goto out;
	} else {
		enc_len = 1 + g->public_len;
		if (ike_dh_ecp_public(g, x, enc, err, errlen) != 0)
			goto out;
	}
	/* Our public value as ike_dh_new's: exported from the key pair OpenSSL holds. */
	if ((dh->key = ike_dh_template(g, enc, enc_len, x)) == NULL || ike_dh_export(dh) != 0) {
		ike_dh_openssl_error(err, errlen, "DH: the key pair");
		goto out;
	}
	rc = 0;
out:
	BN_clear_free(x);
	if (rc != 0) {
		ike_dh_free(dh);
		dh = NULL;
	}
	return dh;
}

void
ike_dh_free(struct ike_dh *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->key);
	sodium_memzero(dh, sizeof(*dh));
	free(dh);
}

int
ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *out,
    char *err, size_t errlen)
{
	const struct ike_dh_group *g = dh->g;
	uint8_t enc[1 + 2 * 66];
	EVP_PKEY *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = g->shared_len;
	int rc = -1;

	if (peer_len != g->public_len) {
		snprintf(err, errlen, "DH group %u: a public value of %zu octets, not %zu", g->id,
		    peer_len, g->public_len);
		return -1;
	}
	if (g->kind == DH_X25519) {
		/* libsodium refuses the small-order points (an all-zero result). */
		if (crypto_scalarmult(out, dh->x25519, peer) != 0) {
			snprintf(err, errlen, "Curve25519: the peer's value is of small order");
			return -1;
		}
		return 0;
	}
	if (g->kind == DH_ECP) {
		enc[0] = 0x04; /* uncompressed: IKEv2 sends x | y (RFC 5903 §7) */
		memcpy(enc + 1, peer, peer_len);
		theirs = ike_dh_template(g, enc, peer_len + 1, NULL);
	} else {
		theirs = ike_dh_template(g, peer, peer_len, NULL);
	}
	/* validate = 1: on the curve, or 1 < y < p - 1 (RFC 7296 §5 of the MODP checks). */
	if (theirs == NULL || (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->key, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    (g->kind == DH_MODP && EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1) ||
	    EVP_PKEY_derive_set_peer_ex(ctx, theirs, 1) != 1 ||
	    EVP_PKEY_derive(ctx, out, &len) != 1 || len != g->shared_len) {
		ike_dh_openssl_error(err, errlen, "DH: the peer's public value");
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(theirs);
	return rc;
}
