#include "catalog.h"

#include <string.h>

#include "bus.pb-c.h"
#include "config.pb-c.h"
#include "health.pb-c.h"
#include "ike.pb-c.h"
#include "sa.pb-c.h"
#include "envelope.pb-c.h"

struct catalog_entry {
	const ProtobufCMessageDescriptor *desc;
	int reply; /* for a request: the type of its answer; MT_NONE for events and replies */
};

/* Indexed by MsgType. The name of each message is the CamelCase of its MT_ name; the unit
 * test checks that every enum value is here and that the names agree. A request names the
 * type of its reply, so a reply of any other type (but Error) is refused as data loss. */
static const struct catalog_entry catalog[] = {
	[MT(ERROR)] = { &picsec__v1__error__descriptor, MT(NONE) },
	[MT(SERVICE_HELLO)] = { &picsec__v1__service_hello__descriptor, MT(NONE) },
	[MT(HEARTBEAT)] = { &picsec__v1__heartbeat__descriptor, MT(NONE) },
	[MT(PING)] = { &picsec__v1__ping__descriptor, MT(PONG) },
	[MT(PONG)] = { &picsec__v1__pong__descriptor, MT(NONE) },
	[MT(BUS_REGISTER)] = { &picsec__v1__bus_register__descriptor, MT(BUS_REGISTERED) },
	[MT(BUS_REGISTERED)] = { &picsec__v1__bus_registered__descriptor, MT(NONE) },
	[MT(BUS_LIST_SERVICES)] = { &picsec__v1__bus_list_services__descriptor,
	    MT(BUS_SERVICE_LIST) },
	[MT(BUS_SERVICE_LIST)] = { &picsec__v1__bus_service_list__descriptor, MT(NONE) },
	[MT(BUS_GET_STATS)] = { &picsec__v1__bus_get_stats__descriptor, MT(BUS_STATS) },
	[MT(BUS_STATS)] = { &picsec__v1__bus_stats__descriptor, MT(NONE) },
	[MT(CONFIG_SNAPSHOT)] = { &picsec__v1__config_snapshot__descriptor, MT(NONE) },
	[MT(CONFIG_GET_SNAPSHOT)] = { &picsec__v1__config_get_snapshot__descriptor,
	    MT(CONFIG_SNAPSHOT) },
	[MT(CONFIG_SESSION_OPEN)] = { &picsec__v1__config_session_open__descriptor,
	    MT(CONFIG_SESSION) },
	[MT(CONFIG_SESSION)] = { &picsec__v1__config_session__descriptor, MT(NONE) },
	[MT(CONFIG_SESSION_CLOSE)] = { &picsec__v1__config_session_close__descriptor,
	    MT(CONFIG_RESULT) },
	[MT(CONFIG_COMMAND)] = { &picsec__v1__config_command__descriptor, MT(CONFIG_RESULT) },
	[MT(CONFIG_RESULT)] = { &picsec__v1__config_result__descriptor, MT(NONE) },
	[MT(SA_GET_SNAPSHOT)] = { &picsec__v1__sa_get_snapshot__descriptor, MT(SA_SNAPSHOT) },
	[MT(SA_SNAPSHOT)] = { &picsec__v1__sa_snapshot__descriptor, MT(NONE) },
	[MT(SA_UPDATE)] = { &picsec__v1__sa_update__descriptor, MT(NONE) },
	[MT(PIC_STATUS)] = { &picsec__v1__pic_status__descriptor, MT(NONE) },
	[MT(SA_ALLOC_SPI)] = { &picsec__v1__sa_alloc_spi__descriptor, MT(SA_SPI) },
	[MT(SA_SPI)] = { &picsec__v1__sa_spi__descriptor, MT(NONE) },
	[MT(SA_EXPIRE)] = { &picsec__v1__sa_expire__descriptor, MT(NONE) },
	[MT(SA_GET_LIST)] = { &picsec__v1__sa_get_list__descriptor, MT(SA_LIST) },
	[MT(SA_LIST)] = { &picsec__v1__sa_list__descriptor, MT(NONE) },
	[MT(SA_CLEAR)] = { &picsec__v1__sa_clear__descriptor, MT(SA_CLEARED) },
	[MT(SA_CLEARED)] = { &picsec__v1__sa_cleared__descriptor, MT(NONE) },
	[MT(PIC_GET_STATS)] = { &picsec__v1__pic_get_stats__descriptor, MT(PIC_STATS) },
	[MT(PIC_STATS)] = { &picsec__v1__pic_stats__descriptor, MT(NONE) },
	[MT(SA_INSTALL)] = { &picsec__v1__sa_install__descriptor, MT(SA_INSTALLED) },
	[MT(SA_INSTALLED)] = { &picsec__v1__sa_installed__descriptor, MT(NONE) },
	[MT(SA_REMOVE)] = { &picsec__v1__sa_remove__descriptor, MT(SA_REMOVED) },
	[MT(SA_REMOVED)] = { &picsec__v1__sa_removed__descriptor, MT(NONE) },
	[MT(SA_ACQUIRE)] = { &picsec__v1__sa_acquire__descriptor, MT(NONE) },
	[MT(IKE_GET_LIST)] = { &picsec__v1__ike_get_list__descriptor, MT(IKE_LIST) },
	[MT(IKE_LIST)] = { &picsec__v1__ike_list__descriptor, MT(NONE) },
	[MT(IKE_CLEAR)] = { &picsec__v1__ike_clear__descriptor, MT(IKE_CLEARED) },
	[MT(IKE_CLEARED)] = { &picsec__v1__ike_cleared__descriptor, MT(NONE) },
	[MT(IKE_GET_STATS)] = { &picsec__v1__ike_get_stats__descriptor, MT(IKE_STATS) },
	[MT(IKE_STATS)] = { &picsec__v1__ike_stats__descriptor, MT(NONE) },
	[MT(SERVICE_STATE)] = { &picsec__v1__service_state__descriptor, MT(NONE) },
	[MT(SERVICE_GET_LIST)] = { &picsec__v1__service_get_list__descriptor, MT(SERVICE_LIST) },
	[MT(SERVICE_LIST)] = { &picsec__v1__service_list__descriptor, MT(NONE) },
	[MT(IFACE_EVENT)] = { &picsec__v1__iface_event__descriptor, MT(NONE) },
	[MT(IFACE_GET_STATE)] = { &picsec__v1__iface_get_state__descriptor, MT(IFACE_STATE) },
	[MT(IFACE_STATE)] = { &picsec__v1__iface_state__descriptor, MT(NONE) },
	[MT(SA_CLEANUP)] = { &picsec__v1__sa_cleanup__descriptor, MT(NONE) },
};

