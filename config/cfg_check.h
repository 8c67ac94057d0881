/* Private to the commit checks (cfg_check*.c). */
#ifndef PICSEC_CFG_CHECK_H
#define PICSEC_CFG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* A manual SA's (SPI, protocol), to find the ones used twice. */
struct spi_use {
	uint32_t spi;
	const char *protocol; /* "esp" or "ah" */
	const struct cfg_node *at;
};

struct check_ctx {
	const struct cfg_node *root;
	const struct cfg_node *vpn; /* services ipsec-vpn, or NULL */
	struct cfg_diags *d;
	struct spi_use *spis;
	size_t nspis, spicap;
};

/* cfg_check_keys.c */
/* Bytes a manual key algorithm takes, or -1 when it is not one. */
int cfg_key_size(const char *algorithm);
/* A key container's bytes (ASCII as is, hexadecimal decoded); -1 when malformed. */
int cfg_key_bytes(const struct cfg_node *key, unsigned char *out, size_t outlen);
/* Whether a hexadecimal key or pre-shared key is even-length hex digits; says why not. */
bool cfg_check_hex(struct check_ctx *c, const struct cfg_node *hex);
/* The key under parent (authentication or encryption) for this algorithm. */
void cfg_check_manual_key(struct check_ctx *c, const struct cfg_node *parent,
    const char *algorithm);

/* cfg_check_sa.c: manual SAs (rule terms and security ipsec), SPI uniqueness. */
void cfg_check_manual(struct check_ctx *c, const struct cfg_node *manual, bool ospf);
void cfg_check_spis(struct check_ctx *c);

/* cfg_check_ike.c: IKE and IPsec proposals and policies, dynamic SAs. */
void cfg_check_proposals(struct check_ctx *c);
void cfg_check_dynamic(struct check_ctx *c, const struct cfg_node *dynamic);

/* cfg_check.c */
/* The active entry of list keyword under parent named name, or NULL. */
const struct cfg_node *cfg_check_lookup(const struct cfg_node *parent, const char *keyword,
    const char *name);
/* RFC 8221 / RFC 8247 status of an algorithm, as a warning when it is not recommended. */
void cfg_check_algorithm_status(struct check_ctx *c, const struct cfg_node *n);

#endif
