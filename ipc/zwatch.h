/* A ZeroMQ socket in a libev loop.
 *
 * ZMQ_FD is edge-triggered and shared by reads and writes: it signals only that the socket's
 * state changed, and any zmq_send or zmq_recv on the socket may consume that edge. So the fd
 * only wakes the loop; the messages are read in an ev_check watcher after the poll, until a
 * non-blocking receive finds nothing, and an ev_prepare watcher checks ZMQ_EVENTS right before
 * the loop would block and keeps it from blocking (an idle watcher) while a message waits. No
 * callback ever runs from the prepare phase, so a send made by one callback is always seen
 * by the next prepare. A socket that neither its fd nor the prepare check woke is not read:
 * its last drain left it empty. */
#ifndef PICSEC_ZWATCH_H
#define PICSEC_ZWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <zmq.h>

struct ev_loop;
struct zwatch;

/* Reads and handles one message (multipart) from sock with ZMQ_DONTWAIT. Returns false when
 * nothing was there to read, so the drain stops. */
typedef bool zwatch_fn(void *sock, void *arg);

/* At most `batch` messages are read per loop iteration so that one busy socket cannot starve
 * the others; 0 picks a default. */
struct zwatch *zwatch_new(struct ev_loop *loop, void *sock, zwatch_fn *fn, void *arg,
    unsigned batch);
/* Promises that every ZeroMQ call on the socket made outside fn (a send, a setsockopt) is
 * followed by zwatch_touched(). Then the socket is only asked about before the loop blocks
 * when something may have changed: a receive of fn's, or a reported call, since it was last
 * found empty. Without the promise it is asked every time. */
void zwatch_track(struct zwatch *zw);
void zwatch_touched(struct zwatch *zw);

/* Stops and frees; safe from inside its own fn (the drain stops there). */
void zwatch_free(struct zwatch *zw);

/* True when the socket has a message waiting (ZMQ_EVENTS & ZMQ_POLLIN). */
bool zsock_readable(void *sock);

/* Reads and drops the remaining parts of a multipart message; returns how many. */
unsigned zsock_drain_more(void *sock);

/* Receives one whole message of up to max parts into frames[0..max), without waiting.
 * Returns the number of parts, 0 when nothing was waiting, or max + 1 for a message with more
 * parts than that (the first max are in frames, the rest dropped). Every frame is initialised
 * either way: zsock_close_frames(frames, max) after. */
size_t zsock_recv_frames(void *sock, zmq_msg_t *frames, size_t max);
void zsock_close_frames(zmq_msg_t *frames, size_t max);

#endif
