/* One bench/scale run on the bus, as picsec-iked would drive sadb: inbound SPIs from
 * SaAllocSpi (64 a request), then SaInstall with K Child SAs (2K SAs) a request, W requests
 * in flight, until N SAs are in (sadb's replies) and the PIC says so (PicStatus on
 * pic.<pic>). Then the PIC is killed (SIGKILL) and the clearing is timed: healthd's DOWN,
 * sadb's SaCleanup on cleanup.<set>, and the sa.removed events until all N ids went. */
#include "scale.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <sodium.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "health.pb-c.h"
#include "sa.pb-c.h"

enum {
	SPI_BATCH = 64,		/* sadb's most per SaAllocSpi */
	SPI_REQUESTS_MAX = 4,	/* SaAllocSpi in flight */
	INSTALL_MAX = 8,	/* Child SAs per SaInstall (sadb takes 16 SAs) */
	FAILURES_MAX = 20,
	SETTLE_MS = 1000,	/* after the install, before the memory is read */
};

enum phase { PH_READY, PH_INSTALL, PH_SETTLE, PH_SNAPSHOT, PH_CLEAR, PH_DONE };

struct scale {
	struct scale_opts *o;
	struct scale_result *r;
	struct ev_loop *loop;
	struct bus *bus;
	enum phase phase;
	ev_timer tick;
	uint64_t phase_end_ns;	/* the current phase's deadline */
	uint64_t t0, t_kill, settle_until, printed;
	unsigned busd_hellos;
	bool ready;
	/* inbound SPIs at hand */
	uint32_t *spis;
	size_t nspis, spi_cap;
	unsigned spi_inflight;
	/* the installs */
	uint8_t *keys;		/* 48 bytes a SA, drawn before the clock starts */
	size_t nkeys;
	unsigned children, sent_children, inflight;
	uint32_t next_out_spi;
	bool cleanup_seen;
	double cpu0[SCALE_CPU_MAX];	/* at the start of the current phase */
	uint64_t busy0, total0;		/* the machine's, at the start of the install */
};

/* Starts a phase's CPU count, or ends it into the phase's field. */
static void
scale_cpu_mark(struct scale *s, double *const *into)
{
	double now;
	size_t i;

	for (i = 0; i < s->o->ncpu; i++) {
		now = scale_cpu_read(s->o->cpu[i].pid);
		if (into != NULL && now >= 0 && s->cpu0[i] >= 0)
			*into[i] = now - s->cpu0[i];
		s->cpu0[i] = now;
	}
}

/* Ends the run: what failed, and why. */
static void
scale_fail(struct scale *s, const char *what, const char *why)
{
	if (s->r->error[0] == '\0')
		snprintf(s->r->error, sizeof(s->r->error), "%s%s%s", what,
		    what[0] != '\0' && why[0] != '\0' ? ": " : "", why);
	s->phase = PH_DONE;
	ev_break(s->loop, EVBREAK_ALL);
}

static void scale_fill(struct scale *s);

static void
scale_spi_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct scale *s = ctx;
	const Picsec__V1__SaSpi *r = (const Picsec__V1__SaSpi *)res->msg;
	size_t i;

	(void)bus;
	(void)cookie;
	s->spi_inflight--;
	if (res->type != MT(SA_SPI)) {
		s->r->failures++;
		scale_fail(s, "SaAllocSpi", res->error_text != NULL ? res->error_text : "?");
		return;
	}
	if (s->nspis + 1 + r->n_more <= s->spi_cap)
		s->spis[s->nspis++] = r->spi;
	for (i = 0; i < r->n_more && s->nspis < s->spi_cap; i++)
		s->spis[s->nspis++] = r->more[i];
	scale_fill(s);
}

