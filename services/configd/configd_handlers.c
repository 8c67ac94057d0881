/* The requests picsec-configd answers, by message type. */
#include "configd_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.h"
#include "cfg_snapshot.h"
#include "config.pb-c.h"
#include "secbuf.h"

static void
configd_reply_result(struct bus_msg *m, bool ok, const struct strbuf *out, uint64_t generation)
{
	Picsec__V1__ConfigResult res = PICSEC__V1__CONFIG_RESULT__INIT;

	res.ok = ok;
	res.output = (char *)(uintptr_t)strbuf_str(out);
	res.generation = generation;
	bus_reply(m, MT(CONFIG_RESULT), &res.base);
}

static void
configd_get_snapshot(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	struct configd *cd = ctx;

	(void)payload;
	bus_reply(m, MT(CONFIG_SNAPSHOT), (const ProtobufCMessage *)cfg_snapshot_msg(cd->snapshot));
}

static void
configd_open(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ConfigSessionOpen *req = (const Picsec__V1__ConfigSessionOpen *)payload;
	Picsec__V1__ConfigSession reply = PICSEC__V1__CONFIG_SESSION__INIT;
	struct configd *cd = ctx;
	struct configd_session *s;
	struct strbuf out = STRBUF_INIT;

	s = configd_session_open(cd, req->user, req->exclusive, &out);
	if (s == NULL) {
		bus_reply_error(m, ERRC(FAILED_PRECONDITION), "%s", strbuf_str(&out));
	} else {
		reply.session_id = s->id;
		reply.message = (char *)(uintptr_t)strbuf_str(&out);
		bus_reply(m, MT(CONFIG_SESSION), &reply.base);
	}
	strbuf_release(&out);
}

static void
configd_close(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ConfigSessionClose *req = (const Picsec__V1__ConfigSessionClose *)payload;
	struct configd *cd = ctx;
	struct configd_session *s = configd_session_find(cd, req->session_id);
	struct strbuf out = STRBUF_INIT;

	if (s == NULL) {
		bus_reply_error(m, ERRC(NOT_FOUND), "no configuration session %llu",
		    (unsigned long long)req->session_id);
		return;
	}
	configd_session_close(cd, s, &out);
	configd_reply_result(m, true, &out, cd->generation);
	strbuf_release(&out);
}

static void
configd_command_handler(struct bus_msg *m, const ProtobufCMessage *payload, void *ctx)
{
	const Picsec__V1__ConfigCommand *req = (const Picsec__V1__ConfigCommand *)payload;
	struct configd *cd = ctx;
	struct configd_session *s = NULL;
	struct strbuf out = STRBUF_INIT;
	char *key = NULL, *saved = NULL;
	bool ok;

	if (req->session_id != 0 && (s = configd_session_find(cd, req->session_id)) == NULL) {
		bus_reply_error(m, ERRC(NOT_FOUND), "configuration session %llu has ended "
		    "(configd restarted?): enter configure again",
		    (unsigned long long)req->session_id);
		return;
	}
	if (req->secret != NULL && (req->secret_word >= req->n_words ||
	    req->words[req->secret_word][0] != '\0' ||
	    memchr(req->secret->material.data, '\0', req->secret->material.len) != NULL)) {
		bus_reply_error(m, ERRC(INVALID_ARGUMENT), "the key goes in an empty word, and "
		    "holds no NUL");
		return;
	}
	if (req->secret != NULL) {
		/* Put the key back in its word; the bus wipes the message, this copy we do. */
		key = calloc(1, req->secret->material.len + 1);
		if (key == NULL) {
			bus_reply_error(m, ERRC(RESOURCE_EXHAUSTED), "out of memory");
			return;
		}
		memcpy(key, req->secret->material.data, req->secret->material.len);
		saved = req->words[req->secret_word];
		req->words[req->secret_word] = key;
	}
	ok = configd_command(cd, s, req->words, (int)req->n_words,
	    req->input != NULL ? (const char *)req->input->material.data : NULL,
	    req->input != NULL ? req->input->material.len : 0, req->input_name, &out);
	if (key != NULL) {
		req->words[req->secret_word] = saved;
		secure_wipe(key, strlen(key));
		free(key);
	}
	configd_reply_result(m, ok, &out, cd->generation);
	/* Shown configurations carry only $9$ text, but load input was key material. */
	secure_wipe(out.buf, out.cap);
	strbuf_release(&out);
}

static const struct bus_handler configd_handlers[] = {
	[MT(CONFIG_GET_SNAPSHOT)] = { configd_get_snapshot },
	[MT(CONFIG_SESSION_OPEN)] = { configd_open },
	[MT(CONFIG_SESSION_CLOSE)] = { configd_close },
	[MT(CONFIG_COMMAND)] = { configd_command_handler },
};

static void
configd_on_state(struct bus *bus, enum bus_state state, void *ctx)
{
	(void)bus;
	/* After every (re)registration: whoever missed a commit meanwhile catches up. */
	if (state == BUS_REGISTERED)
		configd_publish(ctx);
}

void
configd_handlers_install(struct configd *cd)
{
	bus_set_handlers(cd->bus, configd_handlers, ARRAY_SIZE(configd_handlers), cd);
	bus_on_state(cd->bus, configd_on_state, cd);
}
