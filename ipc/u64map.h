/* A hash map from nonzero 64-bit ids to pointers: request ids, timer ids, SA ids.
 * Open addressing with linear probing and backward-shift deletion (no tombstones). */
#ifndef PICSEC_U64MAP_H
#define PICSEC_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map;

struct u64map *u64map_new(void);
void u64map_free(struct u64map *map);

/* 0 on success, -1 with errno ENOMEM, or EINVAL for key 0. Replaces an existing value. */
int u64map_put(struct u64map *map, uint64_t key, void *value);
void *u64map_get(const struct u64map *map, uint64_t key);
/* Removes key and returns its value, or NULL when absent. */
void *u64map_take(struct u64map *map, uint64_t key);
size_t u64map_count(const struct u64map *map);

/* Visits every entry; the callback must not change the map. Order is unspecified. */
typedef void u64map_visit_fn(uint64_t key, void *value, void *arg);
void u64map_foreach(const struct u64map *map, u64map_visit_fn *fn, void *arg);

#endif
