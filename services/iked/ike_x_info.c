/* INFORMATIONAL (RFC 7296 §1.4, §3.11): Delete payloads for the IKE SA or Child SAs, and
 * the empty request that proves the peer alive. Either side may ask; the answer to a
 * Child SA's Delete deletes the other direction (§1.4.1: the responder names its own
 * inbound SPIs of the pairs deleted). */
#include "ike_sa_impl.h"

#include <string.h>

#include "ike_build.h"

int
ike_info_request(struct ike_sa *sa, bool ike, const struct ike_child *c, uint8_t *out,
    size_t cap, size_t *outlen)
{
	uint8_t inner[64], spi[4];
	struct ike_writer w;
	size_t len;

	ike_w_inner(&w, inner, sizeof(inner));
	if (ike)
		ike_w_delete(&w, IKE_PROTO_IKE, NULL, 0);
	else if (c != NULL) {
		ike_put32(spi, c->spi_in);
		ike_w_delete(&w, c->protocol, spi, 1);
	}
	len = ike_w_finish(&w);
	if ((len == 0 && (ike || c != NULL)) ||
	    ike_sa_seal(sa, IKE_INFORMATIONAL, false, sa->req_msgid, inner, len, w.first, out,
	    cap, outlen) != 0)
		return -1;
	sa->awaiting = true;
	sa->req_exchange = IKE_INFORMATIONAL;
	sa->req_deletes_ike = ike;
	return 0;
}

int
ike_info_respond(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ike_child_slot *gone[IKE_MAX_CHILDREN];
	static const uint8_t protos[2] = { IKE_PROTO_AH, IKE_PROTO_ESP };
	uint8_t inner[256], spis[2][4 * IKE_MAX_CHILDREN];
	uint16_t counts[2] = { 0, 0 };
	struct ike_writer w;
	bool delete_ike = false;
	size_t len, ngone = 0, i, k;
	uint16_t j;

	for (i = 0; i < m->ndeletes; i++) {
		const struct ike_delete *d = &m->deletes[i];
		struct ike_child_slot *s;

		if (d->protocol == IKE_PROTO_IKE) {
			delete_ike = true;
			continue;
		}
		if (d->spi_size != 4)
			continue;
		/* The peer names its inbound SPIs: our outbound ones. SPIs we do not have are
		 * gone already (a Delete crossed ours): nothing to say of them. */
		for (j = 0; j < d->count; j++) {
			s = ike_child_by_out(sa, d->protocol, ike_get32(d->spis.data + 4u * j));
			if (s == NULL || ngone >= IKE_MAX_CHILDREN)
				continue;
			for (k = 0; k < ngone && gone[k] != s; k++)
				;
			if (k == ngone)
				gone[ngone++] = s;
		}
	}
	ike_w_inner(&w, inner, sizeof(inner));
	if (!delete_ike) {
		/* The answer deletes the other direction: our inbound SPIs of those pairs. */
		for (i = 0; i < ngone; i++) {
			k = gone[i]->c.protocol == IKE_PROTO_ESP;
			ike_put32(spis[k] + 4u * counts[k]++, gone[i]->c.spi_in);
		}
		for (k = 0; k < 2; k++) {
			if (counts[k] > 0)
				ike_w_delete(&w, protos[k], spis[k], counts[k]);
		}
	}
	len = ike_w_finish(&w);
	if ((len == 0 && ngone > 0 && !delete_ike) ||
	    ike_sa_seal(sa, IKE_INFORMATIONAL, true, m->hdr.msgid, inner, len, w.first, out, cap,
	    outlen) != 0) {
		*outlen = 0;
		return -1; /* nothing done: the peer's retransmission finds it all as it was */
	}
	if (delete_ike) {
		ike_child_down_all(sa, "IKE SA deleted by the peer");
		ike_sa_fail(sa, "deleted by the peer");
	} else {
		for (i = 0; i < ngone; i++)
			ike_child_down(sa, gone[i], "deleted by the peer");
	}
	return 0;
}

int
ike_info_response(struct ike_sa *sa, const struct ike_msg *m)
{
	(void)m; /* the answer's Delete names what we deleted already */
	if (sa->req_deletes_ike)
		ike_sa_fail(sa, "deleted");
	return 0;
}

int
ike_info_refuse(struct ike_sa *sa, const struct ike_msg *m, uint16_t type, const uint8_t *data,
    size_t data_len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t inner[64];
	struct ike_writer w;
	size_t len;

	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_notify(&w, 0, type, NULL, 0, data, data_len);
	len = ike_w_finish(&w);
	if (len == 0 || ike_sa_seal(sa, m->hdr.exchange, true, m->hdr.msgid, inner, len, w.first,
	    out, cap, outlen) != 0) {
		*outlen = 0;
		return -1;
	}
	return 0;
}
