/* Shared by tc_divert.bpf.c and the PIC that fills its map. */
#ifndef PICSEC_TC_DIVERT_H
#define PICSEC_TC_DIVERT_H

#include <linux/types.h>

#define TC_DIVERT_MAX 64
/* The mark on packets the PIC sends through the kernel (its slow path): never diverted. */
#define TC_DIVERT_PIC_MARK 0x70696373u /* "pics" */

/* First match wins, in term order; addresses and masks in network order. */
struct tc_divert_rule {
	__u32 src, src_mask;
	__u32 dst, dst_mask;
	__u32 ifindex; /* the service veth's kernel end; 0 ends the list */
	__u32 local;   /* the set's local gateway: what it sends (IKE) is never diverted */
};

#endif
