/* NAT detection (RFC 7296 §2.23): each side sends, in IKE_SA_INIT, SHA-1 over both SPIs
 * and the source (resp. destination) address and port as it sent them; the other side
 * hashes what it received. A different source hash means a NAT before the sender, a
 * different destination hash a NAT before the receiver. Then IKE moves to port 4500 and
 * ESP goes in UDP. */
#include "ike_sa_impl.h"

#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

enum { IKE_NAT_HASH_LEN = 20 };

/* SHA-1(SPIi | SPIr | IP | port): spi_r is 0 in the request. */
static int
ike_nat_hash(uint64_t spi_i, uint64_t spi_r, const uint8_t ip[4], uint16_t port,
    uint8_t out[IKE_NAT_HASH_LEN])
{
	uint8_t in[8 + 8 + 4 + 2];
	unsigned int len = 0;

	ike_put64(in, spi_i);
	ike_put64(in + 8, spi_r);
	memcpy(in + 16, ip, 4);
	in[20] = (uint8_t)(port >> 8);
	in[21] = (uint8_t)port;
	return EVP_Digest(in, sizeof(in), out, &len, EVP_sha1(), NULL) == 1 &&
	    len == IKE_NAT_HASH_LEN ? 0 : -1;
}

void
ike_sa_set_endpoints(struct ike_sa *sa, const struct ike_endpoints *ep)
{
	sa->ep = *ep;
	sa->have_ep = true;
}

bool ike_sa_nat_local(const struct ike_sa *sa) { return sa->nat_local; }
bool ike_sa_nat_remote(const struct ike_sa *sa) { return sa->nat_remote; }

void
ike_nat_write(struct ike_sa *sa, struct ike_writer *w)
{
	uint8_t src[IKE_NAT_HASH_LEN], dst[IKE_NAT_HASH_LEN];
	uint64_t spi_r = sa->initiator ? 0 : sa->spi_r;

	if (!sa->have_ep || sa->cfg->no_natt ||
	    ike_nat_hash(sa->spi_i, spi_r, sa->ep.local, sa->ep.local_port, src) != 0 ||
	    ike_nat_hash(sa->spi_i, spi_r, sa->ep.remote, sa->ep.remote_port, dst) != 0)
		return;
	if (sa->cfg->force_encap) {
		/* The peer then sees a NAT before us and both sides go to UDP 4500, as
		 * strongSwan's encap=yes does; we act as if behind one (keepalives). */
		randombytes_buf(src, sizeof(src));
		sa->nat_local = true;
	}
	ike_w_notify(w, 0, IKE_N_NAT_DETECTION_SOURCE_IP, NULL, 0, src, sizeof(src));
	ike_w_notify(w, 0, IKE_N_NAT_DETECTION_DESTINATION_IP, NULL, 0, dst, sizeof(dst));
}

/* Whether one of the message's notifies of that type carries this hash (a sender behind
 * several addresses may send several source hashes). */
static bool
ike_nat_matches(const struct ike_msg *m, uint16_t type, const uint8_t want[IKE_NAT_HASH_LEN])
{
	uint8_t i;

	for (i = 0; i < m->nnotifies; i++) {
		if (m->notifies[i].type == type && m->notifies[i].data.len == IKE_NAT_HASH_LEN &&
		    memcmp(m->notifies[i].data.data, want, IKE_NAT_HASH_LEN) == 0)
			return true;
	}
	return false;
}

void
ike_nat_check(struct ike_sa *sa, const struct ike_msg *m)
{
	uint8_t src[IKE_NAT_HASH_LEN], dst[IKE_NAT_HASH_LEN];
	uint64_t spi_r = m->hdr.spi_r;

	/* No detection payloads from the peer: it does not do NAT traversal (§2.23). */
	if (!sa->have_ep || sa->cfg->no_natt ||
	    ike_msg_notify(m, IKE_N_NAT_DETECTION_SOURCE_IP) == NULL ||
	    ike_msg_notify(m, IKE_N_NAT_DETECTION_DESTINATION_IP) == NULL)
		return;
	/* As the peer saw it: it sent from the address we received from, to ours. */
	if (ike_nat_hash(m->hdr.spi_i, spi_r, sa->ep.remote, sa->ep.remote_port, src) != 0 ||
	    ike_nat_hash(m->hdr.spi_i, spi_r, sa->ep.local, sa->ep.local_port, dst) != 0)
		return;
	sa->nat_remote = !ike_nat_matches(m, IKE_N_NAT_DETECTION_SOURCE_IP, src);
	sa->nat_local = sa->nat_local ||
	    !ike_nat_matches(m, IKE_N_NAT_DETECTION_DESTINATION_IP, dst);
}
