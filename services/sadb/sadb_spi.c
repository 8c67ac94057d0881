/* SPIs for dynamic SAs: random (RFC 4303 §2.1 leaves the choice to the receiver; random
 * ones are hard to guess), from 256 up (1..255 are reserved by IANA), unique per protocol
 * and destination among the configured manual SAs and the ones handed out before. */
#include "sadb_impl.h"

#include <string.h>

#include <sodium.h>

#include "u64map.h"

/* The key of an SPI in the allocation map: protocol, SPI and a hash of the destination. */
static uint64_t
spi_key(uint32_t protocol, uint32_t spi, const uint8_t *dst, size_t dstlen)
{
	uint8_t h[4] = { 0 };

	crypto_generichash(h, sizeof(h), dst, dstlen, NULL, 0);
	return (uint64_t)(protocol & 0xff) << 56 | (uint64_t)(h[0] << 16 | h[1] << 8 | h[2]) << 32 |
	    spi;
}

bool
sadb_spi_held(const struct sadb *sd, uint32_t protocol, uint32_t spi, const uint8_t *dst,
    size_t dstlen, uint64_t except_id)
{
	const struct sadb_pic *pic;
	const struct sadb_sa *sa;

	for (pic = sd->pics; pic != NULL; pic = pic->next) {
		for (sa = pic->sas; sa != NULL; sa = sa->next) {
			/* Per protocol (RFC 4301 §4.1); a bundle holds both of its SPIs. */
			if (sa->id != except_id &&
			    sa->msg.direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND &&
			    (sa->msg.protocol == protocol ||
			    sa->msg.protocol == PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE) &&
			    (sa->msg.spi == spi || sa->msg.auxiliary_spi == spi) &&
			    sa->local_msg.addr.len == dstlen &&
			    memcmp(sa->local, dst, dstlen) == 0)
				return true;
		}
	}
	return false;
}

static bool
spi_in_use(struct sadb *sd, uint32_t protocol, uint32_t spi, const uint8_t *dst, size_t dstlen)
{
	return u64map_get(sd->spis, spi_key(protocol, spi, dst, dstlen)) != NULL ||
	    sadb_spi_held(sd, protocol, spi, dst, dstlen, 0);
}

uint32_t
sadb_spi_alloc(struct sadb *sd, uint32_t protocol, const uint8_t *dst, size_t dstlen)
{
	uint32_t spi;
	int tries;

	/* Collisions are rare at any realistic count; the bound keeps a full space finite. */
	for (tries = 0; tries < 64; tries++) {
		spi = randombytes_uniform(UINT32_MAX - 255) + 256;
		if (spi_in_use(sd, protocol, spi, dst, dstlen))
			continue;
		if (u64map_put(sd->spis, spi_key(protocol, spi, dst, dstlen), sd) == -1)
			return 0;
		return spi;
	}
	return 0;
}
