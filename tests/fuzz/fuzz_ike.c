/* libFuzzer target for the IKEv2 message parser: whatever a peer sends, the parser refuses
 * it with a reason or gives views inside the datagram. The first byte chooses how the rest
 * is read: a whole datagram, or the decrypted contents of an SK payload (its first payload
 * type in the second byte). What parses is written again with the writer and must parse
 * to the same proposals. */
#include <stdint.h>
#include <string.h>

#include "ike_build.h"
#include "ike_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
rewrite(const struct ike_msg *m)
{
	static uint8_t out[65536];
	static struct ike_msg again;
	struct ike_writer w;
	uint8_t bad;
	size_t len;

	ike_w_message(&w, out, sizeof(out), &m->hdr);
	if (m->has_sa)
		ike_w_sa(&w, m->proposals, m->nproposals);
	if (m->has_nonce)
		ike_w_nonce(&w, m->nonce.data, m->nonce.len);
	if (m->has_tsi)
		ike_w_ts(&w, true, &m->tsi);
	len = ike_w_finish(&w);
	if (len == 0)
		__builtin_trap();
	if (ike_msg_parse(out, len, &again, &bad) != IKE_PARSE_OK ||
	    again.nproposals != m->nproposals || again.has_nonce != m->has_nonce ||
	    again.tsi.count != m->tsi.count)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ike_msg m;
	uint8_t bad;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		memset(&m, 0, sizeof(m));
		(void)ike_msg_parse_inner(data + 2, size - 2, data[1], &m, &bad);
		return 0;
	}
	if (ike_msg_parse(data + 1, size - 1, &m, &bad) == IKE_PARSE_OK) {
		/* Views stay inside the datagram. */
		if (m.has_nonce && (m.nonce.data < data + 1 ||
		    m.nonce.data + m.nonce.len > data + size))
			__builtin_trap();
		rewrite(&m);
	}
	return 0;
}
