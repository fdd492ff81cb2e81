/*
 * wire.h: the one door between untrusted bytes and protobuf-c structs.
 *
 * wire_unpack() caps the input size, unpacks, and then insists that the
 * message is canonical: no unknown fields anywhere, every string valid
 * UTF-8, and re-packing yields exactly the input bytes. So one meaning has
 * one encoding, and a signature or an id over bytes identifies a meaning.
 * Files on disk carry an 8-byte magic in front of the protobuf bytes.
 * wire_varint() and wire_field_bytes() are the bounded reader for the few
 * places that look into protobuf bytes without unpacking them.
 */
#ifndef SIRA_WIRE_H
#define SIRA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "bytes.h"
#include "err.h"

#define SIRA_MAGIC_LEN 8
#define SIRA_MAGIC_CERT "SIRACRT1"
#define SIRA_MAGIC_CRL "SIRACRL1"
#define SIRA_MAGIC_KEY "SIRAKEY1"
#define SIRA_MAGIC_STATE "SIRASTA1"
#define SIRA_MAGIC_REQUEST "SIRAREQ1"

/* Caps on the broker's log objects as parties see them. */
#define SIRA_CHECKPOINT_MAX 4096     /* a SignedCheckpoint or its tbs */
#define SIRA_LEAF_MAX 4096           /* a LogLeaf */
#define SIRA_ACCEPTED_MAX (8u << 10) /* an Accepted with its checkpoint */

/*
 * Unpack untrusted[0..len) as a desc message into *out. The caller owns *out
 * and frees it with protobuf_c_message_free_unpacked(*out, NULL). Returns 0,
 * -SIRA_ETOOBIG (len > max), -SIRA_EMALFORMED (does not parse, unknown
 * fields, bad UTF-8, non-canonical encoding) or -SIRA_ENOMEM.
 */
int wire_unpack(const ProtobufCMessageDescriptor *desc,
    const uint8_t *untrusted, size_t len, size_t max, ProtobufCMessage **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * wire_unpack for decrypted secrets: the message lives in guarded memory
 * (sodium_malloc), the re-encoding is compared with sodium_memcmp and
 * wiped. Free *out with wire_free_secret only.
 */
int wire_unpack_secret(const ProtobufCMessageDescriptor *desc,
    const uint8_t *plain, size_t len, size_t max, ProtobufCMessage **out,
    struct sira_err *err) __attribute__((warn_unused_result));
void wire_free_secret(ProtobufCMessage *m);

/*
 * wire_unpack_secret into the caller's arena (secarena.h), with everything
 * else it owns there: *out is freed only by secarena_free(arena), which
 * wipes it; never by wire_free_secret.
 */
struct secarena;
int wire_unpack_secret_in(struct secarena *arena,
    const ProtobufCMessageDescriptor *desc, struct bytes plain, size_t max,
    ProtobufCMessage **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Pack m into a fresh malloc'd buffer *out of *outlen bytes (caller frees).
 * Returns 0 or -SIRA_ENOMEM.
 */
int wire_pack(const ProtobufCMessage *m, uint8_t **out, size_t *outlen,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Check that file (borrowed: the caller's bytes) starts with magic and point
 * *body at what follows (*bodylen bytes, borrowed from file). Returns 0 or
 * -SIRA_EMALFORMED naming what was expected.
 */
int wire_strip_magic(struct bytes file, const char *magic, const char *what,
    const uint8_t **body, size_t *bodylen, struct sira_err *err);

/*
 * Return a fresh malloc'd buffer holding magic || body (caller frees), or
 * NULL when out of memory.
 */
uint8_t *wire_add_magic(
    const char *magic, const uint8_t *body, size_t len, size_t *outlen);

/* The longest varint: 64 bits in 7-bit groups. */
#define SIRA_VARINT_MAX 10

/*
 * Read one protobuf base-128 varint from *p, reading no byte at or past end,
 * into *v, and advance *p past it. Non-minimal encodings (0x80 0x00) are
 * read as protobuf reads them; what does not fit in 64 bits is refused.
 * Returns 0, or -SIRA_EMALFORMED (no bytes, truncated, more than
 * SIRA_VARINT_MAX bytes, or a 10th byte above 1); *p and *v are unchanged
 * then.
 */
int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
    __attribute__((warn_unused_result));

/*
 * Find the first length-delimited (wire type 2) field number field in the
 * protobuf message m[0..len) without unpacking it, skipping the fields
 * before it. *out (borrowed from m, valid as long as m) and *out_len receive
 * its bytes. Returns 0, -SIRA_ENOTFOUND (no such field) or -SIRA_EMALFORMED
 * (a bad key, varint or length, or a group wire type before it).
 */
int wire_field_bytes(const uint8_t *m, size_t len, uint64_t field,
    const uint8_t **out, size_t *out_len) __attribute__((warn_unused_result));

#endif
