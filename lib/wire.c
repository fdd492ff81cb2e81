/*
 * wire.c: bounded, canonical protobuf decoding.
 *
 * protobuf-c accepts many encodings of one message (fields out of order,
 * repeated singular fields, non-minimal varints, unknown fields, explicit
 * default values). Signatures and ids in Sira are over bytes, so this file
 * accepts only the one encoding protobuf-c itself would produce. It walks the
 * descriptor generically, so every message of proto/ gets the same checks.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

int
wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *untrusted,
    size_t len, size_t max, ProtobufCMessage **out, struct sira_err *err)
{
	ProtobufCMessage *m;
	uint8_t *again = NULL;
	size_t againlen = 0;
	int rc;

	*out = NULL;
	if (len > max)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "%s of %zu bytes exceeds the limit of %zu",
		    desc->short_name, len, max);
	m = protobuf_c_message_unpack(desc, NULL, len, untrusted);
	if (m == NULL)
		return sira_err_set(err, SIRA_EMALFORMED, "%s does not parse",
		    desc->short_name);
	if (!message_ok(m, 0)) {
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    "%s has unknown fields or invalid text", desc->short_name);
		goto fail;
	}
	if ((rc = wire_pack(m, &again, &againlen, err)) != 0)
		goto fail;
	if (againlen != len ||
	    (len > 0 && memcmp(again, untrusted, len) != 0)) {
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    "%s is not canonically encoded", desc->short_name);
		goto fail;
	}
	free(again);
	*out = m;
	return 0;
fail:
	free(again);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
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
wire_strip_magic(const uint8_t *buf, size_t len, const char *magic,
    const char *what, const uint8_t **body, size_t *bodylen,
    struct sira_err *err)
{
	if (len < SIRA_MAGIC_LEN || memcmp(buf, magic, SIRA_MAGIC_LEN) != 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "not a Sira %s file", what);
	*body = buf + SIRA_MAGIC_LEN;
	*bodylen = len - SIRA_MAGIC_LEN;
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
