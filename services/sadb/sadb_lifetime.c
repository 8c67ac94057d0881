/* SA lifetimes (RFC 4301 §4.4.2.1): at the soft limit sadb says so on "sa.expire" (iked
 * rekeys), at the hard limit the SA goes. Seconds run on timers that hold the SA's id;
 * kilobytes are counted from the PICs' usage reports. Manual SAs have no lifetime. */
#include "sadb_impl.h"

#include "bus.h"
#include "catalog.h"
#include "envelope.h"
#include "log.h"
#include "timer.h"
#include "u64map.h"

static void
sadb_expire(struct sadb *sd, struct sadb_sa *sa, bool hard, const char *reason)
{
	Picsec__V1__SaExpire ex = PICSEC__V1__SA_EXPIRE__INIT;

	ex.id = sa->id;
	ex.hard = hard;
	ex.reason = (char *)(uintptr_t)reason;
	log_info("SA %016llx (%s %s/%s, SPI %u): %s lifetime reached (%s)",
	    (unsigned long long)sa->id, sa->service_set, sa->rule, sa->term, sa->msg.spi,
	    hard ? "hard" : "soft", reason);
	if (bus_publish(sd->bus, "sa.expire", MT(SA_EXPIRE), &ex.base) == -1)
		log_warnx("SA %016llx: expiry not published", (unsigned long long)sa->id);
	if (hard) {
		if (sa->msg.origin == PICSEC__V1__SA_ORIGIN__SA_ORIGIN_DYNAMIC)
			sadb_journal_forget(sd, sa->id);
		sadb_pic_remove(sd, sa);
	}
	else
		sa->soft_expired = true;
}

/* Seconds left of a lifetime that began at created_ns; at least a moment. */
static double
sadb_left(const struct sadb_sa *sa, uint64_t seconds)
{
	double age = (double)(realtime_ns() - sa->created_ns) / 1e9;
	double left = (double)seconds - age;

	return left > 0.001 ? left : 0.001;
}

/* Whether the soft lifetime in seconds comes next (not reached, and before the hard one). */
static bool
sadb_soft_next(const struct sadb_sa *sa)
{
	return sa->msg.soft_lifetime_seconds != 0 && !sa->soft_expired &&
	    (sa->msg.hard_lifetime_seconds == 0 ||
	    sa->msg.soft_lifetime_seconds < sa->msg.hard_lifetime_seconds);
}

static void sadb_life_timer(void *ctx, uint64_t id);

/* One timer an SA, for its next lifetime in seconds: 100,000 SAs are 100,000 timers, not
 * 200,000 (bench/scale). */
void
sadb_lifetime_arm(struct sadb *sd, struct sadb_sa *sa)
{
	bool soft = sadb_soft_next(sa);
	uint64_t seconds = soft ? sa->msg.soft_lifetime_seconds : sa->msg.hard_lifetime_seconds;

	if (seconds == 0 || timers_pending(sd->timers, sa->life_timer))
		return;
	sa->life_soft = soft;
	sa->life_timer = timers_add(sd->timers, sadb_left(sa, seconds), sadb_life_timer, sa->id);
}

static void
sadb_life_timer(void *ctx, uint64_t id)
{
	struct sadb *sd = ctx;
	struct sadb_sa *sa = u64map_get(sd->sas_by_id, id);

	if (sa == NULL)
		return;
	sa->life_timer = 0;
	if (!sa->life_soft) {
		sadb_expire(sd, sa, true, "seconds");
		return;
	}
	/* Soft, unless kilobytes reached it first; the hard one next. */
	if (!sa->soft_expired)
		sadb_expire(sd, sa, false, "seconds");
	sadb_lifetime_arm(sd, sa);
}

static void
sadb_arm_one(uint64_t id, void *value, void *arg)
{
	(void)id;
	sadb_lifetime_arm(arg, value);
}

void
sadb_lifetimes_arm(struct sadb *sd)
{
	u64map_foreach(sd->sas_by_id, sadb_arm_one, sd);
}

void
sadb_lifetime_bytes(struct sadb *sd, struct sadb_sa *sa, uint64_t bytes)
{
	sa->bytes = bytes;
	if (sa->msg.hard_lifetime_kbytes != 0 && bytes / 1024 >= sa->msg.hard_lifetime_kbytes) {
		sadb_expire(sd, sa, true, "kilobytes");
		return;
	}
	if (sa->msg.soft_lifetime_kbytes != 0 && !sa->soft_expired &&
	    bytes / 1024 >= sa->msg.soft_lifetime_kbytes)
		sadb_expire(sd, sa, false, "kilobytes");
}
