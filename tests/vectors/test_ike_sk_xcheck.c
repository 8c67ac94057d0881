/* IKEv2 crypto against Python (another implementation of the same primitives,
 * /usr/bin/python3): Python's `cryptography` opens what picsec seals in an Encrypted
 * payload and picsec opens what Python seals, for AES-CBC with HMAC-SHA-256-128 and for
 * AES-GCM-16 (RFC 5282's nonce and additional data), the layout written from RFC 7296
 * §3.14 on both sides; and PSK AUTH agrees with Python's hmac. In the suites
 * 'vectors' and 'python' (not under valgrind: Python is not for memcheck). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_keys.h"
#include "ike_sk.h"

static const uint8_t key64[64] = "integrity-key-integrity-key-integrity-key-integrity-key-integri";

static struct ike_sk *
make(enum ike_encr encr)
{
	uint8_t ek[20] = "0123456789abcdefSALT";
	char err[256];
	struct ike_sk *sk = encr == IKE_ENCR_AES_GCM_16 ?
	    ike_sk_new(encr, ek, 20, IKE_INTEG_NONE, NULL, 0, err, sizeof(err)) :
	    ike_sk_new(encr, ek, 16, IKE_INTEG_HMAC_SHA2_256_128, key64, 32, err, sizeof(err));

	cr_assert_not_null(sk, "%s", err);
	return sk;
}

/* Python's side: open what C sealed (argv: suite, aad, body) and print the plaintext, or
 * seal (argv: suite, aad, plain) and print the body. */
static const char python_side[] =
    "import sys, os, hmac, hashlib\n"
    "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
    "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
    "op, suite, aad, data = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), "
    "bytes.fromhex(sys.argv[4])\n"
    "ek = b'0123456789abcdef'; ik = b'integrity-key-integrity-key-inte'\n"
    "if suite == 'gcm':\n"
    "    g = AESGCM(ek); salt = b'SALT'\n"
    "    if op == 'open':\n"
    "        pt = g.decrypt(salt + data[:8], data[8:], aad); pad = pt[-1]\n"
    "        print(pt[:len(pt) - 1 - pad].hex())\n"
    "    else:\n"
    "        iv = os.urandom(8); body = data + bytes([0])\n"
    "        print((iv + g.encrypt(salt + iv, body, aad)).hex())\n"
    "else:\n"
    "    if op == 'open':\n"
    "        iv, ct, icv = data[:16], data[16:-16], data[-16:]\n"
    "        want = hmac.new(ik, aad + iv + ct, hashlib.sha256).digest()[:16]\n"
    "        assert hmac.compare_digest(want, icv), 'ICV'\n"
    "        d = Cipher(algorithms.AES(ek), modes.CBC(iv)).decryptor()\n"
    "        pt = d.update(ct) + d.finalize(); pad = pt[-1]\n"
    "        print(pt[:len(pt) - 1 - pad].hex())\n"
    "    else:\n"
    "        iv = os.urandom(16); pad = (16 - (len(data) + 1) % 16) % 16\n"
    "        body = data + bytes(pad) + bytes([pad])\n"
    "        e = Cipher(algorithms.AES(ek), modes.CBC(iv)).encryptor()\n"
    "        ct = e.update(body) + e.finalize()\n"
    "        print((iv + ct + hmac.new(ik, aad + iv + ct, hashlib.sha256).digest()[:16]).hex())\n";

static void
tohex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static size_t
python(const char *op, const char *suite, const uint8_t *aad, size_t aad_len,
    const uint8_t *data, size_t len, uint8_t *out)
{
	char cmd[8192], ahex[200], dhex[2000], line[2000];
	size_t n = 0;
	unsigned v;
	FILE *p;

	tohex(aad, aad_len, ahex);
	tohex(data, len, dhex);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"$PY\" %s %s %s %s", op, suite, ahex,
	    dhex);
	setenv("PY", python_side, 1);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	line[0] = '\0';
	if (fgets(line, sizeof(line), p) == NULL)
		line[0] = '\0';
	cr_assert_eq(pclose(p), 0, "python %s %s failed", op, suite);
	while (line[2 * n] != '\0' && line[2 * n] != '\n' && sscanf(line + 2 * n, "%2x", &v) == 1)
		out[n++] = (uint8_t)v;
	return n;
}

