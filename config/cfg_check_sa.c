/* Manual SAs: what each protocol needs, the key of each algorithm, and SPIs used once. */
#include "cfg_check.h"

#include <stdlib.h>
#include <string.h>

static void
spi_note(struct check_ctx *c, uint32_t spi, const char *protocol, const struct cfg_node *at)
{
	struct spi_use *grown;

	if (c->nspis == c->spicap) {
		grown = realloc(c->spis, (c->spicap > 0 ? c->spicap * 2 : 16) * sizeof(*grown));
		if (grown == NULL)
			return;
		c->spis = grown;
		c->spicap = c->spicap > 0 ? c->spicap * 2 : 16;
	}
	c->spis[c->nspis++] = (struct spi_use){ spi, protocol, at };
}

static int
spi_compare(const void *a, const void *b)
{
	const struct spi_use *x = a, *y = b;
	int p = strcmp(x->protocol, y->protocol);

	if (p != 0)
		return p;
	return x->spi < y->spi ? -1 : x->spi > y->spi;
}

void
cfg_check_spis(struct check_ctx *c)
{
	char path[2048];
	size_t i;

	if (c->nspis < 2)
		return;
	qsort(c->spis, c->nspis, sizeof(*c->spis), spi_compare);
	for (i = 1; i < c->nspis; i++) {
		if (spi_compare(&c->spis[i - 1], &c->spis[i]) != 0)
			continue;
		cfg_node_path(c->spis[i - 1].at->parent, path, sizeof(path));
		cfg_diag_node(c->d, CFG_ERROR, c->spis[i].at,
		    "SPI %u is used for %s by another manual SA too ([edit %s]): each manual SA "
		    "needs its own SPI and protocol", c->spis[i].spi, c->spis[i].protocol, path);
	}
}

static void
check_gcm(struct check_ctx *c, const struct cfg_node *alg)
{
	if (strstr(alg->value, "-gcm") != NULL)
		cfg_diag_node(c->d, CFG_ERROR, alg,
		    "manual SAs take only CBC ciphers: %s needs a fresh nonce for every packet "
		    "under one key, which a static key cannot promise across restarts (RFC 4106 "
		    "§8); use it with dynamic SAs", alg->value);
}

/* What one direction of a manual SA needs, by protocol. */
static void
check_direction(struct check_ctx *c, const struct cfg_node *dir, bool ospf)
{
	const struct cfg_node *auth = cfg_child(dir, "authentication");
	const struct cfg_node *enc = cfg_child(dir, "encryption");
	const struct cfg_node *spi = cfg_child(dir, "spi"), *aux = cfg_child(dir, "auxiliary-spi");
	const struct cfg_node *alg;
	const char *proto = cfg_leaf(dir, "protocol");

	if (proto == NULL) {
		cfg_diag_node(c->d, CFG_ERROR, dir, "protocol is required (ah, esp or bundle)");
		return;
	}
	if (spi == NULL)
		cfg_diag_node(c->d, CFG_ERROR, dir, "spi is required");
	if (strcmp(proto, "bundle") == 0 && aux == NULL)
		cfg_diag_node(c->d, CFG_ERROR, dir, "protocol bundle needs auxiliary-spi: the ESP "
		    "SPI of the bundle (spi is the AH one)");
	if (strcmp(proto, "bundle") != 0 && aux != NULL)
		cfg_diag_node(c->d, CFG_ERROR, aux, "auxiliary-spi goes only with protocol bundle");
	if (strcmp(proto, "ah") == 0 && enc != NULL)
		cfg_diag_node(c->d, CFG_ERROR, enc, "encryption cannot be configured with "
		    "protocol ah: AH authenticates only");
	if ((strcmp(proto, "ah") == 0 || strcmp(proto, "bundle") == 0) && auth == NULL)
		cfg_diag_node(c->d, CFG_ERROR, dir, "protocol %s needs authentication", proto);
	if (strcmp(proto, "bundle") == 0 && enc == NULL)
		cfg_diag_node(c->d, CFG_ERROR, dir, "protocol bundle needs encryption (the ESP "
		    "half of the bundle)");
	if (strcmp(proto, "esp") == 0 && auth == NULL && enc == NULL)
		cfg_diag_node(c->d, CFG_ERROR, dir, "protocol esp needs encryption, authentication "
		    "or both");
	if (strcmp(proto, "esp") == 0 && auth == NULL && enc != NULL && !ospf)
		cfg_diag_node(c->d, CFG_WARNING, dir, "ESP with encryption and no authentication "
		    "can be altered on the way undetected (RFC 8221 advises against it)");
	if (auth != NULL) {
		alg = cfg_child(auth, "algorithm");
		if (alg == NULL) {
			cfg_diag_node(c->d, CFG_ERROR, auth, "algorithm is required");
		} else {
			cfg_check_algorithm_status(c, alg);
			cfg_check_manual_key(c, auth, alg->value);
		}
	}
	if (enc != NULL) {
		alg = cfg_child(enc, "algorithm");
		if (alg == NULL) {
			cfg_diag_node(c->d, CFG_ERROR, enc, "algorithm is required");
		} else if (strstr(alg->value, "-gcm") != NULL) {
			check_gcm(c, alg);
		} else {
			cfg_check_algorithm_status(c, alg);
			cfg_check_manual_key(c, enc, alg->value);
		}
	}
	/* bundle: spi is AH's, auxiliary-spi ESP's; each is one SA for uniqueness. */
	if (spi != NULL)
		spi_note(c, (uint32_t)strtoul(spi->value, NULL, 10),
		    strcmp(proto, "esp") == 0 ? "esp" : "ah", spi);
	if (aux != NULL && strcmp(proto, "bundle") == 0)
		spi_note(c, (uint32_t)strtoul(aux->value, NULL, 10), "esp", aux);
}

void
cfg_check_manual(struct check_ctx *c, const struct cfg_node *manual, bool ospf)
{
	const struct cfg_node *dir, *bidir = NULL, *one_way = NULL;
	unsigned count = 0;

	cfg_each(dir, manual, "direction") {
		count++;
		if (strcmp(dir->value, "bidirectional") == 0)
			bidir = dir;
		else
			one_way = dir;
		check_direction(c, dir, ospf);
	}
	if (count == 0)
		cfg_diag_node(c->d, CFG_ERROR, manual, "a manual SA needs a direction (inbound, "
		    "outbound or bidirectional)");
	if (bidir != NULL && one_way != NULL)
		cfg_diag_node(c->d, CFG_ERROR, one_way, "direction bidirectional already covers "
		    "both directions: remove it or the %s one", one_way->value);
	if (ospf && bidir == NULL && count > 0)
		cfg_diag_node(c->d, CFG_ERROR, manual,
		    "OSPF takes only bidirectional manual SAs");
}
