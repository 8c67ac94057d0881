/* An IKE SA's Child SAs: a few slots (a Child SA and its replacement during a rekey),
 * their keys from prf+(SK_d, [g^ir] | Ni | Nr) (RFC 7296 §2.17), and the events that tell
 * the caller when one comes up or goes. */
#include "ike_sa_impl.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_proposal.h"

struct ike_child_slot *
ike_child_alloc(struct ike_sa *sa)
{
	size_t i;

	for (i = 0; i < IKE_MAX_CHILDREN; i++) {
		if (!sa->children[i].used) {
			memset(&sa->children[i], 0, sizeof(sa->children[i]));
			return &sa->children[i];
		}
	}
	return NULL;
}

static void
ike_child_wipe(struct ike_child_slot *s)
{
	if (s->c.keymat != NULL) {
		sodium_memzero(s->c.keymat, 2 * (s->c.encr_len + s->c.integ_len));
		free(s->c.keymat);
	}
	sodium_memzero(s, sizeof(*s));
}

int
ike_child_derive(struct ike_sa *sa, struct ike_child_slot *s, const struct ike_proposal *chosen,
    uint32_t spi_in, uint32_t spi_out, const uint8_t *gir, size_t gir_len,
    const struct ike_bytes *ni, const struct ike_bytes *nr)
{
	struct ike_child *c = &s->c;
	const struct ike_transform *e = ike_proposal_get(chosen, IKE_TF_ENCR);
	const struct ike_transform *i = ike_proposal_get(chosen, IKE_TF_INTEG);
	struct ike_bytes seed[3] = { { gir, gir_len }, *ni, *nr };
	size_t half;
	const uint8_t *ir, *ri;

	memset(c, 0, sizeof(*c));
	c->protocol = chosen->protocol;
	c->chosen = *chosen;
	c->chosen.spi.data = NULL;
	c->chosen.spi.len = 0;
	c->spi_in = spi_in;
	c->spi_out = spi_out;
	if (e != NULL)
		c->encr_len = e->id == IKE_ENCR_3DES ? 24 : e->id == IKE_ENCR_AES_GCM_16 ?
		    e->key_length / 8u + 4 : e->key_length / 8u;
	if (i != NULL)
		c->integ_len = ike_sk_integ_key_len(i->id);
	half = c->encr_len + c->integ_len;
	/* Initiator-to-responder keys first (encryption, then integrity), then the other
	 * way; "initiator" is the one of this exchange (§2.17). */
	/* Ordinary memory, wiped when the Child SA goes (see ipc/secbuf.c on why). */
	if (half == 0 || (c->keymat = malloc(2 * half)) == NULL ||
	    ike_prf_plus(sa->prf, sa->keys->sk_d, sa->keys->len.prf, gir != NULL ? seed : seed + 1,
	    gir != NULL ? 3 : 2, c->keymat, 2 * half) != 0) {
		ike_child_wipe(s);
		return -1;
	}
	ir = c->keymat;
	ri = c->keymat + half;
	c->encr_in = s->exchange_initiator ? ri : ir;
	c->integ_in = c->encr_in + c->encr_len;
	c->encr_out = s->exchange_initiator ? ir : ri;
	c->integ_out = c->encr_out + c->encr_len;
	s->used = true;
	return 0;
}

void
ike_child_announce(struct ike_sa *sa, struct ike_child_slot *s)
{
	if (!s->used || s->announced)
		return;
	s->announced = true;
	if (sa->ev.child_up != NULL)
		sa->ev.child_up(sa->ev.ctx, sa, &s->c);
}

void
ike_child_down(struct ike_sa *sa, struct ike_child_slot *s, const char *why)
{
	if (!s->used)
		return;
	if (s->announced && sa->ev.child_down != NULL)
		sa->ev.child_down(sa->ev.ctx, sa, &s->c, why);
	ike_child_wipe(s);
}

void
ike_child_down_all(struct ike_sa *sa, const char *why)
{
	size_t i;

	for (i = 0; i < IKE_MAX_CHILDREN; i++)
		ike_child_down(sa, &sa->children[i], why);
}

void
ike_child_forget_all(struct ike_sa *sa)
{
	size_t i;

	for (i = 0; i < IKE_MAX_CHILDREN; i++)
		ike_child_wipe(&sa->children[i]);
}

struct ike_child_slot *
ike_child_by_in(struct ike_sa *sa, uint32_t spi_in)
{
	size_t i;

	for (i = 0; i < IKE_MAX_CHILDREN; i++) {
		if (sa->children[i].used && sa->children[i].c.spi_in == spi_in)
			return &sa->children[i];
	}
	return NULL;
}

struct ike_child_slot *
ike_child_by_out(struct ike_sa *sa, uint8_t protocol, uint32_t spi_out)
{
	size_t i;

	for (i = 0; i < IKE_MAX_CHILDREN; i++) {
		if (sa->children[i].used && sa->children[i].c.protocol == protocol &&
		    sa->children[i].c.spi_out == spi_out)
			return &sa->children[i];
	}
	return NULL;
}
