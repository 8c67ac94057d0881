/* SPIs for dynamic SAs: random (RFC 4303 §2.1 leaves the choice to the receiver; random
 * ones are hard to guess), from 256 up (1..255 are reserved by IANA), unique per protocol
 * and destination among the SAs sadb holds and the ones handed out and not installed yet.
 *
 * What the SAs hold is an index, kept as SAs join and leave the PICs' lists, so that an
 * allocation or an install is one look-up whatever the number of SAs (a walk over every SA
 * made installing 100,000 SAs quadratic: bench/scale). The index is keyed by a 64-bit
 * BLAKE2b of (protocol, SPI, destination); two holders of one key are counted, with the
 * XOR of their ids, which is the one holder's id when there is one. */
#include "sadb_impl.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "u64map.h"

/* The holders of one (protocol, SPI, destination). */
struct sadb_spi_use {
	uint64_t ids;	/* XOR of the holders' ids */
	unsigned n;
};

enum { SADB_SPI_KEYS_MAX = 4 }; /* a bundle: both SPIs under both protocols */

/* The key of an SPI in the allocation map: protocol, SPI and a hash of the destination. */
static uint64_t
spi_key(uint32_t protocol, uint32_t spi, const uint8_t *dst, size_t dstlen)
{
	uint8_t h[4] = { 0 };

	crypto_generichash(h, sizeof(h), dst, dstlen, NULL, 0);
	return (uint64_t)(protocol & 0xff) << 56 | (uint64_t)(h[0] << 16 | h[1] << 8 | h[2]) << 32 |
	    spi;
}

/* The key of an SPI in the index of held SPIs (never 0). */
static uint64_t
held_key(uint32_t protocol, uint32_t spi, const uint8_t *dst, size_t dstlen)
{
	crypto_generichash_state st;
	uint8_t word[8];
	uint64_t key;

	memcpy(word, &protocol, 4);
	memcpy(word + 4, &spi, 4);
	crypto_generichash_init(&st, NULL, 0, sizeof(key));
	crypto_generichash_update(&st, word, sizeof(word));
	crypto_generichash_update(&st, dst, dstlen);
	crypto_generichash_final(&st, (uint8_t *)&key, sizeof(key));
	return key != 0 ? key : 1;
}

/* The keys an inbound SA holds (per protocol, RFC 4301 §4.1; a bundle holds both of its
 * SPIs, under both protocols, as the PIC finds it by either); their count. */
static size_t
held_keys(const struct sadb_sa *sa, uint64_t keys[SADB_SPI_KEYS_MAX])
{
	static const uint32_t protos[] = { PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP,
	    PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH };
	uint32_t spis[2] = { sa->msg.spi, sa->msg.auxiliary_spi };
	size_t i, j, k, n = 0;
	uint64_t key;

	if (sa->msg.direction != PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND)
		return 0;
	if (sa->msg.protocol != PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_BUNDLE) {
		keys[0] = held_key(sa->msg.protocol, sa->msg.spi, sa->local,
		    sa->local_msg.addr.len);
		return 1;
	}
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			key = held_key(protos[i], spis[j], sa->local, sa->local_msg.addr.len);
			for (k = 0; k < n && keys[k] != key; k++)
				;
			if (k == n)
				keys[n++] = key;
		}
	}
	return n;
}

void
sadb_spi_hold(struct sadb *sd, const struct sadb_sa *sa)
{
	uint64_t keys[SADB_SPI_KEYS_MAX];
	struct sadb_spi_use *use;
	size_t i, n = held_keys(sa, keys);

	for (i = 0; i < n; i++) {
		if ((use = u64map_get(sd->spis_held, keys[i])) == NULL) {
			if ((use = calloc(1, sizeof(*use))) == NULL ||
			    u64map_put(sd->spis_held, keys[i], use) == -1) {
				free(use);
				log_warnx("SA %016llx: out of memory indexing its SPI",
				    (unsigned long long)sa->id);
				continue;
			}
		}
		use->ids ^= sa->id;
		use->n++;
	}
}

void
sadb_spi_release(struct sadb *sd, const struct sadb_sa *sa)
{
	uint64_t keys[SADB_SPI_KEYS_MAX];
	struct sadb_spi_use *use;
	size_t i, n = held_keys(sa, keys);

	for (i = 0; i < n; i++) {
		if ((use = u64map_get(sd->spis_held, keys[i])) == NULL)
			continue; /* not indexed (out of memory when it came) */
		use->ids ^= sa->id;
		if (--use->n == 0)
			free(u64map_take(sd->spis_held, keys[i]));
	}
}

bool
sadb_spi_held(const struct sadb *sd, uint32_t protocol, uint32_t spi, const uint8_t *dst,
    size_t dstlen, uint64_t except_id)
{
	const struct sadb_spi_use *use =
	    u64map_get(sd->spis_held, held_key(protocol, spi, dst, dstlen));

	return use != NULL && (use->n > 1 || use->ids != except_id);
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

void
sadb_spi_installed(struct sadb *sd, const struct sadb_sa *sa)
{
	/* Held by the SA from now on: the allocation map keeps only what is still out, so
	 * it does not grow with every Child SA ever negotiated. */
	if (sa->msg.direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND)
		u64map_take(sd->spis, spi_key(sa->msg.protocol, sa->msg.spi, sa->local,
		    sa->local_msg.addr.len));
}

static void
sadb_spi_use_free(uint64_t key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
}

void
sadb_spi_free(struct sadb *sd)
{
	if (sd->spis_held != NULL)
		u64map_foreach(sd->spis_held, sadb_spi_use_free, NULL);
	u64map_free(sd->spis_held);
	sd->spis_held = NULL;
}
