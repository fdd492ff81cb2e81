/*
 * bytes.h: a borrowed byte string, so that a pointer and its length travel
 * as one argument. The bytes belong to the caller and must outlive the
 * call; nothing here allocates or frees.
 */
#ifndef SIRA_BYTES_H
#define SIRA_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct bytes {
	const uint8_t *p;
	size_t len;
};

static inline struct bytes
bytes_of(const void *p, size_t len)
{
	return (struct bytes){ (const uint8_t *)p, len };
}

#endif
