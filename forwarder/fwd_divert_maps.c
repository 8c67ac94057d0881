/* fwd_divert_apply's writes on the kernel's maps (fwd_divert_maps.h). */
#include "fwd_divert_maps.h"

#include <errno.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int
fwd_divert_maps_find(struct fwd_divert_maps *m, struct bpf_object *obj)
{
	m->conf_fd = bpf_object__find_map_fd_by_name(obj, "divert_conf");
	m->masks_fd = bpf_object__find_map_fd_by_name(obj, "divert_masks");
	m->prefixes_fd = bpf_object__find_map_fd_by_name(obj, "divert_prefixes");
	return m->conf_fd < 0 || m->masks_fd < 0 || m->prefixes_fd < 0 ? -1 : 0;
}

static int
maps_mask(void *ctx, uint32_t slot, const struct tc_divert_mask *mk)
{
	const struct fwd_divert_maps *m = ctx;

	return bpf_map_update_elem(m->masks_fd, &slot, mk, BPF_ANY) == 0 ? 0 : -errno;
}

static int
maps_conf(void *ctx, const struct tc_divert_conf *c)
{
	const struct fwd_divert_maps *m = ctx;
	uint32_t zero = 0;

	return bpf_map_update_elem(m->conf_fd, &zero, c, BPF_ANY) == 0 ? 0 : -errno;
}

static int
maps_add(void *ctx, const struct tc_divert_key *k)
{
	const struct fwd_divert_maps *m = ctx;
	uint8_t one = 1;

	return bpf_map_update_elem(m->prefixes_fd, k, &one, BPF_ANY) == 0 ? 0 : -errno;
}

static int
maps_del(void *ctx, const struct tc_divert_key *k)
{
	const struct fwd_divert_maps *m = ctx;

	return bpf_map_delete_elem(m->prefixes_fd, k) == 0 ? 0 : -errno;
}

const struct fwd_divert_ops fwd_divert_map_ops = {
	.mask = maps_mask,
	.conf = maps_conf,
	.add = maps_add,
	.del = maps_del,
};
