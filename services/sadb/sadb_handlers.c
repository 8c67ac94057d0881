/* What picsec-sadb answers and follows on the bus, by message type. */
#include "sadb_impl.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "log.h"
#include "u64map.h"

enum { SADB_CONFIG_TIMEOUT_MS = 5000, SADB_SPI_BATCH_MAX = 64, SADB_INSTALL_MAX = 16 };

static void
sadb_config_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	(void)m;
	sadb_config(ctx, (const Picsec__V1__ConfigSnapshot *)payload);
}

static void
sadb_config_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	(void)bus;
	(void)cookie;
	if (res->type == MT(CONFIG_SNAPSHOT)) {
		sadb_config(ctx, (const Picsec__V1__ConfigSnapshot *)res->msg);
		return;
	}
	/* configd publishes on its own (re)registration: we follow from that event. */
	log_info("no configuration from configd yet (%s): waiting for its event",
	    res->error_text != NULL ? res->error_text : "no answer");
}

static void
sadb_get_snapshot(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaGetSnapshot *req = (const Picsec__V1__SaGetSnapshot *)payload;

	sadb_reply_snapshot(ctx, m, req->pic);
}

static void
sadb_status_event(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	(void)m;
	sadb_pic_status(ctx, (const Picsec__V1__PicStatus *)payload);
}

static void
sadb_alloc_spi(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaAllocSpi *req = (const Picsec__V1__SaAllocSpi *)payload;
	Picsec__V1__SaSpi reply = PICSEC__V1__SA_SPI__INIT;
	uint32_t more[SADB_SPI_BATCH_MAX];
	const uint8_t *dst = NULL;
	size_t dstlen = 0;

	if (req->protocol != PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP &&
	    req->protocol != PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_AH) {
		bus_reply_error(m, ERRC(INVALID_ARGUMENT), "SPIs are for ESP or AH");
		return;
	}
	if (req->destination != NULL) {
		dst = req->destination->addr.data;
		dstlen = req->destination->addr.len;
	}
	if (dstlen != 4 && dstlen != 16) {
		bus_reply_error(m, ERRC(INVALID_ARGUMENT), "the destination is no IP address");
		return;
	}
	if (req->count > SADB_SPI_BATCH_MAX) {
		bus_reply_error(m, ERRC(INVALID_ARGUMENT), "at most 64 SPIs at a time");
		return;
	}
	if ((reply.spi = sadb_spi_alloc(ctx, req->protocol, dst, dstlen)) == 0) {
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "no free SPI found");
		return;
	}
	/* A batch spares iked a round trip per Child SA; a short one is still an answer. */
	reply.more = more;
	while (req->count > 1 && reply.n_more + 1 < req->count &&
	    (more[reply.n_more] = sadb_spi_alloc(ctx, req->protocol, dst, dstlen)) != 0)
		reply.n_more++;
	bus_reply(m, MT(SA_SPI), &reply.base);
}

static void
sadb_install(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaInstall *req = (const Picsec__V1__SaInstall *)payload;
	Picsec__V1__SaInstalled reply = PICSEC__V1__SA_INSTALLED__INIT;
	uint64_t ids[SADB_INSTALL_MAX];
	char err[256];
	int rc;

	if (req->n_sas == 0 || req->n_sas > SADB_INSTALL_MAX) {
		bus_reply_error(m, ERRC(INVALID_ARGUMENT), "1 to 16 SAs at a time");
		return;
	}
	if (!((struct sadb *)ctx)->have_config) {
		bus_reply_error(m, ERRC(UNAVAILABLE), "sadb has no configuration yet");
		return;
	}
	if ((rc = sadb_dynamic_install(ctx, req->sas, req->n_sas, ids, err, sizeof(err))) < 0) {
		log_warnx("install refused: %s", err);
		bus_reply_error(m, rc == -2 ? ERRC(RESOURCE_EXHAUSTED) : ERRC(INVALID_ARGUMENT),
		    "%s", err);
		return;
	}
	reply.ids = ids;
	reply.n_ids = req->n_sas;
	bus_reply(m, MT(SA_INSTALLED), &reply.base);
}

static void
sadb_remove(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaRemove *req = (const Picsec__V1__SaRemove *)payload;
	Picsec__V1__SaRemoved reply = PICSEC__V1__SA_REMOVED__INIT;
	uint64_t *removed = calloc(req->n_ids + 1, sizeof(*removed));

	if (removed == NULL) {
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "out of memory");
		return;
	}
	reply.n_ids = sadb_dynamic_remove(ctx, req->ids, req->n_ids, removed);
	reply.ids = removed;
	reply.reason = req->reason;
	if (reply.n_ids > 0)
		log_info("%zu negotiated SA%s removed: %s", reply.n_ids,
		    reply.n_ids == 1 ? "" : "s", req->reason[0] != '\0' ? req->reason : "by iked");
	bus_reply(m, MT(SA_REMOVED), &reply.base);
	free(removed);
}

