/*
 * docs_list.c: the documents of a received message, as other commands see
 * them (docs_received in documents.h): names and types from the sender's signed
 * manifest, sizes, where the verified plaintext is in the home, and
 * whether it is still there at that size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "documents/documents.h"
#include "i18n.h"

static void
fill(const struct agent *a, const Sira__V1__DocIn *in, struct doc_received *r)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->index = in->index;
	(void)snprintf(r->name, sizeof(r->name), "%s", in->name);
	(void)snprintf(
	    r->media_type, sizeof(r->media_type), "%s", in->media_type);
	r->size = in->size;
	if (in->blob_id.len == sizeof(r->blob_id))
		memcpy(r->blob_id, in->blob_id.data, sizeof(r->blob_id));
	if (home_path(&a->home, in->path, r->path, NULL) != 0)
		r->path[0] = '\0';
	r->present = r->path[0] != '\0' && lstat(r->path, &st) == 0 &&
	    S_ISREG(st.st_mode) && (uint64_t)st.st_size == in->size;
}

int
docs_received(const struct agent *a, struct vault_txn *t,
    const uint8_t msgid[16], struct doc_received **out, size_t *n,
    struct sira_err *err)
{
	Sira__V1__InboxEntry *e = NULL;
	int rc;

	struct doc_received *docs = NULL;

	*out = NULL;
	*n = 0;
	if ((rc = book_get_in(t, msgid, &e, err)) != 0)
		return rc;
	if (e->n_docs > 0 &&
	    (docs = calloc(e->n_docs, sizeof(*docs))) == NULL) {
		sira__v1__inbox_entry__free_unpacked(e, NULL);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	for (size_t i = 0; docs != NULL && i < e->n_docs; i++)
		fill(a, e->docs[i], &docs[i]);
	*out = docs;
	*n = docs != NULL ? e->n_docs : 0;
	sira__v1__inbox_entry__free_unpacked(e, NULL);
	return 0;
}
