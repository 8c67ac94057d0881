/* Proposals (ike_proposal.h). */
#include "ike_proposal.h"

#include <stdio.h>
#include <string.h>

#include "ike_dh.h"
#include "ike_kdf.h"
#include "ike_sk.h"

enum { IKE_ESP_ENCR_NULL = 11, IKE_ESN_NONE = 0 };

static void
ike_add(struct ike_proposal *p, uint8_t type, uint16_t id, uint16_t key_length)
{
	p->transforms[p->ntransforms++] = (struct ike_transform){ type, id, key_length };
}

/* ENCR for a Junos encryption algorithm; 0 when IKEv2 has none picsec takes. */
static uint16_t
ike_encr_of(Picsec__V1__EncAlgorithm enc, bool esp, uint16_t *key_bits, bool *aead)
{
	*key_bits = 0;
	*aead = false;
	switch (enc) {
	case PICSEC__V1__ENC_ALGORITHM__ENC_3DES_CBC: return IKE_ENCR_3DES;
	case PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC: *key_bits = 128; return IKE_ENCR_AES_CBC;
	case PICSEC__V1__ENC_ALGORITHM__ENC_AES192_CBC: *key_bits = 192; return IKE_ENCR_AES_CBC;
	case PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC: *key_bits = 256; return IKE_ENCR_AES_CBC;
	case PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM: *key_bits = 128; *aead = true;
		return IKE_ENCR_AES_GCM_16;
	case PICSEC__V1__ENC_ALGORITHM__ENC_AES192_GCM: *key_bits = 192; *aead = true;
		return IKE_ENCR_AES_GCM_16;
	case PICSEC__V1__ENC_ALGORITHM__ENC_AES256_GCM: *key_bits = 256; *aead = true;
		return IKE_ENCR_AES_GCM_16;
	case PICSEC__V1__ENC_ALGORITHM__ENC_NULL: return esp ? IKE_ESP_ENCR_NULL : 0;
	default: return 0; /* des-cbc: not for IKEv2 (RFC 8247 §2.1) */
	}
}

int
ike_proposal_from_ike(const Picsec__V1__IkeProposal *p, uint8_t number,
    struct ike_proposal *out, char *err, size_t errlen)
{
	static const struct { uint16_t prf, integ; } hashes[] = {
		[PICSEC__V1__IKE_HASH__IKE_HASH_SHA1] = { IKE_PRF_HMAC_SHA1,
			IKE_INTEG_HMAC_SHA1_96 },
		[PICSEC__V1__IKE_HASH__IKE_HASH_MD5] = { IKE_PRF_HMAC_MD5, IKE_INTEG_HMAC_MD5_96 },
		[PICSEC__V1__IKE_HASH__IKE_HASH_SHA256] = { IKE_PRF_HMAC_SHA2_256,
			IKE_INTEG_HMAC_SHA2_256_128 },
		[PICSEC__V1__IKE_HASH__IKE_HASH_SHA384] = { IKE_PRF_HMAC_SHA2_384,
			IKE_INTEG_HMAC_SHA2_384_192 },
	};
	uint16_t encr, bits;
	bool aead;

	memset(out, 0, sizeof(*out));
	out->number = number;
	out->protocol = IKE_PROTO_IKE;
	if ((encr = ike_encr_of(p->encryption_algorithm, false, &bits, &aead)) == 0) {
		snprintf(err, errlen, "ike proposal %s: its encryption algorithm has no IKEv2 "
		    "transform picsec offers", p->name);
		return -1;
	}
	if ((unsigned)p->authentication_algorithm >= sizeof(hashes) / sizeof(hashes[0])) {
		snprintf(err, errlen, "ike proposal %s: unknown authentication algorithm", p->name);
		return -1;
	}
	if (!ike_dh_supported((uint16_t)p->dh_group)) {
		snprintf(err, errlen, "ike proposal %s: DH group %d is not supported", p->name,
		    (int)p->dh_group);
		return -1;
	}
	ike_add(out, IKE_TF_ENCR, encr, bits);
	ike_add(out, IKE_TF_PRF, hashes[p->authentication_algorithm].prf, 0);
	if (!aead)
		ike_add(out, IKE_TF_INTEG, hashes[p->authentication_algorithm].integ, 0);
	ike_add(out, IKE_TF_DH, (uint16_t)p->dh_group, 0);
	return 0;
}

