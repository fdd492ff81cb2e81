/*
 * wire.c: bounded, canonical protobuf decoding.
 *
 * protobuf-c accepts many encodings of one message (fields out of order,
 * repeated singular fields, non-minimal varints, unknown fields, explicit
 * default values). Signatures and ids in Sira are over bytes, so this file
 * accepts only the one encoding protobuf-c itself would produce. It walks the
 * descriptor generically, so every message of proto/ gets the same checks.
 * It also owns the bounded varint and field reader used where bytes are
 * looked into without unpacking them (the broker's stored spool entries).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "secarena.h"
#include "text.h"
#include "wire.h"

static bool
string_ok(const char *s)
{
	return s != NULL && text_is_utf8(s, strlen(s));
}

/* Is field f of m present as the selected member of its oneof (if any)? */
static bool
oneof_selected(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const uint32_t *qcase;

	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
		return true;
	qcase = (const uint32_t *)((const char *)m + f->quantifier_offset);
	return *qcase == f->id;
}

static bool message_ok(const ProtobufCMessage *m, int depth);

/* The recursion follows message nesting and is bounded by message_ok. */
static bool
field_ok( // NOLINT(misc-no-recursion)
    const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int depth)
{
	const char *base = (const char *)m + f->offset;
	size_t n;

	if (f->type != PROTOBUF_C_TYPE_MESSAGE &&
	    f->type != PROTOBUF_C_TYPE_STRING)
		return true;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		memcpy(&n, (const char *)m + f->quantifier_offset, sizeof(n));
		for (size_t i = 0; i < n; i++) {
			const void *elt = (*(void *const *)base == NULL) ?
			    NULL :
			    (*(void *const *const *)base)[i];
			if (f->type == PROTOBUF_C_TYPE_STRING &&
			    !string_ok(elt))
				return false;
			if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    (elt == NULL || !message_ok(elt, depth + 1)))
				return false;
		}
		return true;
	}
	if (!oneof_selected(m, f))
		return true;
	if (f->type == PROTOBUF_C_TYPE_STRING)
		return string_ok(*(const char *const *)base);
	if (*(const ProtobufCMessage *const *)base == NULL)
		return true;
	return message_ok(*(const ProtobufCMessage *const *)base, depth + 1);
}

static bool
message_ok(const ProtobufCMessage *m, int depth) // NOLINT(misc-no-recursion)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	/* Our schema is not recursive; a deep tree means a broken invariant. */
	if (depth > 16 || m->n_unknown_fields != 0)
		return false;
	for (unsigned i = 0; i < d->n_fields; i++)
		if (!field_ok(m, &d->fields[i], depth))
			return false;
	return true;
}

/* protobuf-c allocator keeping unpacked secrets in a guarded arena
 * (secarena.h): freed all at once, by wire_free_secret. */
static void *
secure_alloc(void *data, size_t len)
{
	return secarena_alloc(data, len);
}

static void
secure_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

static void *
plain_alloc(void *data, size_t len)
{
	(void)data;
	return malloc(len > 0 ? len : 1);
}

static void
plain_free(void *data, void *p)
{
	(void)data;
	free(p);
}

/* Are the bytes protobuf-c would write for m exactly untrusted[0..len)?
 * 0, -SIRA_EMALFORMED or -SIRA_ENOMEM. The re-encoding lives in memory
 * from a (it may hold secrets) and is wiped. Secrets are compared in
 * constant time; other bytes (frames, envelopes, up to 64 KiB and more)
 * with memcmp, which only the sender of them could time. */
static int
canonical(const ProtobufCMessage *m, const uint8_t *untrusted, size_t len,
    ProtobufCAllocator *a, bool secret)
{
	uint8_t *again;
	bool ok;

	if (protobuf_c_message_get_packed_size(m) != len)
		return -SIRA_EMALFORMED;
	if (len == 0)
		return 0;
	if ((again = a->alloc(a->allocator_data, len)) == NULL)
		return -SIRA_ENOMEM;
	ok = protobuf_c_message_pack(m, again) == len &&
	    (secret ? sodium_memcmp(again, untrusted, len) :
		      memcmp(again, untrusted, len)) == 0;
	sodium_memzero(again, len);
	a->free(a->allocator_data, again);
	return ok ? 0 : -SIRA_EMALFORMED;
}

/* What to decode, and whether it holds secrets (guarded memory): in the
 * caller's arena, or in a new one when arena is NULL. */
struct request {
	const ProtobufCMessageDescriptor *desc;
	const uint8_t *bytes;
	size_t len, max;
	bool secret;
	struct secarena *arena;
};

/* protobuf-c's unpack into a, checked; *out is the message or NULL. */
static int
unpack_checked(const struct request *rq, ProtobufCAllocator *a,
    ProtobufCMessage **out, struct sira_err *err)
{
	const char *name = rq->desc->short_name;
	int rc;

	*out = protobuf_c_message_unpack(rq->desc, a, rq->len, rq->bytes);
	if (*out == NULL)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "%s does not parse", name);
	if (!message_ok(*out, 0))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "%s has unknown fields or invalid text", name);
	if ((rc = canonical(*out, rq->bytes, rq->len, a, rq->secret)) ==
	    -SIRA_ENOMEM)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if (rc != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "%s is not canonically encoded", name);
	return 0;
}

