/* picsec-sadb's state: the committed configuration it follows, the PICs' streams, the
 * periodic check of the PICs and the journal. */
#include "sadb_impl.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bus.h"
#include "health_follow.h"
#include "log.h"
#include "timer.h"
#include "u64map.h"

enum { SADB_CHECK_SECONDS = 1 };

static void
sadb_check(void *ctx, uint64_t id)
{
	struct sadb *sd = ctx;

	(void)id;
	sadb_pics_check(sd);
	sd->status_timer = timers_add(sd->timers, SADB_CHECK_SECONDS, sadb_check, 0);
}

void
sadb_config(struct sadb *sd, const Picsec__V1__ConfigSnapshot *snap)
{
	struct sadb_pic *want = NULL;
	uint64_t *gone;
	size_t ngone;
	char err[256];

	/* A reply to our request may arrive after a newer commit's event. */
	if (sd->have_config && snap->generation < sd->config_generation) {
		log_info("configuration %llu is older than %llu: ignored",
		    (unsigned long long)snap->generation,
		    (unsigned long long)sd->config_generation);
		return;
	}
	if (sadb_build(sd, snap, &want, err, sizeof(err)) == -1) {
		log_warnx("configuration %llu: %s: the SAs stay as they are",
		    (unsigned long long)snap->generation, err);
		return;
	}
	sd->have_config = true;
	sd->config_generation = snap->generation;
	sd->clear_ipsec_on_pic = snap->ipsec_vpn != NULL &&
	    snap->ipsec_vpn->clear_ipsec_sas_on_pic_restart;
	sadb_dynamic_carry(sd, want, &gone, &ngone);
	sadb_apply(sd, want);
	sadb_lifetimes_arm(sd);
	if (ngone > 0)
		sadb_dynamic_removed(sd, gone, ngone, "its term is no longer configured");
	free(gone);
	sadb_health_sync(sd); /* new gw-interface gateways: are they there? */
}

/* The end of a loop turn: the Child SA changes of the turn go out (sadb_flush). */
static void
sadb_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct sadb *sd = (struct sadb *)((char *)w - offsetof(struct sadb, flush_watch));

	(void)loop;
	(void)revents;
	sadb_flush(sd);
}

struct sadb *
sadb_new(struct ev_loop *loop, struct bus *bus, const struct sadb_options *opts, char *err,
    size_t errlen)
{
	struct sadb *sd;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialise");
		return NULL;
	}
	if ((sd = calloc(1, sizeof(*sd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sd->loop = loop;
	sd->bus = bus;
	if (opts->statedir != NULL &&
	    snprintf(sd->statedir, sizeof(sd->statedir), "%s", opts->statedir) >=
	    (int)sizeof(sd->statedir)) {
		snprintf(err, errlen, "state directory name too long");
		goto fail;
	}
	randombytes_buf(&sd->incarnation, sizeof(sd->incarnation));
	sd->incarnation |= 1;
	sd->timers = timers_new(loop, sd);
	sd->sas_by_id = u64map_new();
	sd->spis = u64map_new();
	sd->spis_held = u64map_new();
	sd->downs = health_downs_new();
	if (sd->timers == NULL || sd->sas_by_id == NULL || sd->spis == NULL ||
	    sd->spis_held == NULL || sd->downs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (sadb_journal_load(sd, err, errlen) == -1) {
		sadb_journal_free(sd); /* and never write over a journal we could not read */
		goto fail;
	}
	sd->status_timer = timers_add(sd->timers, SADB_CHECK_SECONDS, sadb_check, 0);
	ev_prepare_init(&sd->flush_watch, sadb_flush_cb);
	ev_prepare_start(loop, &sd->flush_watch);
	sadb_handlers_install(sd);
	if (bus_subscribe(bus, "config.committed") == -1 || bus_subscribe(bus, "pic.") == -1) {
		snprintf(err, errlen, "cannot subscribe on the bus");
		goto fail;
	}
	sadb_health_subscribe(sd);
	log_info("stream incarnation %016llx", (unsigned long long)sd->incarnation);
	return sd;
fail:
	sadb_free(sd);
	return NULL;
}

void
sadb_free(struct sadb *sd)
{
	struct sadb_pic *pic, *next;

	if (sd == NULL)
		return;
	/* A change of the last turn (ev_break skips the prepare watchers): out before the
	 * bus lingers and closes. */
	sadb_flush(sd);
	if (sd->loop != NULL)
		ev_prepare_stop(sd->loop, &sd->flush_watch);
	if (sd->marks != NULL)
		sadb_journal_flush(sd); /* the last reports count */
	timers_free(sd->timers);
	sadb_health_free(sd);
	for (pic = sd->pics; pic != NULL; pic = next) {
		next = pic->next;
		sadb_pic_free(pic);
	}
	u64map_free(sd->sas_by_id);
	u64map_free(sd->spis);
	sadb_spi_free(sd);
	sadb_journal_free(sd);
	free(sd);
}
