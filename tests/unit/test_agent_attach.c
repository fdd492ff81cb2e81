/*
 * test_agent_attach.c: agents/crypto/attach.c through the envelope API
 * (seal_attach, seal_open_attachment) and directly (attach_seal,
 * attach_open, attach_open_to_path), against the attachment cases of the
 * design note, section 10:
 *
 *   A1 final chunk dropped, stream cut mid-chunk     -> -SIRA_ETRUNCATED
 *   A2 bytes after the final chunk                   -> -SIRA_EMALFORMED
 *   A3 chunks swapped, duplicated, dropped           -> -SIRA_EAUTH
 *   A4 a valid blob of another message or index      -> -SIRA_EAUTH
 *   A5 hashes or lengths differ from the manifest    -> -SIRA_EAUTH or
 *      -SIRA_EMALFORMED (as asserted case by case); non-zero padding and
 *      misplaced TAG_FINAL from a sender that holds the key
 *   A6 after every failure neither the destination nor "<dest>.partial"
 *      exists; an existing destination is never replaced (-SIRA_EEXIST)
 *
 * plus round trips at the chunk and Padmé boundaries, attach_padme against
 * the Padmé definition, and a streaming check: a 5 MiB blob is decrypted
 * through pipes, and its first plaintext chunk comes out before the rest
 * of the blob has even been written.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sodium.h>

#include "agent_fixture.h"
#include "crypto/crypto.h"

#define HDR 24    /* secretstream header */
#define ABYTES 17 /* secretstream tag per chunk */
#define CHUNK SIRA_CHUNK_DEFAULT
#define MIB (1024u * 1024u)
#define FIVE_MIB (5u * MIB)
#define FIVE_CHUNKS 300000u /* Padmé 303104: four full chunks + 40960 */

/* ---- files ---- */

static void
write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	assert_true(fd != -1);
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		assert_true(w > 0);
		off += (size_t)w;
	}
	assert_int_equal(close(fd), 0);
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &st), 0);
	assert_non_null(p = malloc((size_t)st.st_size + 1));
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, p + off, (size_t)st.st_size - off);
		assert_true(r > 0);
		off += (size_t)r;
	}
	close(fd);
	*len = off;
	return p;
}

static bool
exists(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return true;
	assert_int_equal(errno, ENOENT);
	return false;
}

static uint8_t *
random_data(size_t len, uint8_t salt)
{
	uint8_t seed[randombytes_SEEDBYTES] = "sira attach test";
	uint8_t *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	seed[sizeof(seed) - 1] = salt;
	randombytes_buf_deterministic(p, len, seed);
	return p;
}

static ssize_t write_all(int fd, const uint8_t *p, size_t len);

/* ---- sealing and opening messages with attachments ---- */

struct att_msg {
	struct fx_msg m;
	struct opened *o;
	char in[FX_MAX_ATT][64];
	char blob[FX_MAX_ATT][64];
	size_t n;
};

/*
 * Seal a message from police to the NGO with attachments of the given
 * lengths (pseudo-random contents, salted by tag and index) and open it as
 * the NGO. Input files are <tag>-<i>.in, blobs <tag>-<i>.blob.
 */
static void
att_seal(struct fx *fx, const char *tag, const size_t *lens, size_t n,
    struct att_msg *am)
{
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo },
		.n_to = 1,
		.payload = (const uint8_t *)"see attachments",
		.len = 15 };
	struct sira_err err;

	memset(am, 0, sizeof(*am));
	assert_true(n <= FX_MAX_ATT);
	for (size_t i = 0; i < n; i++) {
		uint8_t *data = random_data(lens[i], (uint8_t)(tag[0] + i));
		char name[32];

		(void)snprintf(name, sizeof(name), "%s-%zu.in", tag, i);
		(void)snprintf(
		    am->in[i], sizeof(am->in[i]), "%s", fx_path(fx, name));
		(void)snprintf(name, sizeof(name), "%s-%zu.blob", tag, i);
		(void)snprintf(
		    am->blob[i], sizeof(am->blob[i]), "%s", fx_path(fx, name));
		write_file(am->in[i], data, lens[i]);
		free(data);
		spec.att_in[i] = am->in[i];
		spec.att_blob[i] = am->blob[i];
	}
	spec.n_att = n;
	am->n = n;
	assert_int_equal(fx_seal(&spec, &am->m, &err), 0);
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, am->m.env, am->m.len, &am->o), 0);
	assert_int_equal(am->o->manifest->n_attachments, n);
}

static void
att_free(struct att_msg *am)
{
	for (size_t i = 0; i < am->n; i++) {
		(void)unlink(am->in[i]);
		(void)unlink(am->blob[i]);
	}
	seal_opened_destroy(&am->o);
	fx_msg_free(&am->m);
}

/* Open attachment idx from blob into dest, expecting failure code; then
 * neither dest nor dest.partial may exist (A6). */
static void
expect_fail(const struct opened *o, uint32_t idx, const char *blob,
    const char *dest, int code)
{
	char partial[600];
	struct sira_err err;

	(void)snprintf(partial, sizeof(partial), "%s.partial", dest);
	memset(&err, 0, sizeof(err));
	assert_int_equal(seal_open_attachment(o, idx, blob, dest, &err), code);
	assert_int_equal(err.code, -code);
	assert_false(exists(dest));
	assert_false(exists(partial));
}