static int
unpack(const struct request *rq, ProtobufCMessage **out, struct sira_err *err)
{
	ProtobufCAllocator a = { plain_alloc, plain_free, NULL };
	struct secarena *arena = NULL;
	ProtobufCMessage *m;
	int rc;

	*out = NULL;
	if (rq->len > rq->max)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "%s of %zu bytes exceeds the limit of %zu",
		    rq->desc->short_name, rq->len, rq->max);
	if (rq->secret && rq->arena != NULL) {
		/* The caller's: it frees the arena, and this with it. */
		a = (ProtobufCAllocator){ secure_alloc, secure_free,
			rq->arena };
		rc = unpack_checked(rq, &a, &m, err);
		*out = rc == 0 ? m : NULL;
		return rc;
	}
	if (rq->secret) {
		/* The unpacked message is about as large as its bytes;
		 * the re-encoding of canonical() takes as much again. */
		if ((arena = secarena_new(rq->len * 2 + 1024)) == NULL)
			return sira_err_set(err, SIRA_ENOMEM, "out of memory");
		a = (ProtobufCAllocator){ secure_alloc, secure_free, arena };
	}
	rc = unpack_checked(rq, &a, &m, err);
	if (rc == 0 && arena != NULL && (void *)m != secarena_first(arena))
		rc = sira_err_set(err, SIRA_EIO,
		    "%s: not unpacked where wire_free_secret finds it",
		    rq->desc->short_name);
	if (rc == 0) {
		*out = m;
		return 0;
	}
	if (arena != NULL)
		secarena_free(arena);
	else if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

int
wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *untrusted,
    size_t len, size_t max, ProtobufCMessage **out, struct sira_err *err)
{
	const struct request rq = { desc, untrusted, len, max, false, NULL };

	return unpack(&rq, out, err);
}

int
wire_unpack_secret(const ProtobufCMessageDescriptor *desc, const uint8_t *plain,
    size_t len, size_t max, ProtobufCMessage **out, struct sira_err *err)
{
	const struct request rq = { desc, plain, len, max, true, NULL };

	return unpack(&rq, out, err);
}

int
wire_unpack_secret_in(struct secarena *arena,
    const ProtobufCMessageDescriptor *desc, struct bytes plain, size_t max,
    ProtobufCMessage **out, struct sira_err *err)
{
	const struct request rq = { desc, plain.p, plain.len, max, true,
		arena };

	return unpack(&rq, out, err);
}

void
wire_free_secret(ProtobufCMessage *m)
{
	if (m != NULL)
		secarena_free(secarena_of_first(m));
}

int
wire_pack(const ProtobufCMessage *m, uint8_t **out, size_t *outlen,
    struct sira_err *err)
{
	size_t len = protobuf_c_message_get_packed_size(m);

	/* malloc(0) may return NULL; an empty message is one byte of buffer. */
	if ((*out = malloc(len > 0 ? len : 1)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	*outlen = protobuf_c_message_pack(m, *out);
	return 0;
}

int
wire_strip_magic(struct bytes file, const char *magic, const char *what,
    const uint8_t **body, size_t *bodylen, struct sira_err *err)
{
	if (file.len < SIRA_MAGIC_LEN ||
	    memcmp(file.p, magic, SIRA_MAGIC_LEN) != 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "not a Sira %s file", what);
	*body = file.p + SIRA_MAGIC_LEN;
	*bodylen = file.len - SIRA_MAGIC_LEN;
	return 0;
}

uint8_t *
wire_add_magic(
    const char *magic, const uint8_t *body, size_t len, size_t *outlen)
{
	uint8_t *buf;

	if (len > SIZE_MAX - SIRA_MAGIC_LEN ||
	    (buf = malloc(len + SIRA_MAGIC_LEN)) == NULL)
		return NULL;
	memcpy(buf, magic, SIRA_MAGIC_LEN);
	if (len > 0)
		memcpy(buf + SIRA_MAGIC_LEN, body, len);
	*outlen = len + SIRA_MAGIC_LEN;
	return buf;
}

int
wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t acc = 0;

	for (unsigned i = 0; i < SIRA_VARINT_MAX && q < end; i++) {
		uint8_t byte = *q++;

		/* The 10th byte carries bit 63 only. */
		if (i == SIRA_VARINT_MAX - 1 && byte > 1)
			return -SIRA_EMALFORMED;
		acc |= (uint64_t)(byte & 0x7f) << (7 * i);
		if ((byte & 0x80) == 0) {
			*p = q;
			*v = acc;
			return 0;
		}
	}
	return -SIRA_EMALFORMED;
}

/* Skip the value of a field with wire type wt at *p. */
static int
skip_value(const uint8_t **p, const uint8_t *end, unsigned wt)
{
	uint64_t n;

	switch (wt) {
	case 0:
		return wire_varint(p, end, &n);
	case 1:
	case 5:
		n = wt == 1 ? 8 : 4;
		break;
	case 2:
		if (wire_varint(p, end, &n) != 0)
			return -SIRA_EMALFORMED;
		break;
	default:
		return -SIRA_EMALFORMED;
	}
	if (n > (size_t)(end - *p))
		return -SIRA_EMALFORMED;
	*p += n;
	return 0;
}

int
wire_field_bytes(const uint8_t *m, size_t len, uint64_t field,
    const uint8_t **out, size_t *out_len)
{
	const uint8_t *p = m, *end, *v;
	uint64_t key, n;

	if (len == 0)
		return -SIRA_ENOTFOUND; /* m may be NULL then */
	end = m + len;
	while (p < end) {
		if (wire_varint(&p, end, &key) != 0)
			return -SIRA_EMALFORMED;
		if ((key & 7) == 2 && key >> 3 == field) {
			v = p;
			if (wire_varint(&v, end, &n) != 0 ||
			    n > (size_t)(end - v))
				return -SIRA_EMALFORMED;
			*out = v;
			*out_len = (size_t)n;
			return 0;
		}
		if (skip_value(&p, end, (unsigned)(key & 7)) != 0)
			return -SIRA_EMALFORMED;
	}
	return -SIRA_ENOTFOUND;
}
