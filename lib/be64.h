/*
 * be64.h: 64-bit big-endian integers in byte strings, the order every
 * Sira store key and counter uses so that keys sort by number.
 */
#ifndef SIRA_BE64_H
#define SIRA_BE64_H

#include <stdint.h>

static inline void
be64_put(uint8_t out[static 8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static inline uint64_t
be64_get(const uint8_t in[static 8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

#endif
