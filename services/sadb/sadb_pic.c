/* The per-PIC streams (DESIGN §2, the Clone pattern): each change of what a PIC must hold
 * is one SaUpdate on "sa.<pic>" with the next sequence number; a PIC that starts or sees a
 * gap asks for the snapshot. What the PICs report back says what is installed. */
#include "sadb_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "log.h"
#include "secbuf.h"
#include "timer.h"
#include "u64map.h"

struct sadb_pic *
sadb_pic_find(struct sadb *sd, const char *name)
{
	struct sadb_pic *p;

	for (p = sd->pics; p != NULL; p = p->next) {
		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

/* The SA of pic with that id: one look-up (the PICs report every SA every second). */
static struct sadb_sa *
sadb_pic_sa(const struct sadb *sd, const struct sadb_pic *pic, uint64_t id)
{
	struct sadb_sa *sa = u64map_get(sd->sas_by_id, id);

	return sa != NULL && sa->pic == pic ? sa : NULL;
}

size_t
sadb_sa_snapshot_len(const struct sadb_sa *sa)
{
	return protobuf_c_message_get_packed_size(&sa->msg.base) + 3 + 6;
}

/* sa, in pic's list now, joins the indexes. */
static void
sadb_sa_index(struct sadb *sd, struct sadb_pic *pic, struct sadb_sa *sa)
{
	sa->pic = pic;
	sa->snapshot_len = (uint32_t)sadb_sa_snapshot_len(sa);
	pic->snapshot_len += sa->snapshot_len;
	if (u64map_put(sd->sas_by_id, sa->id, sa) == -1)
		log_warnx("SA %016llx: out of memory indexing it", (unsigned long long)sa->id);
	sadb_spi_hold(sd, sa);
}

/* sa joins pic's list, first. */
static void
sadb_pic_link(struct sadb *sd, struct sadb_pic *pic, struct sadb_sa *sa)
{
	sa->prev = NULL;
	sa->next = pic->sas;
	if (pic->sas != NULL)
		pic->sas->prev = sa;
	pic->sas = sa;
	sadb_sa_index(sd, pic, sa);
}

static size_t
sadb_count_sas(const struct sadb_pic *pic)
{
	const struct sadb_sa *sa;
	size_t n = 0;

	for (sa = pic->sas; sa != NULL; sa = sa->next)
		n++;
	return n;
}

static size_t
sadb_count_sets(const struct sadb_pic *pic)
{
	const struct sadb_set *set;
	size_t n = 0;

	for (set = pic != NULL ? pic->sets : NULL; set != NULL; set = set->next)
		n++;
	return n;
}

/* The service sets of pic as an array for a message (free it). */
static Picsec__V1__PicServiceSet **
sadb_set_array(const struct sadb_pic *pic, size_t *n)
{
	Picsec__V1__PicServiceSet **a;
	struct sadb_set *set;
	size_t i = 0;

	*n = sadb_count_sets(pic);
	if ((a = calloc(*n + 1, sizeof(*a))) == NULL)
		return NULL;
	for (set = pic != NULL ? pic->sets : NULL; set != NULL; set = set->next)
		a[i++] = &set->msg;
	return a;
}

/* Whether the service sets of a and b say the same (compared packed). */
static bool
sadb_sets_same(const struct sadb_pic *a, const struct sadb_pic *b)
{
	Picsec__V1__SaSnapshot sa = PICSEC__V1__SA_SNAPSHOT__INIT,
	    sb = PICSEC__V1__SA_SNAPSHOT__INIT;
	uint8_t *pa = NULL, *pb = NULL;
	size_t la, lb;
	bool same = false;

	sa.service_sets = sadb_set_array(a, &sa.n_service_sets);
	sb.service_sets = sadb_set_array(b, &sb.n_service_sets);
	if (sa.service_sets == NULL || sb.service_sets == NULL)
		goto out;
	la = protobuf_c_message_get_packed_size(&sa.base);
	lb = protobuf_c_message_get_packed_size(&sb.base);
	if (la == lb && (pa = malloc(la + 1)) != NULL && (pb = malloc(lb + 1)) != NULL) {
		protobuf_c_message_pack(&sa.base, pa);
		protobuf_c_message_pack(&sb.base, pb);
		same = memcmp(pa, pb, la) == 0;
	}
out:
	free(pa);
	free(pb);
	free(sa.service_sets);
	free(sb.service_sets);
	return same;
}

/* An SA that left its PIC's list goes: its timers, its indexes, its memory. */
static void
sadb_sa_forget(struct sadb *sd, struct sadb_sa *sa)
{
	timers_cancel(sd->timers, sa->life_timer);
	/* A service set moved to another PIC: its SAs, same ids, are indexed there already. */
	if (u64map_get(sd->sas_by_id, sa->id) == sa)
		u64map_take(sd->sas_by_id, sa->id);
	if (sa->pic != NULL)
		sa->pic->snapshot_len -= sa->snapshot_len;
	sadb_spi_release(sd, sa);
	sadb_sa_free(sa);
}

/* Takes sa (in pic's list) out of it and forgets it. */
static void
sadb_pic_remove_quiet(struct sadb *sd, struct sadb_pic *pic, struct sadb_sa *sa)
{
	if (sa->prev != NULL)
		sa->prev->next = sa->next;
	else
		pic->sas = sa->next;
	if (sa->next != NULL)
		sa->next->prev = sa->prev;
	sadb_sa_forget(sd, sa);
}

/* How an update goes out: with the service sets; whether its line is logged (a commit's, a
 * clear's) or left to the debug log (one a Child SA: iked logs each, and 100,000 of them
 * would be 100,000 lines); with the loop turn's other Child SA changes (sadb_flush) or at
 * once (a removal and a re-upsert that must reach the PIC as two, from scratch). */
enum { PUB_SETS = 1, PUB_QUIET = 2, PUB_BATCH = 4 };

/* Sends one update of pic: upserts, removals, and its service sets when changed. */
static void
sadb_send(struct sadb *sd, struct sadb_pic *pic, Picsec__V1__Sa **upsert, size_t nup,
    uint64_t *removes, size_t nrm, int how)
{
	Picsec__V1__SaUpdate up = PICSEC__V1__SA_UPDATE__INIT;
	bool sets_changed = (how & PUB_SETS) != 0;
	char line[SADB_NAME_MAX + 128];

	up.pic = pic->name;
	up.incarnation = sd->incarnation;
	up.seq = ++pic->seq;
	up.upsert = upsert;
	up.n_upsert = nup;
	up.remove = removes;
	up.n_remove = nrm;
	up.service_sets_changed = sets_changed;
	if (sets_changed && (up.service_sets = sadb_set_array(pic, &up.n_service_sets)) == NULL) {
		/* Not "no service sets", which would tear the PIC's down: skip this number; the
		 * PIC sees the gap and asks for the snapshot. */
		log_warnx("PIC %s: out of memory listing service sets", pic->name);
		return;
	}
	if (bus_publish(sd->bus, pic->topic, MT(SA_UPDATE), &up.base) == -1)
		log_warnx("PIC %s: update %llu not sent (the PIC will see the gap and ask again)",
		    pic->name, (unsigned long long)up.seq);
	snprintf(line, sizeof(line), "PIC %s: update %llu: %zu SA%s in or changed, %zu out%s",
	    pic->name, (unsigned long long)up.seq, nup, nup == 1 ? "" : "s", nrm,
	    sets_changed ? ", service sets changed" : "");
	if ((how & PUB_QUIET) != 0)
		log_debug("%s", line);
	else
		log_info("%s", line);
	free(up.service_sets);
}

/* The ids of a Child SA change wait for sadb_pic_flush; the loop turn's end sends them. */
static void
sadb_pic_dirty(struct sadb_pic *pic, const uint64_t *ids, size_t n)
{
	uint64_t *grown;
	size_t cap;

	if (n == 0)
		return;
	if (pic->ndirty + n > pic->dirty_cap) {
		cap = pic->ndirty + n < 64 ? 64 : (pic->ndirty + n) * 2;
		if ((grown = reallocarray(pic->dirty, cap, sizeof(*grown))) == NULL) {
			/* Lost: skip a number instead; the PIC sees the gap and asks for the
			 * snapshot, which has everything. */
			log_warnx("PIC %s: out of memory noting a change", pic->name);
			pic->seq++;
			return;
		}
		pic->dirty = grown;
		pic->dirty_cap = cap;
	}
	memcpy(pic->dirty + pic->ndirty, ids, n * sizeof(*ids));
	pic->ndirty += n;
}

/* After a change is noted whole (a Child SA's SAs go together): a bound on the wait and on
 * the update's size (4,096 SAs are about 600 kB). */
static void
sadb_pic_dirty_done(struct sadb *sd, struct sadb_pic *pic)
{
	if (pic->ndirty >= SADB_FLUSH_IDS)
		sadb_pic_flush(sd, pic);
}

static int
sadb_id_order(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void
sadb_pic_flush(struct sadb *sd, struct sadb_pic *pic)
{
	Picsec__V1__Sa **upsert;
	uint64_t *removes;
	struct sadb_sa *sa;
	size_t i, n = pic->ndirty, nup = 0, nrm = 0;

	if (n == 0)
		return;
	pic->ndirty = 0;
	upsert = calloc(n, sizeof(*upsert));
	removes = calloc(n, sizeof(*removes));
	if (upsert == NULL || removes == NULL) {
		log_warnx("PIC %s: out of memory sending changes: the PIC will ask for them",
		    pic->name);
		pic->seq++; /* the gap */
		goto out;
	}
	/* Each id once, as it is now: in and on the PIC, or not (gone, or withheld). */
	qsort(pic->dirty, n, sizeof(*pic->dirty), sadb_id_order);
	for (i = 0; i < n; i++) {
		if (i > 0 && pic->dirty[i] == pic->dirty[i - 1])
			continue;
		sa = sadb_pic_sa(sd, pic, pic->dirty[i]);
		if (sa != NULL && !sa->withheld)
			upsert[nup++] = &sa->msg;
		else
			removes[nrm++] = pic->dirty[i];
	}
	sadb_send(sd, pic, upsert, nup, removes, nrm, PUB_QUIET);
out:
	free(upsert);
	free(removes);
}

void
sadb_flush(struct sadb *sd)
{
	struct sadb_pic *pic;

	for (pic = sd->pics; pic != NULL; pic = pic->next)
		sadb_pic_flush(sd, pic);
}

/* Publishes one update of pic: a Child SA's change joins the loop turn's (PUB_BATCH);
 * anything else goes now, after what waits, so that updates keep their order. */
static void
sadb_publish(struct sadb *sd, struct sadb_pic *pic, Picsec__V1__Sa **upsert, size_t nup,
    uint64_t *removes, size_t nrm, int how)
{
	size_t i;

	if ((how & PUB_BATCH) == 0) {
		sadb_pic_flush(sd, pic);
		sadb_send(sd, pic, upsert, nup, removes, nrm, how);
		return;
	}
	for (i = 0; i < nup; i++)
		sadb_pic_dirty(pic, &upsert[i]->id, 1);
	sadb_pic_dirty(pic, removes, nrm);
	sadb_pic_dirty_done(sd, pic);
}

/* Makes cur hold what want holds; publishes the difference. want is consumed. */
static void
sadb_apply_pic(struct sadb *sd, struct sadb_pic *cur, struct sadb_pic *want)
{
	struct sadb_sa *sa, *old, *next;
	size_t nwant = want != NULL ? sadb_count_sas(want) : 0, ncur = sadb_count_sas(cur);
	Picsec__V1__Sa **upsert = calloc(nwant + 1, sizeof(*upsert));
	uint64_t *removes = calloc(ncur + 1, sizeof(*removes));
	struct u64map *wanted = u64map_new(); /* the ids want has */
	size_t nup = 0, nrm = 0;
	bool sets_changed = !sadb_sets_same(cur, want);
	struct sadb_set *set, *nset;

	if (upsert == NULL || removes == NULL || wanted == NULL) {
		log_warnx("PIC %s: out of memory: the change waits for the next commit", cur->name);
		goto out;
	}
	for (sa = want != NULL ? want->sas : NULL; sa != NULL; sa = sa->next) {
		if (u64map_put(wanted, sa->id, sa) == -1) {
			log_warnx("PIC %s: out of memory: the change waits for the next commit",
			    cur->name);
			goto out;
		}
	}
	for (set = want != NULL ? want->sets : NULL; set != NULL; set = set->next)
		set->withheld = sadb_set_should_withhold(sd, cur->name, set);
	for (sa = want != NULL ? want->sas : NULL; sa != NULL; sa = sa->next) {
		old = sadb_pic_sa(sd, cur, sa->id);
		if (old != NULL) {
			sa->installed = old->installed;
			sa->created_ns = old->created_ns;
			sa->bytes = old->bytes;
			sa->soft_expired = old->soft_expired;
		} else {
			sa->created_ns = realtime_ns();
		}
		/* gw-interface down: kept here, Not Installed, off the PIC. */
		set = sadb_set_find(want, sa->service_set);
		sa->withheld = set != NULL && set->withheld;
		if (sa->withheld) {
			sa->installed = false;
			if (old != NULL && !old->withheld)
				removes[nrm++] = sa->id;
			continue;
		}
		if (old == NULL || old->withheld || !sadb_sa_same(old, sa)) {
			sa->installed = false; /* until the PIC says it holds the new one */
			upsert[nup++] = &sa->msg;
		}
	}
	for (sa = cur->sas; sa != NULL; sa = next) {
		next = sa->next;
		if (u64map_get(wanted, sa->id) == NULL && !sa->withheld)
			removes[nrm++] = sa->id;
		sadb_sa_forget(sd, sa);
	}
	cur->sas = NULL;
	for (set = cur->sets; set != NULL; set = nset) {
		nset = set->next;
		sadb_set_free(set);
	}
	cur->sets = want != NULL ? want->sets : NULL;
	for (sa = cur->templates; sa != NULL; sa = next) {
		next = sa->next;
		sadb_sa_free(sa);
	}
	cur->templates = want != NULL ? want->templates : NULL;
	for (sa = cur->templates; sa != NULL; sa = sa->next)
		sa->pic = cur;
	cur->sas = want != NULL ? want->sas : NULL;
	for (old = NULL, sa = cur->sas; sa != NULL; old = sa, sa = sa->next) {
		sa->prev = old;
		sadb_sa_index(sd, cur, sa);
	}
	if (want != NULL) {
		want->sas = NULL;
		want->sets = NULL;
		want->templates = NULL;
	}
	if (nup > 0 || nrm > 0 || sets_changed)
		sadb_publish(sd, cur, upsert, nup, removes, nrm, sets_changed ? PUB_SETS : 0);
out:
	u64map_free(wanted);
	free(upsert);
	free(removes);
}

void
sadb_apply(struct sadb *sd, struct sadb_pic *want)
{
	struct sadb_pic *w, *cur, *next;

	for (w = want; w != NULL; w = w->next) {
		if ((cur = sadb_pic_find(sd, w->name)) == NULL) {
			if ((cur = calloc(1, sizeof(*cur))) == NULL) {
				log_warnx("PIC %s: out of memory", w->name);
				continue;
			}
			memcpy(cur->name, w->name, sizeof(cur->name));
			memcpy(cur->topic, w->topic, sizeof(cur->topic));
			cur->next = sd->pics;
			sd->pics = cur;
		}
		sadb_apply_pic(sd, cur, w);
	}
	/* PICs the configuration no longer uses: everything goes. */
	for (cur = sd->pics; cur != NULL; cur = cur->next) {
		for (w = want; w != NULL && strcmp(w->name, cur->name) != 0; w = w->next)
			;
		if (w == NULL)
			sadb_apply_pic(sd, cur, NULL);
	}
	for (w = want; w != NULL; w = next) {
		next = w->next;
		sadb_pic_free(w);
	}
}

void
sadb_reply_snapshot(struct sadb *sd, struct bus_msg *m, const char *name)
{
	Picsec__V1__SaSnapshot snap = PICSEC__V1__SA_SNAPSHOT__INIT;
	struct sadb_pic *pic = sadb_pic_find(sd, name);
	struct sadb_sa *sa;
	size_t i = 0;

	if (!sd->have_config) {
		/* Keep what you hold: an empty answer now would clear a working PIC. */
		bus_reply_error(m, ERRC(UNAVAILABLE), "sadb has no configuration yet");
		return;
	}
	if (pic != NULL)
		sadb_pic_flush(sd, pic); /* the snapshot's number after every change in it */
	snap.pic = (char *)(uintptr_t)name;
	snap.incarnation = sd->incarnation;
	snap.seq = pic != NULL ? pic->seq : 0;
	snap.service_sets = sadb_set_array(pic, &snap.n_service_sets);
	snap.sas = calloc((pic != NULL ? sadb_count_sas(pic) : 0) + 1, sizeof(*snap.sas));
	if (snap.service_sets == NULL || snap.sas == NULL) {
		bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "out of memory");
		goto out;
	}
	for (sa = pic != NULL ? pic->sas : NULL; sa != NULL; sa = sa->next) {
		if (sa->withheld)
			continue;
		/* Where to start counting: above anything the journal knows of. One it has
		 * no mark for yet was on the stream all the same: a PIC that died before its
		 * first report (every second) may have sent numbers under it, so one that
		 * asks now starts above the margin. A PIC that holds the SA keeps counting
		 * (seq_start is not part of what it compares). */
		if (sa->msg.direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND) {
			sa->msg.seq_start = sadb_journal_start(sd, sa->id, sa->key_fingerprint);
			if (sa->msg.seq_start == 0)
				sa->msg.seq_start = SADB_SEQ_MARGIN;
		}
		snap.sas[i++] = &sa->msg;
	}
	snap.n_sas = i;
	/* The installs stop short of what the bus carries (sadb_dynamic.c); configured SAs by
	 * the hundred thousand could pass it: bus_reply answers RESOURCE_EXHAUSTED then. */
	bus_reply(m, MT(SA_SNAPSHOT), &snap.base);
out:
	free(snap.service_sets);
	free(snap.sas);
}

void
sadb_pic_status(struct sadb *sd, const Picsec__V1__PicStatus *st)
{
	struct sadb_pic *pic = sadb_pic_find(sd, st->pic);
	struct sadb_sa *sa;
	size_t i;

	if (pic == NULL)
		return; /* a PIC the configuration does not use */
	pic->last_status_ms = monotonic_ms();
	pic->applied_incarnation = st->applied_incarnation;
	pic->applied_seq = st->applied_seq;
	for (sa = pic->sas; sa != NULL; sa = sa->next)
		sa->installed = false;
	for (i = 0; i < st->n_installed; i++) {
		if ((sa = sadb_pic_sa(sd, pic, st->installed[i])) != NULL)
			sa->installed = true;
	}
	for (i = 0; i < st->n_usage; i++) {
		if ((sa = sadb_pic_sa(sd, pic, st->usage[i]->id)) == NULL)
			continue;
		if (sa->msg.direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND)
			sadb_journal_note(sd, sa->id, sa->key_fingerprint, st->usage[i]->seq);
		sadb_lifetime_bytes(sd, sa, st->usage[i]->bytes); /* may remove sa */
	}
}

void
sadb_pics_check(struct sadb *sd)
{
	uint64_t now = monotonic_ms();
	struct sadb_pic *pic;
	struct sadb_sa *sa;

	for (pic = sd->pics; pic != NULL; pic = pic->next) {
		if (pic->last_status_ms != 0 && now - pic->last_status_ms <= SADB_PIC_SILENT_MS)
			continue;
		for (sa = pic->sas; sa != NULL; sa = sa->next)
			sa->installed = false;
	}
	sadb_journal_flush(sd);
}

void
sadb_pic_remove(struct sadb *sd, struct sadb_sa *sa)
{
	struct sadb_pic *pic = sa->pic;
	uint64_t id = sa->id;

	sadb_pic_remove_quiet(sd, pic, sa);
	sadb_publish(sd, pic, NULL, 0, &id, 1, PUB_QUIET | PUB_BATCH);
}

void
sadb_pic_unlink(struct sadb *sd, struct sadb_sa *sa)
{
	sadb_pic_remove_quiet(sd, sa->pic, sa);
}

void
sadb_pic_publish_removes(struct sadb *sd, struct sadb_pic *pic, uint64_t *ids, size_t n,
    bool batch)
{
	if (n > 0)
		sadb_publish(sd, pic, NULL, 0, ids, n, PUB_QUIET | (batch ? PUB_BATCH : 0));
}

void
sadb_pic_publish_upserts(struct sadb *sd, struct sadb_pic *pic, Picsec__V1__Sa **sas, size_t n,
    bool batch)
{
	if (n > 0)
		sadb_publish(sd, pic, sas, n, NULL, 0, PUB_QUIET | (batch ? PUB_BATCH : 0));
}

void
sadb_pic_add(struct sadb *sd, struct sadb_pic *pic, struct sadb_sa **sas, size_t n)
{
	struct sadb_sa *old;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((old = sadb_pic_sa(sd, pic, sas[i]->id)) != NULL)
			sadb_pic_remove_quiet(sd, pic, old);
		sas[i]->created_ns = realtime_ns();
		sadb_pic_link(sd, pic, sas[i]);
		sadb_pic_dirty(pic, &sas[i]->id, 1);
	}
	sadb_pic_dirty_done(sd, pic);
}

/* Clearing: negotiated SAs go (iked negotiates new ones on demand); configured ones are
 * pushed again from scratch, which resets their replay windows and counters in the PIC.
 * Outbound ones continue above the journal's mark: the key is the same. */
unsigned
sadb_clear(struct sadb *sd, const char *service_set)
{
	struct sadb_pic *pic;
	struct sadb_sa *sa, *next;
	Picsec__V1__Sa **again;
	uint64_t *ids, *dyn;
	size_t n, nids, nagain, ndyn;
	unsigned count = 0;

	for (pic = sd->pics; pic != NULL; pic = pic->next) {
		n = sadb_count_sas(pic);
		ids = calloc(n + 1, sizeof(*ids));
		again = calloc(n + 1, sizeof(*again));
		dyn = calloc(n + 1, sizeof(*dyn));
		if (ids == NULL || again == NULL || dyn == NULL) {
			log_warnx("PIC %s: out of memory clearing SAs", pic->name);
			free(ids);
			free(again);
			free(dyn);
			continue;
		}
		nids = nagain = ndyn = 0;
		for (sa = pic->sas; sa != NULL; sa = next) {
			next = sa->next;
			if (service_set[0] != '\0' && strcmp(sa->service_set, service_set) != 0)
				continue;
			ids[nids++] = sa->id;
			count++;
			if (sa->msg.origin == PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC) {
				dyn[ndyn++] = sa->id;
				sadb_pic_remove_quiet(sd, pic, sa);
				continue;
			}
			sa->installed = false;
			sa->created_ns = realtime_ns();
			if (sa->withheld)
				continue; /* it goes to the PIC when its gateway is back */
			if (sa->msg.direction == PICSEC__V1__SA_DIRECTION__SA_DIRECTION_OUTBOUND)
				sa->msg.seq_start = sadb_journal_start(sd, sa->id,
				    sa->key_fingerprint);
			again[nagain++] = &sa->msg;
		}
		if (nids > 0)
			sadb_publish(sd, pic, NULL, 0, ids, nids, 0);
		if (nagain > 0)
			sadb_publish(sd, pic, again, nagain, NULL, 0, 0);
		if (ndyn > 0)
			sadb_dynamic_removed(sd, dyn, ndyn, "cleared");
		free(ids);
		free(again);
		free(dyn);
	}
	return count;
}
