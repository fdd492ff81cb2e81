/*
 * secarena.c: guarded arenas (secarena.h). A block is one sodium_malloc'd
 * region: this header, then the bytes handed out, bumped 16 at a time.
 * The arena is its first block; later blocks are chained from it and at
 * least double in size. sodium_free wipes each block as it unmaps it; a
 * pool (secpool) keeps small blocks, wiped, for the next arena.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "secarena.h"

#define ALIGN 16u
#define ROUND(n) (((n) + (ALIGN - 1)) & ~(size_t)(ALIGN - 1))

struct secarena {
	struct secarena *next; /* the next block of the chain */
	struct secarena *cur;  /* in the first block: the one being filled */
	size_t cap, used;      /* bytes after the header */
	void *first;           /* in the first block: its first allocation */
	struct secpool *pool;  /* in the first block: where blocks go back */
};

#define HDR ROUND(sizeof(struct secarena))

static struct secarena *
block_new(size_t cap)
{
	struct secarena *b;

	cap = ROUND(cap < SECARENA_SMALL ? SECARENA_SMALL : cap);
	if (cap > SIZE_MAX - HDR || (b = sodium_malloc(HDR + cap)) == NULL)
		return NULL;
	memset(b, 0, HDR + cap);
	b->cap = cap;
	b->cur = b;
	return b;
}

void
secpool_init(struct secpool *p)
{
	memset(p, 0, sizeof(*p));
}

void
secpool_drain(struct secpool *p)
{
	while (p->n > 0)
		sodium_free(p->free[--p->n]);
}

struct secarena *
secarena_new(size_t hint)
{
	return block_new(hint);
}

struct secarena *
secarena_new_in(struct secpool *pool, size_t hint)
{
	struct secarena *a;

	if (pool == NULL || pool->n == 0 || hint > SECARENA_SMALL) {
		if ((a = block_new(hint)) != NULL)
			a->pool = pool;
		return a;
	}
	a = pool->free[--pool->n]; /* wiped when it was given back */
	a->cap = SECARENA_SMALL;
	a->cur = a;
	a->pool = pool;
	pool->reused++;
	return a;
}

void *
secarena_alloc(struct secarena *a, size_t len)
{
	struct secarena *b = a->cur, *nb;
	void *p;

	len = ROUND(len > 0 ? len : 1);
	if (len < ALIGN)
		return NULL; /* len was near SIZE_MAX: the rounding wrapped */
	if (b->cap - b->used < len) {
		/* The first allocation stays in the first block, where
		 * secarena_of_first looks for it. */
		if (a->first == NULL)
			return NULL;
		if ((nb = block_new(len > b->cap ? len : 2 * b->cap)) == NULL)
			return NULL;
		b->next = nb;
		a->cur = b = nb;
	}
	p = (unsigned char *)b + HDR + b->used;
	b->used += len;
	if (a->first == NULL)
		a->first = p;
	return p;
}

void *
secarena_first(const struct secarena *a)
{
	return a->first;
}

struct secarena *
secarena_of_first(void *first)
{
	return (struct secarena *)(void *)((unsigned char *)first - HDR);
}

void
secarena_free(struct secarena *a)
{
	struct secpool *pool = a != NULL ? a->pool : NULL;

	while (a != NULL) {
		struct secarena *next = a->next;
		if (pool != NULL && a->cap == SECARENA_SMALL &&
		    pool->n < SECPOOL_MAX) {
			sodium_memzero(a, HDR + a->cap);
			pool->free[pool->n++] = a;
		} else {
			sodium_free(a);
		}
		a = next;
	}
}
