/* Following healthd, as sadb and iked do for the cleanup rules: the PICs and local gateway
 * addresses it said are down, and the sync after a (re)registration or a commit that hands
 * healthd's present state to the client's own event handlers, as if it had just been
 * published. */
#ifndef PICSEC_HEALTH_FOLLOW_H
#define PICSEC_HEALTH_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "config.pb-c.h"

enum { HEALTH_NAME_MAX = 64 }; /* a longer PIC name is never remembered */

struct health_downs;

struct health_downs *health_downs_new(void);
void health_downs_free(struct health_downs *d);
bool health_pic_is_down(const struct health_downs *d, const char *pic);
bool health_addr_is_down(const struct health_downs *d, const uint8_t *addr, size_t len);
/* Notes the PIC (or the address, 4 or 16 bytes) down or up; whether that is news. False too
 * when it cannot be noted (a name too long, out of memory). */
bool health_set_pic(struct health_downs *d, const char *pic, bool down);
bool health_set_addr(struct health_downs *d, const uint8_t *addr, size_t len, bool down);
/* How many are noted down. */
size_t health_downs_count(const struct health_downs *d);

/* Asks healthd for these addresses' state (IfaceGetState, none asked when n is 0) and for
 * every service's (ServiceGetList), and gives each address to iface_event and each service
 * to service_event with ctx (the bus message NULL). Quietly: without healthd nothing is
 * known to be down. */
void health_follow_sync(struct bus *bus, Picsec__V1__IpAddress **addrs, size_t n,
    bus_handler_fn *iface_event, bus_handler_fn *service_event, void *ctx);

#endif
