/* The kernel's network configuration over rtnetlink (libmnl), for what a PIC sets up and
 * asks: service veths, routes into them, where a local address lives, the next hop and
 * its link-layer address. Synchronous requests on one socket. */
#ifndef PICSEC_FWD_NL_H
#define PICSEC_FWD_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fwd_nl;

struct fwd_nl *fwd_nl_new(char *err, size_t errlen);
void fwd_nl_free(struct fwd_nl *nl);

/* A veth pair; 0, or -errno. */
int fwd_nl_veth_add(struct fwd_nl *nl, const char *name, const char *peer);
int fwd_nl_link_del(struct fwd_nl *nl, const char *name);
/* Up, with ARP off (neighbours resolve to the device's own address) and an MTU (0: keep). */
int fwd_nl_link_setup(struct fwd_nl *nl, int ifindex, bool noarp, unsigned mtu);
/* Adds (or, del, removes) dst/len through device oif, in the main table. */
int fwd_nl_route(struct fwd_nl *nl, bool del, const uint8_t dst[4], unsigned len, int oif);
/* The route to dst: the next hop (dst itself when on-link) and the device. */
int fwd_nl_route_get(struct fwd_nl *nl, const uint8_t dst[4], uint8_t nexthop[4], int *oif);
/* The link-layer address of ip on oif, when the kernel knows one; -ENOENT otherwise. */
int fwd_nl_neigh_get(struct fwd_nl *nl, int oif, const uint8_t ip[4], uint8_t mac[6]);
/* The device that holds the local address ip; -ENOENT when none does. */
int fwd_nl_addr_dev(struct fwd_nl *nl, const uint8_t ip[4], int *ifindex);

/* Helpers outside netlink. */
int fwd_link_mac(const char *name, uint8_t mac[6]);
unsigned fwd_link_mtu(const char *name);
/* Checksum offload, scatter-gather, TSO and GSO off: the kernel then finishes checksums
 * and segments before a packet enters the device, so AF_XDP sees whole, valid packets. */
int fwd_link_no_offloads(const char *name);
int fwd_sysctl(const char *path, const char *value);

#endif
