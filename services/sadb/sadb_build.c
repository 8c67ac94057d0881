/* From a committed configuration to SAs: each manual term of each rule of each service set
 * gives one SA per direction (bidirectional: two), on the PIC the service set is anchored
 * on; each dynamic term gives two templates that negotiated SAs are completed from, and is
 * listed in its PicServiceSet so that the PIC asks for its SAs when traffic comes (acquire).
 * Everything the PICs need is resolved here: defaults, the service set's settings under the
 * term's, the traffic selectors. */
#include "sadb_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "secbuf.h"

enum { SADB_DEFAULT_WINDOW = 128 };

void
sadb_sa_free(struct sadb_sa *sa)
{
	if (sa == NULL)
		return;
	secbuf_free(sa->enc_key);
	secbuf_free(sa->auth_key);
	free(sa);
}

void
sadb_set_free(struct sadb_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->napplied; i++)
		free(set->applied[i]);
	free(set->applied);
	free(set->prefixes);
	free(set->prefix_ptrs);
	free(set->dynterms);
	free(set->dynterm_ptrs);
	free(set);
}

void
sadb_pic_free(struct sadb_pic *pic)
{
	struct sadb_sa *sa, *nsa;
	struct sadb_set *set, *nset;

	if (pic == NULL)
		return;
	free(pic->dirty);
	for (sa = pic->sas; sa != NULL; sa = nsa) {
		nsa = sa->next;
		sadb_sa_free(sa);
	}
	for (sa = pic->templates; sa != NULL; sa = nsa) {
		nsa = sa->next;
		sadb_sa_free(sa);
	}
	for (set = pic->sets; set != NULL; set = nset) {
		nset = set->next;
		sadb_set_free(set);
	}
	free(pic);
}

/* "ms-0/0/0.1": the PIC is "ms-0/0/0", the service veth "ms-0-0-0.1". */
static int
sadb_anchor(const char *ifl, char *pic, size_t piclen, char *veth, size_t vethlen)
{
	const char *dot = strrchr(ifl, '.');
	size_t i;

	if (ifl[0] == '\0' || dot == NULL || dot == ifl || (size_t)(dot - ifl) >= piclen ||
	    strlen(ifl) >= vethlen || strlen(ifl) > 15)
		return -1;
	snprintf(pic, piclen, "%.*s", (int)(dot - ifl), ifl);
	snprintf(veth, vethlen, "%s", ifl);
	for (i = 0; veth[i] != '\0'; i++) {
		if (veth[i] == '/')
			veth[i] = '-';
	}
	return 0;
}

static struct sadb_pic *
sadb_want_pic(struct sadb_pic **list, const char *name)
{
	struct sadb_pic *p;

	for (p = *list; p != NULL; p = p->next) {
		if (strcmp(p->name, name) == 0)
			return p;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->topic, sizeof(p->topic), "sa.%s", name);
	p->next = *list;
	*list = p;
	return p;
}

static const Picsec__V1__Rule *
sadb_rule(const Picsec__V1__ConfigSnapshot *snap, const char *name)
{
	size_t i;

	if (snap->ipsec_vpn == NULL)
		return NULL;
	for (i = 0; i < snap->ipsec_vpn->n_rules; i++) {
		if (strcmp(snap->ipsec_vpn->rules[i]->name, name) == 0)
			return snap->ipsec_vpn->rules[i];
	}
	return NULL;
}

/* Copies an address (4 or 16 bytes) into storage and points msg at it. */
void
sadb_addr(const Picsec__V1__IpAddress *a, uint8_t *storage, Picsec__V1__IpAddress *msg)
{
	picsec__v1__ip_address__init(msg);
	if (a == NULL || (a->addr.len != 4 && a->addr.len != 16))
		return;
	memcpy(storage, a->addr.data, a->addr.len);
	msg->addr.data = storage;
	msg->addr.len = a->addr.len;
}

Picsec__V1__IpPrefix *
sadb_prefix(const Picsec__V1__IpPrefix *p, uint8_t *storage, Picsec__V1__IpPrefix *msg)
{
	picsec__v1__ip_prefix__init(msg);
	if (p == NULL || (p->addr.len != 4 && p->addr.len != 16))
		return NULL;
	memcpy(storage, p->addr.data, p->addr.len);
	msg->addr.data = storage;
	msg->addr.len = p->addr.len;
	msg->length = p->length;
	return msg;
}

