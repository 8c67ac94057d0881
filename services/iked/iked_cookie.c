/* Cookies (RFC 7296 §2.6): with many half-open IKE SAs (a flood from forged addresses
 * costs us a DH exchange each), a new IKE_SA_INIT is answered without any state by a
 * COOKIE that only the sender's address can return; a request that brings it back as its
 * first payload is served. Cookie = version | BLAKE2b(secret; Ni | IPi | SPIi). */
#include "iked_impl.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_build.h"
#include "ike_msg.h"
#include "u64map.h"

enum { IKED_COOKIE_VERSION = 1, IKED_COOKIE_HASH = 16 };

void
iked_cookie_init(struct iked *ik)
{
	randombytes_buf(ik->cookie_secret, sizeof(ik->cookie_secret));
}

bool
iked_cookie_needed(const struct iked *ik)
{
	return u64map_count(ik->halfopen) >= ik->opts.cookie_threshold;
}

static void
iked_cookie_make(const struct iked *ik, const struct ike_bytes *ni, const uint8_t peer[4],
    uint64_t spi_i, uint8_t out[1 + IKED_COOKIE_HASH])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, ik->cookie_secret, sizeof(ik->cookie_secret),
	    IKED_COOKIE_HASH);
	crypto_generichash_update(&st, ni->data, ni->len);
	crypto_generichash_update(&st, peer, 4);
	crypto_generichash_update(&st, (const uint8_t *)&spi_i, sizeof(spi_i));
	crypto_generichash_final(&st, out + 1, IKED_COOKIE_HASH);
	out[0] = IKED_COOKIE_VERSION;
}

bool
iked_cookie_valid(const struct iked *ik, const struct ike_msg *m, const uint8_t peer[4])
{
	uint8_t want[1 + IKED_COOKIE_HASH];

	/* It must come first (§2.6), and be ours for this nonce, address and SPI. */
	if (m->hdr.next != IKE_PL_NOTIFY || m->nnotifies == 0 ||
	    m->notifies[0].type != IKE_N_COOKIE || m->notifies[0].data.len != sizeof(want) ||
	    !m->has_nonce)
		return false;
	iked_cookie_make(ik, &m->nonce, peer, m->hdr.spi_i, want);
	return sodium_memcmp(want, m->notifies[0].data.data, sizeof(want)) == 0;
}

void
iked_cookie_send(struct iked *ik, const struct iked_sock *s, const uint8_t peer[4],
    uint16_t port, const struct ike_msg *m)
{
	struct ike_header h = { .spi_i = m->hdr.spi_i, .exchange = IKE_SA_INIT,
		.flags = IKE_FLAG_RESPONSE };
	uint8_t cookie[1 + IKED_COOKIE_HASH], out[128];
	struct ike_writer w;
	size_t len;

	if (!m->has_nonce)
		return;
	iked_cookie_make(ik, &m->nonce, peer, m->hdr.spi_i, cookie);
	ike_w_message(&w, out, sizeof(out), &h);
	ike_w_notify(&w, 0, IKE_N_COOKIE, NULL, 0, cookie, sizeof(cookie));
	if ((len = ike_w_finish(&w)) == 0)
		return;
	ik->stats.cookies_sent++;
	iked_send(ik, s->addr, s->port, peer, port, out, len);
}