/* Open attachment idx into dest and compare it with its input file. */
static void
expect_ok(const struct att_msg *am, uint32_t idx, const char *dest)
{
	char partial[600];
	size_t a, b;
	uint8_t *want = read_file(am->in[idx], &a);
	uint8_t *got;
	struct stat st;

	(void)snprintf(partial, sizeof(partial), "%s.partial", dest);
	assert_int_equal(
	    seal_open_attachment(am->o, idx, am->blob[idx], dest, NULL), 0);
	assert_false(exists(partial));
	assert_int_equal(lstat(dest, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	got = read_file(dest, &b);
	assert_int_equal(a, b);
	if (a > 0)
		assert_memory_equal(got, want, a);
	free(want);
	free(got);
	assert_int_equal(unlink(dest), 0);
}

/* The blob of am's attachment idx, edited, written to path. */
static void
edit_blob(const struct att_msg *am, size_t idx, const char *path, size_t cut_at,
    size_t remove_off, size_t remove_len, const uint8_t *append,
    size_t append_len)
{
	size_t len, n;
	uint8_t *b = read_file(am->blob[idx], &len);
	uint8_t *out = malloc(len + append_len + 1);

	assert_non_null(out);
	assert_true(remove_off + remove_len <= len);
	memcpy(out, b, remove_off);
	memcpy(out + remove_off, b + remove_off + remove_len,
	    len - remove_off - remove_len);
	n = len - remove_len;
	if (cut_at < n)
		n = cut_at;
	if (append_len > 0)
		memcpy(out + n, append, append_len);
	write_file(path, out, n + append_len);
	free(b);
	free(out);
}

/* ---- Padmé ---- */

/* Padmé by its definition (Nikitin et al., PURBs, PETS 2019, section 4):
 * E = floor(log2 L), S = floor(log2 E) + 1, z = E - S, round L up to a
 * multiple of 2^z. Written with loops, not bit tricks. */
static uint64_t
padme_ref(uint64_t len)
{
	uint64_t e = 0, s = 0, mult;

	if (len < 2)
		return len;
	while ((len >> (e + 1)) != 0)
		e++;
	while ((e >> s) != 0)
		s++;
	mult = (uint64_t)1 << (e - s);
	return (len + mult - 1) / mult * mult;
}

static void
test_padme(void **state)
{
	static const struct {
		uint64_t in, out;
	} table[] = {
		{ 0, 0 },
		{ 1, 1 },
		{ 2, 2 },
		{ 3, 3 },
		{ 4, 4 },
		{ 7, 7 },
		{ 8, 8 },
		{ 9, 10 }, /* E=3, S=2: multiples of 2 */
		{ 15, 16 },
		{ 16, 16 },
		{ 17, 18 },
		{ 100, 104 },   /* E=6, S=3: multiples of 8 */
		{ 129, 144 },   /* the worst case, +11.6% */
		{ 257, 272 },   /* E=8, S=4: multiples of 16 */
		{ 1000, 1024 }, /* E=9, S=4: multiples of 32 */
		{ 65535, 65536 },
		{ 65536, 65536 },
		{ 65537, 67584 }, /* E=16, S=5: multiples of 2048 */
		{ 67584, 67584 },
		{ 67585, 69632 },
		{ 300000, 303104 }, /* E=18, S=5: multiples of 8192 */
		{ 1000000, 1015808 },
		{ FIVE_MIB, FIVE_MIB },
		{ FIVE_MIB + 1, FIVE_MIB + 131072 },
		{ UINT64_C(1) << 32, UINT64_C(1) << 32 },
		{ (UINT64_C(1) << 32) + 1, (UINT64_C(1) << 32) + (1u << 26) },
	};
	static const uint8_t seed[randombytes_SEEDBYTES] = "sira padme";
	uint64_t r[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(attach_padme(table[i].in), table[i].out);
		assert_int_equal(padme_ref(table[i].in), table[i].out);
	}
	/* Every length up to 1 MiB, and random ones up to 2^40. */
	for (uint64_t len = 0; len <= MIB; len++) {
		uint64_t p = attach_padme(len);
		assert_int_equal(p, padme_ref(len));
		assert_true(p >= len);
		assert_true((p - len) * 100 <= len * 12); /* at most 12% */
		assert_true(p >= attach_padme(len == 0 ? 0 : len - 1));
		assert_int_equal(attach_padme(p), p); /* idempotent */
	}
	randombytes_buf_deterministic(r, sizeof(r), seed);
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		uint64_t len = r[i] >> (24 + r[i] % 40);
		assert_int_equal(attach_padme(len), padme_ref(len));
	}
	/* Blob lengths: header, one tag per chunk (at least one), Padmé
	 * bytes. */
	assert_int_equal(attach_ct_len(0, CHUNK), HDR + ABYTES);
	assert_int_equal(attach_ct_len(1, CHUNK), HDR + ABYTES + 1);
	assert_int_equal(attach_ct_len(CHUNK, CHUNK), HDR + ABYTES + CHUNK);
	assert_int_equal(
	    attach_ct_len(CHUNK + 1, CHUNK), HDR + 2 * ABYTES + 67584);
	assert_int_equal(
	    attach_ct_len(FIVE_CHUNKS, CHUNK), HDR + 5 * ABYTES + 303104);
	assert_int_equal(
	    attach_ct_len(FIVE_MIB, CHUNK), HDR + 80 * ABYTES + FIVE_MIB);
}

/* ---- round trips ---- */

static void
round_trip(struct fx *fx, const char *tag, const size_t *lens, size_t n)
{
	struct att_msg am;

	att_seal(fx, tag, lens, n, &am);
	for (size_t i = 0; i < n; i++) {
		const Sira__V1__AttachmentManifest *a =
		    am.o->manifest->attachments[i];
		const Sira__V1__AttachmentRef *r = am.o->env->h->attachments[i];
		uint8_t h[32], *data;
		size_t len, blen;
		char dest[32];

		/* The manifest and the header describe the blob. */
		data = read_file(am.in[i], &len);
		(void)crypto_hash_sha256(h, data, len);
		free(data);
		assert_int_equal(a->index, i);
		assert_int_equal(a->plaintext_len, lens[i]);
		assert_memory_equal(a->plaintext_sha256.data, h, 32);
		assert_string_equal(a->filename, "evidence.bin");
		assert_string_equal(a->media_type, "application/octet-stream");
		assert_int_equal(a->chunk_size, CHUNK);
		assert_int_equal(a->ct_len, attach_ct_len(lens[i], CHUNK));
		assert_int_equal(r->ct_len, a->ct_len);
		assert_memory_equal(r->blob_id.data, a->blob_id.data, 32);
		data = read_file(am.blob[i], &blen);
		assert_int_equal(blen, a->ct_len);
		(void)crypto_hash_sha256(h, data, blen);
		assert_memory_equal(h, a->blob_id.data, 32);
		free(data);
		(void)snprintf(dest, sizeof(dest), "%s-%zu.out", tag, i);
		expect_ok(&am, (uint32_t)i, fx_path(fx, dest));
	}
	/* No attachment n. */
	expect_fail(am.o, (uint32_t)n, am.blob[0], fx_path(fx, "none.out"),
	    -SIRA_EINVAL);
	att_free(&am);
}

static void
test_round_trip_small(void **state)
{
	/* Empty, one byte, one short of a chunk, exactly one chunk. */
	static const size_t lens[] = { 0, 1, CHUNK - 1, CHUNK };

	round_trip(*state, "rs", lens, 4);
}

static void
test_round_trip_boundaries(void **state)
{
	/* One more than a chunk (Padmé 67584, two chunks); a Padmé fixed
	 * point and one past it; a 1024-byte Padmé step. */
	static const size_t lens[] = { CHUNK + 1, 67584, 67585, 1023, 1024,
		1025 };

	round_trip(*state, "rb", lens, 6);
}

static void
test_round_trip_five_mib(void **state)
{
	static const size_t lens[] = { FIVE_MIB };

	round_trip(*state, "r5", lens, 1);
}

/* ---- A1-A3: the stream's shape ---- */

static void
test_a1_truncated(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = { FIVE_CHUNKS };
	const char *bad = fx_path(fx, "a1.blob");
	const char *dest = fx_path(fx, "a1.out");
	const size_t full = CHUNK + ABYTES, ct = HDR + 4 * full + 40960 + 17;
	static const size_t cuts_rel[] = { 0, 1, HDR - 1, HDR, HDR + 1,
		HDR + 100, HDR + full - 1, HDR + full, HDR + full + 1,
		HDR + 2 * full + 5000, HDR + 4 * full, HDR + 4 * full + 1 };
	struct att_msg am;

	att_seal(fx, "a1", lens, 1, &am);
	assert_int_equal(am.o->manifest->attachments[0]->ct_len, ct);
	/* The final chunk dropped (a whole-chunk truncation). */
	edit_blob(&am, 0, bad, HDR + 4 * full, 0, 0, NULL, 0);
	expect_fail(am.o, 0, bad, dest, -SIRA_ETRUNCATED);
	/* Cut anywhere: in the header, in a chunk, on a chunk boundary. */
	for (size_t i = 0; i < sizeof(cuts_rel) / sizeof(cuts_rel[0]); i++) {
		edit_blob(&am, 0, bad, cuts_rel[i], 0, 0, NULL, 0);
		expect_fail(am.o, 0, bad, dest, -SIRA_ETRUNCATED);
	}
	/* One byte short of the end. */
	edit_blob(&am, 0, bad, ct - 1, 0, 0, NULL, 0);
	expect_fail(am.o, 0, bad, dest, -SIRA_ETRUNCATED);
	/* Control: the untouched blob opens. */
	edit_blob(&am, 0, bad, ct, 0, 0, NULL, 0);
	expect_ok(&am, 0, dest);
	(void)unlink(bad);
	att_free(&am);
}

static void
test_a2_trailing_bytes(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = { FIVE_CHUNKS, 1000 };
	const char *bad = fx_path(fx, "a2.blob");
	const char *dest = fx_path(fx, "a2.out");
	const size_t full = CHUNK + ABYTES, ct = HDR + 4 * full + 40960 + 17;
	uint8_t *blob, zero = 0;
	size_t len;
	struct att_msg am;

	att_seal(fx, "a2", lens, 2, &am);
	blob = read_file(am.blob[0], &len);
	assert_int_equal(len, ct);
	/* One byte after TAG_FINAL. */
	edit_blob(&am, 0, bad, SIZE_MAX, 0, 0, &zero, 1);
	expect_fail(am.o, 0, bad, dest, -SIRA_EMALFORMED);
	/* The final chunk again. */
	edit_blob(
	    &am, 0, bad, SIZE_MAX, 0, 0, blob + ct - (40960 + 17), 40960 + 17);
	expect_fail(am.o, 0, bad, dest, -SIRA_EMALFORMED);
	/* A whole other blob. */
	free(blob);
	blob = read_file(am.blob[1], &len);
	edit_blob(&am, 0, bad, SIZE_MAX, 0, 0, blob, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EMALFORMED);
	free(blob);
	(void)unlink(bad);
	att_free(&am);
}

/*
 * A3. secretstream numbers its chunks internally (the nonce counter moves
 * with every chunk) and Sira's chunk AD names the chunk number, so a chunk
 * read at any other position than its own does not authenticate: every
 * reordering is refused at the first misplaced chunk with -SIRA_EAUTH,
 * before the reader could notice the stream's length or tags.
 */
static void
test_a3_reordered(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = { FIVE_CHUNKS };
	const char *bad = fx_path(fx, "a3.blob");
	const char *dest = fx_path(fx, "a3.out");
	const size_t full = CHUNK + ABYTES;
	size_t len;
	uint8_t *blob, *edit;
	struct att_msg am;

	att_seal(fx, "a3", lens, 1, &am);
	blob = read_file(am.blob[0], &len);
	assert_non_null(edit = malloc(len + full));
	/* Swap chunks 1 and 2 (same length, so the blob length is right). */
	memcpy(edit, blob, len);
	memcpy(edit + HDR + 1 * full, blob + HDR + 2 * full, full);
	memcpy(edit + HDR + 2 * full, blob + HDR + 1 * full, full);
	write_file(bad, edit, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	/* Chunk 1 duplicated over chunk 2. */
	memcpy(edit, blob, len);
	memcpy(edit + HDR + 2 * full, blob + HDR + 1 * full, full);
	write_file(bad, edit, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	/* Chunk 1 duplicated (inserted): one chunk longer. */
	memcpy(edit, blob, HDR + 2 * full);
	memcpy(edit + HDR + 2 * full, blob + HDR + 1 * full, len - HDR - full);
	write_file(bad, edit, len + full);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	/* Chunk 2 dropped, and chunk 3 repeated at the end so that the length
	 * is the original one (not merely a truncation). */
	memcpy(edit, blob, HDR + 2 * full);
	memcpy(
	    edit + HDR + 2 * full, blob + HDR + 3 * full, len - HDR - 3 * full);
	memcpy(edit + len - full, blob + HDR + 3 * full, full);
	write_file(bad, edit, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	/* Chunk 0 dropped. */
	memcpy(edit, blob, HDR);
	memcpy(edit + HDR, blob + HDR + full, len - HDR - full);
	memcpy(edit + len - full, blob + HDR, full);
	write_file(bad, edit, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	/* The final chunk moved to position 3 (lengths then misalign). */
	memcpy(edit, blob, HDR + 3 * full);
	memcpy(
	    edit + HDR + 3 * full, blob + HDR + 4 * full, len - HDR - 4 * full);
	memcpy(edit + HDR + 3 * full + (len - HDR - 4 * full),
	    blob + HDR + 3 * full, full);
	write_file(bad, edit, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	/* Another secretstream header. */
	memcpy(edit, blob, len);
	edit[3] ^= 1;
	write_file(bad, edit, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	/* A flipped bit in the middle of chunk 2, in a tag. */
	memcpy(edit, blob, len);
	edit[HDR + 2 * full + 7777] ^= 0x40;
	write_file(bad, edit, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	memcpy(edit, blob, len);
	edit[len - 1] ^= 0x01;
	write_file(bad, edit, len);
	expect_fail(am.o, 0, bad, dest, -SIRA_EAUTH);
	free(edit);
	free(blob);
	(void)unlink(bad);
	att_free(&am);
}

/* ---- A4: foreign blobs ---- */

static void
test_a4_foreign_blob(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = { 100000, 100000 };
	const char *dest = fx_path(fx, "a4.out");
	const char *in = fx_path(fx, "a4.in"), *blob = fx_path(fx, "a4.blob");
	uint8_t key[SIRA_ATTACH_KEY_LEN], id1[SIRA_MSGID_LEN],
	    id2[SIRA_MSGID_LEN];
	struct attach_info info;
	struct att_msg a, b;
	uint8_t *data;
	int ifd, bfd;

	att_seal(fx, "a4a", lens, 2, &a);
	att_seal(fx, "a4b", lens, 2, &b);
	/* Message B's blob 0 presented as message A's attachment 0: another
	 * content key. */
	expect_fail(a.o, 0, b.blob[0], dest, -SIRA_EAUTH);
	/* Attachment 1's blob presented as attachment 0 of the same
	 * message: another attachment key. */
	expect_fail(a.o, 0, a.blob[1], dest, -SIRA_EAUTH);
	expect_fail(a.o, 1, a.blob[0], dest, -SIRA_EAUTH);
	expect_ok(&a, 0, dest);
	expect_ok(&a, 1, dest);
	att_free(&a);
	att_free(&b);

	/* Under one and the same key, the chunk AD alone binds the message
	 * id and the index. */
	randombytes_buf(key, sizeof(key));
	randombytes_buf(id1, sizeof(id1));
	memcpy(id2, id1, sizeof(id2));
	id2[15] ^= 1;
	data = random_data(3000, 4);
	write_file(in, data, 3000);
	free(data);
	assert_true((ifd = open(in, O_RDONLY | O_CLOEXEC)) != -1);
	assert_true((bfd = open(blob, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			 0600)) != -1);
	assert_int_equal(attach_seal(&(struct attach_key){ key, id1, 3 }, ifd,
			     bfd, &info, NULL),
	    0);
	close(ifd);
	close(bfd);
	assert_int_equal(
	    attach_open_to_path(
		&(struct attach_key){ key, id2, 3 }, &info, blob, dest, NULL),
	    -SIRA_EAUTH);
	assert_false(exists(dest));
	assert_int_equal(
	    attach_open_to_path(
		&(struct attach_key){ key, id1, 2 }, &info, blob, dest, NULL),
	    -SIRA_EAUTH);
	assert_int_equal(
	    attach_open_to_path(
		&(struct attach_key){ key, id1, 4 }, &info, blob, dest, NULL),
	    -SIRA_EAUTH);
	assert_false(exists(dest));
	assert_int_equal(
	    attach_open_to_path(
		&(struct attach_key){ key, id1, 3 }, &info, blob, dest, NULL),
	    0);
	assert_true(exists(dest));
	(void)unlink(dest);
	(void)unlink(in);
	(void)unlink(blob);
}

/* ---- A5: the manifest's hashes and lengths ---- */

/* The key of attachment index of o (as seal.c derives it). */
static void
att_key(const struct opened *o, uint32_t index, uint8_t key[static 32])
{
	assert_int_equal(crypto_kdf_derive_from_key(key, 32,
			     1000 + (uint64_t)index, "SIRAatt1", o->key),
	    0);
}

static void
expect_of(const struct opened *o, uint32_t i, struct attach_info *x)
{
	const Sira__V1__AttachmentManifest *a = o->manifest->attachments[i];

	memset(x, 0, sizeof(*x));
	memcpy(x->blob_id, a->blob_id.data, 32);
	memcpy(x->plaintext_sha256, a->plaintext_sha256.data, 32);
	x->ct_len = a->ct_len;
	x->plaintext_len = a->plaintext_len;
	x->chunk_size = a->chunk_size;
}

static void
expect_path_fail(const uint8_t *key, const struct opened *o, uint32_t i,
    const struct attach_info *x, const char *blob, const char *dest, int code)
{
	const struct attach_key ak = { key, o->env->h->message_id.data, i };
	char partial[600];

	(void)snprintf(partial, sizeof(partial), "%s.partial", dest);
	assert_int_equal(attach_open_to_path(&ak, x, blob, dest, NULL), code);
	assert_false(exists(dest));
	assert_false(exists(partial));
}

static void
test_a5_manifest_mismatch(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = { 100, FIVE_CHUNKS };
	const char *dest = fx_path(fx, "a5.out");
	Sira__V1__AttachmentManifest *a;
	struct attach_info x;
	uint8_t key[32];
	struct att_msg am;

	att_seal(fx, "a5", lens, 2, &am);
	/* Through seal_open_attachment, with the opened manifest altered
	 * after the fact (as if the signed manifest had said otherwise). */
	a = am.o->manifest->attachments[0];
	a->plaintext_sha256.data[0] ^= 1; /* plaintext hash */
	expect_fail(am.o, 0, am.blob[0], dest, -SIRA_EAUTH);
	a->plaintext_sha256.data[0] ^= 1;
	a->blob_id.data[31] ^= 1; /* blob id */
	expect_fail(am.o, 0, am.blob[0], dest, -SIRA_EAUTH);
	a->blob_id.data[31] ^= 1;
	a->ct_len += 1; /* ct_len inconsistent with plaintext_len */
	expect_fail(am.o, 0, am.blob[0], dest, -SIRA_EMALFORMED);
	a->ct_len -= 1;
	/* Padmé(100) = Padmé(104) = 104, so the same blob length: four
	 * padding zeros counted as data, so the hash differs. */
	a->plaintext_len = 104;
	expect_fail(am.o, 0, am.blob[0], dest, -SIRA_EAUTH);
	/* Shorter: real bytes land in the padding, which must be zero. */
	a->plaintext_len = 97;
	expect_fail(am.o, 0, am.blob[0], dest, -SIRA_EMALFORMED);
	/* Longer than the stream, with a consistent ct_len: the stream ends
	 * first. */
	a->plaintext_len = 200;
	a->ct_len = attach_ct_len(200, CHUNK);
	expect_fail(am.o, 0, am.blob[0], dest, -SIRA_ETRUNCATED);
	a->plaintext_len = 100;
	a->ct_len = attach_ct_len(100, CHUNK);
	/* Chunk size: out of range, or another valid one. */
	a->chunk_size = SIRA_CHUNK_MIN - 1;
	expect_fail(am.o, 0, am.blob[0], dest, -SIRA_EMALFORMED);
	a->chunk_size = CHUNK;
	expect_ok(&am, 0, dest);

	/* The same through attach_open_to_path with the attachment key. */
	att_key(am.o, 1, key);
	expect_of(am.o, 1, &x);
	x.chunk_size = 4096;
	x.ct_len = attach_ct_len(x.plaintext_len, x.chunk_size);
	expect_path_fail(key, am.o, 1, &x, am.blob[1], dest, -SIRA_EAUTH);
	expect_of(am.o, 1, &x);
	x.plaintext_len = SIRA_ATTACHMENT_MAX + 1;
	x.ct_len = attach_ct_len(x.plaintext_len, x.chunk_size);
	expect_path_fail(key, am.o, 1, &x, am.blob[1], dest, -SIRA_EMALFORMED);
	/* One byte shorter (same Padmé class): the last real byte now sits
	 * in what should be zero padding. */
	{
		size_t len;
		uint8_t *data = read_file(am.in[1], &len);
		assert_int_not_equal(data[len - 1], 0);
		free(data);
	}
	expect_of(am.o, 1, &x);
	x.plaintext_len -= 1;
	expect_path_fail(key, am.o, 1, &x, am.blob[1], dest, -SIRA_EMALFORMED);
	expect_of(am.o, 1, &x);
	assert_int_equal(
	    attach_open_to_path(
		&(struct attach_key){ key, am.o->env->h->message_id.data, 1 },
		&x, am.blob[1], dest, NULL),
	    0);
	(void)unlink(dest);
	sodium_memzero(key, sizeof(key));
	att_free(&am);
}

/* A blob made by hand under key: n chunks with the given plaintext and
 * tags. Fills x's blob_id and ct_len; the caller sets the rest. */
static void
craft(const char *path, const uint8_t *key, const uint8_t *msgid,
    uint32_t index, const uint8_t *pt, const size_t *lens, const uint8_t *tags,
    size_t n, struct attach_info *x)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t hdr[HDR], ad[8 + SIRA_MSGID_LEN + 4 + 8];
	uint8_t *blob, *p;
	size_t total = HDR;
	unsigned long long clen;

	for (size_t i = 0; i < n; i++)
		total += lens[i] + ABYTES;
	assert_non_null(blob = malloc(total));
	(void)crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	memcpy(blob, hdr, HDR);
	p = blob + HDR;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < 8; k++) {
			ad[k] = (uint8_t)((uint64_t)SIRA_MSGID_LEN >> (8 * k));
			ad[8 + SIRA_MSGID_LEN + 4 + k] =
			    (uint8_t)((uint64_t)i >> (8 * k));
		}
		memcpy(ad + 8, msgid, SIRA_MSGID_LEN);
		for (size_t k = 0; k < 4; k++)
			ad[8 + SIRA_MSGID_LEN + k] =
			    (uint8_t)(index >> (8 * k));
		assert_int_equal(
		    crypto_secretstream_xchacha20poly1305_push(
			&st, p, &clen, pt, lens[i], ad, sizeof(ad), tags[i]),
		    0);
		pt += lens[i];
		p += clen;
	}
	write_file(path, blob, total);
	(void)crypto_hash_sha256(x->blob_id, blob, total);
	x->ct_len = total;
	free(blob);
}

/*
 * A sender that holds the key (a malicious or broken agent) can make
 * streams that authenticate chunk by chunk but break the format: the reader
 * still refuses them.
 */
static void
test_a5_crafted_streams(void **state)
{
	struct fx *fx = *state;
	const uint8_t FINAL = crypto_secretstream_xchacha20poly1305_TAG_FINAL;
	const char *blob = fx_path(fx, "a5c.blob");
	const char *dest = fx_path(fx, "a5c.out");
	uint8_t key[32], msgid[SIRA_MSGID_LEN], pt[2048];
	const struct attach_key ak = { key, msgid, 0 };
	struct attach_info x;
	size_t lens[2];
	uint8_t tags[2];

	randombytes_buf(key, sizeof(key));
	randombytes_buf(msgid, sizeof(msgid));
	randombytes_buf(pt, sizeof(pt));
	/* Control: 100 bytes and four zero padding bytes, as attach_seal
	 * makes them. */
	memset(pt + 100, 0, 4);
	memset(&x, 0, sizeof(x));
	x.plaintext_len = 100;
	x.chunk_size = CHUNK;
	(void)crypto_hash_sha256(x.plaintext_sha256, pt, 100);
	lens[0] = 104;
	tags[0] = FINAL;
	craft(blob, key, msgid, 0, pt, lens, tags, 1, &x);
	assert_int_equal(x.ct_len, attach_ct_len(100, CHUNK));
	assert_int_equal(attach_open_to_path(&ak, &x, blob, dest, NULL), 0);
	(void)unlink(dest);
	/* Non-zero padding. */
	pt[102] = 0x5a;
	craft(blob, key, msgid, 0, pt, lens, tags, 1, &x);
	assert_int_equal(
	    attach_open_to_path(&ak, &x, blob, dest, NULL), -SIRA_EMALFORMED);
	assert_false(exists(dest));
	/* Two 1 KiB chunks (chunk size SIRA_CHUNK_MIN, Padmé(2048) = 2048). */
	x.plaintext_len = 2048;
	x.chunk_size = SIRA_CHUNK_MIN;
	(void)crypto_hash_sha256(x.plaintext_sha256, pt, 2048);
	lens[0] = lens[1] = 1024;
	tags[0] = 0;
	tags[1] = FINAL;
	craft(blob, key, msgid, 0, pt, lens, tags, 2, &x);
	assert_int_equal(attach_open_to_path(&ak, &x, blob, dest, NULL), 0);
	(void)unlink(dest);
	/* TAG_FINAL on the first chunk too: data after the final chunk. */
	tags[0] = FINAL;
	craft(blob, key, msgid, 0, pt, lens, tags, 2, &x);
	assert_int_equal(
	    attach_open_to_path(&ak, &x, blob, dest, NULL), -SIRA_EMALFORMED);
	/* Any other tag in the middle (a rekey, a push) is refused too. */
	tags[0] = crypto_secretstream_xchacha20poly1305_TAG_REKEY;
	craft(blob, key, msgid, 0, pt, lens, tags, 2, &x);
	assert_int_equal(
	    attach_open_to_path(&ak, &x, blob, dest, NULL), -SIRA_EMALFORMED);
	/* No TAG_FINAL at the end: truncated. */
	tags[0] = 0;
	tags[1] = 0;
	craft(blob, key, msgid, 0, pt, lens, tags, 2, &x);
	assert_int_equal(
	    attach_open_to_path(&ak, &x, blob, dest, NULL), -SIRA_ETRUNCATED);
	tags[1] = crypto_secretstream_xchacha20poly1305_TAG_PUSH;
	craft(blob, key, msgid, 0, pt, lens, tags, 2, &x);
	assert_int_equal(
	    attach_open_to_path(&ak, &x, blob, dest, NULL), -SIRA_ETRUNCATED);
	assert_false(exists(dest));
	(void)unlink(blob);
	sodium_memzero(key, sizeof(key));
}

/* ---- A6: destinations ---- */

static void
test_a6_destination(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = { 5000 };
	const char *dest = fx_path(fx, "a6.out");
	const char *partial = fx_path(fx, "a6.out.partial");
	const char *bad = fx_path(fx, "a6.blob");
	struct sira_err err;
	struct att_msg am;
	uint8_t *got;
	size_t len;

	att_seal(fx, "a6", lens, 1, &am);
	/* An existing destination is never replaced, even by a good blob. */
	write_file(dest, (const uint8_t *)"keep me", 7);
	assert_int_equal(seal_open_attachment(am.o, 0, am.blob[0], dest, &err),
	    -SIRA_EEXIST);
	assert_int_equal(err.code, SIRA_EEXIST);
	got = read_file(dest, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(got, "keep me", 7);
	free(got);
	assert_false(exists(partial));
	assert_int_equal(unlink(dest), 0);
	/* A missing blob. */
	expect_fail(
	    am.o, 0, fx_path(fx, "no-such.blob"), dest, -SIRA_ENOTFOUND);
	/* A leftover "<dest>.partial" from a crash is never trusted: a
	 * failing open removes it, a good one replaces it. */
	write_file(partial, (const uint8_t *)"stale", 5);
	edit_blob(&am, 0, bad, 100, 0, 0, NULL, 0);
	expect_fail(am.o, 0, bad, dest, -SIRA_ETRUNCATED);
	write_file(partial, (const uint8_t *)"stale", 5);
	expect_ok(&am, 0, dest);
	/* Every failure of the other tests also checked that neither path
	 * exists (expect_fail). */
	(void)unlink(bad);
	att_free(&am);
}

/*
 * The destination appears while the attachment is being decrypted (another
 * process, or the user, creates a file of that name): it must not be
 * replaced either. The blob comes through a FIFO, so the order is fixed:
 * attach_open_to_path has checked that dest does not exist and opened the
 * FIFO before the writer creates dest, and it can only finish after the
 * writer has sent the whole blob.
 */
static void
test_a6_destination_appears(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = { 70000 };
	const char *fifo = fx_path(fx, "a6r.fifo");
	const char *dest = fx_path(fx, "a6r.out");
	const char *partial = fx_path(fx, "a6r.out.partial");
	struct sira_err err;
	struct att_msg am;
	uint8_t *blob, *got;
	size_t blen, len;
	int status, rc;
	pid_t pid;

	att_seal(fx, "a6r", lens, 1, &am);
	blob = read_file(am.blob[0], &blen);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	if ((pid = fork()) == 0) {
		int fd = open(fifo, O_WRONLY | O_CLOEXEC), d;

		if (fd == -1)
			_exit(3);
		d = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (d == -1 ||
		    write_all(d, (const uint8_t *)"precious", 8) < 0 ||
		    close(d) != 0)
			_exit(4);
		if (write_all(fd, blob, blen) < 0)
			_exit(5);
		_exit(close(fd) == 0 ? 0 : 6);
	}
	assert_true(pid > 0);
	rc = seal_open_attachment(am.o, 0, fifo, dest, &err);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(rc, -SIRA_EEXIST);
	assert_int_equal(err.code, SIRA_EEXIST);
	got = read_file(dest, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(got, "precious", 8);
	assert_false(exists(partial));
	free(got);
	free(blob);
	(void)unlink(dest);
	(void)unlink(fifo);
	att_free(&am);
}

/* ---- limits of seal_attach ---- */

static void
test_attach_limits(void **state)
{
	struct fx *fx = *state;
	struct seal_recipient r = { fx->ngo.cert, fx->ngo.pk[0], 1 };
	struct seal_params p = { .sender = fx->police.cert,
		.sender_keys = fx->police.keys,
		.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_CASE_TRANSFER,
		.content_type = "sira.case_transfer.v1",
		.case_ref = "CASE-9",
		.now = FX_NOW,
		.ttl = FX_TTL,
		.recipients = &r,
		.n_recipients = 1 };
	const char *in = fx_path(fx, "lim.in"), *blob = fx_path(fx, "lim.blob");
	const char *dest = fx_path(fx, "lim.out");
	static const char *const bad_names[] = { "", "a/b", ".", "..",
		"line\nbreak", "tab\tname", "\xff\xfe" };
	char long_name[SIRA_FILENAME_MAX + 2],
	    long_type[SIRA_MEDIA_TYPE_MAX + 2];
	struct sealed_out so;
	struct opened *o;
	struct seal *s;
	int ifd, bfd, pfd[2];

	write_file(in, (const uint8_t *)"", 0);
	assert_true((ifd = open(in, O_RDONLY | O_CLOEXEC)) != -1);
	assert_true((bfd = open(blob, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			 0600)) != -1);
	assert_int_equal(seal_begin(&p, &s, NULL), 0);
	/* Names and types the manifest could not carry safely. */
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(
		    seal_attach(s, ifd, bfd, bad_names[i], "text/plain", NULL),
		    -SIRA_EINVAL);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(
	    seal_attach(s, ifd, bfd, long_name, "text/plain", NULL),
	    -SIRA_EINVAL);
	memset(long_type, 'a', sizeof(long_type) - 1);
	long_type[sizeof(long_type) - 1] = '\0';
	assert_int_equal(
	    seal_attach(s, ifd, bfd, "a.txt", long_type, NULL), -SIRA_EINVAL);
	/* Not a regular file. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(
	    seal_attach(s, pfd[0], bfd, "a.txt", "text/plain", NULL),
	    -SIRA_EIO);
	close(pfd[0]);
	close(pfd[1]);
	/* SIRA_ATTACHMENTS_MAX empty attachments, then one too many. */
	long_name[SIRA_FILENAME_MAX] = '\0'; /* the longest valid name */
	for (int i = 0; i < SIRA_ATTACHMENTS_MAX; i++) {
		assert_int_equal(lseek(ifd, 0, SEEK_SET), 0);
		assert_int_equal(
		    seal_attach(s, ifd, bfd, i == 0 ? long_name : "empty.txt",
			"text/plain", NULL),
		    0);
	}
	assert_int_equal(
	    seal_attach(s, ifd, bfd, "one-more.txt", "text/plain", NULL),
	    -SIRA_ETOOBIG);
	assert_int_equal(
	    seal_finish(s, (const uint8_t *)"files", 5, &so, NULL), 0);
	seal_destroy(&s);
	close(ifd);
	close(bfd);
	assert_int_equal(fx_open_as(fx, &fx->ngo, so.env, so.len, &o), 0);
	assert_int_equal(o->manifest->n_attachments, SIRA_ATTACHMENTS_MAX);
	assert_int_equal(o->env->h->n_attachments, SIRA_ATTACHMENTS_MAX);
	assert_string_equal(o->manifest->attachments[0]->filename, long_name);
	/* The blobs went one after the other into one file; the last one is
	 * 41 bytes at its end, attachment 31 opens from a copy of it. */
	{
		size_t blen;
		uint8_t *all = read_file(blob, &blen);
		const char *last = fx_path(fx, "lim-31.blob");
		assert_int_equal(blen, SIRA_ATTACHMENTS_MAX * (HDR + ABYTES));
		write_file(last, all + blen - (HDR + ABYTES), HDR + ABYTES);
		assert_int_equal(
		    seal_open_attachment(
			o, SIRA_ATTACHMENTS_MAX - 1, last, dest, NULL),
		    0);
		assert_int_equal(unlink(dest), 0);
		expect_fail(o, 0, last, dest, -SIRA_EAUTH);
		expect_fail(o, SIRA_ATTACHMENTS_MAX, last, dest, -SIRA_EINVAL);
		(void)unlink(last);
		free(all);
	}
	seal_opened_destroy(&o);
	free(so.env);
	(void)unlink(in);
	(void)unlink(blob);
}

/* ---- streaming ---- */

static ssize_t
write_all(int fd, const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return (ssize_t)off;
}

/*
 * A 5 MiB attachment decrypted through pipes with attach_open: a writer
 * process sends the blob's header and first two chunks, then waits until a
 * reader process has received the first chunk's plaintext from attach_open
 * before it sends the rest. So attach_open must emit plaintext while the
 * blob is still arriving (streaming, one chunk in memory); a reader that
 * wanted the whole blob first would deadlock, which the writer turns into a
 * failure after 10 s. The reader also checks the full plaintext's hash.
 */
static void
test_streaming_five_mib(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = { FIVE_MIB };
	int blob_p[2], out_p[2], go_p[2], status, rc;
	uint8_t key[32], want[32], *blob, *plain;
	size_t blen, plen;
	struct attach_info x;
	struct att_msg am;
	pid_t w, r;

	att_seal(fx, "st", lens, 1, &am);
	blob = read_file(am.blob[0], &blen);
	plain = read_file(am.in[0], &plen);
	assert_int_equal(plen, FIVE_MIB);
	(void)crypto_hash_sha256(want, plain, plen);
	free(plain);
	att_key(am.o, 0, key);
	expect_of(am.o, 0, &x);
	assert_int_equal(pipe(blob_p), 0);
	assert_int_equal(pipe(out_p), 0);
	assert_int_equal(pipe(go_p), 0);
	if ((w = fork()) == 0) { /* the writer */
		struct pollfd pfd = { go_p[0], POLLIN, 0 };
		size_t first = HDR + 2 * (CHUNK + ABYTES);
		uint8_t c;

		close(blob_p[0]);
		close(out_p[0]);
		close(out_p[1]);
		close(go_p[1]);
		if (write_all(blob_p[1], blob, first) < 0)
			_exit(3);
		if (poll(&pfd, 1, 10000) != 1 || read(go_p[0], &c, 1) != 1)
			_exit(2); /* never got the go: not streaming */
		if (write_all(blob_p[1], blob + first, blen - first) < 0)
			_exit(3);
		_exit(0);
	}
	assert_true(w > 0);
	if ((r = fork()) == 0) { /* the reader */
		crypto_hash_sha256_state hs;
		uint8_t buf[65536], got[32];
		size_t total = 0;
		bool signalled = false;
		ssize_t n;

		close(blob_p[0]);
		close(blob_p[1]);
		close(out_p[1]);
		close(go_p[0]);
		crypto_hash_sha256_init(&hs);
		while ((n = read(out_p[0], buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				_exit(3);
			crypto_hash_sha256_update(&hs, buf, (size_t)n);
			total += (size_t)n;
			if (!signalled && total >= CHUNK) {
				if (write(go_p[1], "g", 1) != 1)
					_exit(3);
				signalled = true;
			}
		}
		crypto_hash_sha256_final(&hs, got);
		_exit(total == FIVE_MIB && signalled &&
			    memcmp(got, want, 32) == 0 ?
			0 :
			4);
	}
	assert_true(r > 0);
	close(blob_p[1]);
	close(out_p[0]);
	close(go_p[0]);
	close(go_p[1]);
	rc = attach_open(
	    &(struct attach_key){ key, am.o->env->h->message_id.data, 0 }, &x,
	    blob_p[0], out_p[1], NULL);
	close(blob_p[0]);
	close(out_p[1]);
	assert_int_equal(waitpid(w, &status, 0), w);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(waitpid(r, &status, 0), r);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(rc, 0);
	free(blob);
	sodium_memzero(key, sizeof(key));
	att_free(&am);
}

static int
group_setup(void **state)
{
	struct fx *fx = fx_new();

	/* A child that dies must not take the test runner with it. */
	(void)signal(SIGPIPE, SIG_IGN);
	*state = fx;
	return fx == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	fx_free(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_padme),
		cmocka_unit_test(test_round_trip_small),
		cmocka_unit_test(test_round_trip_boundaries),
		cmocka_unit_test(test_round_trip_five_mib),
		cmocka_unit_test(test_a1_truncated),
		cmocka_unit_test(test_a2_trailing_bytes),
		cmocka_unit_test(test_a3_reordered),
		cmocka_unit_test(test_a4_foreign_blob),
		cmocka_unit_test(test_a5_manifest_mismatch),
		cmocka_unit_test(test_a5_crafted_streams),
		cmocka_unit_test(test_a6_destination),
		cmocka_unit_test(test_a6_destination_appears),
		cmocka_unit_test(test_attach_limits),
		cmocka_unit_test(test_streaming_five_mib),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
