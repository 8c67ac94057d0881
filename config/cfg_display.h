/* Private to the display and compare code (cfg_display.c, cfg_compare.c). */
#ifndef PICSEC_CFG_DISPLAY_H
#define PICSEC_CFG_DISPLAY_H

#include <stdbool.h>

#include "cfg_tree.h"
#include "strbuf.h"

/* "keyword value", "name" for keyless lists, "keyword \"$9$...\"" for secrets. Returns
 * whether the statement holds a secret. */
bool disp_head(struct strbuf *out, const struct cfg_node *n);
/* Siblings from first up to (not including) end, in braces form at an indent level. */
void disp_run(struct strbuf *out, const struct cfg_node *first, const struct cfg_node *end,
    int level);

#endif