static void
scale_spi_ask(struct scale *s)
{
	Picsec__V1__SaAllocSpi req = PICSEC__V1__SA_ALLOC_SPI__INIT;
	Picsec__V1__IpAddress dst = PICSEC__V1__IP_ADDRESS__INIT;

	dst.addr.data = (uint8_t *)(uintptr_t)s->o->local;
	dst.addr.len = 4;
	req.protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	req.destination = &dst;
	req.count = SPI_BATCH;
	if (bus_request(s->bus, "sadb", MT(SA_ALLOC_SPI), &req.base, s->o->timeout_s * 1000,
	    scale_spi_reply, s, 0) == 0) {
		scale_fail(s, "SaAllocSpi", strerror(errno));
		return;
	}
	s->spi_inflight++;
	s->r->spi_requests++;
}

static void
scale_install_reply(struct bus *bus, const struct bus_result *res, void *ctx, uint64_t cookie)
{
	struct scale *s = ctx;
	const Picsec__V1__SaInstalled *r = (const Picsec__V1__SaInstalled *)res->msg;

	(void)bus;
	s->inflight--;
	if (res->type != MT(SA_INSTALLED) || r->n_ids != 2 * cookie) {
		if (++s->r->failures >= FAILURES_MAX || res->type == MT(SA_INSTALLED))
			scale_fail(s, "SaInstall",
			    res->error_text != NULL ? res->error_text : "ids missing");
		else if (s->r->error[0] == '\0')
			snprintf(s->r->error, sizeof(s->r->error), "SaInstall: %s",
			    res->error_text != NULL ? res->error_text : "?");
		return;
	}
	s->r->installed += (unsigned)r->n_ids;
	if (s->r->installed >= s->o->count)
		s->r->sadb_ns = monotonic_ns() - s->t0;
	scale_fill(s);
}

/* One SA of a Child SA, its keys (16 + 32 bytes, or 20 for GCM) the next of the pool: what
 * iked derives is not what is measured. */
static void
scale_sa(struct scale *s, Picsec__V1__Sa *m, Picsec__V1__Secret *enc,
    Picsec__V1__Secret *auth, bool inbound, uint32_t spi)
{
	uint8_t *keys = s->keys + 48 * (s->nkeys++ % ((size_t)s->o->count + 16));

	picsec__v1__sa__init(m);
	picsec__v1__secret__init(enc);
	m->origin = PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC;
	m->service_set = (char *)(uintptr_t)s->o->set;
	m->rule = (char *)(uintptr_t)s->o->rule;
	m->term = (char *)(uintptr_t)s->o->term;
	m->direction = inbound ? PICSEC__V1__SA_DIRECTION__SA_DIRECTION_INBOUND :
	    PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND;
	m->protocol = PICSEC__V1__IPSEC_PROTOCOL__IPSEC_PROTOCOL_ESP;
	m->spi = spi;
	m->hard_lifetime_seconds = 3600;
	m->soft_lifetime_seconds = 3060; /* iked's initiator: 85 % */
	m->enc_key = enc;
	if (s->o->gcm) {
		m->enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_GCM;
		enc->material = (ProtobufCBinaryData){ 20, keys };
		return;
	}
	m->enc_algorithm = PICSEC__V1__ENC_ALGORITHM__ENC_AES128_CBC;
	m->auth_algorithm = PICSEC__V1__AUTH_ALGORITHM__AUTH_HMAC_SHA256_128;
	picsec__v1__secret__init(auth);
	enc->material = (ProtobufCBinaryData){ 16, keys };
	auth->material = (ProtobufCBinaryData){ 32, keys + 16 };
	m->auth_key = auth;
}

static void
scale_install(struct scale *s, unsigned k)
{
	Picsec__V1__SaInstall req = PICSEC__V1__SA_INSTALL__INIT;
	Picsec__V1__Sa sas[2 * INSTALL_MAX], *ptrs[2 * INSTALL_MAX];
	Picsec__V1__Secret secrets[4 * INSTALL_MAX];
	unsigned i;

	for (i = 0; i < 2 * k; i++) {
		bool inbound = i % 2 == 0;

		scale_sa(s, &sas[i], &secrets[2 * i], &secrets[2 * i + 1], inbound,
		    inbound ? s->spis[--s->nspis] : s->next_out_spi++);
		ptrs[i] = &sas[i];
	}
	req.sas = ptrs;
	req.n_sas = 2 * k;
	if (bus_request(s->bus, "sadb", MT(SA_INSTALL), &req.base, s->o->timeout_s * 1000,
	    scale_install_reply, s, k) == 0)
		scale_fail(s, "SaInstall", strerror(errno));
	else {
		s->inflight++;
		s->sent_children += k;
		s->r->requests++;
	}
}

