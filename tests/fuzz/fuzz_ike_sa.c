/* libFuzzer target for an IKE SA's input: a responder that has seen nothing, or one that
 * has answered a real IKE_SA_INIT and waits for IKE_AUTH (the first input byte chooses),
 * is fed the rest. Whatever arrives is dropped or answered; the SA never breaks: a dropped
 * message leaves it in its state, and the real IKE_AUTH still completes afterwards. */
#include <stdint.h>
#include <string.h>

#include "ike_proposal.h"
#include "ike_sa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { BUF = 8192 };

static struct ike_peer_cfg ca, cb;

static void
setup(void)
{
	static const uint8_t psk[] = "fuzz";
	Picsec__V1__IkeProposal ip = PICSEC__V1__IKE_PROPOSAL__INIT;
	Picsec__V1__IpsecProposal cp = PICSEC__V1__IPSEC_PROPOSAL__INIT;
	static const uint8_t zero[4];
	char err[128];

	ip.name = cp.name = (char *)(uintptr_t)"f";
	ip.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	ip.authentication_algorithm = PICSEC__V1__IKE_HASH__IKE_HASH_SHA256;
	ip.dh_group = PICSEC__V1__DH_GROUP__DH_GROUP_31;
	cp.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	cp.encryption_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	cp.authentication_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA1_96;
	if (ike_proposal_from_ike(&ip, 1, &ca.ike[0], err, sizeof(err)) != 0 ||
	    ike_proposal_from_ipsec(&cp, 1, PICSEC__V1__DH_GROUP__DH_GROUP_NONE, zero,
	    &ca.child[0], err, sizeof(err)) != 0)
		__builtin_trap();
	ca.nike = ca.nchild = 1;
	ca.psk = psk;
	ca.psk_len = 4;
	ca.local_ts.count = ca.remote_ts.count = 1;
	ca.local_ts.ts[0] = (struct ike_ts){ .type = 7, .end_port = 65535, .addr_len = 4,
		.start = { 198, 18, 1, 0 }, .end = { 198, 18, 1, 255 } };
	ca.remote_ts.ts[0] = ca.local_ts.ts[0];
	ca.remote_ts.ts[0].start[2] = ca.remote_ts.ts[0].end[2] = 2;
	cb = ca;
	cb.local_ts = ca.remote_ts;
	cb.remote_ts = ca.local_ts;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t m1[BUF], m2[BUF], m3[BUF], out[BUF];
	static int ready;
	size_t l1, l2, l3, lo;
	struct ike_sa *a, *b;
	enum ike_sa_state before;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1)
		return 0;
	a = ike_sa_new(&ca, true, 0x1001);
	b = ike_sa_new(&cb, false, 0x1002);
	if (a == NULL || b == NULL)
		__builtin_trap();
	if (data[0] & 1) {
		if (ike_sa_start(a, m1, BUF, &l1) != 0 ||
		    ike_sa_input(b, m1, l1, m2, BUF, &l2) != 0 ||
		    ike_sa_input(a, m2, l2, m3, BUF, &l3) != 0)
			__builtin_trap();
	}
	before = ike_sa_get_state(b);
	if (ike_sa_input(b, data + 1, size - 1, out, BUF, &lo) == -1 &&
	    ike_sa_get_state(b) != before)
		__builtin_trap(); /* a dropped message changed the SA */
	if ((data[0] & 1) && ike_sa_get_state(b) == IKE_SA_INIT_DONE &&
	    (ike_sa_input(b, m3, l3, out, BUF, &lo) != 0 ||
	    ike_sa_get_state(b) != IKE_SA_ESTABLISHED))
		__builtin_trap(); /* the real IKE_AUTH must still work */
	ike_sa_free(a);
	ike_sa_free(b);
	return 0;
}
