/* Loading and attaching with libbpf. One XDP program per device, attached directly (the
 * libxdp dispatcher does not load on these kernels); tc through a clsact hook. */
#include "fwd_bpf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bpf_objects.h"
#include "fwd_divert.h"
#include "fwd_divert_maps.h"
#include "log.h"

struct fwd_xdp {
	struct bpf_object *obj;
	int ifindex;
	unsigned flags;
	int prog_fd;
};

struct fwd_tc {
	struct bpf_object *obj;
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	struct fwd_divert_maps maps;
	struct fwd_divert held; /* what the maps hold */
};

/* libbpf's messages, in our log. The format comes from libbpf: its callback type has no
 * format attribute, so the check is switched off for this one call. */
static int
fwd_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(line, sizeof(line), fmt, ap);
#pragma GCC diagnostic pop
	line[strcspn(line, "\n")] = '\0';
	log_warnx("libbpf: %s", line);
	return 0;
}

void
fwd_bpf_log_to_ours(void)
{
	libbpf_set_print(fwd_libbpf_print);
}

static struct bpf_object *
fwd_bpf_open(const unsigned char *image, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct bpf_object_open_opts oo;
	struct bpf_object *obj;
	int rc;

	/* Spelled out: LIBBPF_OPTS is a GNU statement expression. */
	memset(&oo, 0, sizeof(oo));
	oo.sz = sizeof(oo);
	oo.object_name = name;
	obj = bpf_object__open_mem(image, len, &oo);
	if (obj == NULL) {
		snprintf(err, errlen, "BPF object %s: %s", name, strerror(errno));
		return NULL;
	}
	if ((rc = bpf_object__load(obj)) != 0) {
		snprintf(err, errlen, "BPF object %s does not load: %s", name, strerror(-rc));
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

/* Whether the XDP program now on ifindex (in the mode flags ask) is one of ours. */
static int
fwd_xdp_present(int ifindex, unsigned flags, const char *ours, bool *is_ours)
{
	struct bpf_xdp_query_opts q;
	struct bpf_prog_info info;
	uint32_t id, info_len = sizeof(info);
	int fd, rc;

	*is_ours = false;
	memset(&q, 0, sizeof(q));
	q.sz = sizeof(q);
	if ((rc = bpf_xdp_query(ifindex, (int)flags, &q)) != 0)
		return rc;
	id = flags & XDP_FLAGS_DRV_MODE ? q.drv_prog_id : q.skb_prog_id;
	if (id == 0)
		id = q.prog_id;
	if (id == 0)
		return 0;
	if ((fd = bpf_prog_get_fd_by_id(id)) < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	rc = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	close(fd);
	if (rc != 0)
		return -errno;
	*is_ours = strncmp(info.name, ours, sizeof(info.name) - 1) == 0;
	return 1;
}

struct fwd_xdp *
fwd_xdp_attach(enum fwd_xdp_kind kind, int ifindex, bool native_only, char *err,
    size_t errlen)
{
	const char *name = kind == FWD_XDP_OUTSIDE ? "xdp_outside" : "xdp_service";
	struct fwd_xdp *x = calloc(1, sizeof(*x));
	struct bpf_program *prog;
	unsigned modes[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	char why[2][128] = { "", "" };
	bool ours;
	int i, rc;

	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->ifindex = ifindex;
	x->prog_fd = -1;
	x->obj = kind == FWD_XDP_OUTSIDE ?
	    fwd_bpf_open(bpf_xdp_outside, bpf_xdp_outside_len, name, err, errlen) :
	    fwd_bpf_open(bpf_xdp_service, bpf_xdp_service_len, name, err, errlen);
	if (x->obj == NULL)
		goto fail;
	if ((prog = bpf_object__find_program_by_name(x->obj, name)) == NULL) {
		snprintf(err, errlen, "BPF object %s has no program %s", name, name);
		goto fail;
	}
	x->prog_fd = bpf_program__fd(prog);
	for (i = 0; i < (native_only ? 1 : 2); i++) {
		rc = fwd_xdp_present(ifindex, modes[i], name, &ours);
		if (rc > 0 && !ours) {
			snprintf(err, errlen, "device %d already has an XDP program that is not "
			    "picsec's: detach it first", ifindex);
			goto fail;
		}
		rc = bpf_xdp_attach(ifindex, x->prog_fd, modes[i], NULL);
		if (rc == 0) {
			x->flags = modes[i];
			return x;
		}
		snprintf(why[i], sizeof(why[i]), "%s", strerror(-rc));
	}
	snprintf(err, errlen, "attaching %s to device %d: native mode: %s%s%s", name, ifindex,
	    why[0], native_only ? "" : "; generic mode: ", why[1]);
fail:
	fwd_xdp_detach(x);
	return NULL;
}

void
fwd_xdp_detach(struct fwd_xdp *x)
{
	struct bpf_xdp_attach_opts ao;

	if (x == NULL)
		return;
	memset(&ao, 0, sizeof(ao));
	ao.sz = sizeof(ao);
	if (x->flags != 0) {
		/* Only our program: a newer PIC may have replaced it meanwhile. */
		ao.old_prog_fd = x->prog_fd;
		if (bpf_xdp_detach(x->ifindex, (int)(x->flags | XDP_FLAGS_REPLACE), &ao) != 0)
			log_warnx("device %d: XDP program not detached (replaced by another?)",
			    x->ifindex);
	}
	bpf_object__close(x->obj);
	free(x);
}

int
fwd_xdp_xskmap(const struct fwd_xdp *x)
{
	return bpf_object__find_map_fd_by_name(x->obj, "xsks");
}

int
fwd_xdp_gateways(const struct fwd_xdp *x)
{
	return bpf_object__find_map_fd_by_name(x->obj, "local_gateways");
}

const char *
fwd_xdp_mode(const struct fwd_xdp *x)
{
	return x->flags & XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

struct fwd_tc *
fwd_tc_attach(int ifindex, char *err, size_t errlen)
{
	struct fwd_tc *t = calloc(1, sizeof(*t));
	struct bpf_program *prog;
	int rc;

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->hook.sz = sizeof(t->hook);
	t->hook.ifindex = ifindex;
	t->hook.attach_point = BPF_TC_EGRESS;
	t->opts.sz = sizeof(t->opts);
	t->opts.handle = 0x7073; /* "ps" */
	t->opts.priority = 1;
	t->opts.flags = BPF_TC_F_REPLACE;
	if ((t->obj = fwd_bpf_open(bpf_tc_divert, bpf_tc_divert_len, "tc_divert", err,
	    errlen)) == NULL)
		goto fail;
	if ((prog = bpf_object__find_program_by_name(t->obj, "tc_divert")) == NULL) {
		snprintf(err, errlen, "BPF object tc_divert has no program tc_divert");
		goto fail;
	}
	if (fwd_divert_maps_find(&t->maps, t->obj) != 0) {
		snprintf(err, errlen, "BPF object tc_divert lacks its maps");
		goto fail;
	}
	rc = bpf_tc_hook_create(&t->hook);
	if (rc != 0 && rc != -EEXIST) {
		snprintf(err, errlen, "device %d: clsact qdisc: %s", ifindex, strerror(-rc));
		goto fail;
	}
	t->opts.prog_fd = bpf_program__fd(prog);
	if ((rc = bpf_tc_attach(&t->hook, &t->opts)) != 0) {
		snprintf(err, errlen, "device %d: tc egress program: %s", ifindex, strerror(-rc));
		goto fail;
	}
	return t;
fail:
	t->opts.prog_fd = 0;
	fwd_tc_detach(t);
	return NULL;
}

int
fwd_tc_set_rules(struct fwd_tc *t, const struct tc_divert_rule *rules, size_t n)
{
	return fwd_divert_apply(&t->held, rules, n, &fwd_divert_map_ops, &t->maps);
}

void
fwd_tc_detach(struct fwd_tc *t)
{
	if (t == NULL)
		return;
	if (t->opts.prog_fd > 0) {
		t->opts.prog_fd = 0;
		t->opts.flags = 0;
		t->opts.prog_id = 0;
		if (bpf_tc_detach(&t->hook, &t->opts) != 0)
			log_warnx("device %d: tc egress program not detached", t->hook.ifindex);
	}
	bpf_object__close(t->obj);
	fwd_divert_free(&t->held);
	free(t);
}
