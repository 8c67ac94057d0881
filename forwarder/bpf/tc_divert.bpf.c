// SPDX-License-Identifier: GPL-2.0
/* tc egress on an interface an interface-style service set is applied to: an IPv4 packet
 * that matches an output rule's term goes into that service set's veth instead of out of
 * the interface. Packets the PIC itself sends (marked), those from the set's local gateway
 * (IKE) and everything else pass. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tc_divert.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TC_DIVERT_MAX);
	__type(key, __u32);
	__type(value, struct tc_divert_rule);
} divert_rules SEC(".maps");

SEC("tc")
int
tc_divert(struct __sk_buff *skb)
{
	struct iphdr ip;
	__u32 i;

	if (skb->mark == TC_DIVERT_PIC_MARK || skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return TC_ACT_OK;
	for (i = 0; i < TC_DIVERT_MAX; i++) {
		__u32 k = i;
		struct tc_divert_rule *r = bpf_map_lookup_elem(&divert_rules, &k);

		if (r == 0 || r->ifindex == 0)
			break;
		/* The gateway's own IKE leaves in clear whatever the terms say: diverted, a
		 * dynamic term that covers it would wait for an SA that IKE is to make. */
		if (ip.saddr == r->local)
			continue;
		if ((ip.saddr & r->src_mask) == r->src && (ip.daddr & r->dst_mask) == r->dst)
			return bpf_redirect(r->ifindex, 0);
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
