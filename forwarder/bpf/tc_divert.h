/* Shared by tc_divert.bpf.c and the PIC that fills its maps. */
#ifndef PICSEC_TC_DIVERT_H
#define PICSEC_TC_DIVERT_H

#include <linux/types.h>

/* Distinct (source mask, destination mask) pairs: a packet costs one hash lookup each. */
#define TC_DIVERT_MASKS 32
/* Prefix pairs: every output SA's and dynamic term's traffic of the service set. */
#define TC_DIVERT_PREFIXES 65536
/* The mark on packets the PIC sends through the kernel (its slow path): never diverted. */
#define TC_DIVERT_PIC_MARK 0x70696373u /* "pics" */

/* One term's traffic, as the PIC describes it; addresses and masks in network order. All
 * of one program's rules lead into the same veth, so their order does not matter. */
struct tc_divert_rule {
	__u32 src, src_mask;
	__u32 dst, dst_mask;
	__u32 ifindex; /* the service veth's kernel end */
	__u32 local;   /* the set's local gateway: what it sends (IKE) is never diverted */
};

/* divert_conf[0]: where diverted packets go. ifindex 0: nothing is diverted. */
struct tc_divert_conf {
	__u32 ifindex;
	__u32 local;
	__u32 nmasks; /* slots of divert_masks to try: [0, nmasks) */
	__u32 pad;
};

/* divert_masks[slot]; a slot not in use has used 0. */
struct tc_divert_mask {
	__u32 src_mask, dst_mask;
	__u32 used;
	__u32 pad;
};

/* divert_prefixes' key: a packet's addresses under one slot's masks. */
struct tc_divert_key {
	__u32 src, dst;
	__u32 slot;
};

#endif
