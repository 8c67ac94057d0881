/* The IKEv2 writer (ike_build.h). */
#include "ike_build.h"

#include <string.h>

static void
ike_w_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
ike_w_put32(uint8_t *p, uint32_t v)
{
	ike_w_put16(p, (uint16_t)(v >> 16));
	ike_w_put16(p + 2, (uint16_t)v);
}

void
ike_w_bytes(struct ike_writer *w, const void *p, size_t len)
{
	if (w->overflow || len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (len > 0)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

void
ike_w_u8(struct ike_writer *w, uint8_t v)
{
	ike_w_bytes(w, &v, 1);
}

void
ike_w_u16(struct ike_writer *w, uint16_t v)
{
	uint8_t b[2];

	ike_w_put16(b, v);
	ike_w_bytes(w, b, 2);
}

void
ike_w_u32(struct ike_writer *w, uint32_t v)
{
	uint8_t b[4];

	ike_w_put32(b, v);
	ike_w_bytes(w, b, 4);
}

void
ike_w_message(struct ike_writer *w, uint8_t *buf, size_t cap, const struct ike_header *h)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	ike_w_u32(w, (uint32_t)(h->spi_i >> 32));
	ike_w_u32(w, (uint32_t)h->spi_i);
	ike_w_u32(w, (uint32_t)(h->spi_r >> 32));
	ike_w_u32(w, (uint32_t)h->spi_r);
	w->next_at = w->len;
	ike_w_u8(w, IKE_PL_NONE);
	ike_w_u8(w, IKE_VERSION);
	ike_w_u8(w, h->exchange);
	ike_w_u8(w, h->flags);
	ike_w_u32(w, h->msgid);
	ike_w_u32(w, 0); /* the length, at the end */
}

void
ike_w_inner(struct ike_writer *w, uint8_t *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->inner = true;
}

size_t
ike_w_begin(struct ike_writer *w, uint8_t type, bool critical)
{
	size_t start = w->len;

	if (w->inner && w->first == IKE_PL_NONE && start == 0)
		w->first = type;
	else if (!w->overflow && w->next_at < w->len)
		w->buf[w->next_at] = type;
	w->next_at = start;
	ike_w_u8(w, IKE_PL_NONE);
	ike_w_u8(w, critical ? 0x80 : 0);
	ike_w_u16(w, 0);
	return start;
}

void
ike_w_end(struct ike_writer *w, size_t start)
{
	if (w->overflow || w->len - start > UINT16_MAX) {
		w->overflow = true;
		return;
	}
	ike_w_put16(w->buf + start + 2, (uint16_t)(w->len - start));
}

void
ike_w_sa(struct ike_writer *w, const struct ike_proposal *proposals, size_t n)
{
	size_t pl = ike_w_begin(w, IKE_PL_SA, false), i, t, ps;

	for (i = 0; i < n; i++) {
		const struct ike_proposal *p = &proposals[i];

		ps = w->len;
		ike_w_u8(w, i + 1 == n ? 0 : 2);
		ike_w_u8(w, 0);
		ike_w_u16(w, 0);
		ike_w_u8(w, p->number);
		ike_w_u8(w, p->protocol);
		ike_w_u8(w, (uint8_t)p->spi.len);
		ike_w_u8(w, p->ntransforms);
		ike_w_bytes(w, p->spi.data, p->spi.len);
		for (t = 0; t < p->ntransforms; t++) {
			const struct ike_transform *tf = &p->transforms[t];


			ike_w_u8(w, t + 1 == p->ntransforms ? 0 : 3);
			ike_w_u8(w, 0);
			ike_w_u16(w, tf->key_length != 0 ? 12 : 8);
			ike_w_u8(w, tf->type);
			ike_w_u8(w, 0);
			ike_w_u16(w, tf->id);
			if (tf->key_length != 0) {
				ike_w_u16(w, 0x8000 | 14);
				ike_w_u16(w, tf->key_length);
			}
		}
		if (!w->overflow)
			ike_w_put16(w->buf + ps + 2, (uint16_t)(w->len - ps));
	}
	ike_w_end(w, pl);
}

void
ike_w_ke(struct ike_writer *w, uint16_t group, const uint8_t *data, size_t len)
{
	size_t pl = ike_w_begin(w, IKE_PL_KE, false);

	ike_w_u16(w, group);
	ike_w_u16(w, 0);
	ike_w_bytes(w, data, len);
	ike_w_end(w, pl);
}

void
ike_w_nonce(struct ike_writer *w, const uint8_t *nonce, size_t len)
{
	size_t pl = ike_w_begin(w, IKE_PL_NONCE, false);

	ike_w_bytes(w, nonce, len);
	ike_w_end(w, pl);
}

void
ike_w_id(struct ike_writer *w, bool initiator, uint8_t id_type, const uint8_t *data,
    size_t len)
{
	size_t pl = ike_w_begin(w, initiator ? IKE_PL_IDI : IKE_PL_IDR, false);

	ike_w_u8(w, id_type);
	ike_w_u8(w, 0);
	ike_w_u16(w, 0);
	ike_w_bytes(w, data, len);
	ike_w_end(w, pl);
}

void
ike_w_auth(struct ike_writer *w, uint8_t method, const uint8_t *data, size_t len)
{
	size_t pl = ike_w_begin(w, IKE_PL_AUTH, false);

	ike_w_u8(w, method);
	ike_w_u8(w, 0);
	ike_w_u16(w, 0);
	ike_w_bytes(w, data, len);
	ike_w_end(w, pl);
}

void
ike_w_notify(struct ike_writer *w, uint8_t protocol, uint16_t type, const uint8_t *spi,
    size_t spi_len, const uint8_t *data, size_t len)
{
	size_t pl = ike_w_begin(w, IKE_PL_NOTIFY, false);

	ike_w_u8(w, protocol);
	ike_w_u8(w, (uint8_t)spi_len);
	ike_w_u16(w, type);
	ike_w_bytes(w, spi, spi_len);
	ike_w_bytes(w, data, len);
	ike_w_end(w, pl);
}

void
ike_w_delete(struct ike_writer *w, uint8_t protocol, const uint8_t *spis, uint16_t count)
{
	size_t pl = ike_w_begin(w, IKE_PL_DELETE, false);
	uint8_t spi_size = protocol == IKE_PROTO_IKE ? 0 : 4;

	ike_w_u8(w, protocol);
	ike_w_u8(w, spi_size);
	ike_w_u16(w, protocol == IKE_PROTO_IKE ? 0 : count);
	ike_w_bytes(w, spis, protocol == IKE_PROTO_IKE ? 0 : (size_t)count * spi_size);
	ike_w_end(w, pl);
}

void
ike_w_ts(struct ike_writer *w, bool initiator, const struct ike_ts_set *set)
{
	size_t pl = ike_w_begin(w, initiator ? IKE_PL_TSI : IKE_PL_TSR, false), i;

	ike_w_u8(w, set->count);
	ike_w_u8(w, 0);
	ike_w_u16(w, 0);
	for (i = 0; i < set->count; i++) {
		const struct ike_ts *ts = &set->ts[i];

		ike_w_u8(w, ts->type);
		ike_w_u8(w, ts->ip_protocol);
		ike_w_u16(w, (uint16_t)(8 + 2 * ts->addr_len));
		ike_w_u16(w, ts->start_port);
		ike_w_u16(w, ts->end_port);
		ike_w_bytes(w, ts->start, ts->addr_len);
		ike_w_bytes(w, ts->end, ts->addr_len);
	}
	ike_w_end(w, pl);
}

size_t
ike_w_finish(struct ike_writer *w)
{
	if (w->overflow)
		return 0;
	if (!w->inner)
		ike_w_put32(w->buf + 24, (uint32_t)w->len);
	return w->len;
}
