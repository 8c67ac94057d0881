/* INFORMATIONAL (RFC 7296 §1.4, §3.11): Delete payloads for the IKE SA or Child SAs, and
 * the empty request that proves the peer alive. Either side may ask; the answer to a
 * Child SA's Delete deletes the other direction (§1.4.1: the responder names its own
 * inbound SPIs of the pairs deleted). */
#include "ike_sa_impl.h"

#include <string.h>

#include "ike_build.h"

static void
ike_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
ike_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
ike_info_request(struct ike_sa *sa, bool ike, const uint32_t *spi_in, uint8_t *out,
    size_t cap, size_t *outlen)
{
	uint8_t inner[64], spi[4];
	struct ike_writer w;
	size_t len;

	ike_w_inner(&w, inner, sizeof(inner));
	if (ike)
		ike_w_delete(&w, IKE_PROTO_IKE, NULL, 0);
	else if (spi_in != NULL) {
		ike_put32(spi, *spi_in);
		ike_w_delete(&w, sa->child.protocol, spi, 1);
	}
	len = ike_w_finish(&w);
	if ((len == 0 && (ike || spi_in != NULL)) ||
	    ike_sa_seal(sa, IKE_INFORMATIONAL, false, sa->req_msgid, inner, len, w.first, out,
	    cap, outlen) != 0)
		return -1;
	sa->awaiting = true;
	sa->req_exchange = IKE_INFORMATIONAL;
	sa->req_deletes_ike = ike;
	return 0;
}

/* Whether a Delete names our Child SA (by the peer's inbound SPI: our outbound one). */
static bool
ike_info_names_child(const struct ike_sa *sa, const struct ike_delete *d)
{
	uint16_t i;

	if (!sa->have_child || d->protocol != sa->child.protocol || d->spi_size != 4)
		return false;
	for (i = 0; i < d->count; i++) {
		if (ike_get32(d->spis.data + 4u * i) == sa->child.spi_out)
			return true;
	}
	return false;
}

int
ike_info_respond(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t inner[64], spi[4];
	struct ike_writer w;
	bool delete_ike = false, delete_child = false;
	size_t len;
	uint8_t i;

	for (i = 0; i < m->ndeletes; i++) {
		if (m->deletes[i].protocol == IKE_PROTO_IKE)
			delete_ike = true;
		else if (ike_info_names_child(sa, &m->deletes[i]))
			delete_child = true;
		/* SPIs we do not have: already gone (a Delete crossed ours); nothing to say. */
	}
	ike_w_inner(&w, inner, sizeof(inner));
	if (delete_child && !delete_ike) {
		ike_put32(spi, sa->child.spi_in);
		ike_w_delete(&w, sa->child.protocol, spi, 1);
	}
	len = ike_w_finish(&w);
	if ((len == 0 && delete_child && !delete_ike) ||
	    ike_sa_seal(sa, IKE_INFORMATIONAL, true, m->hdr.msgid, inner, len, w.first, out, cap,
	    outlen) != 0)
		*outlen = 0; /* the peer retransmits; the deletion stands either way */
	if (delete_ike) {
		ike_sa_child_down(sa, "IKE SA deleted by the peer");
		ike_sa_fail(sa, "deleted by the peer");
	} else if (delete_child) {
		ike_sa_child_down(sa, "deleted by the peer");
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
ike_info_refuse(struct ike_sa *sa, const struct ike_msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t inner[32];
	struct ike_writer w;
	size_t len;

	ike_w_inner(&w, inner, sizeof(inner));
	ike_w_notify(&w, 0, IKE_N_NO_ADDITIONAL_SAS, NULL, 0, NULL, 0);
	len = ike_w_finish(&w);
	if (len == 0 || ike_sa_seal(sa, m->hdr.exchange, true, m->hdr.msgid, inner, len, w.first,
	    out, cap, outlen) != 0)
		*outlen = 0;
	return 0;
}