/* Keeps the window full, and enough SPIs at hand for it. */
static void
scale_fill(struct scale *s)
{
	unsigned k, want;

	if (s->phase != PH_INSTALL)
		return;
	while (s->inflight < s->o->window && s->sent_children < s->children) {
		k = s->children - s->sent_children;
		k = k < s->o->per_install ? k : s->o->per_install;
		if (s->nspis < k)
			break;
		scale_install(s, k);
	}
	want = s->o->window * s->o->per_install;
	while (s->phase == PH_INSTALL && s->sent_children < s->children &&
	    s->nspis + s->spi_inflight * SPI_BATCH < want + SPI_BATCH &&
	    s->spi_inflight < SPI_REQUESTS_MAX &&
	    s->nspis + (s->spi_inflight + 1) * SPI_BATCH <= s->spi_cap)
		scale_spi_ask(s);
}

static void
scale_kill(struct scale *s)
{
	scale_cpu_mark(s, NULL);
	scale_mem_read(s->o->pic_pid, &s->r->pic_after);
	if (s->o->sadb_pid > 0)
		scale_mem_read(s->o->sadb_pid, &s->r->sadb_after);
	s->phase = PH_CLEAR;
	s->phase_end_ns = monotonic_ns() + (uint64_t)s->o->timeout_s * 1000000000u;
	s->t_kill = monotonic_ns();
	if (kill(s->o->pic_pid, SIGKILL) == -1)
		scale_fail(s, "kill of the PIC", strerror(errno));
}

static void
scale_snapshot_reply(struct bus *bus, const struct bus_result *res, void *ctx,
    uint64_t cookie)
{
	struct scale *s = ctx;
	const Picsec__V1__SaSnapshot *snap = (const Picsec__V1__SaSnapshot *)res->msg;

	(void)bus;
	(void)cookie;
	if (res->type == MT(SA_SNAPSHOT))
		s->r->snapshot_bytes = protobuf_c_message_get_packed_size(&snap->base);
	else
		snprintf(s->r->snapshot_error, sizeof(s->r->snapshot_error), "%s",
		    res->error_text != NULL ? res->error_text : "?");
	if (s->phase == PH_SNAPSHOT)
		scale_kill(s);
}

/* What a PIC that starts now would ask sadb for: every SA at once (the bus carries at most
 * 16 MiB a message). Then the kill. */
static void
scale_snapshot(struct scale *s)
{
	Picsec__V1__SaGetSnapshot req = PICSEC__V1__SA_GET_SNAPSHOT__INIT;

	s->phase = PH_SNAPSHOT;
	req.pic = (char *)(uintptr_t)s->o->pic;
	if (bus_request(s->bus, "sadb", MT(SA_GET_SNAPSHOT), &req.base, s->o->timeout_s * 1000,
	    scale_snapshot_reply, s, 0) == 0) {
		snprintf(s->r->snapshot_error, sizeof(s->r->snapshot_error), "not sent");
		scale_kill(s);
	}
}

static void
scale_clear_check(struct scale *s)
{
	double *into[SCALE_CPU_MAX];
	size_t i;

	if (s->phase != PH_CLEAR || !s->cleanup_seen || s->r->removed < s->r->installed)
		return;
	for (i = 0; i < s->o->ncpu; i++)
		into[i] = &s->o->cpu[i].clear_s;
	scale_cpu_mark(s, into);
	if (s->o->sadb_pid > 0)
		scale_mem_read(s->o->sadb_pid, &s->r->sadb_cleared);
	s->phase = PH_DONE;
	ev_break(s->loop, EVBREAK_ALL);
}