const ProtobufCMessageDescriptor *
catalog_descriptor(int type)
{
	if (type <= 0 || (size_t)type >= ARRAY_SIZE(catalog))
		return NULL;
	return catalog[type].desc;
}

int
catalog_reply_type(int type)
{
	if (type <= 0 || (size_t)type >= ARRAY_SIZE(catalog))
		return MT(NONE);
	return catalog[type].reply;
}

const char *
catalog_type_name(int type)
{
	const ProtobufCMessageDescriptor *d = catalog_descriptor(type);

	return d != NULL ? d->short_name : NULL;
}

int
catalog_type_by_name(const char *name)
{
	const ProtobufCEnumValue *v;
	size_t i;

	if (name == NULL)
		return MT(NONE);
	v = protobuf_c_enum_descriptor_get_value_by_name(&picsec__v1__msg_type__descriptor,
	    name);
	if (v != NULL)
		return v->value;
	for (i = 1; i < ARRAY_SIZE(catalog); i++) {
		if (catalog[i].desc == NULL)
			continue;
		if (strcmp(catalog[i].desc->short_name, name) == 0 ||
		    strcmp(catalog[i].desc->name, name) == 0)
			return (int)i;
	}
	return MT(NONE);
}

enum { CATALOG_MAX_DEPTH = 16 };

static bool
catalog_holds_secret(const ProtobufCMessageDescriptor *desc, unsigned depth)
{
	const ProtobufCFieldDescriptor *fd;
	unsigned i;

	if (strcmp(desc->name, picsec__v1__secret__descriptor.name) == 0)
		return true;
	/* Messages may nest themselves; anything this deep is treated as secret. */
	if (depth > CATALOG_MAX_DEPTH)
		return true;
	for (i = 0; i < desc->n_fields; i++) {
		fd = &desc->fields[i];
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE && catalog_holds_secret(fd->descriptor,
		    depth + 1))
			return true;
	}
	return false;
}

bool
catalog_descriptor_holds_secret(const ProtobufCMessageDescriptor *desc)
{
	return catalog_holds_secret(desc, 0);
}

bool
catalog_carries_secret(int type)
{
	/* 0: not computed yet, 1: carries a Secret, -1: does not. */
	static signed char cache[ARRAY_SIZE(catalog)];
	const ProtobufCMessageDescriptor *d = catalog_descriptor(type);

	if (d == NULL)
		return true;
	if (cache[type] == 0)
		cache[type] = catalog_holds_secret(d, 0) ? 1 : -1;
	return cache[type] > 0;
}

int
catalog_type_limit(void)
{
	return (int)ARRAY_SIZE(catalog);
}

const char *
errcode_name(int code)
{
	const ProtobufCEnumValue *v;

	v = protobuf_c_enum_descriptor_get_value(&picsec__v1__error_code__descriptor, code);
	return v != NULL ? v->name : "E_?";
}
