/* The PIC's BPF programs (forwarder/bpf/, compiled by meson and embedded): loaded from
 * memory, attached to a device, detached on exit. */
#ifndef PICSEC_FWD_BPF_H
#define PICSEC_FWD_BPF_H

#include <stdbool.h>
#include <stddef.h>

#include "bpf/tc_divert.h"

enum fwd_xdp_kind {
	FWD_XDP_OUTSIDE, /* ESP, AH, ESP in UDP to a local gateway */
	FWD_XDP_SERVICE, /* everything IPv4 on a service veth */
};

struct fwd_xdp;
struct fwd_tc;

/* Attaches in native mode, falling back to generic mode unless native_only. A program
 * of ours left behind by an earlier PIC is replaced; anyone else's is an error. */
struct fwd_xdp *fwd_xdp_attach(enum fwd_xdp_kind kind, int ifindex, bool native_only,
    char *err, size_t errlen);
void fwd_xdp_detach(struct fwd_xdp *x);
int fwd_xdp_xskmap(const struct fwd_xdp *x);
/* The local gateways map of an outside program; -1 for a service one. */
int fwd_xdp_gateways(const struct fwd_xdp *x);
const char *fwd_xdp_mode(const struct fwd_xdp *x);

/* tc egress on ifindex, diverting what rules match into service veths. */
struct fwd_tc *fwd_tc_attach(int ifindex, char *err, size_t errlen);
/* Replaces the rules, changing only what changed; 0, -E2BIG when some did not fit (the
 * rest are in), or -errno. */
int fwd_tc_set_rules(struct fwd_tc *t, const struct tc_divert_rule *rules, size_t n);
void fwd_tc_detach(struct fwd_tc *t);

void fwd_bpf_log_to_ours(void);

#endif
