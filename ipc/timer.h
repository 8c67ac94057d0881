/* Timers that hold ids, not pointers. A timer names the object it is for by a 64-bit id and
 * the callback looks the object up when the timer fires; an object that is gone by then is
 * simply not found. The set is owned by a long-lived context (the service), so no timer can
 * outlive the memory it refers to. */
#ifndef PICSEC_TIMER_H
#define PICSEC_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct timers;

/* ctx: the set's context given to timers_new; id: the object id given to timers_add. */
typedef void timer_fn(void *ctx, uint64_t id);

struct timers *timers_new(struct ev_loop *loop, void *ctx);
/* Cancels every pending timer; NULL is fine. */
void timers_free(struct timers *ts);

/* Fires fn(ctx, id) once after `after` seconds. Returns the timer's handle (never 0), or 0
 * with errno set. */
uint64_t timers_add(struct timers *ts, double after, timer_fn *fn, uint64_t id);
/* Cancels the timer; false when it is not pending (fired, cancelled, or 0). */
bool timers_cancel(struct timers *ts, uint64_t handle);
bool timers_pending(const struct timers *ts, uint64_t handle);
/* Cancels *handle (if pending) and arms a new timer in its place: re-arming is idempotent. */
int timers_rearm(struct timers *ts, uint64_t *handle, double after, timer_fn *fn, uint64_t id);
size_t timers_count(const struct timers *ts);

#endif
