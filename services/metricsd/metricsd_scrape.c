/* One scrape: the requests to healthd, sadb, iked and configd at once, then to each PIC as
 * healthd's list (the fwd.* processes) and sadb's (the PICs holding SAs) name them; the
 * answer when every reply is in or at the deadline, whichever is first. A source that fails
 * or is late is written as down, never waited for beyond the deadline.
 *
 * Replies come back to a scrape by id: the request's cookie is the scrape's id and the
 * source's slot, and the deadline timer holds the scrape's id. */
#include "metricsd_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "log.h"
#include "metricsd_format.h"
#include "secbuf.h"
#include "strbuf.h"
#include "timer.h"
#include "u64map.h"

enum { SRC_HEALTHD, SRC_SADB, SRC_IKED, SRC_CONFIGD };
enum { SLOT_BITS = 16, SLOT_MASK = (1u << SLOT_BITS) - 1, SCRAPE_NAME_MAX = 128 };

static const char *const fixed_names[METRICSD_SOURCES_FIXED] = {
	[SRC_HEALTHD] = "healthd",
	[SRC_SADB] = "sadb",
	[SRC_IKED] = "iked",
	[SRC_CONFIGD] = "configd",
};

/* One source asked (or, for a PIC healthd says is down, not asked). */
struct slot {
	char dest[SCRAPE_NAME_MAX];		/* its bus name */
	uint64_t req;			/* the request in flight, 0: none */
	ProtobufCMessage *reply;	/* our copy; NULL: no answer */
	char why[160];			/* why there is none */
};

struct scrape {
	uint64_t id;
	uint64_t started_ns;
	uint64_t timer;
	unsigned pending;
	struct slot *slots;		/* the fixed sources, then the PICs */
	size_t nslots;
};

static void scrape_finish(struct metricsd *md, struct scrape *s);

static void
scrape_free(struct metricsd *md, struct scrape *s)
{
	size_t i;

	timers_cancel(md->timers, s->timer);
	for (i = 0; i < s->nslots; i++) {
		if (s->slots[i].req != 0)
			bus_cancel(md->bus, s->slots[i].req);
		if (s->slots[i].reply != NULL)
			protobuf_c_message_free_unpacked(s->slots[i].reply, &wiping_allocator);
	}
	free(s->slots);
	free(s);
}

static void scrape_reply(struct bus *bus, const struct bus_result *res, void *ctx,
    uint64_t cookie);

/* Sends the request of a slot, with what is left of the deadline (and a little more: the
 * scrape's own timer decides). */
static void
scrape_ask(struct metricsd *md, struct scrape *s, size_t slot, int type,
    const ProtobufCMessage *msg)
{
	struct slot *sl = &s->slots[slot];
	uint64_t elapsed_ms = (monotonic_ns() - s->started_ns) / 1000000u;
	uint64_t deadline_ms = (uint64_t)(md->deadline * 1000.0);
	unsigned left = deadline_ms > elapsed_ms ? (unsigned)(deadline_ms - elapsed_ms) : 1;

	sl->req = bus_request(md->bus, sl->dest, type, msg, left + 50, scrape_reply, md,
	    (s->id << SLOT_BITS) | slot);
	if (sl->req == 0) {
		snprintf(sl->why, sizeof(sl->why), "cannot send the request");
		return;
	}
	s->pending++;
}

/* The slot of a PIC, added if it is new; SIZE_MAX when it is known already or too many. */
static size_t
scrape_pic_slot(struct scrape *s, const char *pic)
{
	struct slot *grown;
	char dest[SCRAPE_NAME_MAX];
	size_t i;

	if (pic[0] == '\0' ||
	    (size_t)snprintf(dest, sizeof(dest), "fwd.%s", pic) >= sizeof(dest))
		return SIZE_MAX;
	for (i = METRICSD_SOURCES_FIXED; i < s->nslots; i++) {
		if (strcmp(s->slots[i].dest, dest) == 0)
			return SIZE_MAX;
	}
	if (s->nslots >= METRICSD_SOURCES_FIXED + METRICSD_PICS_MAX)
		return SIZE_MAX;
	if ((grown = realloc(s->slots, (s->nslots + 1) * sizeof(*grown))) == NULL)
		return SIZE_MAX;
	s->slots = grown;
	memset(&s->slots[s->nslots], 0, sizeof(*grown));
	memcpy(s->slots[s->nslots].dest, dest, sizeof(dest));
	return s->nslots++;
}

