/* picsec-fwd's state: the bus, the status it reports every second (and soon after an
 * update), the raw socket of the slow path, and the order of setting up and tearing down.
 * The status lists every SA in use, and the usage of those whose sequence number or
 * counters moved since the last one, not of 100,000 idle ones every second. Every fourth
 * second, and after a snapshot (a new sadb), of every SA that has either at all: a report
 * sadb lost leaves its journal behind by no more than four seconds of an SA that went idle
 * since, what its margin is for (sadb_impl.h: 2^22, four seconds at a million packets). */
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
#include "envelope.h"
#include "fwd_bpf.h"
#include "fwd_nl.h"
#include "log.h"
#include "timer.h"
#include "u64map.h"

static const double fwd_status_seconds = 1.0;
enum { FWD_STATUS_FULL_EVERY = 4 }; /* periodic reports */

/* A PicStatus's arrays are kept from one to the next (grown with room): 800 kB of ids
 * allocated anew each time would be fresh pages, page faults, each time. */
static int
fwd_status_room(struct fwd *f, size_t nids, size_t nusage)
{
	Picsec__V1__SaUsage *u;
	Picsec__V1__SaUsage **p;
	uint64_t *ids;
	size_t cap;

	if (nids > f->st_ids_cap) {
		cap = nids + nids / 2;
		if ((ids = reallocarray(f->st_ids, cap, sizeof(*ids))) == NULL)
			return -1;
		f->st_ids = ids;
		f->st_ids_cap = cap;
	}
	if (nusage > f->st_usage_cap) {
		cap = nusage + nusage / 2;
		if ((u = reallocarray(f->st_usage, cap, sizeof(*u))) == NULL)
			return -1;
		f->st_usage = u;
		if ((p = reallocarray(f->st_usage_ptrs, cap, sizeof(*p))) == NULL)
			return -1;
		f->st_usage_ptrs = p;
		f->st_usage_cap = cap;
	}
	return 0;
}

struct status_build {
	struct fwd *f;
	size_t ninstalled, nusage;
	bool failed;			/* some usage left out (out of memory) */
};

static void
fwd_status_sa(uint64_t id, void *value, void *arg)
{
	struct fwd_sa *sa = value;
	struct status_build *b = arg;
	struct fwd *f = b->f;
	const struct dp_sa_counters *c;
	struct fwd_set *s;
	Picsec__V1__SaUsage *u;
	uint64_t packets, seq, stamp;

	if (sa->dp == NULL)
		return;
	s = sa->set;
	if (s != NULL && s->ready)
		f->st_ids[b->ninstalled++] = id;
	c = dp_sa_counters(sa->dp);
	packets = c->esp_packets + c->ah_packets;
	seq = sa->outbound ? dp_sa_seq(sa->dp) : 0;
	/* Both only grow (but for a clear of the counters, which changes the sum too). */
	stamp = packets + seq;
	if (stamp == 0 || (stamp == sa->reported && !f->status_full))
		return; /* nothing sadb does not know */
	if (b->nusage == f->st_usage_cap && fwd_status_room(f, 0, b->nusage + 64) == -1) {
		b->failed = true;
		return;
	}
	sa->reported = stamp;
	u = &f->st_usage[b->nusage++];
	picsec__v1__sa_usage__init(u);
	u->id = id;
	u->seq = seq;
	u->packets = packets;
	u->bytes = dp_sa_lifetime_bytes(sa->dp); /* not reset by clearing statistics */
}

void
fwd_publish_status(struct fwd *f)
{
	Picsec__V1__PicStatus st = PICSEC__V1__PIC_STATUS__INIT;
	struct status_build b = { .f = f };
	char error[sizeof(f->error) + 200];
	struct fwd_set *s;
	size_t i;

	timers_cancel(f->timers, f->status_soon_timer);
	f->status_soon_timer = 0;
	f->status_ms = monotonic_ms();
	if (fwd_status_room(f, u64map_count(f->sas) + 1, 1) == -1)
		return;
	u64map_foreach(f->sas, fwd_status_sa, &b);
	for (i = 0; i < b.nusage; i++)
		f->st_usage_ptrs[i] = &f->st_usage[i];
	error[0] = '\0';
	for (s = f->sets; s != NULL; s = s->next) {
		if (!s->ready && error[0] == '\0')
			snprintf(error, sizeof(error), "service set %s: %s", s->name, s->error);
	}
	st.pic = f->pic;
	st.incarnation = f->incarnation;
	st.applied_incarnation = f->stream_incarnation;
	st.applied_seq = f->stream_seq;
	st.installed = f->st_ids;
	st.n_installed = b.ninstalled;
	st.usage = f->st_usage_ptrs;
	st.n_usage = b.nusage;
	st.error = error;
	/* Lost, or some usage left out: all of it next time. */
	f->status_full = bus_publish(f->bus, f->status_topic, MT(PIC_STATUS), &st.base) == -1 ||
	    b.failed;
}

static void
fwd_status_tick(void *ctx, uint64_t id)
{
	struct fwd *f = ctx;

	(void)id;
	if (++f->status_ticks % FWD_STATUS_FULL_EVERY == 0)
		f->status_full = true;
	fwd_publish_status(f);
	f->status_timer = timers_add(f->timers, fwd_status_seconds, fwd_status_tick, 0);
}

static void
fwd_status_soon_tick(void *ctx, uint64_t id)
{
	struct fwd *f = ctx;

	(void)id;
	f->status_soon_timer = 0;
	fwd_publish_status(f);
}

void
fwd_status_soon(struct fwd *f)
{
	uint64_t since = monotonic_ms() - f->status_ms;

	if (since >= FWD_STATUS_MS) {
		fwd_publish_status(f);
		return;
	}
	if (f->status_soon_timer == 0 && (f->status_soon_timer = timers_add(f->timers,
	    (double)(FWD_STATUS_MS - since) / 1000, fwd_status_soon_tick, 0)) == 0)
		fwd_publish_status(f);
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
	fwd_graveyard_free(f);
	free(f->st_ids);
	free(f->st_usage);
	free(f->st_usage_ptrs);
	u64map_free(f->sas);
	u64map_free(f->inbound);
	u64map_free(f->inbound_ah);
	fwd_nl_free(f->nl);
	if (f->raw_fd != -1)
		close(f->raw_fd);
	free(f);
}
