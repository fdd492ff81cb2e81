/*
 * test_wire.c: lib/wire.c, the one door between untrusted bytes and
 * protobuf-c structs. Inputs are written byte by byte, so each case is
 * exactly the encoding named in its comment: unknown fields at every depth
 * (in oneofs and repeated messages too), strings that are not UTF-8, and
 * every kind of non-canonical encoding protobuf-c itself would accept.
 * Every input is handed over in an exact-size heap copy, so ASan sees any
 * read past its end. Also the file magic helpers, and the bounded varint
 * and field reader (wire_varint, wire_field_bytes) at every edge. Every
 * case is also unpacked as a secret, in lib/secarena.c's guarded arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cert.pb-c.h"
#include "control.pb-c.h"
#include "payload.pb-c.h"
#include "secarena.h"
#include "wire.h"

#define MAX 65536

/* ---- a tiny protobuf writer ---- */

struct pb {
	uint8_t b[1024];
	size_t len;
};

static void
pb_raw(struct pb *p, const void *d, size_t n)
{
	assert_true(n <= sizeof(p->b) - p->len);
	if (n > 0)
		memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void
pb_varint(struct pb *p, uint64_t v)
{
	do {
		uint8_t byte = (uint8_t)(v & 0x7f);

		v >>= 7;
		if (v != 0)
			byte |= 0x80;
		pb_raw(p, &byte, 1);
	} while (v != 0);
}

static void
pb_key(struct pb *p, uint32_t num, unsigned wt)
{
	pb_varint(p, ((uint64_t)num << 3) | wt);
}

static void
pb_uint(struct pb *p, uint32_t num, uint64_t v)
{
	pb_key(p, num, 0);
	pb_varint(p, v);
}

static void
pb_bytes(struct pb *p, uint32_t num, const void *d, size_t n)
{
	pb_key(p, num, 2);
	pb_varint(p, n);
	pb_raw(p, d, n);
}

static void
pb_str(struct pb *p, uint32_t num, const char *s)
{
	pb_bytes(p, num, s, strlen(s));
}

static void
pb_msg(struct pb *p, uint32_t num, const struct pb *inner)
{
	pb_bytes(p, num, inner->b, inner->len);
}

static struct pb
pb_of(const void *d, size_t n)
{
	struct pb p = { .len = 0 };

	pb_raw(&p, d, n);
	return p;
}

/* ---- expectations ---- */

static void
expect_max(const ProtobufCMessageDescriptor *d, const uint8_t *bytes,
    size_t len, size_t max, int want)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	ProtobufCMessage *m = NULL;
	struct sira_err err;
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, bytes, len);
	sira_err_clear(&err);
	rc = wire_unpack(d, copy, len, max, &m, &err);
	assert_int_equal(rc, want);
	assert_int_equal(err.code, -want);
	if (want == 0) {
		assert_non_null(m);
		assert_ptr_equal(m->descriptor, d);
		protobuf_c_message_free_unpacked(m, NULL);
	} else {
		assert_null(m);
	}
	/* The same verdict for a secret, unpacked in a guarded arena. */
	sira_err_clear(&err);
	rc = wire_unpack_secret(d, copy, len, max, &m, &err);
	assert_int_equal(rc, want);
	assert_int_equal(err.code, -want);
	if (want == 0)
		assert_ptr_equal(m->descriptor, d);
	else
		assert_null(m);
	wire_free_secret(m);
	free(copy);
}

static void
expect(const ProtobufCMessageDescriptor *d, const struct pb *p, int want)
{
	expect_max(d, p->b, p->len, MAX, want);
}

#define HEARTBEAT (&sira__v1__heartbeat__descriptor)
#define FRAME (&sira__v1__frame__descriptor)
#define NACK (&sira__v1__nack__descriptor)
#define REFERRAL (&sira__v1__referral__descriptor)

/* A Certificate wrapper with made-up contents. */
static struct pb
certificate(uint8_t fill)
{
	struct pb c = { .len = 0 };
	uint8_t tbs[40], sig[64];

	memset(tbs, fill, sizeof(tbs));
	memset(sig, fill ^ 0xff, sizeof(sig));
	pb_bytes(&c, 1, tbs, sizeof(tbs));
	pb_bytes(&c, 2, sig, sizeof(sig));
	return c;
}

/* ---- tests ---- */

