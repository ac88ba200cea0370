/* answers.c - what the platform's answers to a charger's CALLs change: the boot's verdict and
 * heartbeat interval, an idTag's authorisation (and the cache), the transaction id the
 * platform confirms. [loop] */
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "answers.h"
#include "adapt201.h"
#include "authz.h"
#include "calls.h"
#include "crt.h"
#include "cs/log.h"
#include "persist.h"
#include "reports.h"
#include "session.h"
#include "smart.h"

#define BOOT_RETRY_DEFAULT_S 30

static struct worker_stats *st(const struct charger_rt *ch)
{
    return crt_ctx(ch)->st;
}

/* idTagInfo (1.6) or idTokenInfo (2.0.1) of an answer. */
static const cJSON *tag_info(const cJSON *payload)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(payload, "idTagInfo");
    return info ? info : cJSON_GetObjectItemCaseSensitive(payload, "idTokenInfo");
}

/* The same in 1.6's shape, for the cache and the group check (owned; NULL when none). */
static cJSON *info16(const cJSON *payload)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(payload, "idTagInfo");
    return info ? cJSON_Duplicate(info, true)
                : adapt201_tag_info(cJSON_GetObjectItemCaseSensitive(payload, "idTokenInfo"));
}

static void remember(struct charger_rt *ch, const char *id_tag, const cJSON *payload)
{
    cJSON *info = info16(payload);
    authz_remember(ch, id_tag, info);
    cJSON_Delete(info);
}

static const char *id_tag_status(const cJSON *payload)
{
    const cJSON *info = tag_info(payload);
    const cJSON *s = info ? cJSON_GetObjectItemCaseSensitive(info, "status") : NULL;
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

static void boot_answer(struct charger_rt *ch, const cJSON *payload, bool answered)
{
    if (!answered) {
        calls_set_accepted(&ch->calls, true);
        return;
    }
    const cJSON *s = payload ? cJSON_GetObjectItemCaseSensitive(payload, "status") : NULL;
    const cJSON *iv = payload ? cJSON_GetObjectItemCaseSensitive(payload, "interval") : NULL;
    int interval = cJSON_IsNumber(iv) && iv->valuedouble >= 0 && iv->valuedouble < 86400 * 7
                       ? (int)iv->valuedouble
                       : 0;
    if (cJSON_IsString(s) && strcmp(s->valuestring, "Accepted") == 0) {
        ch->s.boot_retry_ms = 0;
        if (interval > 0 && interval != ch->s.hb_conf_s) {
            ch->s.hb_conf_s = interval;
            reports_rearm_heartbeat(ch);
        }
        calls_set_accepted(&ch->calls, true);
        return;
    }
    /* Pending, Rejected, an error or no answer: ask again after the interval. */
    calls_set_accepted(&ch->calls, false);
    st(ch)->boot_retries++;
    ch->s.boot_retry_ms =
        cs_mono_ms() + (int64_t)(interval > 0 ? interval : BOOT_RETRY_DEFAULT_S) * 1000;
    session_replan(ch);
}

static void authorize_answer(struct charger_rt *ch, int conn, const cJSON *payload, bool answered)
{
    if (conn < 1 || conn > ch->m.nconn || !ch->s.start[conn].active)
        return;
    if (!answered) {
        session_begin_tx(ch, conn); /* a bare broker: nobody answers, it goes on as accepted */
        return;
    }
    if (!payload) {
        session_decide_offline(ch, conn); /* timeout, CALLERROR */
        return;
    }
    const char *tag = ch->s.start[conn].id_tag;
    const char *s = id_tag_status(payload);
    cJSON *info = info16(payload);
    authz_remember(ch, tag, info);
    /* a group reservation: the answer names the idTag's group (5.13) */
    const char *want = ch->s.start[conn].group;
    const cJSON *parent = info ? cJSON_GetObjectItemCaseSensitive(info, "parentIdTag") : NULL;
    bool in_group = cJSON_IsString(parent) && strcmp(parent->valuestring, want) == 0;
    cJSON_Delete(info);
    if (s && strcmp(s, "Accepted") == 0 && *want && !in_group) {
        session_refused(ch, conn, "not in the reservation's group");
        return;
    }
    if (s && strcmp(s, "Accepted") == 0) {
        session_begin_tx(ch, conn);
        return;
    }
    session_refused(ch, conn, s ? s : "no status");
}

/* An idTag presented without a session (authorize verb, trigger Authorize): only the cache
 * learns from the answer. */
static void remember_presented(struct charger_rt *ch, const struct call *c, const cJSON *payload)
{
    if (payload && c->id_tag[0])
        remember(ch, c->id_tag, payload);
}

/* OCPP 2.0.1: the platform does not number transactions; a TransactionEvent's answer may refuse
 * the idToken. */
static void tx_event_answer(struct charger_rt *ch, int32_t local, const cJSON *payload)
{
    int conn = charger_tx_find(&ch->m, local);
    const char *s = payload ? id_tag_status(payload) : NULL;
    if (conn < 0 || !s)
        return;
    remember(ch, ch->m.conn[conn].tx.id_tag, payload);
    if (strcmp(s, "Accepted") != 0)
        session_stop(ch, conn, SR_DEAUTHORIZED, NULL);
}

static void start_tx_answer(struct charger_rt *ch, int32_t local, const cJSON *payload)
{
    if (crt_version(ch) == OCPP_V201) {
        tx_event_answer(ch, local, payload);
        return;
    }
    const cJSON *id = payload ? cJSON_GetObjectItemCaseSensitive(payload, "transactionId") : NULL;
    int conn = charger_tx_find(&ch->m, local);
    if (conn < 0 || !cJSON_IsNumber(id) || id->valuedouble < INT32_MIN ||
        id->valuedouble > INT32_MAX || id->valuedouble != (double)(int32_t)id->valuedouble)
        return;
    int32_t confirmed = (int32_t)id->valuedouble;
    struct connector *k = &ch->m.conn[conn];
    calls_tx_confirmed(&ch->calls, k->tx.id, confirmed);
    smart_tx_confirmed(ch, k->tx.id, confirmed);
    k->tx.id = confirmed;
    k->tx.confirmed = true;
    persist_mark(ch);
    const char *s = id_tag_status(payload);
    remember(ch, k->tx.id_tag, payload);
    if (s && strcmp(s, "Accepted") != 0)
        session_stop(ch, conn, SR_DEAUTHORIZED, NULL);
}

void answers_on_end(struct callq *q, const struct call *c)
{
    struct charger_rt *ch =
        (struct charger_rt *)(void *)((char *)q - offsetof(struct charger_rt, calls));
    const cJSON *payload = c->end == CE_RESULT || c->end == CE_LATE ? c->answer : NULL;
    bool answered = c->end != CE_ASSUMED;
    /* An answer after the charger went on without it: only a transaction id or the boot's
     * verdict is still worth taking. */
    if (c->end == CE_LATE && c->cont != K_START_TX && c->cont != K_BOOT)
        return;
    switch (c->cont) {
    case K_NONE:
    case K_STOP_TX:
        break;
    case K_BOOT:
        boot_answer(ch, payload, answered);
        break;
    case K_AUTHORIZE:
        if (c->connector == 0)
            remember_presented(ch, c, payload);
        else
            authorize_answer(ch, c->connector, payload, answered);
        break;
    case K_START_TX:
        start_tx_answer(ch, c->tx_id, payload);
        break;
    }
}
