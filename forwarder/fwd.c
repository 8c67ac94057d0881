/* picsec-fwd's state: the bus, the status it reports every second, the raw socket of the
 * slow path, and the order of setting up and tearing down. */
#include "fwd_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sodium.h>

#include "bus.h"
#include "catalog.h"
#include "fwd_bpf.h"
#include "fwd_nl.h"
#include "log.h"
#include "timer.h"
#include "u64map.h"

static const double fwd_status_seconds = 1.0;

struct status_build {
	struct fwd *f;
	uint64_t *installed;
	size_t ninstalled;
	Picsec__V1__SaUsage *usage;
	Picsec__V1__SaUsage **usage_ptrs;
	size_t nusage;
};

static void
fwd_status_sa(uint64_t id, void *value, void *arg)
{
	struct fwd_sa *sa = value;
	struct status_build *b = arg;
	const struct dp_sa_counters *c;
	struct fwd_set *s;
	Picsec__V1__SaUsage *u;

	if (sa->dp == NULL)
		return;
	s = sa->set;
	if (s != NULL && s->ready)
		b->installed[b->ninstalled++] = id;
	c = dp_sa_counters(sa->dp);
	u = &b->usage[b->nusage];
	picsec__v1__sa_usage__init(u);
	u->id = id;
	u->seq = sa->outbound ? dp_sa_seq(sa->dp) : 0;
	u->packets = c->esp_packets + c->ah_packets;
	u->bytes = dp_sa_lifetime_bytes(sa->dp); /* not reset by clearing statistics */
	b->usage_ptrs[b->nusage++] = u;
}

void
fwd_publish_status(struct fwd *f)
{
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;
	size_t n = u64map_count(f->sas);
	struct status_build b = { .f = f };
	char error[sizeof(f->error) + 200];
	struct fwd_set *s;

	b.installed = calloc(n + 1, sizeof(*b.installed));
	b.usage = calloc(n + 1, sizeof(*b.usage));
	b.usage_ptrs = calloc(n + 1, sizeof(*b.usage_ptrs));
	if (b.installed == NULL || b.usage == NULL || b.usage_ptrs == NULL)
		goto out;
	u64map_foreach(f->sas, fwd_status_sa, &b);
	error[0] = '\0';
	for (s = f->sets; s != NULL; s = s->next) {
		if (!s->ready && error[0] == '\0')
			snprintf(error, sizeof(error), "service set %s: %s", s->name, s->error);
	}
	st.pic = f->pic;
	st.incarnation = f->incarnation;
	st.applied_incarnation = f->stream_incarnation;
	st.applied_seq = f->stream_seq;
	st.installed = b.installed;
	st.n_installed = b.ninstalled;
	st.usage = b.usage_ptrs;
	st.n_usage = b.nusage;
	st.error = error;
	bus_publish(f->bus, f->status_topic, MT(PIC_STATUS), &st.base);
out:
	free(b.installed);
	free(b.usage);
	free(b.usage_ptrs);
}

static void
fwd_status_tick(void *ctx, uint64_t id)
{
	struct fwd *f = ctx;

	(void)id;
	fwd_publish_status(f);
	f->status_timer = timers_add(f->timers, fwd_status_seconds, fwd_status_tick, 0);
}

struct fwd *
fwd_new(struct ev_loop *loop, struct bus *bus, const struct fwd_options *opts, char *err,
    size_t errlen)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct fwd *f;
	uint32_t mark = TC_DIVERT_PIC_MARK;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialise");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->loop = loop;
	f->bus = bus;
	f->raw_fd = -1;
	f->frames = opts->frames;
	snprintf(f->pic, sizeof(f->pic), "%s", opts->pic);
	snprintf(f->sa_topic, sizeof(f->sa_topic), "sa.%s", opts->pic);
	snprintf(f->status_topic, sizeof(f->status_topic), "pic.%s", opts->pic);
	randombytes_buf(&f->incarnation, sizeof(f->incarnation));
	f->incarnation |= 1;
	/* UMEM and BPF maps are locked memory (older kernels count it against this). */
	(void)setrlimit(RLIMIT_MEMLOCK, &unlimited);
	fwd_bpf_log_to_ours();
	if ((f->timers = timers_new(loop, f)) == NULL || (f->sas = u64map_new()) == NULL ||
	    (f->inbound = u64map_new()) == NULL || (f->inbound_ah = u64map_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((f->nl = fwd_nl_new(err, errlen)) == NULL)
		goto fail;
	f->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (f->raw_fd == -1 || setsockopt(f->raw_fd, SOL_SOCKET, SO_MARK, &mark,
	    sizeof(mark)) == -1) {
		snprintf(err, errlen, "raw socket for the slow path: %s (needs CAP_NET_RAW and "
		    "CAP_NET_ADMIN)", strerror(errno));
		goto fail;
	}
	fwd_handlers_install(f);
	if (bus_subscribe(bus, f->sa_topic) == -1) {
		snprintf(err, errlen, "cannot subscribe on the bus");
		goto fail;
	}
	f->status_timer = timers_add(f->timers, fwd_status_seconds, fwd_status_tick, 0);
	log_info("PIC %s, incarnation %016llx", f->pic, (unsigned long long)f->incarnation);
	return f;
fail:
	fwd_free(f);
	return NULL;
}

static void
fwd_sa_release(uint64_t id, void *value, void *arg)
{
	(void)id;
	fwd_sa_free(arg, value);
}

void
fwd_free(struct fwd *f)
{
	if (f == NULL)
		return;
	if (f->bus != NULL && f->snapshot_req != 0)
		bus_cancel(f->bus, f->snapshot_req);
	timers_free(f->timers);
	fwd_sets_free(f); /* detaches the programs and removes the veths: traffic stops */
	if (f->sas != NULL)
		u64map_foreach(f->sas, fwd_sa_release, f);
	u64map_free(f->sas);
	u64map_free(f->inbound);
	u64map_free(f->inbound_ah);
	fwd_nl_free(f->nl);
	if (f->raw_fd != -1)
		close(f->raw_fd);
	free(f);
}
