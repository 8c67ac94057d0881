// SPDX-License-Identifier: GPL-2.0
/* On the outside device: ESP, AH and ESP-in-UDP/4500 addressed to one of the PIC's local
 * gateways go to the PIC's AF_XDP socket; everything else (ARP, IKE with the non-ESP
 * marker, NAT keepalives, ordinary traffic) passes to the kernel. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* The local gateway addresses (network order) the PIC serves. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} local_gateways SEC(".maps");

enum { STEER_SEEN, STEER_TO_PIC, STEER_COUNT };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STEER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} steer_stats SEC(".maps");

static __always_inline void
count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&steer_stats, &k);

	if (v != 0)
		*v += 1;
}

SEC("xdp")
int
xdp_outside(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	__u32 *marker;

	count(STEER_SEEN);
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
		return XDP_PASS;
	if (bpf_map_lookup_elem(&local_gateways, &ip->daddr) == 0)
		return XDP_PASS;
	if (ip->protocol == IPPROTO_UDP) {
		/* ESP in UDP behind IP options is left to the kernel (and lost): a packet
		 * pointer moved by a variable length needs CAP_PERFMON (the verifier's Spectre
		 * checks), which the PIC would otherwise hold for this alone. */
		if (ip->ihl != 5)
			return XDP_PASS;
		udp = (void *)(ip + 1);
		marker = (void *)(udp + 1);
		/* ESP in UDP has a nonzero SPI where IKE has the four-zero non-ESP marker;
		 * a one-byte 0xff NAT keepalive is shorter than a marker. */
		if ((void *)(marker + 1) > end || udp->dest != bpf_htons(4500) || *marker == 0)
			return XDP_PASS;
	} else if (ip->protocol != IPPROTO_ESP && ip->protocol != IPPROTO_AH) {
		return XDP_PASS;
	}
	count(STEER_TO_PIC);
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