int
ike_proposal_from_ipsec(const Picsec__V1__IpsecProposal *p, uint8_t number,
    Picsec__V1__DhGroup pfs, const uint8_t spi[4], struct ike_proposal *out, char *err,
    size_t errlen)
{
	static const uint16_t integs[] = {
		[PICSEC__V1__AUTH_ALGORITHM__AUTH_NONE] = 0,
		[PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_MD5_96] = IKE_INTEG_HMAC_MD5_96,
		[PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96] = IKE_INTEG_HMAC_SHA1_96,
		[PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128] = IKE_INTEG_HMAC_SHA2_256_128,
		[PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_96] = 0, /* no IKEv2 transform */
	};
	bool ah = p->protocol == PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH, aead = false;
	uint16_t encr = 0, bits = 0, integ;

	memset(out, 0, sizeof(*out));
	out->number = number;
	out->protocol = ah ? IKE_PROTO_AH : IKE_PROTO_ESP;
	out->spi.data = spi;
	out->spi.len = 4;
	if (p->protocol == PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE) {
		snprintf(err, errlen, "ipsec proposal %s: a bundle cannot be negotiated with "
		    "IKEv2", p->name);
		return -1;
	}
	if (!ah && (encr = ike_encr_of(p->encryption_algorithm, true, &bits, &aead)) == 0) {
		snprintf(err, errlen, "ipsec proposal %s: its encryption algorithm has no IKEv2 "
		    "transform picsec offers", p->name);
		return -1;
	}
	integ = (unsigned)p->authentication_algorithm < sizeof(integs) / sizeof(integs[0]) ?
	    integs[p->authentication_algorithm] : 0;
	if (integ == 0 && (ah || (!aead && p->authentication_algorithm !=
	    PICSEC__V1__AUTH_ALGORITHM__AUTH_NONE))) {
		snprintf(err, errlen, "ipsec proposal %s: its authentication algorithm has no "
		    "IKEv2 transform", p->name);
		return -1;
	}
	if (!ah)
		ike_add(out, IKE_TF_ENCR, encr, bits);
	if (integ != 0 && !aead)
		ike_add(out, IKE_TF_INTEG, integ, 0);
	if (pfs != PICSEC__V1__DH_GROUP__DH_GROUP_NONE)
		ike_add(out, IKE_TF_DH, (uint16_t)pfs, 0);
	ike_add(out, IKE_TF_ESN, IKE_ESN_NONE, 0);
	return 0;
}

static bool
ike_offers(const struct ike_proposal *p, const struct ike_transform *t)
{
	uint8_t i;

	for (i = 0; i < p->ntransforms; i++) {
		if (p->transforms[i].type == t->type && p->transforms[i].id == t->id &&
		    p->transforms[i].key_length == t->key_length)
			return true;
	}
	return false;
}

static bool
ike_has_type(const struct ike_proposal *p, uint8_t type)
{
	uint8_t i;

	for (i = 0; i < p->ntransforms; i++) {
		if (p->transforms[i].type == type)
			return true;
	}
	return false;
}

/* Whether all of ours is offered by theirs and theirs asks for no type we lack. */
static bool
ike_fits(const struct ike_proposal *ours, const struct ike_proposal *theirs)
{
	uint8_t i;

	if (ours->protocol != theirs->protocol)
		return false;
	for (i = 0; i < ours->ntransforms; i++) {
		if (!ike_offers(theirs, &ours->transforms[i]))
			return false;
	}
	for (i = 0; i < theirs->ntransforms; i++) {
		if (!ike_has_type(ours, theirs->transforms[i].type))
			return false;
	}
	return true;
}

bool
ike_proposal_select(const struct ike_proposal *ours, size_t nours,
    const struct ike_proposal *theirs, size_t ntheirs, struct ike_proposal *chosen)
{
	size_t o, t;

	for (o = 0; o < nours; o++) {
		for (t = 0; t < ntheirs; t++) {
			if (!ike_fits(&ours[o], &theirs[t]))
				continue;
			*chosen = ours[o];
			chosen->number = theirs[t].number;
			chosen->spi = theirs[t].spi;
			return true;
		}
	}
	return false;
}

bool
ike_proposal_accept(const struct ike_proposal *ours, size_t nours,
    const struct ike_proposal *reply)
{
	size_t o;
	uint8_t i, j;

	for (o = 0; o < nours; o++) {
		bool ok = ours[o].protocol == reply->protocol &&
		    reply->ntransforms == ours[o].ntransforms;

		/* One of each type, each one we offered (§3.3.6). */
		for (i = 0; ok && i < reply->ntransforms; i++) {
			ok = ike_offers(&ours[o], &reply->transforms[i]);
			for (j = 0; ok && j < i; j++)
				ok = reply->transforms[j].type != reply->transforms[i].type;
		}
		if (ok)
			return true;
	}
	return false;
}

const struct ike_transform *
ike_proposal_get(const struct ike_proposal *p, uint8_t type)
{
	uint8_t i;

	for (i = 0; i < p->ntransforms; i++) {
		if (p->transforms[i].type == type)
			return &p->transforms[i];
	}
	return NULL;
}
