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

/* A new arena whose first block holds at least hint bytes, or NULL. */
struct secarena *secarena_new(size_t hint);

/* len bytes (16-byte aligned) from a, zeroed, or NULL when out of memory
 * (or when the first allocation does not fit the first block). Nothing is
 * freed before secarena_free. */
void *secarena_alloc(struct secarena *a, size_t len);

/* The address the first secarena_alloc of a returned, or NULL. */
void *secarena_first(const struct secarena *a);

/* The arena whose first allocation is first (secarena_first's inverse). */
struct secarena *secarena_of_first(void *first);

/* Wipe and unmap every block of a (NULL is fine). */
void secarena_free(struct secarena *a);

#endif
