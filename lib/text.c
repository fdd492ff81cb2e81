/*
 * text.c: UTF-8 and control-character checks, and bounded string copies.
 *
 * Strings from peers end up on operators' terminals and in JSON, so they are
 * validated strictly (RFC 3629: shortest form, no UTF-16 surrogates, at most
 * U+10FFFF) and display strings must not carry control characters.
 */
#include <stdint.h>
#include <string.h>

#include "text.h"

size_t
text_utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

bool
text_is_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = text_utf8_len(p[i]);
		uint32_t cp;

		if (n == 0 || n > len - i)
			return false;
		cp = n == 1 ? p[i] : (uint32_t)(p[i] & (0x7f >> n));
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/*
 * Invisible format characters that can reorder or hide text on a terminal
 * (the "Trojan Source" class): U+200B..U+200F, U+2028..U+202E,
 * U+2060..U+2069 and U+FEFF. p points at a 3-byte sequence.
 */
static bool
invisible_format(const unsigned char *p)
{
	if (p[0] == 0xe2 && p[1] == 0x80)
		return (p[2] >= 0x8b && p[2] <= 0x8f) ||
		    (p[2] >= 0xa8 && p[2] <= 0xae);
	if (p[0] == 0xe2 && p[1] == 0x81)
		return p[2] >= 0xa0 && p[2] <= 0xa9;
	return p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf;
}

bool
text_has_control(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return true;
		if (i + 2 < len && invisible_format(p + i))
			return true;
		/* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F. */
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

bool
text_has_control_lines(const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '\n' && s[i] != '\t')
			continue;
		if (text_has_control(s + start, i - start))
			return true;
		start = i + 1;
	}
	return false;
}

int
text_copy(char *dst, size_t dstlen, const char *src)
{
	size_t len = strlen(src);

	if (len >= dstlen)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}