static void
test_valid_round_trip(void **state)
{
	Sira__V1__Heartbeat hb = SIRA__V1__HEARTBEAT__INIT;
	Sira__V1__Heartbeat *got;
	ProtobufCMessage *m = NULL;
	struct pb p = { .len = 0 };
	uint8_t *out = NULL;
	size_t outlen = 0;

	(void)state;
	pb_uint(&p, 1, 5);
	pb_uint(&p, 2, UINT64_MAX); /* ten bytes, still minimal */
	assert_int_equal(p.len, 2 + 11);
	assert_int_equal(wire_unpack(HEARTBEAT, p.b, p.len, MAX, &m, NULL), 0);
	got = (Sira__V1__Heartbeat *)m;
	assert_int_equal(got->seq, 5);
	assert_true(got->time == UINT64_MAX);
	/* wire_pack gives back exactly the input. */
	assert_int_equal(wire_pack(m, &out, &outlen, NULL), 0);
	assert_int_equal(outlen, p.len);
	assert_memory_equal(out, p.b, p.len);
	free(out);
	protobuf_c_message_free_unpacked(m, NULL);

	/* And packs what protobuf-c packs. */
	hb.seq = 5;
	hb.time = UINT64_MAX;
	assert_int_equal(wire_pack(&hb.base, &out, &outlen, NULL), 0);
	assert_int_equal(outlen, p.len);
	assert_memory_equal(out, p.b, p.len);
	free(out);

	/* An empty message is canonical, and packs to an empty buffer. */
	p.len = 0;
	expect(HEARTBEAT, &p, 0);
	expect(FRAME, &p, 0);
	hb.seq = 0;
	hb.time = 0;
	out = NULL;
	assert_int_equal(wire_pack(&hb.base, &out, &outlen, NULL), 0);
	assert_non_null(out);
	assert_int_equal(outlen, 0);
	free(out);

	/* A nested, repeated, oneof-carrying message is fine as packed. */
	{
		struct pb dr = { .len = 0 }, c1 = certificate(1),
			  c2 = certificate(2), fr = { .len = 0 };

		pb_msg(&dr, 1, &c1);
		pb_msg(&dr, 1, &c2);
		pb_msg(&dr, 3, &c1);
		pb_uint(&fr, 1, 1);
		pb_uint(&fr, 2, 77);
		pb_msg(&fr, 18, &dr);
		expect(FRAME, &fr, 0);
		assert_int_equal(
		    wire_unpack(FRAME, fr.b, fr.len, MAX, &m, NULL), 0);
		assert_int_equal(((Sira__V1__Frame *)m)->body_case,
		    SIRA__V1__FRAME__BODY_DIRECTORY_RESPONSE);
		assert_int_equal(
		    ((Sira__V1__Frame *)m)->directory_response->n_certs, 2);
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

/* A secret whose unpacked structs outgrow the arena's first block many
 * times over: 300 empty certificates are 2 bytes each on the wire. */
static void
test_secret_arena(void **state)
{
	struct pb dr = { .len = 0 }, empty = { .len = 0 }, fr = { .len = 0 };
	ProtobufCMessage *m = NULL;
	Sira__V1__Frame *f;
	uint8_t *out = NULL;
	size_t outlen = 0;

	(void)state;
	for (int i = 0; i < 300; i++)
		pb_msg(&dr, 1, &empty);
	pb_uint(&fr, 1, 1);
	pb_uint(&fr, 2, 77);
	pb_msg(&fr, 18, &dr);
	assert_int_equal(
	    wire_unpack_secret(FRAME, fr.b, fr.len, MAX, &m, NULL), 0);
	f = (Sira__V1__Frame *)m;
	assert_int_equal(f->request_id, 77);
	assert_int_equal(f->directory_response->n_certs, 300);
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(f->directory_response->certs[i]->tbs.len, 0);
	assert_int_equal(wire_pack(m, &out, &outlen, NULL), 0);
	assert_int_equal(outlen, fr.len);
	assert_memory_equal(out, fr.b, fr.len);
	free(out);
	wire_free_secret(m);
	wire_free_secret(NULL);
}

/* The arena itself: alignment, zeroed bytes, blocks chained as it grows,
 * and a first allocation too big for the first block refused. */
static void
test_arena_blocks(void **state)
{
	struct secarena *a = secarena_new(100);
	uint8_t *p[64];

	(void)state;
	assert_non_null(a);
	assert_null(secarena_first(a));
	for (size_t i = 0; i < 64; i++) {
		size_t len = 1 + i * 97;
		assert_non_null(p[i] = secarena_alloc(a, len));
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		for (size_t j = 0; j < len; j++)
			assert_int_equal(p[i][j], 0);
		memset(p[i], (int)i, len);
	}
	assert_ptr_equal(secarena_first(a), p[0]);
	assert_ptr_equal(secarena_of_first(p[0]), a);
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(p[i][i * 97], (uint8_t)i);
	secarena_free(a);
	assert_non_null(a = secarena_new(16));
	assert_null(secarena_alloc(a, 1u << 20));
	assert_null(secarena_alloc(a, SIZE_MAX - 3));
	secarena_free(a);
	secarena_free(NULL);
}

/* A pool keeps small blocks, wiped, for the next arena; large ones and
 * those past SECPOOL_MAX are unmapped. */
static void
test_arena_pool(void **state)
{
	struct secpool pool;
	struct secarena *a, *b, *many[SECPOOL_MAX + 2];
	uint8_t *p;

	(void)state;
	secpool_init(&pool);
	assert_non_null(a = secarena_new_in(&pool, 32));
	assert_non_null(p = secarena_alloc(a, 32));
	memset(p, 0x5a, 32);
	secarena_free(a);
	assert_int_equal(pool.n, 1);
	assert_non_null(b = secarena_new_in(&pool, 32));
	assert_int_equal(pool.reused, 1);
	assert_int_equal(pool.n, 0);
	assert_null(secarena_first(b));
	assert_non_null(p = secarena_alloc(b, 32));
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(p[i], 0); /* wiped when given back */
	/* A block grown past the small size is not kept; the first is. */
	assert_non_null(secarena_alloc(b, 2 * SECARENA_SMALL));
	secarena_free(b);
	assert_int_equal(pool.n, 1);
	/* A large first block is never taken from the pool, nor kept. */
	assert_non_null(a = secarena_new_in(&pool, 4 * SECARENA_SMALL));
	assert_int_equal(pool.n, 1);
	secarena_free(a);
	assert_int_equal(pool.n, 1);
	for (size_t i = 0; i < SECPOOL_MAX + 2; i++)
		assert_non_null(many[i] = secarena_new_in(&pool, 8));
	for (size_t i = 0; i < SECPOOL_MAX + 2; i++)
		secarena_free(many[i]);
	assert_int_equal(pool.n, SECPOOL_MAX);
	secpool_drain(&pool);
	assert_int_equal(pool.n, 0);
	/* No pool: as secarena_new. */
	assert_non_null(a = secarena_new_in(NULL, 8));
	secarena_free(a);
}

static void
test_size_cap(void **state)
{
	struct pb p = { .len = 0 };

	(void)state;
	pb_uint(&p, 1, 5);
	pb_uint(&p, 2, 7);
	expect_max(HEARTBEAT, p.b, p.len, p.len, 0);
	expect_max(HEARTBEAT, p.b, p.len, p.len - 1, -SIRA_ETOOBIG);
	expect_max(HEARTBEAT, p.b, 0, 0, 0);
	/* The cap comes first: garbage over it is "too big", not "bad". */
	memset(p.b, 0xff, sizeof(p.b));
	expect_max(HEARTBEAT, p.b, sizeof(p.b), sizeof(p.b) - 1, -SIRA_ETOOBIG);
	expect_max(HEARTBEAT, p.b, sizeof(p.b), sizeof(p.b), -SIRA_EMALFORMED);
}

static void
test_unknown_fields(void **state)
{
	struct pb p, inner, mid, c;
	static const uint8_t four[4] = { 1, 2, 3, 4 };
	static const uint8_t eight[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	/* Top level, each wire type. */
	p = pb_of("\x08\x05\x10\x07", 4);
	expect(HEARTBEAT, &p, 0);
	pb_uint(&p, 3, 1);
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x08\x05\x10\x07", 4);
	pb_key(&p, 100, 5);
	pb_raw(&p, four, 4);
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x08\x05\x10\x07", 4);
	pb_key(&p, 100, 1);
	pb_raw(&p, eight, 8);
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x08\x05\x10\x07", 4);
	pb_bytes(&p, 536870911, "x", 1); /* the largest field number */
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	/* First, not last. */
	p.len = 0;
	pb_uint(&p, 3, 0);
	pb_raw(&p, "\x08\x05\x10\x07", 4);
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);

	/* Inside a oneof member: Frame.heartbeat. */
	inner = pb_of("\x08\x05", 2);
	p.len = 0;
	pb_uint(&p, 1, 1);
	pb_msg(&p, 25, &inner);
	expect(FRAME, &p, 0);
	pb_uint(&inner, 9, 9);
	p.len = 0;
	pb_uint(&p, 1, 1);
	pb_msg(&p, 25, &inner);
	expect(FRAME, &p, -SIRA_EMALFORMED);

	/* In the second element of a repeated message. */
	mid.len = 0;
	c = certificate(1);
	pb_msg(&mid, 1, &c);
	c = certificate(2);
	pb_uint(&c, 3, 1);
	pb_msg(&mid, 1, &c);
	p.len = 0;
	pb_msg(&p, 18, &mid);
	expect(FRAME, &p, -SIRA_EMALFORMED);
	expect(
	    &sira__v1__directory_response__descriptor, &mid, -SIRA_EMALFORMED);

	/* Two levels down: Frame.directory_response.crl. */
	c = certificate(3);
	pb_bytes(&c, 15, "", 0);
	mid.len = 0;
	pb_msg(&mid, 3, &c);
	p.len = 0;
	pb_msg(&p, 18, &mid);
	expect(FRAME, &p, -SIRA_EMALFORMED);

	/* KeyFile.kdf, an optional sub-message. */
	{
		uint8_t salt[16], pk[32];

		memset(salt, 0x5a, sizeof(salt));
		memset(pk, 0x11, sizeof(pk));
		inner.len = 0;
		pb_bytes(&inner, 1, salt, sizeof(salt));
		pb_uint(&inner, 2, 2);
		pb_uint(&inner, 3, 67108864);
		p.len = 0;
		pb_uint(&p, 1, 1);
		pb_str(&p, 2, "ml.police.bamako");
		pb_bytes(&p, 3, pk, sizeof(pk));
		pb_msg(&p, 4, &inner);
		expect(&sira__v1__key_file__descriptor, &p, 0);
		pb_uint(&inner, 4, 1);
		p.len = 0;
		pb_uint(&p, 1, 1);
		pb_str(&p, 2, "ml.police.bamako");
		pb_bytes(&p, 3, pk, sizeof(pk));
		pb_msg(&p, 4, &inner);
		expect(&sira__v1__key_file__descriptor, &p, -SIRA_EMALFORMED);
	}

	/* Referral.age and Referral.consent. */
	inner.len = 0;
	pb_uint(&inner, 1, 17);
	p.len = 0;
	pb_str(&p, 1, "MRN-2026-0042");
	pb_msg(&p, 3, &inner);
	expect(REFERRAL, &p, 0);
	pb_uint(&inner, 5, 1);
	p.len = 0;
	pb_str(&p, 1, "MRN-2026-0042");
	pb_msg(&p, 3, &inner);
	expect(REFERRAL, &p, -SIRA_EMALFORMED);
}

static void
test_bad_utf8(void **state)
{
	static const char *const good[] = { "", "plain", "é",
		"Brigade des mœurs", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
		"\xef\xbf\xbf" };
	static const char *const bad[] = {
		"\xff", "\xc0\xaf", /* overlong */
		"\xe0\x80\xaf",     /* overlong */
		"\xed\xa0\x80",     /* surrogate */
		"\xf4\x90\x80\x80", /* > U+10FFFF */
		"ok\xc3",           /* truncated */
		"\x80",             /* lone continuation */
	};
	struct pb p, inner;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (good[i][0] == '\0')
			continue; /* an empty string is not written at all */
		p.len = 0;
		pb_uint(&p, 2, 5);
		pb_str(&p, 3, good[i]);
		expect(NACK, &p, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* A plain string field. */
		p.len = 0;
		pb_uint(&p, 2, 5);
		pb_str(&p, 3, bad[i]);
		expect(NACK, &p, -SIRA_EMALFORMED);
		/* The second element of a repeated string. */
		p.len = 0;
		pb_str(&p, 1, "ml.police.bamako");
		pb_str(&p, 1, bad[i]);
		expect(&sira__v1__directory_request__descriptor, &p,
		    -SIRA_EMALFORMED);
		/* In a oneof member: Frame.hello.software. */
		inner.len = 0;
		pb_uint(&inner, 1, 1);
		pb_str(&inner, 3, bad[i]);
		p.len = 0;
		pb_msg(&p, 10, &inner);
		expect(FRAME, &p, -SIRA_EMALFORMED);
		/* Nested: Referral.consent.recorded_by. */
		inner.len = 0;
		pb_uint(&inner, 1, 1);
		pb_str(&inner, 4, bad[i]);
		p.len = 0;
		pb_msg(&p, 12, &inner);
		expect(REFERRAL, &p, -SIRA_EMALFORMED);
		/* A repeated string in a nested message. */
		p.len = 0;
		pb_str(&p, 6, "fr");
		pb_str(&p, 6, bad[i]);
		expect(REFERRAL, &p, -SIRA_EMALFORMED);
	}
	/* Controls for the containers above, with good text. */
	p.len = 0;
	pb_str(&p, 1, "ml.police.bamako");
	pb_str(&p, 1, "ml.ngo.foyer-espoir");
	expect(&sira__v1__directory_request__descriptor, &p, 0);
	inner.len = 0;
	pb_uint(&inner, 1, 1);
	pb_str(&inner, 3, "sira-agent/0.1");
	p.len = 0;
	pb_msg(&p, 10, &inner);
	expect(FRAME, &p, 0);
	inner.len = 0;
	pb_uint(&inner, 1, 1);
	pb_str(&inner, 4, "Aïssata, assistante sociale");
	p.len = 0;
	pb_msg(&p, 12, &inner);
	expect(REFERRAL, &p, 0);
	/* An embedded NUL cannot hide the rest of a string. */
	p.len = 0;
	pb_uint(&p, 2, 5);
	pb_bytes(&p, 3, "ok\0evil", 7);
	expect(NACK, &p, -SIRA_EMALFORMED);
}

static void
test_non_canonical(void **state)
{
	struct pb p, inner;

	(void)state;
	/* Heartbeat { seq = 5; time = 7; } is 08 05 10 07. */
	p = pb_of("\x08\x05\x10\x07", 4);
	expect(HEARTBEAT, &p, 0);
	p = pb_of("\x10\x07\x08\x05", 4); /* out of order */
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x08\x05\x08\x05\x10\x07", 6); /* duplicated */
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x08\x04\x08\x05\x10\x07", 6); /* last one wins */
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x08\x85\x00\x10\x07", 5); /* non-minimal value */
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00\x10\x07", 13);
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED); /* eleven-byte zero */
	p = pb_of("\x88\x00\x05\x10\x07", 5);    /* non-minimal tag */
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x08\x00\x10\x07", 4); /* explicit default 0 */
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);
	p = pb_of("\x0a\x01\x05\x10\x07", 5); /* wrong wire type */
	expect(HEARTBEAT, &p, -SIRA_EMALFORMED);

	/* Nack { reason = 5; detail = "x"; } */
	p = pb_of("\x10\x05\x1a\x01x", 5);
	expect(NACK, &p, 0);
	p = pb_of("\x10\x05\x1a\x81\x00x", 6); /* non-minimal length */
	expect(NACK, &p, -SIRA_EMALFORMED);
	p = pb_of("\x0a\x00\x10\x05\x1a\x01x", 7); /* explicit empty bytes */
	expect(NACK, &p, -SIRA_EMALFORMED);
	p = pb_of("\x10\x05\x1a\x00", 4); /* explicit empty string */
	expect(NACK, &p, -SIRA_EMALFORMED);
	p = pb_of("\x10\x00\x1a\x01x", 5); /* explicit enum 0 */
	expect(NACK, &p, -SIRA_EMALFORMED);

	/* A bool written as 2; a uint32 with bits above 32. */
	p = pb_of("\x18\x01", 2); /* ChunkStatus { complete = true; } */
	expect(&sira__v1__chunk_status__descriptor, &p, 0);
	p = pb_of("\x18\x02", 2);
	expect(&sira__v1__chunk_status__descriptor, &p, -SIRA_EMALFORMED);
	p.len = 0;
	pb_uint(&p, 1, 1); /* Hello { version = 1; } */
	expect(&sira__v1__hello__descriptor, &p, 0);
	p.len = 0;
	pb_uint(&p, 1, (UINT64_C(1) << 32) | 1);
	expect(&sira__v1__hello__descriptor, &p, -SIRA_EMALFORMED);

	/* Packed repeated enums (Referral.exploitation = 7). */
	p = pb_of("\x3a\x02\x01\x02", 4);
	expect(REFERRAL, &p, 0);
	p = pb_of("\x38\x01\x38\x02", 4); /* unpacked */
	expect(REFERRAL, &p, -SIRA_EMALFORMED);
	p = pb_of("\x3a\x01\x01\x3a\x01\x02", 6); /* split in two runs */
	expect(REFERRAL, &p, -SIRA_EMALFORMED);
	p = pb_of("\x3a\x00", 2); /* an empty run */
	expect(REFERRAL, &p, -SIRA_EMALFORMED);
	p = pb_of("\x3a\x03\x81\x00\x02", 5); /* non-minimal element */
	expect(REFERRAL, &p, -SIRA_EMALFORMED);

	/* A oneof with two members on the wire: the last one wins. */
	inner = pb_of("\x08\x05", 2);
	p.len = 0;
	pb_msg(&p, 25, &inner);
	expect(FRAME, &p, 0);
	p.len = 0;
	pb_msg(&p, 10, &inner);
	pb_msg(&p, 25, &inner);
	expect(FRAME, &p, -SIRA_EMALFORMED);
	/* The same member twice: protobuf-c merges the two. */
	p.len = 0;
	pb_msg(&p, 25, &inner);
	pb_msg(&p, 25, &inner);
	expect(FRAME, &p, -SIRA_EMALFORMED);
	/* A sub-message split in two parts that merge into one. */
	p.len = 0;
	pb_bytes(&p, 25, "\x08\x05", 2);
	pb_bytes(&p, 25, "\x10\x07", 2);
	expect(FRAME, &p, -SIRA_EMALFORMED);
}

