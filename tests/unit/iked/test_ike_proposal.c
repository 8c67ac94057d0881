/* Proposals: Junos ike and ipsec proposals become the IKEv2 transforms they mean (AES key
 * lengths, no integrity with GCM, PFS as a DH transform, ESN off, AH with integrity only);
 * what IKEv2 cannot carry is refused with the proposal's name; a responder takes its own
 * first proposal that the peer offers in full, under the peer's number and SPI; an
 * initiator accepts only a reply it offered, one transform per type. */
#include <criterion/criterion.h>
#include <string.h>

#include "ike_proposal.h"

static Picsec__V1__IkeProposal
ike(const char *name, Picsec__V1__EncAlgorithm enc, Picsec__V1__IkeHash hash,
    Picsec__V1__DhGroup dh)
{
	Picsec__V1__IkeProposal p = PICSEC__V1__IKE_PROPOSAL__INIT;

	p.name = (char *)(uintptr_t)name;
	p.encryption_algorithm = enc;
	p.authentication_algorithm = hash;
	p.dh_group = dh;
	return p;
}

static void
assert_transform(const struct ike_proposal *p, uint8_t type, uint16_t id, uint16_t bits)
{
	const struct ike_transform *t = ike_proposal_get(p, type);

	cr_assert_not_null(t, "transform type %u present", type);
	cr_assert_eq(t->id, id, "type %u: id %u, want %u", type, t->id, id);
	cr_assert_eq(t->key_length, bits);
}

