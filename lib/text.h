/*
 * text.h: checks on text that arrives from outside (certificate names,
 * protobuf strings, user input) before it is stored or shown.
 */
#ifndef SIRA_TEXT_H
#define SIRA_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool text_is_utf8(const char *s, size_t len);

/*
 * True when s[0..len) contains a C0 or C1 control character or DEL, which
 * could drive a terminal when shown (escape sequences, carriage returns),
 * or an invisible format character that reorders or hides text (bidi
 * overrides and isolates, zero-width characters, line and paragraph
 * separators, the byte-order mark).
 */
bool text_has_control(const char *s, size_t len);

/*
 * text_has_control for text shown as lines: newlines and tabs are allowed,
 * every other control or invisible character is not (notes, reasons,
 * contents behind a bar).
 */
bool text_has_control_lines(const char *s, size_t len);

/* Length of the UTF-8 sequence led by byte c, or 0 if c cannot lead one
 * (continuation bytes, overlong leads, leads beyond U+10FFFF). */
size_t text_utf8_len(unsigned char c);

/* Copy the string src into dst[dstlen]: 0, or -1 (dst untouched) when it
 * does not fit with its terminating NUL. */
int text_copy(char *dst, size_t dstlen, const char *src);

#endif