Test(ike_sk_xcheck, python_cryptography_agrees, .timeout = 60)
{
	static const struct {
		const char *name;
		enum ike_encr encr;
	} pysuites[] = { { "cbc", IKE_ENCR_AES_CBC }, { "gcm", IKE_ENCR_AES_GCM_16 } };
	static const uint8_t inner[] = "inner payloads: IDi, AUTH, SA, TSi, TSr";
	uint8_t aad[32], sealed[256], back[256];
	size_t i, len, n, got;

	memset(aad, 0x42, sizeof(aad));
	for (i = 0; i < 2; i++) {
		struct ike_sk *sk = make(pysuites[i].encr);

		len = ike_sk_sealed_len(sk, sizeof(inner));
		cr_assert_eq(ike_sk_seal(sk, aad, sizeof(aad), inner, sizeof(inner), sealed), 0);
		n = python("open", pysuites[i].name, aad, sizeof(aad), sealed, len, back);
		cr_assert_eq(n, sizeof(inner), "%s: python opened %zu octets", pysuites[i].name, n);
		cr_assert_eq(memcmp(back, inner, n), 0);
		n = python("seal", pysuites[i].name, aad, sizeof(aad), inner, sizeof(inner), sealed);
		cr_assert_eq(ike_sk_open(sk, aad, sizeof(aad), sealed, n, back, &got), 0,
		    "%s: picsec opens what python sealed", pysuites[i].name);
		cr_assert_eq(got, sizeof(inner));
		cr_assert_eq(memcmp(back, inner, got), 0);
		ike_sk_free(sk);
	}
}

/* PSK AUTH (RFC 7296 §2.15) computed by Python's hmac from the RFC's formula:
 * prf(prf(PSK, "Key Pad for IKEv2"), message | nonce | prf(SK_p, ID body)). */
static const char python_auth[] =
    "import sys, hmac, hashlib\n"
    "psk, msg, nonce, skp, idb = (bytes.fromhex(a) for a in sys.argv[1:6])\n"
    "h = lambda k, m: hmac.new(k, m, hashlib.sha256).digest()\n"
    "print(h(h(psk, b'Key Pad for IKEv2'), msg + nonce + h(skp, idb)).hex())\n";

Test(ike_sk_xcheck, psk_auth_agrees_with_python_hmac, .timeout = 60)
{
	static const uint8_t psk[] = "a pre-shared key of some length", msg[] = "IKE_SA_INIT "
	    "request as sent, header and all", nonce[32] = "responder nonce, 32 octets long",
	    idb[] = "\x02\x00\x00\x00gw-a.example";
	uint8_t skp[32], ours[64], theirs[64];
	char cmd[4096], h[5][200], line[200];
	struct ike_bytes m = { msg, sizeof(msg) - 1 }, n = { nonce, sizeof(nonce) },
	    id = { idb, sizeof(idb) - 1 };
	unsigned v;
	size_t i;
	FILE *p;

	memset(skp, 0x5c, sizeof(skp));
	cr_assert_eq(ike_auth_psk(IKE_PRF_HMAC_SHA2_256, psk, sizeof(psk) - 1, &m, &n, skp,
	    sizeof(skp), &id, ours), 0);
	tohex(psk, sizeof(psk) - 1, h[0]);
	tohex(msg, sizeof(msg) - 1, h[1]);
	tohex(nonce, sizeof(nonce), h[2]);
	tohex(skp, sizeof(skp), h[3]);
	tohex(idb, sizeof(idb) - 1, h[4]);
	setenv("PYAUTH", python_auth, 1);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"$PYAUTH\" %s %s %s %s %s", h[0], h[1],
	    h[2], h[3], h[4]);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_not_null(fgets(line, sizeof(line), p));
	cr_assert_eq(pclose(p), 0);
	for (i = 0; i < 32; i++) {
		cr_assert_eq(sscanf(line + 2 * i, "%2x", &v), 1);
		theirs[i] = (uint8_t)v;
	}
	cr_assert_eq(memcmp(ours, theirs, 32), 0, "AUTH agrees");
}
