/* A configuration as a tree of statements, each node an instance of a schema node. Children
 * stay in schema order, and entries of one list (or values of one leaf-list) in the order
 * they were given, so the display is canonical whatever order the input had.
 *
 * A leaf-list holds one node per value. Secret leaves hold the plaintext (wiped when freed)
 * and the $9$ text to show, which is kept so the display never changes by itself. */
#ifndef PICSEC_CFG_TREE_H
#define PICSEC_CFG_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg_schema.h"

struct cfg_loc {
	const char *file; /* borrowed from the parse that made the node; NULL when copied */
	unsigned line, col;
};

struct cfg_node {
	const struct cfg_schema *schema;
	struct cfg_node *parent;
	struct cfg_node *first, *last; /* children */
	struct cfg_node *prev, *next;  /* siblings */
	char *value;		       /* a LIST entry's name, a LEAF's or LEAFLIST's value */
	char *shown;		       /* secrets: the $9$ form to display */
	char *annotation;	       /* annotate: a comment shown above the statement */
	bool inactive;		       /* deactivate: kept, shown, ignored by commit */
	bool replace;		       /* "replace:" in a file loaded with load replace */
	struct cfg_loc loc;
};

/* An annotation as it is kept and shown: one line of text, no control characters, no
 * comment terminator, no spaces at either end. A new string, or NULL (empty or no memory). */
char *cfg_annotation_new(const char *text);

/* An empty configuration (the root node). */
struct cfg_node *cfg_tree_new(void);
/* Frees a node and everything below it, wiping secrets; unlinks it first. NULL is fine. */
void cfg_node_free(struct cfg_node *n);

/* The child instance of schema s with this value (NULL value for containers, flags and
 * leaves, which have one instance), or NULL. */
struct cfg_node *cfg_node_find(const struct cfg_node *parent, const struct cfg_schema *s,
    const char *value);
/* Finds or creates that child. A LEAF's value is replaced; a choice member marked
 * CFG_F_REPLACE removes the other members of its choice. value is already checked and
 * canonical (cfg_value_check); shown is the $9$ text of a secret, or NULL to make one.
 * NULL on allocation failure. */
struct cfg_node *cfg_node_set(struct cfg_node *parent, const struct cfg_schema *s,
    const char *value, const char *shown);
/* A deep copy (without locations), or NULL. */
struct cfg_node *cfg_node_copy(const struct cfg_node *n);
/* Copies src's children into dst (merge): lists merge by name, leaves take src's value. */
int cfg_node_merge(struct cfg_node *dst, const struct cfg_node *src);
/* The same; with honour_replace, a statement marked "replace:" replaces dst's whole. */
int cfg_node_load(struct cfg_node *dst, const struct cfg_node *src, bool honour_replace);
/* Whether two subtrees say the same (values, inactive marks and annotations included). */
bool cfg_node_equal(const struct cfg_node *a, const struct cfg_node *b);

/* Walking the active configuration (what a commit uses): inactive nodes are skipped. */
struct cfg_node *cfg_child(const struct cfg_node *n, const char *keyword);
struct cfg_node *cfg_next(const struct cfg_node *n); /* the next active sibling, same schema */
const char *cfg_leaf(const struct cfg_node *n, const char *keyword);
bool cfg_has(const struct cfg_node *n, const char *keyword);
#define cfg_each(it, parent, keyword) \
	for ((it) = cfg_child((parent), (keyword)); (it) != NULL; (it) = cfg_next(it))

/* Whether n and every ancestor are active. */
bool cfg_node_active(const struct cfg_node *n);
/* "services ipsec-vpn rule r1 term t1 then": the words that lead to n (n included). */
void cfg_node_path(const struct cfg_node *n, char *out, size_t outlen);
/* "spi 17000", "rule r1", "clear-dont-fragment-bit": n's own statement, for error banners. */
void cfg_node_statement(const struct cfg_node *n, char *out, size_t outlen);
size_t cfg_node_count(const struct cfg_node *n);

#endif