/* A 64-bit BLAKE2b of the words given, NUL-separated: an SA's id. With keys, the
 * journal's "same key" fingerprint; the keys are fed straight from their wiped buffers
 * (no copy, whatever their length). */
uint64_t
sadb_hash(const char *const *words, size_t n, const struct secbuf *enc,
    const struct secbuf *auth)
{
	crypto_generichash_state st;
	uint8_t out[8];
	uint64_t h;
	size_t i;

	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	for (i = 0; i < n; i++)
		crypto_generichash_update(&st, (const uint8_t *)words[i], strlen(words[i]) + 1);
	if (enc != NULL || auth != NULL) {
		if (enc != NULL)
			crypto_generichash_update(&st, secbuf_cdata(enc), secbuf_len(enc));
		crypto_generichash_update(&st, (const uint8_t *)"|", 1);
		if (auth != NULL)
			crypto_generichash_update(&st, secbuf_cdata(auth), secbuf_len(auth));
	}
	crypto_generichash_final(&st, out, sizeof(out));
	sodium_memzero(&st, sizeof(st));
	memcpy(&h, out, sizeof(h));
	return h != 0 ? h : 1; /* 0 is no id */
}

struct secbuf *
sadb_secret(const Picsec__V1__Secret *s)
{
	return s != NULL && s->material.len > 0 ? secbuf_copy(s->material.data,
	    s->material.len) : NULL;
}

struct term_ctx {
	const Picsec__V1__ServiceSet *ss;
	const Picsec__V1__Rule *rule;
	const Picsec__V1__Term *term;
	unsigned order;
};

/* Points the wire form's pointers at the SA's own storage (after a copy moved it). */
void
sadb_sa_point(struct sadb_sa *sa)
{
	Picsec__V1__Sa *m = &sa->msg;

	m->service_set = sa->service_set;
	m->rule = sa->rule;
	m->term = sa->term;
	sa->local_msg.addr.data = sa->local_msg.addr.len > 0 ? sa->local : NULL;
	sa->remote_msg.addr.data = sa->remote_msg.addr.len > 0 ? sa->remote : NULL;
	m->local_gateway = &sa->local_msg;
	m->remote_gateway = &sa->remote_msg;
	sa->src_msg.addr.data = sa->src;
	sa->dst_msg.addr.data = sa->dst;
	if (m->source != NULL)
		m->source = &sa->src_msg;
	if (m->destination != NULL)
		m->destination = &sa->dst_msg;
	m->enc_key = NULL;
	m->auth_key = NULL;
	if (sa->enc_key != NULL) {
		picsec__v1__secret__init(&sa->enc_secret);
		sa->enc_secret.material.data = secbuf_data(sa->enc_key);
		sa->enc_secret.material.len = secbuf_len(sa->enc_key);
		m->enc_key = &sa->enc_secret;
	}
	if (sa->auth_key != NULL) {
		picsec__v1__secret__init(&sa->auth_secret);
		sa->auth_secret.material.data = secbuf_data(sa->auth_key);
		sa->auth_secret.material.len = secbuf_len(sa->auth_key);
		m->auth_key = &sa->auth_secret;
	}
}

/* What a term says of its SAs in one direction, whether manual or negotiated: names, SPD
 * order, gateways, the outer header, the replay window, the traffic. */
static struct sadb_sa *
sadb_term_sa(const struct term_ctx *t, Picsec__V1__SaDirection dir)
{
	const Picsec__V1__Term *term = t->term;
	const Picsec__V1__ServiceSet *ss = t->ss;
	bool out = dir == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND;
	struct sadb_sa *sa = calloc(1, sizeof(*sa));
	Picsec__V1__Sa *m;

	if (sa == NULL)
		return NULL;
	m = &sa->msg;
	picsec__v1__sa__init(m);
	snprintf(sa->service_set, sizeof(sa->service_set), "%s", ss->name);
	snprintf(sa->rule, sizeof(sa->rule), "%s", t->rule->name);
	snprintf(sa->term, sizeof(sa->term), "%s", term->name);
	m->order = t->order;
	m->direction = dir;
	m->mode = PICSEC__V1__SA_MODE__SA_MODE_TUNNEL;
	sadb_addr(ss->local_gateway != NULL ? ss->local_gateway->address : NULL, sa->local,
	    &sa->local_msg);
	sadb_addr(term->remote_gateway, sa->remote, &sa->remote_msg);
	if (!out)
		m->replay_window = term->no_anti_replay || ss->no_anti_replay ? 0 :
		    term->anti_replay_window_size != 0 ? term->anti_replay_window_size :
		    ss->anti_replay_window_size != 0 ? ss->anti_replay_window_size :
		    SADB_DEFAULT_WINDOW;
	/* What shapes the outer header is the outbound SA's; an inbound SA without it is not
	 * replaced (and its replay window not touched) when only that changes. */
	if (out) {
		m->tunnel_mtu = term->tunnel_mtu != 0 ? term->tunnel_mtu : ss->tunnel_mtu;
		m->df_bit = term->df_bit != PICSEC__V1__DF_BIT__DF_BIT_UNSET ? term->df_bit :
		    ss->df_bit;
		m->ttl = term->copy_ttl_from_inner_ip_header ? 0 : term->ttl;
		m->tos = term->copy_tos_from_inner_ip_header ? 0 : term->tos;
	}
	/* Outbound carries the term's traffic as written; inbound delivers its replies. */
	m->source = sadb_prefix(out ? term->source_address : term->destination_address, sa->src,
	    &sa->src_msg);
	m->destination = sadb_prefix(out ? term->destination_address : term->source_address,
	    sa->dst, &sa->dst_msg);
	sadb_sa_point(sa);
	return sa;
}