struct sa_list_build {
	const char *service_set;
	Picsec__V1__SaInfo *infos;
	Picsec__V1__Sa *copies;
	Picsec__V1__SaInfo **ptrs;
	size_t n;
};

static void
sadb_list_one(uint64_t id, void *value, void *arg)
{
	const struct sadb_sa *sa = value;
	struct sa_list_build *b = arg;
	Picsec__V1__SaInfo *info = &b->infos[b->n];
	Picsec__V1__Sa *copy = &b->copies[b->n];

	(void)id;
	if (b->service_set[0] != '\0' && strcmp(b->service_set, sa->service_set) != 0)
		return;
	*copy = sa->msg;
	copy->enc_key = NULL; /* never shown */
	copy->auth_key = NULL;
	picsec__v1__sa_info__init(info);
	info->sa = copy;
	info->pic = (char *)(uintptr_t)sa->pic->name;
	info->installed = sa->installed;
	info->created_ns = sa->created_ns;
	b->ptrs[b->n++] = info;
}

static void
sadb_get_list(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaGetList *req = (const Picsec__V1__SaGetList *)payload;
	Picsec__V1__SaList list = PICSEC__V1__SA_LIST__INIT;
	struct sadb *sd = ctx;
	size_t total = u64map_count(sd->sas_by_id);
	struct sa_list_build b = { .service_set = req->service_set };

	b.infos = calloc(total + 1, sizeof(*b.infos));
	b.copies = calloc(total + 1, sizeof(*b.copies));
	b.ptrs = calloc(total + 1, sizeof(*b.ptrs));
	if (b.infos == NULL || b.copies == NULL || b.ptrs == NULL) {
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "out of memory");
		goto out;
	}
	u64map_foreach(sd->sas_by_id, sadb_list_one, &b);
	list.sas = b.ptrs;
	list.n_sas = b.n;
	bus_reply(m, MT(SA_LIST), &list.base);
out:
	free(b.infos);
	free(b.copies);
	free(b.ptrs);
}

static void
sadb_clear_handler(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaClear *req = (const Picsec__V1__SaClear *)payload;
	Picsec__V1__SaCleared reply = PICSEC__V1__SA_CLEARED__INIT;

	reply.count = sadb_clear(ctx, req->service_set);
	log_info("clear %s%s: %u SAs", req->service_set[0] != '\0' ? "service set " : "all",
	    req->service_set, reply.count);
	bus_reply(m, MT(SA_CLEARED), &reply.base);
}

/* Every request is answered before its handler returns, so one client's requests are
 * answered in their order: iked's census of an earlier iked's SAs relies on an install
 * asked before it being answered first (iked_census.c). */
static const struct bus_handler sadb_handlers[] = {
	[MT(CONFIG_SNAPSHOT)] = { sadb_config_event },
	[MT(SA_GET_SNAPSHOT)] = { sadb_get_snapshot },
	[MT(PIC_STATUS)] = { sadb_status_event },
	[MT(SA_ALLOC_SPI)] = { sadb_alloc_spi },
	[MT(SA_GET_LIST)] = { sadb_get_list },
	[MT(SA_CLEAR)] = { sadb_clear_handler },
	[MT(SA_INSTALL)] = { sadb_install },
	[MT(SA_REMOVE)] = { sadb_remove },
	[MT(SERVICE_STATE)] = { sadb_service_event },
	[MT(IFACE_EVENT)] = { sadb_iface_event },
};

static void
sadb_on_state(struct bus *bus, enum bus_state state, void *ctx)
{
	Picsec__V1__ConfigGetSnapshot req = PICSEC__V1__CONFIG_GET_SNAPSHOT__INIT;

	if (state != BUS_REGISTERED)
		return;
	sadb_health_sync(ctx);
	/* After every (re)registration: a commit may have gone by meanwhile. */
	if (bus_request(bus, "configd", MT(CONFIG_GET_SNAPSHOT), &req.base,
	    SADB_CONFIG_TIMEOUT_MS, sadb_config_reply, ctx, 0) == 0)
		log_warn("asking configd for the configuration");
}

void
sadb_handlers_install(struct sadb *sd)
{
	bus_set_handlers(sd->bus, sadb_handlers, ARRAY_SIZE(sadb_handlers), sd);
	bus_on_state(sd->bus, sadb_on_state, sd);
}
