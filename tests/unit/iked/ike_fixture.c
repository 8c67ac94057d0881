/* The IKE engine tests' shared set-up (test_ike_sa, test_ike_rekey, test_ike_info): two
 * sites' peer configurations, a conversation run to its end, mirrored Child SA keys. */
#include "ike_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

#include "ike_proposal.h"

void
ike_fx_ts(struct ike_ts_set *set, uint8_t third)
{
	memset(set, 0, sizeof(*set));
	set->count = 1;
	set->ts[0] = (struct ike_ts){ .type = 7, .end_port = 65535, .addr_len = 4,
		.start = { 198, 18, third, 0 }, .end = { 198, 18, third, 255 } };
}

void
ike_fx_add_ike(struct ike_peer_cfg *c, Picsec__V1__EncAlgorithm enc, Picsec__V1__IkeHash hash,
    Picsec__V1__DhGroup dh)
{
	Picsec__V1__IkeProposal p = PICSEC__V1__IKE_PROPOSAL__INIT;
	char err[128];

	p.name = (char *)(uintptr_t)"p";
	p.encryption_algorithm = enc;
	p.authentication_algorithm = hash;
	p.dh_group = dh;
	cr_assert_eq(ike_proposal_from_ike(&p, (uint8_t)(c->nike + 1), &c->ike[c->nike], err,
	    sizeof(err)), 0, "%s", err);
	c->nike++;
}

void
ike_fx_add_child(struct ike_peer_cfg *c, Picsec__V1__EncAlgorithm enc, Picsec__V1__AuthAlgorithm auth)
{
	Picsec__V1__IpsecProposal p = PICSEC__V1__IPSEC_PROPOSAL__INIT;
	static const uint8_t zero[4];
	char err[128];

	p.name = (char *)(uintptr_t)"c";
	p.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	p.encryption_algorithm = enc;
	p.authentication_algorithm = auth;
	cr_assert_eq(ike_proposal_from_ipsec(&p, (uint8_t)(c->nchild + 1),
	    PICSEC__V1__DH_GROUP__DH_GROUP_NONE, zero, &c->child[c->nchild], err, sizeof(err)),
	    0, "%s", err);
	c->nchild++;
}

/* Site A (198.18.1.0/24) and site B (198.18.2.0/24), one PSK, aes128-sha256-x25519 and
 * ESP aes128-sha1. */
void
ike_fx_configs(struct ike_peer_cfg *a, struct ike_peer_cfg *b)
{
	static const uint8_t psk[] = "same secret on both sides";

	memset(a, 0, sizeof(*a));
	ike_fx_add_ike(a, PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC,
	    PICSEC__V1__IKE_HASH__IKE_HASH_SHA256, PICSEC__V1__DH_GROUP__DH_GROUP_31);
	ike_fx_add_child(a, PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC,
	    PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96);
	*b = *a;
	a->psk = b->psk = psk;
	a->psk_len = b->psk_len = sizeof(psk) - 1;
	a->local_id_type = b->local_id_type = IKE_ID_IPV4;
	memcpy(a->local_id, "\xc0\x00\x02\x01", 4);
	memcpy(b->local_id, "\xc0\x00\x02\x02", 4);
	a->local_id_len = b->local_id_len = 4;
	a->remote_id_type = b->remote_id_type = IKE_ID_IPV4;
	memcpy(a->remote_id, b->local_id, 4);
	memcpy(b->remote_id, a->local_id, 4);
	a->remote_id_len = b->remote_id_len = 4;
	ike_fx_ts(&a->local_ts, 1);
	ike_fx_ts(&a->remote_ts, 2);
	ike_fx_ts(&b->local_ts, 2);
	ike_fx_ts(&b->remote_ts, 1);
}

/* Runs the exchange until neither side has anything to send; returns messages sent. */
int
ike_fx_converse(struct ike_sa *a, struct ike_sa *b)
{
	static uint8_t m1[IKE_FX_BUF], m2[IKE_FX_BUF];
	size_t len = 0, rlen = 0;
	int count = 0;

	cr_assert_eq(ike_sa_start(a, m1, IKE_FX_BUF, &len), 0, "%s", ike_sa_error(a));
	while (len > 0 && count < 20) {
		count++;
		cr_assert_eq(ike_sa_input(b, m1, len, m2, IKE_FX_BUF, &rlen), 0, "the responder took "
		    "message %d", count);
		if (rlen == 0)
			break;
		count++;
		cr_assert_eq(ike_sa_input(a, m2, rlen, m1, IKE_FX_BUF, &len), 0, "the initiator took "
		    "message %d", count);
	}
	return count;
}

void
ike_fx_assert_mirrored(const struct ike_child *x, const struct ike_child *y)
{
	cr_assert_eq(x->spi_out, y->spi_in);
	cr_assert_eq(x->spi_in, y->spi_out);
	cr_assert_eq(x->encr_len, y->encr_len);
	cr_assert_eq(memcmp(x->encr_out, y->encr_in, x->encr_len), 0, "encryption keys mirror");
	cr_assert_eq(memcmp(x->integ_out, y->integ_in, x->integ_len), 0, "integrity keys mirror");
	cr_assert_eq(memcmp(y->encr_out, x->encr_in, x->encr_len), 0);
	cr_assert_neq(memcmp(x->encr_out, x->encr_in, x->encr_len), 0, "each way its own key");
}
