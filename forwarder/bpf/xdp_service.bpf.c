// SPDX-License-Identifier: GPL-2.0
/* On the PIC's end of a service veth: every IPv4 packet the kernel routed (next-hop style)
 * or tc diverted (interface style) into the service set goes to the PIC's AF_XDP socket.
 * Must run in native mode: generic XDP skips packets tc redirected. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int
xdp_service(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_DROP; /* nothing else belongs to the PIC, and its end has no stack */
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP);
}

char _license[] SEC("license") = "GPL";
