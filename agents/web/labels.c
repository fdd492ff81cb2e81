/*
 * labels.c: the words the screens show for the system's codes (states of
 * a referral, timeline actions, roles, delivery, the referral form's
 * fields and choices), in the person's language. A code without a label
 * is shown as it is, escaped: never lost.
 */
#include <string.h>

#include "i18n.h"
#include "web/web.h"

struct label {
	const char *code, *text;
};

static const char *
find(const struct label *t, size_t n, const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].code, code) == 0)
			return _(t[i].text);
	return code;
}

#define FIND(t, code) find((t), sizeof(t) / sizeof((t)[0]), (code))

const char *
label_leg(int state)
{
	static const char *const t[] = { N_("unknown"),
		N_("awaiting an answer"), N_("accepted"), N_("declined"),
		N_("withdrawn"), N_("services started"),
		N_("services completed"), N_("not delivered"),
		N_("replaced by a newer referral") };

	return state >= 0 && (size_t)state < sizeof(t) / sizeof(t[0]) ?
	    _(t[state]) :
	    _(t[0]);
}

const char *
label_request(int state)
{
	static const char *const t[] = { N_("unknown"), N_("pending"),
		N_("granted"), N_("refused") };

	return state >= 0 && (size_t)state < sizeof(t) / sizeof(t[0]) ?
	    _(t[state]) :
	    _(t[0]);
}

const char *
label_action(const char *action)
{
	static const struct label t[] = {
		{ "referral.sent", N_("referred the case to") },
		{ "referral.received", N_("referred the case to this agency") },
		{ "referral.accepted", N_("accepted the referral") },
		{ "referral.declined", N_("declined the referral") },
		{ "referral.withdrawn", N_("withdrew the referral") },
		{ "referral.undelivered", N_("referral not delivered to") },
		{ "service.started", N_("services started") },
		{ "service.completed", N_("services completed") },
		{ "case.transferred", N_("transferred the case") },
		{ "case.received", N_("handed the case over to this agency") },
		{ "file.requested", N_("requested the case file") },
		{ "file.granted", N_("granted the case file") },
		{ "file.refused", N_("refused the case file") },
		{ "note.sent", N_("sent a note to") },
		{ "note.received", N_("sent a note to this agency") },
		{ "anomaly", N_("ANOMALY") },
	};

	return FIND(t, action);
}

const char *
label_delivery(const char *state)
{
	static const struct label t[] = {
		{ "queued", N_("waiting to be sent") },
		{ "sealed", N_("waiting to be sent") },
		{ "accepted", N_("at the broker, not yet received") },
		{ "delivered", N_("received (signed receipt)") },
		{ "refused", N_("refused by the broker") },
		{ "expired", N_("expired before delivery") },
	};

	return FIND(t, state);
}

const char *
label_role(int role)
{
	switch (role) {
	case SIRA_ROLE_POLICE:
		return _("police");
	case SIRA_ROLE_JUSTICE:
		return _("prosecutor's office");
	case SIRA_ROLE_SOCIAL_SERVICES:
		return _("social services");
	case SIRA_ROLE_NGO:
		return _("NGO, shelter");
	case SIRA_ROLE_COORDINATION:
		return _("national committee");
	default:
		return _("other");
	}
}

const char *
label_user_role(int role)
{
	switch (role) {
	case USER_ADMIN:
		return _("administrator");
	case USER_SUPERVISOR:
		return _("supervisor");
	default:
		return _("caseworker");
	}
}

/* The referral form's choices (docs/referral.md), code -> words. */
static const struct label choices[] = {
	{ "female", N_("female") },
	{ "male", N_("male") },
	{ "other", N_("other") },
	{ "undisclosed", N_("not disclosed") },
	{ "sexual", N_("sexual exploitation") },
	{ "forced_labour", N_("forced labour") },
	{ "slavery", N_("slavery") },
	{ "servitude", N_("servitude (incl. domestic)") },
	{ "organ_removal", N_("organ removal") },
	{ "forced_begging", N_("forced begging") },
	{ "child_labour", N_("child labour (incl. gold mining)") },
	{ "forced_marriage", N_("forced marriage") },
	{ "forced_criminality", N_("forced criminality") },
	{ "shelter", N_("shelter") },
	{ "medical", N_("medical care") },
	{ "psychosocial", N_("psychosocial support") },
	{ "legal", N_("legal aid") },
	{ "interpretation", N_("interpretation") },
	{ "repatriation", N_("voluntary return") },
	{ "family_tracing", N_("family tracing") },
	{ "food_and_items", N_("food and essential items") },
	{ "child_protection", N_("child protection") },
	{ "low", N_("low") },
	{ "medium", N_("medium") },
	{ "high", N_("high") },
	{ "critical", N_("critical (risk to life)") },
	{ "routine", N_("routine (within days)") },
	{ "priority", N_("priority (within 24 hours)") },
	{ "immediate", N_("immediate (the person is waiting)") },
	{ "none", N_("none: anonymous alert only") },
	{ "recipient_only", N_("this recipient only") },
	{ "services", N_("assistance services of the mechanism") },
	{ "services_and_justice",
	    N_("assistance services, police and prosecutors") },
};

const char *
label_choice(const char *code)
{
	return FIND(choices, code);
}

/* The referral's fields, as JSON paths. */
const char *
label_field(const char *path)
{
	static const struct label t[] = {
		{ "case_ref", N_("Case reference") },
		{ "victim_ref", N_("Person's pseudonym") },
		{ "age", N_("Age") },
		{ "age.years", N_("Age (years)") },
		{ "age.min_years", N_("Age at least") },
		{ "age.max_years", N_("Age at most") },
		{ "age.is_minor", N_("Minor") },
		{ "sex", N_("Sex") },
		{ "nationality", N_("Nationality") },
		{ "languages", N_("Languages") },
		{ "exploitation", N_("Exploitation") },
		{ "identification", N_("Identification") },
		{ "identification.place", N_("Place of identification") },
		{ "identification.date", N_("Date of identification") },
		{ "identification.identified_by", N_("Identified by") },
		{ "identification.circumstances", N_("Circumstances") },
		{ "needs", N_("Needs") },
		{ "risk", N_("Risk") },
		{ "urgency", N_("Urgency") },
		{ "consent", N_("Consent") },
		{ "consent.given", N_("Informed consent given") },
		{ "consent.scope", N_("Consent covers") },
		{ "consent.date", N_("Consent recorded on") },
		{ "consent.recorded_by", N_("Consent recorded by") },
		{ "consent.language", N_("Language of the information") },
		{ "consent.guardian_consent", N_("Guardian's consent") },
		{ "identifying", N_("Identifying details") },
		{ "identifying.full_name", N_("Full name") },
		{ "identifying.date_of_birth", N_("Date of birth") },
		{ "identifying.phone", N_("Phone") },
		{ "identifying.current_location", N_("Current safe location") },
		{ "identifying.guardian_contact", N_("Guardian's contact") },
		{ "notes", N_("Notes") },
		{ "anonymous_alert", N_("Anonymous alert") },
	};

	return FIND(t, path);
}
