/* Following healthd (health_follow.h). The lists are short: a client notes only the PICs
 * and addresses of its own configuration, since anyone on the bus may publish service.*
 * and iface.* events. */
#include "health_follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "health.pb-c.h"

struct health_down {
	struct health_down *next;
	char pic[HEALTH_NAME_MAX]; /* a PIC, or "" */
	uint8_t addr[16];	   /* or an address */
	size_t addrlen;
};

struct health_downs {
	struct health_down *head;
};

/* The handlers a sync's answers go to. */
struct health_sync_to {
	bus_handler_fn *iface_event, *service_event;
	void *ctx;
};

struct health_downs *
health_downs_new(void)
{
	return calloc(1, sizeof(struct health_downs));
}

void
health_downs_free(struct health_downs *d)
{
	struct health_down *e, *next;

	if (d == NULL)
		return;
	for (e = d->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	free(d);
}

static struct health_down **
health_find(struct health_downs *d, const char *pic, const uint8_t *addr, size_t len)
{
	struct health_down **pp;

	for (pp = &d->head; *pp != NULL; pp = &(*pp)->next) {
		if (pic != NULL && (*pp)->pic[0] != '\0' && strcmp((*pp)->pic, pic) == 0)
			return pp;
		if (addr != NULL && (*pp)->pic[0] == '\0' && (*pp)->addrlen == len &&
		    memcmp((*pp)->addr, addr, len) == 0)
			return pp;
	}
	return NULL;
}

bool
health_pic_is_down(const struct health_downs *d, const char *pic)
{
	return health_find((struct health_downs *)(uintptr_t)d, pic, NULL, 0) != NULL;
}

bool
health_addr_is_down(const struct health_downs *d, const uint8_t *addr, size_t len)
{
	return health_find((struct health_downs *)(uintptr_t)d, NULL, addr, len) != NULL;
}

static bool
health_set(struct health_downs *d, const char *pic, const uint8_t *addr, size_t len, bool down)
{
	struct health_down **pp = health_find(d, pic, addr, len), *e;

	if (down == (pp != NULL))
		return false;
	if (!down) {
		e = *pp;
		*pp = e->next;
		free(e);
		return true;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return false;
	if (pic != NULL) {
		snprintf(e->pic, sizeof(e->pic), "%s", pic);
	} else {
		memcpy(e->addr, addr, len);
		e->addrlen = len;
	}
	e->next = d->head;
	d->head = e;
	return true;
}

bool
health_set_pic(struct health_downs *d, const char *pic, bool down)
{
	if (pic == NULL || pic[0] == '\0' || strlen(pic) >= HEALTH_NAME_MAX)
		return false;
	return health_set(d, pic, NULL, 0, down);
}

bool
health_set_addr(struct health_downs *d, const uint8_t *addr, size_t len, bool down)
{
	if (addr == NULL || (len != 4 && len != 16))
		return false;
	return health_set(d, NULL, addr, len, down);
}

size_t
health_downs_count(const struct health_downs *d)
{
	size_t n = 0;

	for (const struct health_down *e = d->head; e != NULL; e = e->next)
		n++;
	return n;
}

static void
health_iface_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	const Picsec__V1__IfaceState *st = (const Picsec__V1__IfaceState *)res->msg;
	struct health_sync_to *to = ctx;

	(void)bus;
	(void)cookie;
	if (res->type == MT(IFACE_STATE)) {
		for (size_t i = 0; i < st->n_addresses; i++)
			to->iface_event(NULL, &st->addresses[i]->base, to->ctx);
	}
	free(to);
}

static void
health_services_reply(struct bus *bus, const struct bus_result *res, void *ctx,
    uint64_t cookie)
{
	const Picsec__V1__ServiceList *list = (const Picsec__V1__ServiceList *)res->msg;
	Picsec__V1__ServiceState st = PICSEC__V1__SERVICE_STATE__INIT;
	struct health_sync_to *to = ctx;

	(void)bus;
	(void)cookie;
	if (res->type == MT(SERVICE_LIST)) {
		for (size_t i = 0; i < list->n_services; i++) {
			st.name = list->services[i]->name;
			st.state = list->services[i]->state;
			st.cause = list->services[i]->last_cause;
			st.incarnation = list->services[i]->incarnation;
			to->service_event(NULL, &st.base, to->ctx);
		}
	}
	free(to);
}

/* A copy per request: each callback frees its own, and it is called exactly once. */
static void
health_ask(struct bus *bus, int type, const ProtobufCMessage *msg, bus_reply_fn *cb,
    const struct health_sync_to *to)
{
	struct health_sync_to *copy = malloc(sizeof(*copy));

	if (copy == NULL)
		return;
	*copy = *to;
	if (bus_request(bus, "healthd", type, msg, 0, cb, copy, 0) == 0)
		free(copy);
}

void
health_follow_sync(struct bus *bus, Picsec__V1__IpAddress **addrs, size_t n,
    bus_handler_fn *iface_event, bus_handler_fn *service_event, void *ctx)
{
	Picsec__V1__IfaceGetState q = PICSEC__V1__IFACE_GET_STATE__INIT;
	Picsec__V1__ServiceGetList sq = PICSEC__V1__SERVICE_GET_LIST__INIT;
	struct health_sync_to to = { iface_event, service_event, ctx };

	q.addresses = addrs;
	q.n_addresses = n;
	if (n > 0)
		health_ask(bus, MT(IFACE_GET_STATE), &q.base, health_iface_reply, &to);
	health_ask(bus, MT(SERVICE_GET_LIST), &sq.base, health_services_reply, &to);
}