static void
on_status(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__PicStatus *st = (const Picsec__V1__PicStatus *)payload;
	const Picsec__V1__Envelope *env = bus_msg_envelope(m);
	struct scale *s = ctx;
	double *into[SCALE_CPU_MAX];
	uint64_t busy, total;
	size_t i;

	if (strcmp(st->pic, s->o->pic) != 0 || st->incarnation == 0)
		return;
	if (s->phase == PH_READY) {
		/* Synced with sadb's stream, its service set up, nothing of ours yet. */
		if (st->applied_incarnation != 0 && st->error[0] == '\0' && st->n_installed == 0)
			s->ready = true;
		return;
	}
	if (s->phase != PH_INSTALL)
		return;
	s->r->status_reports++;
	if (env != NULL && env->payload.len > s->r->status_max_bytes)
		s->r->status_max_bytes = env->payload.len;
	s->r->pic_installed = (unsigned)st->n_installed;
	if (st->n_installed >= s->o->count && s->r->installed >= s->o->count) {
		s->r->pic_ns = monotonic_ns() - s->t0;
		for (i = 0; i < s->o->ncpu; i++)
			into[i] = &s->o->cpu[i].install_s;
		scale_cpu_mark(s, into);
		scale_machine(&busy, &total);
		if (total > s->total0)
			s->r->busy = (double)(busy - s->busy0) / (double)(total - s->total0);
		s->phase = PH_SETTLE;
		s->settle_until = monotonic_ns() + SETTLE_MS * 1000000ull;
	}
}

static void
on_cleanup(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaCleanup *c = (const Picsec__V1__SaCleanup *)payload;
	struct scale *s = ctx;

	(void)m;
	if (s->phase != PH_CLEAR || strcmp(c->service_set, s->o->set) != 0 ||
	    c->cause != PICSEC__V1__CLEANUP_CAUSE__CLEANUP_PIC_DOWN)
		return;
	s->r->cleanup_ns = monotonic_ns() - s->t_kill;
	s->r->cleanup_cleared = c->ipsec_sas_cleared;
	s->cleanup_seen = true;
	scale_clear_check(s);
}

static void
on_removed(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__SaRemoved *rm = (const Picsec__V1__SaRemoved *)payload;
	struct scale *s = ctx;

	if (bus_msg_is_request(m) || s->phase != PH_CLEAR)
		return;
	s->r->removed += (unsigned)rm->n_ids;
	if (s->r->removed >= s->r->installed && s->r->removed_ns == 0)
		s->r->removed_ns = monotonic_ns() - s->t_kill;
	scale_clear_check(s);
}

static void
on_service(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ServiceState *st = (const Picsec__V1__ServiceState *)payload;
	struct scale *s = ctx;

	(void)m;
	if (s->phase == PH_CLEAR && st->state == PICSEC__V1__SERVICE_STATE_KIND__SERVICE_DOWN &&
	    strncmp(st->name, "fwd.", 4) == 0 && strcmp(st->name + 4, s->o->pic) == 0 &&
	    s->r->down_ns == 0)
		s->r->down_ns = monotonic_ns() - s->t_kill;
}

static void
on_hello(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	struct scale *s = ctx;

	(void)payload;
	if (strcmp(bus_msg_topic(m), "hello.busd") == 0)
		s->busd_hellos++;
}

static const struct bus_handler scale_handlers[] = {
	[MT(SERVICE_HELLO)] = { on_hello },
	[MT(PIC_STATUS)] = { on_status },
	[MT(SA_CLEANUP)] = { on_cleanup },
	[MT(SA_REMOVED)] = { on_removed },
	[MT(SERVICE_STATE)] = { on_service },
};

static void
scale_start_install(struct scale *s)
{
	scale_mem_read(s->o->pic_pid, &s->r->pic_before);
	if (s->o->sadb_pid > 0)
		scale_mem_read(s->o->sadb_pid, &s->r->sadb_before);
	s->phase = PH_INSTALL;
	s->phase_end_ns = monotonic_ns() + (uint64_t)s->o->timeout_s * 1000000000u;
	scale_cpu_mark(s, NULL);
	scale_loadavg(s->r->load, sizeof(s->r->load));
	scale_machine(&s->busy0, &s->total0);
	s->t0 = monotonic_ns();
	scale_fill(s);
}

