// SPDX-License-Identifier: GPL-2.0
/* tc egress on an interface an interface-style service set is applied to: an IPv4 packet
 * that matches an output rule's term goes into that service set's veth instead of out of
 * the interface. Packets the PIC itself sends (marked), those from the set's local gateway
 * (IKE) and everything else pass.
 *
 * The terms are a tuple space: one hash of prefix pairs, keyed by the packet's addresses
 * under each distinct pair of masks in use. A packet costs a lookup per mask pair (one or
 * two in practice), however many terms there are. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tc_divert.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tc_divert_conf);
} divert_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TC_DIVERT_MASKS);
	__type(key, __u32);
	__type(value, struct tc_divert_mask);
} divert_masks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TC_DIVERT_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tc_divert_key);
	__type(value, __u8);
} divert_prefixes SEC(".maps");

SEC("tc")
int
tc_divert(struct __sk_buff *skb)
{
	struct tc_divert_conf *conf;
	struct iphdr ip;
	__u32 zero = 0, i, n;

	if (skb->mark == TC_DIVERT_PIC_MARK || skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	conf = bpf_map_lookup_elem(&divert_conf, &zero);
	if (conf == 0 || conf->ifindex == 0)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return TC_ACT_OK;
	/* The gateway's own IKE leaves in clear whatever the terms say: diverted, a dynamic
	 * term that covers it would wait for an SA that IKE is to make. */
	if (ip.saddr == conf->local)
		return TC_ACT_OK;
	n = conf->nmasks;
	for (i = 0; i < TC_DIVERT_MASKS && i < n; i++) {
		__u32 slot = i;
		struct tc_divert_mask *m = bpf_map_lookup_elem(&divert_masks, &slot);
		struct tc_divert_key k;

		if (m == 0 || !m->used)
			continue;
		k.src = ip.saddr & m->src_mask;
		k.dst = ip.daddr & m->dst_mask;
		k.slot = slot;
		if (bpf_map_lookup_elem(&divert_prefixes, &k) != 0)
			return bpf_redirect(conf->ifindex, 0);
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
