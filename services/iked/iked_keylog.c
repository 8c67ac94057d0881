/* The opt-in key log: Wireshark's own tables, so that anyone with the directory can decrypt
 * a capture (tshark with WIRESHARK_CONFIG_DIR set to it). ikev2_decryption_table gets a
 * line per IKE SA (SPIs, SK_e and SK_a each way, unquoted hex), esp_sa two per Child SA
 * (each direction's addresses, SPI, algorithms and keys, quoted). Off unless asked for by
 * --keylog or PICSEC_IKED_KEYLOG, and refused unless iked runs as root: the files undo all
 * the protection. */
#include "iked_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ike_keys.h"
#include "ike_proposal.h"
#include "ike_sk.h"
#include "log.h"

enum { IKED_KEYLOG_LINE = 1024 };

int
iked_keylog_check(const char *dir, char *err, size_t errlen)
{
	if (dir == NULL || dir[0] == '\0')
		return 0;
	if (geteuid() != 0) {
		snprintf(err, errlen, "the key log (%s) is for root only: it lets anyone who reads "
		    "it decrypt every tunnel", dir);
		return -1;
	}
	if (access(dir, W_OK) != 0) {
		snprintf(err, errlen, "key log directory %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Appends one line to DIR/name (0600, no symbolic links followed). */
static void
iked_keylog_append(const struct iked *ik, const char *name, const char *line)
{
	char path[512];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", ik->opts.keylog, name) >= (int)sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		log_warn("key log %s", path);
	if (fd >= 0)
		close(fd);
}

/* Wireshark 4.0's names of the transforms. */
static const char *
ws_ike_encr(const struct ike_transform *e)
{
	if (e == NULL)
		return "NULL [RFC2410]";
	if (e->id == IKE_ENCR_3DES)
		return "TripleDES-CBC [RFC2451]";
	if (e->id == IKE_ENCR_AES_GCM_16)
		return e->key_length == 256 ? "AES-GCM-256 with 16 octet ICV [RFC5282]" :
		    e->key_length == 192 ? "AES-GCM-192 with 16 octet ICV [RFC5282]" :
		    "AES-GCM-128 with 16 octet ICV [RFC5282]";
	return e->key_length == 256 ? "AES-CBC-256 [RFC3602]" : e->key_length == 192 ?
	    "AES-CBC-192 [RFC3602]" : "AES-CBC-128 [RFC3602]";
}

static const char *
ws_ike_integ(const struct ike_transform *i)
{
	if (i == NULL)
		return "NONE [RFC4306]";
	switch (i->id) {
	case IKE_INTEG_HMAC_MD5_96: return "HMAC_MD5_96 [RFC2403]";
	case IKE_INTEG_HMAC_SHA1_96: return "HMAC_SHA1_96 [RFC2404]";
	case IKE_INTEG_HMAC_SHA2_256_128: return "HMAC_SHA2_256_128 [RFC4868]";
	case IKE_INTEG_HMAC_SHA2_384_192: return "HMAC_SHA2_384_192 [RFC4868]";
	default: return "NONE [RFC4306]";
	}
}

static const char *
ws_esp_encr(const struct ike_transform *e)
{
	if (e == NULL)
		return "NULL [RFC2410]";
	switch (e->id) {
	case IKE_ENCR_3DES: return "3DES [RFC2451]";
	case IKE_ENCR_AES_CBC: return "AES-CBC [RFC3602]";
	case IKE_ENCR_AES_GCM_16: return "AES-GCM with 16 octet ICV [RFC4106]";
	default: return "NULL [RFC2410]";
	}
}

static const char *
ws_esp_auth(const struct ike_transform *i)
{
	if (i == NULL)
		return "NULL";
	switch (i->id) {
	case IKE_INTEG_HMAC_MD5_96: return "HMAC-MD5-96 [RFC2403]";
	case IKE_INTEG_HMAC_SHA1_96: return "HMAC-SHA-1-96 [RFC2404]";
	case IKE_INTEG_HMAC_SHA2_256_128: return "HMAC-SHA-256-128 [RFC4868]";
	default: return "NULL";
	}
}

void
iked_keylog_ike(const struct iked *ik, const struct iked_sa *sa)
{
	const struct ike_keys *k = ike_sa_keys(sa->ike);
	const struct ike_proposal *p = ike_sa_proposal(sa->ike);
	char line[IKED_KEYLOG_LINE], ei[129], er[129], ai[129], ar[129];

	if (ik->opts.keylog == NULL || k == NULL || k->len.encr > 64 || k->len.integ > 64)
		return;
	hex(k->sk_ei, k->len.encr, ei);
	hex(k->sk_er, k->len.encr, er);
	hex(k->sk_ai, k->len.integ, ai);
	hex(k->sk_ar, k->len.integ, ar);
	snprintf(line, sizeof(line), "%016llx,%016llx,%s,%s,\"%s\",%s,%s,\"%s\"\n",
	    (unsigned long long)ike_sa_spi_i(sa->ike), (unsigned long long)ike_sa_spi_r(sa->ike),
	    ei, er, ws_ike_encr(ike_proposal_get(p, IKE_TF_ENCR)), ai, ar,
	    ws_ike_integ(ike_proposal_get(p, IKE_TF_INTEG)));
	iked_keylog_append(ik, "ikev2_decryption_table", line);
	sodium_memzero(line, sizeof(line));
	sodium_memzero(ei, sizeof(ei));
	sodium_memzero(er, sizeof(er));
	sodium_memzero(ai, sizeof(ai));
	sodium_memzero(ar, sizeof(ar));
}

/* One direction of a Child SA (AH is not in Wireshark's ESP table: not logged). */
static void
iked_keylog_esp_dir(const struct iked *ik, const uint8_t src[4], const uint8_t dst[4],
    uint32_t spi, const struct ike_child *c, const uint8_t *ek, const uint8_t *ak)
{
	const struct ike_transform *e = ike_proposal_get(&c->chosen, IKE_TF_ENCR);
	const struct ike_transform *i = ike_proposal_get(&c->chosen, IKE_TF_INTEG);
	char line[IKED_KEYLOG_LINE], s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN], ekx[129], akx[129];

	if (c->encr_len > 64 || c->integ_len > 64)
		return;
	hex(ek, c->encr_len, ekx);
	hex(ak, c->integ_len, akx);
	inet_ntop(AF_INET, src, s, sizeof(s));
	inet_ntop(AF_INET, dst, d, sizeof(d));
	snprintf(line, sizeof(line), "\"IPv4\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"0x%s\",\"%s\","
	    "\"%s%s\"\n", s, d, spi, ws_esp_encr(e), ekx, ws_esp_auth(i),
	    c->integ_len > 0 ? "0x" : "", akx);
	iked_keylog_append(ik, "esp_sa", line);
	sodium_memzero(line, sizeof(line));
	sodium_memzero(ekx, sizeof(ekx));
	sodium_memzero(akx, sizeof(akx));
}

void
iked_keylog_child(const struct iked *ik, const struct iked_sa *sa, const struct ike_child *c)
{
	if (ik->opts.keylog == NULL || c->protocol != IKE_PROTO_ESP)
		return;
	iked_keylog_esp_dir(ik, sa->tunnel->local, sa->peer, c->spi_out, c, c->encr_out,
	    c->integ_out);
	iked_keylog_esp_dir(ik, sa->peer, sa->tunnel->local, c->spi_in, c, c->encr_in,
	    c->integ_in);
}
