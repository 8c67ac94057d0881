/* What picsec-fwd follows and answers on the bus, by message type. */
#include "fwd_impl.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "log.h"
#include "u64map.h"

static void
fwd_update_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	(void)m;
	fwd_stream_update(ctx, (const Picsec__V1__SaUpdate *)payload);
}

struct stats_build {
	struct fwd *f;
	const char *service_set;
	bool clear;
	Picsec__V1__SaCounters *c;
	Picsec__V1__SaCounters **ptrs;
	size_t n;
};

static void
fwd_stats_sa(uint64_t id, void *value, void *arg)
{
	struct fwd_sa *sa = value;
	struct stats_build *b = arg;
	const struct dp_sa_counters *dc;
	Picsec__V1__SaCounters *c;

	if (sa->dp == NULL || (b->service_set[0] != '\0' &&
	    strcmp(b->service_set, sa->service_set) != 0))
		return;
	if (b->clear) {
		dp_sa_clear_counters(sa->dp);
		return;
	}
	dc = dp_sa_counters(sa->dp);
	c = &b->c[b->n];
	picsec__v1__sa_counters__init(c);
	c->id = id;
	c->esp_packets = dc->esp_packets;
	c->esp_bytes = dc->esp_bytes;
	c->ah_packets = dc->ah_packets;
	c->ah_bytes = dc->ah_bytes;
	c->esp_auth_failures = dc->esp_auth_failures;
	c->ah_auth_failures = dc->ah_auth_failures;
	c->replay_errors = dc->replay_errors;
	c->decrypt_failures = dc->decrypt_failures;
	c->bad_headers = dc->bad_headers;
	c->bad_trailers = dc->bad_trailers;
	c->mtu_exceeded = dc->mtu_exceeded;
	c->seq_exhausted = dc->seq_exhausted;
	b->ptrs[b->n++] = c;
}

static void
fwd_get_stats(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__PicGetStats *req = (const Picsec__V1__PicGetStats *)payload;
	Picsec__V1__PicStats reply = PICSEC__V1__PIC_STATS__INIT;
	struct fwd *f = ctx;
	struct stats_build b = { .f = f, .service_set = req->service_set, .clear = req->clear };
	Picsec__V1__ServiceSetCounters *sc = NULL, **scp = NULL;
	size_t n = u64map_count(f->sas), nsets = 0, i = 0;
	struct fwd_set *s;

	for (s = f->sets; s != NULL; s = s->next)
		nsets++;
	b.c = calloc(n + 1, sizeof(*b.c));
	b.ptrs = calloc(n + 1, sizeof(*b.ptrs));
	sc = calloc(nsets + 1, sizeof(*sc));
	scp = calloc(nsets + 1, sizeof(*scp));
	if (b.c == NULL || b.ptrs == NULL || sc == NULL || scp == NULL) {
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "out of memory");
		goto out;
	}
	u64map_foreach(f->sas, fwd_stats_sa, &b);
	for (s = f->sets; s != NULL; s = s->next) {
		if (req->service_set[0] != '\0' && strcmp(req->service_set, s->name) != 0)
			continue;
		if (req->clear) {
			memset(&s->c, 0, sizeof(s->c));
			continue;
		}
		picsec__v1__service_set_counters__init(&sc[i]);
		sc[i].service_set = s->name;
		sc[i].invalid_spi = s->c.invalid_spi;
		sc[i].no_sa = s->c.no_sa;
		scp[i] = &sc[i];
		i++;
	}
	if (req->clear && req->service_set[0] == '\0')
		memset(&f->c, 0, sizeof(f->c));
	reply.pic = f->pic;
	reply.sas = b.ptrs;
	reply.n_sas = b.n;
	reply.service_sets = scp;
	reply.n_service_sets = i;
	bus_reply(m, MT(PIC_STATS), &reply.base);
out:
	free(b.c);
	free(b.ptrs);
	free(sc);
	free(scp);
}

static const struct bus_handler fwd_handlers[] = {
	[MT(SA_UPDATE)] = { fwd_update_event },
	[MT(PIC_GET_STATS)] = { fwd_get_stats },
};

static void
fwd_on_state(struct bus *bus, enum bus_state state, void *ctx)
{
	(void)bus;
	/* After every (re)registration: updates may have gone by; the snapshot says. */
	if (state == BUS_REGISTERED)
		fwd_stream_start(ctx);
}

void
fwd_handlers_install(struct fwd *f)
{
	bus_set_handlers(f->bus, fwd_handlers, ARRAY_SIZE(fwd_handlers), f);
	bus_on_state(f->bus, fwd_on_state, f);
}