/* One SA of a manual term in one direction. */
static struct sadb_sa *
sadb_manual_sa(struct sadb *sd, const struct term_ctx *t, const Picsec__V1__ManualSaDirection *d,
    Picsec__V1__SaDirection dir)
{
	struct sadb_sa *sa = sadb_term_sa(t, dir);
	char spi[24], kind[24];
	const char *id_words[7];
	Picsec__V1__Sa *m;

	if (sa == NULL)
		return NULL;
	m = &sa->msg;
	sa->enc_key = sadb_secret(d->enc_key);
	sa->auth_key = sadb_secret(d->auth_key);
	if ((d->enc_key != NULL && d->enc_key->material.len > 0 && sa->enc_key == NULL) ||
	    (d->auth_key != NULL && d->auth_key->material.len > 0 && sa->auth_key == NULL)) {
		sadb_sa_free(sa);
		return NULL;
	}
	/* The same SA keeps its id across restarts; its keys are not part of it. */
	snprintf(spi, sizeof(spi), "%u/%u", d->spi, d->auxiliary_spi);
	snprintf(kind, sizeof(kind), "%d/%d", (int)dir, (int)d->protocol);
	id_words[0] = "manual";
	id_words[1] = t->ss->name;
	id_words[2] = t->rule->name;
	id_words[3] = t->term->name;
	id_words[4] = kind;
	id_words[5] = spi;
	sa->id = sadb_hash(id_words, 6, NULL, NULL);
	sa->key_fingerprint = sadb_hash(id_words, 6, sa->enc_key, sa->auth_key);
	m->id = sa->id;
	m->origin = PICSEC__V1__SA_ORIGIN__SA_ORIGIN_MANUAL;
	m->protocol = d->protocol;
	m->spi = d->spi;
	m->auxiliary_spi = d->auxiliary_spi;
	m->enc_algorithm = d->enc_algorithm;
	m->auth_algorithm = d->auth_algorithm;
	sadb_sa_point(sa);
	if (dir == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND)
		m->seq_start = sadb_journal_start(sd, sa->id, sa->key_fingerprint);
	return sa;
}

/* A dynamic term's SAs in both directions, without keys: what iked's negotiated SAs are
 * completed from (sadb_dynamic.c). */
static int
sadb_dynamic_templates(struct sadb_pic *pic, const struct term_ctx *t)
{
	struct sadb_sa *in = sadb_term_sa(t, PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND);
	struct sadb_sa *out = sadb_term_sa(t, PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND);

	if (in == NULL || out == NULL) {
		sadb_sa_free(in);
		sadb_sa_free(out);
		return -1;
	}
	in->msg.origin = out->msg.origin = PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC;
	in->pic = out->pic = pic;
	in->next = out;
	out->next = pic->templates;
	pic->templates = in;
	return 0;
}