static void
scale_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct scale *s = w->data;
	uint64_t now = monotonic_ns();

	(void)loop;
	(void)revents;
	if (s->o->verbose && s->phase == PH_INSTALL && now - s->printed >= 1000000000u) {
		s->printed = now;
		fprintf(stderr, "bench_scale: %.1f s: %u SAs installed (sadb), %u (PIC), %u in "
		    "flight, %zu SPIs at hand\n", (double)(now - s->t0) / 1e9, s->r->installed,
		    s->r->pic_installed, s->inflight, s->nspis);
	}
	switch (s->phase) {
	case PH_READY:
		if (s->ready && s->busd_hellos > 0)
			scale_start_install(s);
		break;
	case PH_SETTLE:
		if (now >= s->settle_until)
			scale_snapshot(s);
		return;
	default:
		break;
	}
	if (s->phase != PH_DONE && now > s->phase_end_ns)
		scale_fail(s, "", s->phase == PH_READY ? "the PIC never reported itself ready" :
		    s->phase == PH_INSTALL ? "the install did not complete in time" :
		    "the SAs were not cleared in time");
}

int
scale_run(struct scale_opts *o, struct scale_result *r)
{
	struct bus_options bo = { .service = "bench-scale", .anonymous = true };
	struct scale s = { .o = o, .r = r, .phase = PH_READY };
	char err[200], topic[96];
	int rc = -1;

	memset(r, 0, sizeof(*r));
	s.children = o->count / 2;
	s.next_out_spi = 0x10000000;
	s.spi_cap = (size_t)o->window * o->per_install + (SPI_REQUESTS_MAX + 2) * SPI_BATCH;
	/* A key of its own for each SA (a pass over the pool now also faults its pages in). */
	if ((s.keys = malloc(48 * ((size_t)o->count + 16))) != NULL)
		randombytes_buf(s.keys, 48 * ((size_t)o->count + 16));
	if ((s.spis = calloc(s.spi_cap, sizeof(*s.spis))) == NULL || s.keys == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	s.loop = ev_loop_new(EVFLAG_AUTO);
	bo.rundir = o->rundir;
	if (s.loop == NULL || (s.bus = bus_new(s.loop, &bo, err, sizeof(err))) == NULL) {
		snprintf(r->error, sizeof(r->error), "bus: %s",
		    s.loop == NULL ? "no loop" : err);
		goto out;
	}
	bus_set_handlers(s.bus, scale_handlers, ARRAY_SIZE(scale_handlers), &s);
	snprintf(topic, sizeof(topic), "pic.%s", o->pic);
	/* busd answers the last subscription with its hello: the others are in place. */
	if (bus_subscribe(s.bus, topic) == -1 || bus_subscribe(s.bus, "cleanup.") == -1 ||
	    bus_subscribe(s.bus, "sa.removed") == -1 || bus_subscribe(s.bus, "service.fwd.") == -1 ||
	    bus_subscribe(s.bus, "hello.busd") == -1) {
		snprintf(r->error, sizeof(r->error), "cannot subscribe");
		goto out;
	}
	s.phase_end_ns = monotonic_ns() + (uint64_t)o->timeout_s * 1000000000u;
	ev_timer_init(&s.tick, scale_tick, 0.01, 0.01);
	s.tick.data = &s;
	ev_timer_start(s.loop, &s.tick);
	ev_run(s.loop, 0);
	ev_timer_stop(s.loop, &s.tick);
	rc = r->error[0] == '\0' && s.phase == PH_DONE ? 0 : -1;
out:
	if (s.bus != NULL)
		bus_free(s.bus);
	if (s.loop != NULL)
		ev_loop_destroy(s.loop);
	free(s.spis);
	if (s.keys != NULL)
		sodium_memzero(s.keys, 48 * ((size_t)o->count + 16));
	free(s.keys);
	return rc;
}