static void
scrape_ask_pic(struct metricsd *md, struct scrape *s, const char *pic, bool down)
{
	Picsec__V1__PicGetStats req = PICSEC__V1__PIC_GET_STATS__INIT;
	size_t slot = scrape_pic_slot(s, pic);

	if (slot == SIZE_MAX)
		return;
	if (down) {
		snprintf(s->slots[slot].why, sizeof(s->slots[slot].why), "down (healthd)");
		return;
	}
	req.service_set = (char *)(uintptr_t)"";
	scrape_ask(md, s, slot, MT(PIC_GET_STATS), &req.base);
}

/* The PICs a reply names: healthd's fwd.* processes (not those it knows are down), and
 * sadb's PICs that hold SAs (healthd may be the one missing). */
static void
scrape_ask_pics(struct metricsd *md, struct scrape *s, size_t slot)
{
	const Picsec__V1__ServiceList *sl;
	const Picsec__V1__SaList *sas;
	const char *name;
	size_t i;

	if (slot == SRC_HEALTHD) {
		sl = (const Picsec__V1__ServiceList *)s->slots[slot].reply;
		for (i = 0; i < sl->n_services; i++) {
			name = sl->services[i]->name;
			if (strncmp(name, "fwd.", 4) == 0)
				scrape_ask_pic(md, s, name + 4, sl->services[i]->state ==
				    PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN);
		}
	} else if (slot == SRC_SADB) {
		sas = (const Picsec__V1__SaList *)s->slots[slot].reply;
		for (i = 0; i < sas->n_sas; i++)
			scrape_ask_pic(md, s, sas->sas[i]->pic, false);
	}
}

static void
scrape_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct metricsd *md = ctx;
	struct scrape *s = u64map_get(md->scrapes, cookie >> SLOT_BITS);
	size_t slot = (size_t)(cookie & SLOT_MASK);
	struct slot *sl;

	(void)bus;
	if (s == NULL || slot >= s->nslots || s->slots[slot].req == 0)
		return;
	sl = &s->slots[slot];
	sl->req = 0;
	s->pending--;
	if (res->type == MT(ERROR) || res->msg == NULL) {
		snprintf(sl->why, sizeof(sl->why), "%s (%s)", res->error_text != NULL ?
		    res->error_text : "no answer", errcode_name(res->error_code));
	} else if ((sl->reply = pb_message_dup(res->msg)) == NULL) {
		snprintf(sl->why, sizeof(sl->why), "out of memory copying the answer");
	} else {
		scrape_ask_pics(md, s, slot);
	}
	if (s->pending == 0)
		scrape_finish(md, s);
}

static void
scrape_deadline(void *ctx, uint64_t id)
{
	struct metricsd *md = ctx;
	struct scrape *s = u64map_get(md->scrapes, id);
	size_t i;

	if (s == NULL)
		return;
	s->timer = 0;
	for (i = 0; i < s->nslots; i++) {
		if (s->slots[i].req == 0)
			continue;
		bus_cancel(md->bus, s->slots[i].req);
		s->slots[i].req = 0;
		snprintf(s->slots[i].why, sizeof(s->slots[i].why), "no answer within %.0f ms%s",
		    md->deadline * 1000.0, bus_get_state(md->bus) == BUS_DISCONNECTED ?
		    ": not connected to the bus (is picsec-busd running?)" : "");
	}
	s->pending = 0;
	scrape_finish(md, s);
}

/* Logs a fixed source that went down or came back (not every scrape it stays so). */
static void
scrape_log_sources(struct metricsd *md, const struct scrape *s)
{
	size_t i;
	bool down;

	for (i = 0; i < METRICSD_SOURCES_FIXED; i++) {
		down = s->slots[i].reply == NULL;
		if (down && !md->source_down[i])
			log_warnx("scrape: %s did not answer: %s", fixed_names[i], s->slots[i].why);
		else if (!down && md->source_down[i])
			log_info("scrape: %s answers again", fixed_names[i]);
		md->source_down[i] = down;
	}
	for (i = METRICSD_SOURCES_FIXED; i < s->nslots; i++) {
		if (s->slots[i].reply == NULL)
			log_debug("scrape: %s did not answer: %s", s->slots[i].dest,
			    s->slots[i].why);
	}
}

static int
pic_cmp(const void *a, const void *b)
{
	return strcmp(((const struct metricsd_pic *)a)->name,
	    ((const struct metricsd_pic *)b)->name);
}

