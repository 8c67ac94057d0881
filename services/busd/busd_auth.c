/* ZAP (ZeroMQ RFC 27): libzmq asks this handler about every CURVE client; only keys on the
 * allow-list get in. The ipc:// endpoints use no mechanism and are guarded by file modes. */
#include "busd_impl.h"

#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "curve.h"
#include "log.h"
#include "zwatch.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

enum { ZAP_REQUEST_FRAMES = 7 };

int
busd_auth_start(struct busd *bd, char *err, size_t errlen)
{
	int linger = 0;

	bd->zap = zmq_socket(bd->zctx, ZMQ_REP);
	if (bd->zap == NULL || zmq_setsockopt(bd->zap, ZMQ_LINGER, &linger, sizeof(linger)) == -1 ||
	    zmq_bind(bd->zap, ZAP_ENDPOINT) == -1) {
		snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

static void
busd_zap_send(void *sock, zmq_msg_t *request_id, const char *code, const char *text,
    const char *user)
{
	zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
	zmq_msg_send(request_id, sock, ZMQ_SNDMORE);
	zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
	zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(sock, "", 0, 0);
}

bool
busd_zap_readable(void *sock, void *arg)
{
	struct busd *bd = arg;
	zmq_msg_t frames[ZAP_REQUEST_FRAMES];
	char addr[64], user[CURVE_Z85_LEN + 1];
	size_t n, len;
	bool allowed = false;

	n = zsock_recv_frames(sock, frames, ZAP_REQUEST_FRAMES);
	if (n == 0) {
		zsock_close_frames(frames, ZAP_REQUEST_FRAMES);
		return false;
	}
	/* version, request id, domain, address, routing id, mechanism, credentials */
	if (n != ZAP_REQUEST_FRAMES || zmq_msg_size(&frames[0]) != 3 ||
	    memcmp(zmq_msg_data(&frames[0]), "1.0", 3) != 0) {
		log_warnx("ZAP: malformed request (%zu frames)", n);
		/* A REP socket must answer before it can read again; with the request id when
		 * there is one, so libzmq can match it. */
		zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
		if (n >= 2)
			zmq_msg_send(&frames[1], sock, ZMQ_SNDMORE);
		else
			zmq_send(sock, "", 0, ZMQ_SNDMORE);
		zsock_close_frames(frames, ZAP_REQUEST_FRAMES);
		zmq_send(sock, "500", 3, ZMQ_SNDMORE);
		zmq_send(sock, "malformed ZAP request", 21, ZMQ_SNDMORE);
		zmq_send(sock, "", 0, ZMQ_SNDMORE);
		zmq_send(sock, "", 0, 0);
		return true;
	}
	len = zmq_msg_size(&frames[3]) < sizeof(addr) - 1 ? zmq_msg_size(&frames[3]) :
	    sizeof(addr) - 1;
	memcpy(addr, zmq_msg_data(&frames[3]), len);
	addr[len] = '\0';
	user[0] = '\0';
	if (zmq_msg_size(&frames[5]) == 5 && memcmp(zmq_msg_data(&frames[5]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&frames[6]) == CURVE_KEY_BYTES) {
		zmq_z85_encode(user, zmq_msg_data(&frames[6]), CURVE_KEY_BYTES);
		allowed = bd->allow != NULL && curve_allowlist_has(bd->allow, zmq_msg_data(&frames[6]));
	}
	if (allowed) {
		log_debug("ZAP: %s allowed with key %s", addr, user);
		busd_zap_send(sock, &frames[1], "200", "OK", user);
	} else {
		bd->counters.auth_refused++;
		log_warnx("refused a bus client at %s: key %s is not on the allow-list", addr,
		    user[0] != '\0' ? user : "(none)");
		busd_zap_send(sock, &frames[1], "400", "key not allowed", "");
	}
	zsock_close_frames(frames, ZAP_REQUEST_FRAMES);
	return true;
}