static int
sadb_add_prefix(struct sadb_set *set, const Picsec__V1__IpPrefix *p)
{
	struct sadb_prefix *grown;
	size_t i;

	if (p == NULL || (p->addr.len != 4 && p->addr.len != 16))
		return 0;
	for (i = 0; i < set->nprefixes; i++) {
		if (set->prefixes[i].msg.length == p->length &&
		    set->prefixes[i].msg.addr.len == p->addr.len &&
		    memcmp(set->prefixes[i].addr, p->addr.data, p->addr.len) == 0)
			return 0;
	}
	grown = realloc(set->prefixes, (set->nprefixes + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	set->prefixes = grown;
	sadb_prefix(p, set->prefixes[set->nprefixes].addr, &set->prefixes[set->nprefixes].msg);
	set->nprefixes++;
	return 0;
}

/* A dynamic term for the PIC: its traffic as the outbound template has it. */
static int
sadb_add_dynterm(struct sadb_set *set, const struct term_ctx *t)
{
	struct sadb_dynterm *grown, *d;

	grown = realloc(set->dynterms, (set->ndynterms + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	set->dynterms = grown;
	d = &set->dynterms[set->ndynterms++];
	memset(d, 0, sizeof(*d));
	picsec__v1__dynamic_term__init(&d->msg);
	snprintf(d->rule, sizeof(d->rule), "%s", t->rule->name);
	snprintf(d->term, sizeof(d->term), "%s", t->term->name);
	d->msg.order = t->order;
	/* Only marks presence here: sadb_set_finish points them at their storage. */
	d->msg.source = sadb_prefix(t->term->source_address, d->src, &d->src_msg);
	d->msg.destination = sadb_prefix(t->term->destination_address, d->dst, &d->dst_msg);
	return 0;
}

/* The wire form's pointers, once the arrays are final (realloc moved them until then). */
static int
sadb_set_finish(struct sadb_set *set, const Picsec__V1__ServiceSet *ss)
{
	size_t i, n = ss->n_applied_input + ss->n_applied_output;

	set->prefix_ptrs = calloc(set->nprefixes + 1, sizeof(*set->prefix_ptrs));
	set->dynterm_ptrs = calloc(set->ndynterms + 1, sizeof(*set->dynterm_ptrs));
	set->applied = calloc(n + 1, sizeof(*set->applied));
	if (set->prefix_ptrs == NULL || set->dynterm_ptrs == NULL || set->applied == NULL)
		return -1;
	for (i = 0; i < set->nprefixes; i++) {
		set->prefixes[i].msg.addr.data = set->prefixes[i].addr;
		set->prefix_ptrs[i] = &set->prefixes[i].msg;
	}
	for (i = 0; i < set->ndynterms; i++) {
		struct sadb_dynterm *d = &set->dynterms[i];

		d->msg.rule = d->rule;
		d->msg.term = d->term;
		d->src_msg.addr.data = d->src;
		d->dst_msg.addr.data = d->dst;
		if (d->msg.source != NULL)
			d->msg.source = &d->src_msg;
		if (d->msg.destination != NULL)
			d->msg.destination = &d->dst_msg;
		set->dynterm_ptrs[i] = &d->msg;
	}
	for (i = 0; i < n; i++) {
		const char *ifl = i < ss->n_applied_input ? ss->applied_input[i] :
		    ss->applied_output[i - ss->n_applied_input];
		size_t j;
		bool seen = false;

		for (j = 0; j < set->napplied; j++)
			seen |= strcmp(set->applied[j], ifl) == 0;
		if (seen)
			continue;
		if ((set->applied[set->napplied] = strdup(ifl)) == NULL)
			return -1;
		set->napplied++;
	}
	picsec__v1__pic_service_set__init(&set->msg);
	set->msg.name = set->name;
	set->msg.style = ss->style;
	set->msg.inside_interface = set->inside;
	sadb_addr(ss->local_gateway != NULL ? ss->local_gateway->address : NULL, set->local,
	    &set->local_msg);
	set->msg.local_gateway = &set->local_msg;
	set->gw_interface = ss->local_gateway != NULL && ss->local_gateway->gw_interface != NULL &&
	    ss->local_gateway->gw_interface[0] != '\0';
	set->msg.applied_interfaces = set->applied;
	set->msg.n_applied_interfaces = set->napplied;
	set->msg.remote_prefixes = set->prefix_ptrs;
	set->msg.n_remote_prefixes = set->nprefixes;
	set->msg.dynamic_terms = set->dynterm_ptrs;
	set->msg.n_dynamic_terms = set->ndynterms;
	return 0;
}

/* Whether rule r of the service set came earlier (two rule sets may name one rule). */
static bool
sadb_rule_seen(const Picsec__V1__ServiceSet *ss, size_t r)
{
	size_t i;

	for (i = 0; i < r; i++) {
		if (strcmp(ss->rules[i], ss->rules[r]) == 0)
			return true;
	}
	return false;
}

static int
sadb_build_set(struct sadb *sd, struct sadb_pic **pics, const Picsec__V1__ConfigSnapshot *snap,
    const Picsec__V1__ServiceSet *ss, char *err, size_t errlen)
{
	const char *anchor = ss->style == PICSEC__V1__SERVICE_STYLE__SERVICE_STYLE_NEXT_HOP ?
	    ss->inside_service_interface : ss->service_interface;
	char picname[SADB_NAME_MAX], veth[SADB_NAME_MAX];
	struct term_ctx t = { .ss = ss };
	struct sadb_set *set;
	struct sadb_pic *pic;
	struct sadb_sa *sa;
	size_t r, i, k;

	if (sadb_anchor(anchor != NULL ? anchor : "", picname, sizeof(picname), veth,
	    sizeof(veth)) == -1) {
		log_warnx("service set %s: '%s' names no services PIC: its SAs go nowhere",
		    ss->name, anchor != NULL ? anchor : "");
		return 0;
	}
	if ((pic = sadb_want_pic(pics, picname)) == NULL || (set = calloc(1, sizeof(*set))) ==
	    NULL)
		goto oom;
	set->next = pic->sets;
	pic->sets = set;
	snprintf(set->name, sizeof(set->name), "%s", ss->name);
	snprintf(set->inside, sizeof(set->inside), "%s", veth);
	for (r = 0; r < ss->n_rules; r++) {
		if ((t.rule = sadb_rule(snap, ss->rules[r])) == NULL || sadb_rule_seen(ss, r))
			continue;
		for (i = 0; i < t.rule->n_terms; i++) {
			t.term = t.rule->terms[i];
			t.order++;
			if (t.term->manual == NULL && t.term->dynamic == NULL)
				continue;
			/* Routed into the PIC either way: a dynamic term without its SAs yet is
			 * where traffic asks for them (acquire). */
			if (sadb_add_prefix(set, t.term->destination_address) == -1)
				goto oom;
			if (t.term->dynamic != NULL) {
				if (sadb_dynamic_templates(pic, &t) == -1 ||
				    sadb_add_dynterm(set, &t) == -1)
					goto oom;
				continue;
			}
			for (k = 0; k < t.term->manual->n_directions; k++) {
				const Picsec__V1__ManualSaDirection *d = t.term->manual->directions[k];
				bool in = d->direction != PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND;
				bool outb = d->direction != PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND;

				if (in) {
					if ((sa = sadb_manual_sa(sd, &t, d,
					    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND)) == NULL)
						goto oom;
					sa->next = pic->sas;
					pic->sas = sa;
				}
				if (outb) {
					if ((sa = sadb_manual_sa(sd, &t, d,
					    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND)) == NULL)
						goto oom;
					sa->next = pic->sas;
					pic->sas = sa;
				}
			}
		}
	}
	if (sadb_set_finish(set, ss) == -1)
		goto oom;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
sadb_build(struct sadb *sd, const Picsec__V1__ConfigSnapshot *snap, struct sadb_pic **out,
    char *err, size_t errlen)
{
	struct sadb_pic *pics = NULL, *p, *next;
	size_t i;

	for (i = 0; i < snap->n_service_sets; i++) {
		if (sadb_build_set(sd, &pics, snap, snap->service_sets[i], err, errlen) == -1)
			goto error;
	}
	*out = pics; /* NULL is a valid answer: no PIC holds anything */
	return 0;
error:
	for (p = pics; p != NULL; p = next) {
		next = p->next;
		sadb_pic_free(p);
	}
	return -1;
}

bool
sadb_sa_same(const struct sadb_sa *a, const struct sadb_sa *b)
{
	/* Where the sequence numbers start is not the SA: the PIC keeps counting. */
	Picsec__V1__Sa ma = a->msg, mb = b->msg;
	size_t la, lb;
	uint8_t *pa, *pb;
	bool same = false;

	ma.seq_start = mb.seq_start = 0;
	la = protobuf_c_message_get_packed_size(&ma.base);
	lb = protobuf_c_message_get_packed_size(&mb.base);
	if (la != lb)
		return false;
	pa = wiping_alloc(la + 1);
	pb = wiping_alloc(lb + 1);
	if (pa != NULL && pb != NULL) {
		protobuf_c_message_pack(&ma.base, pa);
		protobuf_c_message_pack(&mb.base, pb);
		same = memcmp(pa, pb, la) == 0;
	}
	wiping_free(pa);
	wiping_free(pb);
	return same;
}
