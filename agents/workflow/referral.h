/*
 * referral.h: a referral as people write it (JSON, see docs/referral.md)
 * and as it travels (the protobuf Referral of proto/payload.proto).
 *
 * referral_from_json turns what a police officer or social worker wrote
 * into a Referral, or says which field is wrong and what is expected. It
 * enforces informed consent: identifying details only travel when the
 * person (and, for a child, a guardian) agreed, or for a child at risk of
 * life. referral_validate applies the same rules to a Referral that came
 * from elsewhere (a payload just opened). Nothing here logs.
 */
#ifndef SIRA_REFERRAL_H
#define SIRA_REFERRAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "payload.pb-c.h"

/* Bounds, in bytes of UTF-8 for texts; docs/referral.md lists them all. */
#define SIRA_REFERRAL_JSON_MAX ((size_t)64 * 1024) /* whole document */
#define SIRA_REFERRAL_REF_MAX 64                   /* case_ref, victim_ref */
#define SIRA_REFERRAL_NAME_MAX 128    /* places, names, organisations */
#define SIRA_REFERRAL_LANG_MAX 32     /* one language */
#define SIRA_REFERRAL_LANGS_MAX 8     /* entries of languages */
#define SIRA_REFERRAL_PHONE_MAX 32    /* identifying.phone */
#define SIRA_REFERRAL_ADDR_MAX 256    /* current_location, guardian_contact */
#define SIRA_REFERRAL_CIRC_MAX 1000   /* identification.circumstances */
#define SIRA_REFERRAL_NOTES_MAX 2000  /* notes */
#define SIRA_REFERRAL_AGE_MAX 120     /* age.years, min_years, max_years */
#define SIRA_REFERRAL_ADULT 18        /* below this age a person is a child */
#define SIRA_REFERRAL_SLACK 86400     /* dates may be this far past now */
#define SIRA_REFERRAL_SUMMARY_MAX 512 /* a buffer this big never truncates */

/*
 * Parse the JSON referral text[0..len) (not NUL-terminated), check every
 * field and the consent rules against the current time now (unix seconds),
 * and on success store a new Referral in *out. The caller owns *out and
 * frees it with sira__v1__referral__free_unpacked(*out, NULL); on failure
 * *out is NULL. err->msg starts with the name of the field at fault (as
 * "consent.date" or "exploitation[2]") and says what is expected. It never
 * quotes the value of a field: only a key or an unknown enum word is shown
 * back, bounded and made printable.
 *
 * Returns 0, -SIRA_ETOOBIG (more than SIRA_REFERRAL_JSON_MAX bytes),
 * -SIRA_EINVAL (not JSON, duplicate key, wrong type, unknown key or value,
 * out of bounds, missing, inconsistent, date in the future), -SIRA_EDENIED
 * (the consent rules forbid sending it as written) or -SIRA_ENOMEM.
 */
int referral_from_json(const char *text, size_t len, uint64_t now,
    Sira__V1__Referral **out, struct sira_err *err);

/*
 * Check a Referral that did not come from referral_from_json (for example
 * one just unpacked from a payload) with the same rules, as of now. The
 * message is only read. Returns 0, -SIRA_EINVAL or -SIRA_EDENIED, with the
 * same messages as referral_from_json.
 */
int referral_validate(
    const Sira__V1__Referral *r, uint64_t now, struct sira_err *err);

/*
 * The JSON form of r, for display (sira-agent show, case). Returns a new
 * reference the caller releases with json_decref, or NULL when memory runs
 * out or a text of r is not UTF-8 (never the case once referral_validate
 * accepted r). Parsing the result gives back a message equal to r.
 */
json_t *referral_to_json(const Sira__V1__Referral *r);

/*
 * One line in French for an inbox, such as "Mineure, 14 ans, ML —
 * exploitation: mendicité forcée — besoins: hébergement, médical —
 * risque: élevé — urgence: immédiate". Built only from ages, the
 * nationality code and enums: never a name, phone number, place, note or
 * reference, whatever r carries. Written to buf, always NUL-terminated when
 * len > 0 and cut on a character boundary if it does not fit (a valid
 * referral always fits in SIRA_REFERRAL_SUMMARY_MAX); returns buf.
 */
const char *referral_summary(
    const Sira__V1__Referral *r, char *buf, size_t len);

#endif