static void
test_garbage(void **state)
{
	static const struct {
		const char *b;
		size_t len;
	} cases[] = {
		{ "\x08", 1 },                     /* key, no value */
		{ "\x08\x80", 2 },                 /* truncated varint */
		{ "\x0a\x05\x01", 3 },             /* length past the end */
		{ "\x0a\xff\xff\xff\xff\x0f", 6 }, /* 4 GiB length */
		{ "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10 },
		{ "\x00\x00", 2 }, /* field number 0 */
		{ "\x0b\x0c", 2 }, /* group start/end */
		{ "\x0e\x00", 2 }, /* wire type 6 */
		{ "\x0f\x00", 2 }, /* wire type 7 */
		{ "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11 },
		{ "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_max(HEARTBEAT, (const uint8_t *)cases[i].b, cases[i].len,
		    MAX, -SIRA_EMALFORMED);
		expect_max(FRAME, (const uint8_t *)cases[i].b, cases[i].len,
		    MAX, -SIRA_EMALFORMED);
	}
}

/*
 * Every prefix of a nested message: a cut at a top-level field boundary
 * leaves a shorter valid message; every other cut is refused.
 */
static void
test_truncated_every_length(void **state)
{
	struct pb p = { .len = 0 }, dr = { .len = 0 }, c1 = certificate(1),
		  c2 = certificate(2);
	size_t b1, b2;

	(void)state;
	pb_msg(&dr, 1, &c1);
	pb_msg(&dr, 1, &c2);
	pb_msg(&dr, 3, &c1);
	pb_uint(&p, 1, 1);
	b1 = p.len;
	pb_uint(&p, 2, 300);
	b2 = p.len;
	pb_msg(&p, 18, &dr);
	for (size_t n = 0; n <= p.len; n++) {
		int want = (n == 0 || n == b1 || n == b2 || n == p.len) ?
		    0 :
		    -SIRA_EMALFORMED;

		expect_max(FRAME, p.b, n, MAX, want);
	}
}

static void
test_magic(void **state)
{
	static const uint8_t body[] = { 0x0a, 0x01, 0x41 };
	const uint8_t *got = NULL;
	uint8_t *file, *exact;
	size_t filelen = 0, gotlen = 0;
	struct sira_err err;

	(void)state;
	file = wire_add_magic(SIRA_MAGIC_CERT, body, sizeof(body), &filelen);
	assert_non_null(file);
	assert_int_equal(filelen, SIRA_MAGIC_LEN + sizeof(body));
	assert_memory_equal(file, "SIRACRT1", SIRA_MAGIC_LEN);
	assert_memory_equal(file + SIRA_MAGIC_LEN, body, sizeof(body));
	assert_int_equal(
	    wire_strip_magic(bytes_of(file, filelen), SIRA_MAGIC_CERT,
		"certificate", &got, &gotlen, NULL),
	    0);
	assert_ptr_equal(got, file + SIRA_MAGIC_LEN);
	assert_int_equal(gotlen, sizeof(body));

	/* Another kind of file is refused, as is a damaged magic. */
	sira_err_clear(&err);
	assert_int_equal(
	    wire_strip_magic(bytes_of(file, filelen), SIRA_MAGIC_CRL,
		"revocation list", &got, &gotlen, &err),
	    -SIRA_EMALFORMED);
	assert_int_equal(err.code, SIRA_EMALFORMED);
	for (size_t i = 0; i < SIRA_MAGIC_LEN; i++) {
		file[i] ^= 0x20;
		assert_int_equal(
		    wire_strip_magic(bytes_of(file, filelen), SIRA_MAGIC_CERT,
			"certificate", &got, &gotlen, NULL),
		    -SIRA_EMALFORMED);
		file[i] ^= 0x20;
	}
	/* Every length shorter than the magic, in exact-size copies. */
	for (size_t n = 0; n < SIRA_MAGIC_LEN; n++) {
		exact = malloc(n > 0 ? n : 1);
		assert_non_null(exact);
		memcpy(exact, file, n);
		assert_int_equal(
		    wire_strip_magic(bytes_of(exact, n), SIRA_MAGIC_CERT,
			"certificate", &got, &gotlen, NULL),
		    -SIRA_EMALFORMED);
		free(exact);
	}
	/* The magic alone is a file with an empty body. */
	exact = malloc(SIRA_MAGIC_LEN);
	assert_non_null(exact);
	memcpy(exact, file, SIRA_MAGIC_LEN);
	assert_int_equal(
	    wire_strip_magic(bytes_of(exact, SIRA_MAGIC_LEN), SIRA_MAGIC_CERT,
		"certificate", &got, &gotlen, NULL),
	    0);
	assert_int_equal(gotlen, 0);
	free(exact);
	free(file);

	/* Each magic is 8 bytes and they all differ. */
	{
		const char *m[] = { SIRA_MAGIC_CERT, SIRA_MAGIC_CRL,
			SIRA_MAGIC_KEY, SIRA_MAGIC_STATE };

		for (size_t i = 0; i < 4; i++) {
			assert_int_equal(strlen(m[i]), SIRA_MAGIC_LEN);
			for (size_t j = 0; j < i; j++)
				assert_memory_not_equal(
				    m[i], m[j], SIRA_MAGIC_LEN);
		}
	}

	/* An empty body, and a length that cannot be allocated. */
	file = wire_add_magic(SIRA_MAGIC_KEY, NULL, 0, &filelen);
	assert_non_null(file);
	assert_int_equal(filelen, SIRA_MAGIC_LEN);
	assert_memory_equal(file, "SIRAKEY1", SIRA_MAGIC_LEN);
	free(file);
	filelen = 42;
	assert_null(wire_add_magic(SIRA_MAGIC_KEY, body, SIZE_MAX, &filelen));
	assert_null(
	    wire_add_magic(SIRA_MAGIC_KEY, body, SIZE_MAX - 7, &filelen));
	assert_int_equal(filelen, 42);
}

/* ---- wire_varint, wire_field_bytes ---- */

/* Read a varint from an exact-size heap copy of b[0..n). */
static int
read_varint(const uint8_t *b, size_t n, uint64_t *v, size_t *used)
{
	uint8_t *copy = malloc(n > 0 ? n : 1);
	const uint8_t *p;
	int rc;

	assert_non_null(copy);
	if (n > 0)
		memcpy(copy, b, n);
	p = copy;
	rc = wire_varint(&p, copy + n, v);
	*used = (size_t)(p - copy);
	free(copy);
	return rc;
}

static void
test_varint(void **state)
{
	static const uint8_t zero[] = { 0x00 };
	static const uint8_t one_two_seven[] = { 0x7f };
	static const uint8_t three_hundred[] = { 0xac, 0x02, 0xff };
	static const uint8_t max[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0x01 };
	static const uint8_t bit63[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x80, 0x80, 0x01 };
	static const uint8_t tenth_two[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0x02 };
	static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t padded_zero[] = { 0x80, 0x00 };
	uint64_t v;
	size_t used;

	(void)state;
	/* Empty input: nothing read, *v untouched. */
	v = 42;
	assert_int_equal(read_varint(zero, 0, &v, &used), -SIRA_EMALFORMED);
	assert_int_equal(used, 0);
	assert_int_equal(v, 42);

	assert_int_equal(read_varint(zero, sizeof(zero), &v, &used), 0);
	assert_int_equal(v, 0);
	assert_int_equal(used, 1);
	assert_int_equal(read_varint(one_two_seven, 1, &v, &used), 0);
	assert_int_equal(v, 127);
	/* Stops at the first byte without the continuation bit. */
	assert_int_equal(read_varint(three_hundred, 3, &v, &used), 0);
	assert_int_equal(v, 300);
	assert_int_equal(used, 2);
	/* Non-minimal, as protobuf reads it. */
	assert_int_equal(read_varint(padded_zero, 2, &v, &used), 0);
	assert_int_equal(v, 0);
	assert_int_equal(used, 2);

	/* Ten bytes: the largest value and the top bit alone. */
	assert_int_equal(read_varint(max, sizeof(max), &v, &used), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(used, SIRA_VARINT_MAX);
	assert_int_equal(read_varint(bit63, sizeof(bit63), &v, &used), 0);
	assert_true(v == UINT64_C(1) << 63);

	/* Truncated at every length: the continuation bit runs off the end. */
	for (size_t n = 1; n < sizeof(max); n++) {
		v = 42;
		assert_int_equal(
		    read_varint(max, n, &v, &used), -SIRA_EMALFORMED);
		assert_int_equal(used, 0);
		assert_int_equal(v, 42);
	}
	assert_int_equal(
	    read_varint(three_hundred, 1, &v, &used), -SIRA_EMALFORMED);

	/* Over 64 bits: a 10th byte above 1, an 11th byte. */
	assert_int_equal(read_varint(tenth_two, sizeof(tenth_two), &v, &used),
	    -SIRA_EMALFORMED);
	assert_int_equal(used, 0);
	assert_int_equal(
	    read_varint(eleven, sizeof(eleven), &v, &used), -SIRA_EMALFORMED);
	assert_int_equal(used, 0);
}

static void
test_field_bytes(void **state)
{
	struct pb m = { .len = 0 };
	const uint8_t *out = NULL;
	size_t out_len = 0, four_end;
	uint8_t *exact;

	(void)state;
	assert_int_equal(
	    wire_field_bytes(NULL, 0, 1, &out, &out_len), -SIRA_ENOTFOUND);
	/* Every wire type but groups is skipped before the field wanted. */
	pb_uint(&m, 1, 300);
	pb_key(&m, 2, 1);
	pb_raw(&m, "12345678", 8);
	pb_key(&m, 3, 5);
	pb_raw(&m, "1234", 4);
	pb_bytes(&m, 1, "skip", 4); /* field 1, but wire type 2 below */
	pb_bytes(&m, 4, "four", 4);
	four_end = m.len;
	pb_bytes(&m, 4, "again", 5);
	assert_int_equal(wire_field_bytes(m.b, m.len, 4, &out, &out_len), 0);
	assert_int_equal(out_len, 4);
	assert_memory_equal(out, "four", 4);
	assert_int_equal(wire_field_bytes(m.b, m.len, 1, &out, &out_len), 0);
	assert_memory_equal(out, "skip", 4);
	assert_int_equal(
	    wire_field_bytes(m.b, m.len, 9, &out, &out_len), -SIRA_ENOTFOUND);
	/* Cut short anywhere before the field's end, in exact-size copies. */
	for (size_t n = 1; n < four_end; n++) {
		int rc;

		exact = malloc(n);
		assert_non_null(exact);
		memcpy(exact, m.b, n);
		rc = wire_field_bytes(exact, n, 4, &out, &out_len);
		assert_true(rc == -SIRA_EMALFORMED || rc == -SIRA_ENOTFOUND);
		free(exact);
	}
	/* A length past the end, and a group. */
	m.len = 0;
	pb_key(&m, 4, 2);
	pb_varint(&m, 5);
	pb_raw(&m, "four", 4);
	assert_int_equal(
	    wire_field_bytes(m.b, m.len, 4, &out, &out_len), -SIRA_EMALFORMED);
	m.len = 0;
	pb_key(&m, 2, 3);
	pb_bytes(&m, 4, "four", 4);
	assert_int_equal(
	    wire_field_bytes(m.b, m.len, 4, &out, &out_len), -SIRA_EMALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_round_trip),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_secret_arena),
		cmocka_unit_test(test_arena_blocks),
		cmocka_unit_test(test_arena_pool),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_non_canonical),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_magic),
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_field_bytes),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