Test(ike_proposal, junos_ike_proposals_become_transforms)
{
	Picsec__V1__IkeProposal p = ike("aes-sha256", PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC,
	    PICSEC__V1__IKE_HASH__IKE_HASH_SHA256, PICSEC__V1__DH_GROUP__DH_GROUP_14);
	struct ike_proposal out;
	char err[256];

	cr_assert_eq(ike_proposal_from_ike(&p, 1, &out, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(out.protocol, IKE_PROTO_IKE);
	cr_assert_eq(out.ntransforms, 4);
	assert_transform(&out, IKE_TF_ENCR, 12, 256);
	assert_transform(&out, IKE_TF_PRF, 5, 0);
	assert_transform(&out, IKE_TF_INTEG, 12, 0);
	assert_transform(&out, IKE_TF_DH, 14, 0);

	p = ike("gcm", PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM,
	    PICSEC__V1__IKE_HASH__IKE_HASH_SHA384, PICSEC__V1__DH_GROUP__DH_GROUP_31);
	cr_assert_eq(ike_proposal_from_ike(&p, 2, &out, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(out.ntransforms, 3, "AES-GCM: no integrity transform");
	assert_transform(&out, IKE_TF_ENCR, 20, 128);
	assert_transform(&out, IKE_TF_PRF, 6, 0);
	cr_assert_null(ike_proposal_get(&out, IKE_TF_INTEG));

	p = ike("old", PICSEC__V1__ENC_ALGORITHM__ENC_DES_CBC,
	    PICSEC__V1__IKE_HASH__IKE_HASH_MD5, PICSEC__V1__DH_GROUP__DH_GROUP_2);
	cr_assert_eq(ike_proposal_from_ike(&p, 3, &out, err, sizeof(err)), -1);
	cr_assert(strstr(err, "ike proposal old") != NULL, "%s", err);
}

Test(ike_proposal, junos_ipsec_proposals_become_transforms)
{
	Picsec__V1__IpsecProposal p = PICSEC__V1__IPSEC_PROPOSAL__INIT;
	static const uint8_t spi[4] = { 0xca, 0xfe, 0, 1 };
	struct ike_proposal out;
	char err[256];

	p.name = (char *)(uintptr_t)"esp-aes";
	p.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	p.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	p.authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	cr_assert_eq(ike_proposal_from_ipsec(&p, 1, PICSEC__V1__DH_GROUP__DH_GROUP_19, spi, &out,
	    err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(out.protocol, IKE_PROTO_ESP);
	cr_assert_eq(out.spi.len, 4);
	cr_assert_eq(memcmp(out.spi.data, spi, 4), 0);
	assert_transform(&out, IKE_TF_ENCR, 12, 128);
	assert_transform(&out, IKE_TF_INTEG, 2, 0);
	assert_transform(&out, IKE_TF_DH, 19, 0);
	assert_transform(&out, IKE_TF_ESN, 0, 0);

	p.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH;
	p.authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128;
	cr_assert_eq(ike_proposal_from_ipsec(&p, 1, PICSEC__V1__DH_GROUP__DH_GROUP_NONE, spi,
	    &out, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(out.protocol, IKE_PROTO_AH);
	cr_assert_null(ike_proposal_get(&out, IKE_TF_ENCR), "AH: integrity only");
	cr_assert_null(ike_proposal_get(&out, IKE_TF_DH), "no PFS");
	assert_transform(&out, IKE_TF_INTEG, 12, 0);

	p.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE;
	cr_assert_eq(ike_proposal_from_ipsec(&p, 1, PICSEC__V1__DH_GROUP__DH_GROUP_NONE, spi,
	    &out, err, sizeof(err)), -1);
	cr_assert(strstr(err, "bundle") != NULL, "%s", err);
}

/* Ours: aes128-sha256-x25519, then aes256-sha1-modp2048. */
static void
our_proposals(struct ike_proposal ours[2])
{
	Picsec__V1__IkeProposal a = ike("a", PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC,
	    PICSEC__V1__IKE_HASH__IKE_HASH_SHA256, PICSEC__V1__DH_GROUP__DH_GROUP_31);
	Picsec__V1__IkeProposal b = ike("b", PICSEC__V1__ENC_ALGORITHM__ENC_AES256_CBC,
	    PICSEC__V1__IKE_HASH__IKE_HASH_SHA1, PICSEC__V1__DH_GROUP__DH_GROUP_14);
	char err[128];

	cr_assert_eq(ike_proposal_from_ike(&a, 1, &ours[0], err, sizeof(err)), 0);
	cr_assert_eq(ike_proposal_from_ike(&b, 2, &ours[1], err, sizeof(err)), 0);
}

Test(ike_proposal, the_responder_takes_its_first_that_the_peer_offers)
{
	struct ike_proposal ours[2], theirs[2], chosen;

	our_proposals(ours);
	/* The peer offers our second as its 7th, and a wider 9th holding our first too. */
	theirs[0] = ours[1];
	theirs[0].number = 7;
	theirs[1] = ours[0];
	theirs[1].number = 9;
	theirs[1].transforms[theirs[1].ntransforms++] =
	    (struct ike_transform){ IKE_TF_DH, 19, 0 };
	theirs[1].transforms[theirs[1].ntransforms++] =
	    (struct ike_transform){ IKE_TF_ENCR, 12, 256 };
	cr_assert(ike_proposal_select(ours, 2, theirs, 2, &chosen));
	cr_assert_eq(chosen.number, 9, "our first choice, under the peer's number");
	cr_assert_eq(chosen.ntransforms, 4, "one transform of each type");
	assert_transform(&chosen, IKE_TF_DH, 31, 0);
	assert_transform(&chosen, IKE_TF_ENCR, 12, 128);
	cr_assert(ike_proposal_accept(ours, 2, &chosen), "and the initiator takes it");
}

Test(ike_proposal, mismatches_are_no_choice)
{
	struct ike_proposal ours[2], theirs[1], chosen;

	our_proposals(ours);
	theirs[0] = ours[0];
	theirs[0].transforms[0].key_length = 192; /* aes192: we offer 128 and 256 only */
	cr_assert(!ike_proposal_select(ours, 2, theirs, 1, &chosen));
	theirs[0] = ours[1];
	theirs[0].transforms[theirs[0].ntransforms++] =
	    (struct ike_transform){ IKE_TF_ESN, 0, 0 }; /* a type we do not have */
	cr_assert(!ike_proposal_select(ours, 2, theirs, 1, &chosen));
	theirs[0] = ours[1];
	theirs[0].protocol = IKE_PROTO_ESP;
	cr_assert(!ike_proposal_select(ours, 2, theirs, 1, &chosen), "another protocol");

	/* A reply with two DH groups, or with one we never offered, is refused. */
	chosen = ours[0];
	chosen.transforms[chosen.ntransforms++] = (struct ike_transform){ IKE_TF_DH, 14, 0 };
	cr_assert(!ike_proposal_accept(ours, 2, &chosen));
	chosen = ours[0];
	chosen.transforms[3].id = 19;
	cr_assert(!ike_proposal_accept(ours, 2, &chosen));
}
