/* How one tap record is printed: one line, one JSON object, or the whole message. The payload
 * is decoded from the catalogue's descriptor; there is no printing code per message type. */
#include "busmon.h"

#include <inttypes.h>
#include <string.h>

#include "catalog.h"
#include "envelope.h"

static bool
busmon_match(const struct tap_record *rec, const struct envelope_view *view,
    const struct busmon_filter *f)
{
	size_t n;
	const Picsec__V1__Envelope *env = view->env;

	if (f->topic != NULL) {
		n = strlen(f->topic);
		if (rec->route_len < n || memcmp(rec->route, f->topic, n) != 0)
			return false;
	}
	if (f->service != NULL) {
		if (env == NULL)
			return false;
		n = strlen(env->service);
		if (strcmp(env->service, f->service) != 0 &&
		    !(strncmp(f->service, env->service, n) == 0 && f->service[n] == '.' &&
		    strcmp(f->service + n + 1, env->instance) == 0))
			return false;
	}
	if (f->type != MT(NONE) && (env == NULL || (int)env->type != f->type))
		return false;
	return true;
}

/* Bytes from the bus go to a terminal: anything but printable ASCII is shown as \xNN. */
static void
busmon_plain(struct strbuf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] >= ' ' && s[i] <= '~' && s[i] != '\\')
			strbuf_addc(out, s[i]);
		else
			strbuf_addf(out, "\\x%02x", (unsigned char)s[i]);
	}
}

static void
busmon_source(struct strbuf *out, const Picsec__V1__Envelope *env)
{
	if (env->service[0] != '\0')
		busmon_plain(out, env->service, strlen(env->service));
	else
		strbuf_addc(out, '?');
	if (env->instance[0] != '\0') {
		strbuf_addc(out, '.');
		busmon_plain(out, env->instance, strlen(env->instance));
	}
}

static const char *
busmon_type_name(const Picsec__V1__Envelope *env)
{
	const char *name = catalog_type_name((int)env->type);

	return name != NULL ? name : "?";
}

static void
busmon_format_line(struct strbuf *out, const struct tap_record *rec,
    const struct envelope_view *view, const struct pbprint_opts *po)
{
	const Picsec__V1__Envelope *env = view->env;
	uint64_t when = env != NULL && env->timestamp_ns != 0 ? env->timestamp_ns :
	    rec->received_ns;

	pbprint_time_ns(out, when);
	strbuf_addc(out, ' ');
	busmon_plain(out, rec->kind, rec->kind_len);
	if (rec->kind_len < 7)
		strbuf_addf(out, "%*s", (int)(7 - rec->kind_len), "");
	strbuf_addc(out, ' ');
	busmon_plain(out, rec->route, rec->route_len);
	if (env == NULL) {
		strbuf_addf(out, " <%s>", view->detail);
		return;
	}
	strbuf_adds(out, " from ");
	busmon_source(out, env);
	strbuf_addf(out, " #%" PRIu64, env->seq);
	if (env->req_id != 0)
		strbuf_addf(out, " req=%" PRIu64, env->req_id);
	if (env->refer_id != 0)
		strbuf_addf(out, " re=%" PRIu64, env->refer_id);
	if (view->status == ENVELOPE_UNKNOWN_TYPE) {
		strbuf_addf(out, " type %d <%zu bytes, not in this build's catalogue>",
		    (int)env->type, env->payload.len);
		return;
	}
	strbuf_addf(out, " %s", busmon_type_name(env));
	if (view->status != ENVELOPE_OK)
		strbuf_addf(out, " <%s>", view->detail);
	else {
		strbuf_addc(out, po->style == PBPRINT_VERBOSE ? '\n' : ' ');
		pbprint(out, view->payload, po);
	}
}

static void
busmon_format_json(struct strbuf *out, const struct tap_record *rec,
    const struct envelope_view *view, const struct pbprint_opts *po)
{
	const Picsec__V1__Envelope *env = view->env;

	strbuf_adds(out, "{\"received\":\"");
	pbprint_time_ns(out, rec->received_ns);
	strbuf_adds(out, "\",\"kind\":");
	pbprint_json_string(out, rec->kind, rec->kind_len);
	strbuf_adds(out, ",\"route\":");
	pbprint_json_string(out, rec->route, rec->route_len);
	if (env == NULL) {
		strbuf_adds(out, ",\"error\":");
		pbprint_json_string(out, view->detail, strlen(view->detail));
		strbuf_addc(out, '}');
		return;
	}
	strbuf_adds(out, ",\"sent\":\"");
	pbprint_time_ns(out, env->timestamp_ns);
	strbuf_adds(out, "\",\"source\":{\"service\":");
	pbprint_json_string(out, env->service, strlen(env->service));
	strbuf_adds(out, ",\"instance\":");
	pbprint_json_string(out, env->instance, strlen(env->instance));
	strbuf_addf(out, ",\"incarnation\":\"%016" PRIx64 "\"},\"seq\":%" PRIu64
	    ",\"req_id\":%" PRIu64 ",\"refer_id\":%" PRIu64 ",\"type\":", env->incarnation,
	    env->seq, env->req_id, env->refer_id);
	if (view->status == ENVELOPE_UNKNOWN_TYPE)
		strbuf_addf(out, "%d", (int)env->type);
	else
		strbuf_addf(out, "\"%s\"", busmon_type_name(env));
	if (view->status == ENVELOPE_OK) {
		strbuf_adds(out, ",\"payload\":");
		pbprint(out, view->payload, po);
	} else {
		strbuf_adds(out, ",\"error\":");
		pbprint_json_string(out, view->detail, strlen(view->detail));
	}
	strbuf_addc(out, '}');
}

bool
busmon_format(struct strbuf *out, const struct tap_record *rec,
    const struct busmon_filter *filter, enum busmon_format format, bool show_secrets)
{
	struct pbprint_opts po = { .show_secrets = show_secrets };
	struct envelope_view view;
	bool shown;

	envelope_open(rec->env, rec->env_len, &view);
	shown = busmon_match(rec, &view, filter);
	if (shown) {
		switch (format) {
		case BUSMON_LINE:
			po.style = PBPRINT_LINE;
			busmon_format_line(out, rec, &view, &po);
			break;
		case BUSMON_VERBOSE:
			po.style = PBPRINT_VERBOSE;
			busmon_format_line(out, rec, &view, &po);
			break;
		case BUSMON_JSON:
			po.style = PBPRINT_JSON;
			busmon_format_json(out, rec, &view, &po);
			break;
		}
	}
	envelope_close(&view);
	return shown;
}
