/* What the datapath's unit suites share: an inner packet to carry. */
#ifndef PICSEC_TEST_DP_FIXTURE_H
#define PICSEC_TEST_DP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* An IPv4 packet from 198.18.1.10 to 198.18.2.10 with len bytes in all (UDP, pattern). */
static inline size_t
inner_packet(uint8_t *d, size_t len, uint8_t tos, bool df)
{
	uint32_t sum = 0;
	size_t i;

	memset(d, 0, 20);
	d[0] = 0x45;
	d[1] = tos;
	d[2] = (uint8_t)(len >> 8);
	d[3] = (uint8_t)len;
	d[6] = df ? 0x40 : 0;
	d[8] = 63;
	d[9] = 17;
	memcpy(d + 12, (const uint8_t[]){ 198, 18, 1, 10 }, 4);
	memcpy(d + 16, (const uint8_t[]){ 198, 18, 2, 10 }, 4);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	d[10] = (uint8_t)(~sum >> 8);
	d[11] = (uint8_t)~sum;
	for (i = 20; i < len; i++)
		d[i] = (uint8_t)(i * 7);
	return len;
}

#endif
