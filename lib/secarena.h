/*
 * secarena.h: guarded arenas for decrypted secrets that protobuf-c unpacks.
 *
 * protobuf-c allocates every sub-message, string and bytes field of an
 * unpacked message separately. Each sodium_malloc is its own mapping with
 * guard pages (mmap, mprotect, mlock; munlock, mprotect, munmap to free),
 * and the munmap of a threaded process makes every CPU flush its TLB: per
 * note, that was a third of an agent's CPU (docs/PERFORMANCE.md). An arena
 * keeps the same protection, guarded, locked, wiped on free, for a chain of
 * a few blocks per message instead of one mapping per field.
 */
#ifndef SIRA_SECARENA_H
#define SIRA_SECARENA_H

#include <stddef.h>

struct secarena;

/*
 * Small blocks kept for the next arena instead of unmapped: wiped, still
 * guarded and locked. A long-running process (the agent daemon) owns one
 * and lends it; blocks of at most SECARENA_SMALL bytes are kept, up to
 * SECPOOL_MAX of them.
 */
#define SECARENA_SMALL 3072u
#define SECPOOL_MAX 32

struct secpool {
	struct secarena *free[SECPOOL_MAX];
	size_t n;
	unsigned long long reused; /* arenas that needed no new mapping */
};

void secpool_init(struct secpool *p);
/* Unmap every block kept. */
void secpool_drain(struct secpool *p);

/* A new arena whose first block holds at least hint bytes, or NULL. */
struct secarena *secarena_new(size_t hint);

/* The same, taking its first block from pool when it can, and giving its
 * small blocks back to pool when freed (pool NULL: secarena_new). */
struct secarena *secarena_new_in(struct secpool *pool, size_t hint);

/* len bytes (16-byte aligned) from a, zeroed, or NULL when out of memory
 * (or when the first allocation does not fit the first block). Nothing is
 * freed before secarena_free. */
void *secarena_alloc(struct secarena *a, size_t len);

/* The address the first secarena_alloc of a returned, or NULL. */
void *secarena_first(const struct secarena *a);

/* The arena whose first allocation is first (secarena_first's inverse). */
struct secarena *secarena_of_first(void *first);

/* Wipe every block of a and unmap it, or keep it in a's pool (NULL is
 * fine). */
void secarena_free(struct secarena *a);

#endif