static void
scrape_finish(struct metricsd *md, struct scrape *s)
{
	struct metricsd_input in = { .npics = 0 };
	struct metricsd_pic *pics;
	struct strbuf body = STRBUF_INIT;
	size_t i;

	u64map_take(md->scrapes, s->id);
	scrape_log_sources(md, s);
	pics = calloc(s->nslots, sizeof(*pics));
	if (pics == NULL) {
		body.failed = true;
		goto out;
	}
	in.services = (const Picsec__V1__ServiceList *)s->slots[SRC_HEALTHD].reply;
	in.sas = (const Picsec__V1__SaList *)s->slots[SRC_SADB].reply;
	in.ike = (const Picsec__V1__IkeList *)s->slots[SRC_IKED].reply;
	in.config = (const Picsec__V1__ConfigSnapshot *)s->slots[SRC_CONFIGD].reply;
	for (i = METRICSD_SOURCES_FIXED; i < s->nslots; i++) {
		pics[in.npics].name = s->slots[i].dest + 4;
		pics[in.npics++].stats = (const Picsec__V1__PicStats *)s->slots[i].reply;
	}
	qsort(pics, in.npics, sizeof(*pics), pic_cmp);
	in.pics = pics;
	in.duration_seconds = (double)(monotonic_ns() - s->started_ns) / 1e9;
	metricsd_format(&body, &in);
out:
	metricsd_http_answer(md->http, s->id, strbuf_failed(&body) ?
	    MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_OK, &body);
	free(pics);
	scrape_free(md, s);
}

static void
scrape_busy(struct metricsd *md, uint64_t req, const char *text)
{
	struct strbuf body = STRBUF_INIT;

	strbuf_adds(&body, text);
	metricsd_http_answer(md->http, req, MHD_HTTP_SERVICE_UNAVAILABLE, &body);
}

void
metricsd_scrape(void *ctx, uint64_t req)
{
	Picsec__V1__ServiceGetList services = PICSEC__V1__SERVICE_GET_LIST__INIT;
	Picsec__V1__SaGetList sas = PICSEC__V1__SA_GET_LIST__INIT;
	Picsec__V1__IkeGetList ike = PICSEC__V1__IKE_GET_LIST__INIT;
	Picsec__V1__ConfigGetSnapshot config = PICSEC__V1__CONFIG_GET_SNAPSHOT__INIT;
	struct metricsd *md = ctx;
	struct scrape *s;
	size_t i;

	if (u64map_count(md->scrapes) >= METRICSD_SCRAPES_MAX) {
		scrape_busy(md, req, "too many scrapes at once\n");
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->slots = calloc(METRICSD_SOURCES_FIXED, sizeof(*s->slots))) == NULL) {
		free(s);
		scrape_busy(md, req, "out of memory\n");
		return;
	}
	s->id = req;
	s->nslots = METRICSD_SOURCES_FIXED;
	s->started_ns = monotonic_ns();
	for (i = 0; i < METRICSD_SOURCES_FIXED; i++)
		snprintf(s->slots[i].dest, sizeof(s->slots[i].dest), "%s", fixed_names[i]);
	s->timer = timers_add(md->timers, md->deadline, scrape_deadline, s->id);
	if (s->timer == 0 || u64map_put(md->scrapes, s->id, s) == -1) {
		scrape_free(md, s);
		scrape_busy(md, req, "out of memory\n");
		return;
	}
	sas.service_set = (char *)(uintptr_t)"";
	scrape_ask(md, s, SRC_HEALTHD, MT(SERVICE_GET_LIST), &services.base);
	scrape_ask(md, s, SRC_SADB, MT(SA_GET_LIST), &sas.base);
	scrape_ask(md, s, SRC_IKED, MT(IKE_GET_LIST), &ike.base);
	scrape_ask(md, s, SRC_CONFIGD, MT(CONFIG_GET_SNAPSHOT), &config.base);
	if (s->pending == 0)
		scrape_finish(md, s);
}

static void
scrape_collect(uint64_t key, void *value, void *arg)
{
	struct scrape ***next = arg;

	(void)key;
	*(*next)++ = value;
}

/* Ends every scrape in progress (their connections get 503 from the HTTP side). */
void
metricsd_scrapes_free(struct metricsd *md)
{
	struct scrape **all, **next;
	size_t i, n;

	if (md->scrapes == NULL || (n = u64map_count(md->scrapes)) == 0)
		return;
	if ((all = next = calloc(n, sizeof(*all))) == NULL)
		return; /* leaked at exit rather than freed while listed */
	u64map_foreach(md->scrapes, scrape_collect, &next);
	for (i = 0; i < n; i++) {
		u64map_take(md->scrapes, all[i]->id);
		scrape_free(md, all[i]);
	}
	free(all);
}
