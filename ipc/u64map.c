#include "u64map.h"

#include <errno.h>
#include <stdlib.h>

struct u64map_slot {
	uint64_t key; /* 0 marks an empty slot */
	void *value;
};

struct u64map {
	struct u64map_slot *slots;
	size_t cap; /* a power of two */
	size_t count;
};

enum { U64MAP_MIN_CAP = 16 };

/* splitmix64's finalizer: ids are often sequential, so spread them over the table. */
static size_t
u64map_hash(uint64_t key, size_t cap)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & (cap - 1);
}

struct u64map *
u64map_new(void)
{
	struct u64map *map;

	map = calloc(1, sizeof(*map));
	if (map == NULL)
		return NULL;
	map->slots = calloc(U64MAP_MIN_CAP, sizeof(*map->slots));
	if (map->slots == NULL) {
		free(map);
		return NULL;
	}
	map->cap = U64MAP_MIN_CAP;
	return map;
}

void
u64map_free(struct u64map *map)
{
	if (map == NULL)
		return;
	free(map->slots);
	free(map);
}

static size_t
u64map_find(const struct u64map *map, uint64_t key)
{
	size_t i = u64map_hash(key, map->cap);

	while (map->slots[i].key != 0 && map->slots[i].key != key)
		i = (i + 1) & (map->cap - 1);
	return i;
}

static int
u64map_grow(struct u64map *map)
{
	struct u64map_slot *old = map->slots;
	size_t old_cap = map->cap;
	size_t i;

	map->slots = calloc(old_cap * 2, sizeof(*map->slots));
	if (map->slots == NULL) {
		map->slots = old;
		errno = ENOMEM;
		return -1;
	}
	map->cap = old_cap * 2;
	for (i = 0; i < old_cap; i++) {
		if (old[i].key != 0)
			map->slots[u64map_find(map, old[i].key)] = old[i];
	}
	free(old);
	return 0;
}

int
u64map_put(struct u64map *map, uint64_t key, void *value)
{
	size_t i;

	if (key == 0) {
		errno = EINVAL;
		return -1;
	}
	/* Keep the load factor at or below 1/2 so probe runs stay short. */
	if ((map->count + 1) * 2 > map->cap && u64map_grow(map) == -1)
		return -1;
	i = u64map_find(map, key);
	if (map->slots[i].key == 0)
		map->count++;
	map->slots[i].key = key;
	map->slots[i].value = value;
	return 0;
}

void *
u64map_get(const struct u64map *map, uint64_t key)
{
	size_t i;

	if (key == 0)
		return NULL;
	i = u64map_find(map, key);
	return map->slots[i].key == key ? map->slots[i].value : NULL;
}

void *
u64map_take(struct u64map *map, uint64_t key)
{
	size_t mask = map->cap - 1;
	size_t hole, i, home;
	void *value;

	if (key == 0)
		return NULL;
	hole = u64map_find(map, key);
	if (map->slots[hole].key != key)
		return NULL;
	value = map->slots[hole].value;
	map->count--;
	/* Backward-shift: move later entries of the run into the hole when their home slot
	 * does not lie cyclically between the hole and their position. */
	i = hole;
	for (;;) {
		i = (i + 1) & mask;
		if (map->slots[i].key == 0)
			break;
		home = u64map_hash(map->slots[i].key, map->cap);
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			map->slots[hole] = map->slots[i];
			hole = i;
		}
	}
	map->slots[hole].key = 0;
	map->slots[hole].value = NULL;
	return value;
}

size_t
u64map_count(const struct u64map *map)
{
	return map->count;
}

void
u64map_foreach(const struct u64map *map, u64map_visit_fn *fn, void *arg)
{
	size_t i;

	for (i = 0; i < map->cap; i++) {
		if (map->slots[i].key != 0)
			fn(map->slots[i].key, map->slots[i].value, arg);
	}
}
