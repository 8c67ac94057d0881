/* The tc divert program's maps in the kernel, as fwd_divert_apply writes them. */
#ifndef PICSEC_FWD_DIVERT_MAPS_H
#define PICSEC_FWD_DIVERT_MAPS_H

#include "fwd_divert.h"

struct bpf_object;

struct fwd_divert_maps {
	int conf_fd, masks_fd, prefixes_fd;
};

/* The maps of a loaded tc_divert object; -1 when one is missing. */
int fwd_divert_maps_find(struct fwd_divert_maps *m, struct bpf_object *obj);

/* ctx: a struct fwd_divert_maps. */
extern const struct fwd_divert_ops fwd_divert_map_ops;

#endif
