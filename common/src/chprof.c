/* chprof.c - OCPP 1.6 charging profiles: parsing, the install and clear rules, the limit in
 * effect at a time and the composite schedule. */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/chprof.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/util.h"

#define DAY_MS (86400 * INT64_C(1000))
#define DEFAULT_VOLTAGE 230.0
#define DEFAULT_PHASES 3
/* No charger draws a gigawatt: a larger limit is a mistake, and refusing it keeps every
 * conversion and sum finite. */
#define LIMIT_MAX 1e9
/* Evaluations one composite schedule may take: a long request over a Recurring profile that
 * changes often would otherwise loop for long while merging periods away. */
#define COMPOSITE_MAX_STEPS 1024

/* ---- names --------------------------------------------------------------------------------- */

/* NULL-terminated so that they serve as the field checks' choices too. */
static const char *const purpose_names[] = {
    [CHP_CP_MAX] = "ChargePointMaxProfile",
    [CHP_TX_DEFAULT] = "TxDefaultProfile",
    [CHP_TX] = "TxProfile",
    [CHP__COUNT] = NULL,
};
_Static_assert(ARRAY_SIZE(purpose_names) == CHP__COUNT + 1, "purpose_names out of step");

static const char *const kind_names[] = {
    [CHK_ABSOLUTE] = "Absolute",
    [CHK_RECURRING] = "Recurring",
    [CHK_RELATIVE] = "Relative",
    [CHK__COUNT] = NULL,
};
_Static_assert(ARRAY_SIZE(kind_names) == CHK__COUNT + 1, "kind_names out of step");

/* By enum chp_recur less one: CHR_NONE has no name. */
static const char *const recur_names[] = {"Daily", "Weekly", NULL};

static const char *const unit_names[] = {[CHU_W] = "W", [CHU_A] = "A", [CHU__COUNT] = NULL};
_Static_assert(ARRAY_SIZE(unit_names) == CHU__COUNT + 1, "unit_names out of step");

static int name_index(const char *const *names, const char *s)
{
    for (int i = 0; s && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int chprof_purpose_of(const char *name)
{
    return name_index(purpose_names, name);
}

const char *chprof_purpose_name(enum chp_purpose p)
{
    return (unsigned)p < CHP__COUNT ? purpose_names[p] : "?";
}

int chprof_unit_of(const char *name)
{
    return name_index(unit_names, name);
}

const char *chprof_unit_name(enum chp_unit u)
{
    return (unsigned)u < CHU__COUNT ? unit_names[u] : "?";
}

/* ---- parsing --------------------------------------------------------------------------------- */

/* Field lists, read back by position so that each JSON name is written once. */
enum { PF_ID, PF_TX, PF_STACK, PF_PURPOSE, PF_KIND, PF_RECUR, PF_FROM, PF_TO, PF_SCHEDULE };
static const struct ocpp_field f_profile[] = {
    [PF_ID] = {"chargingProfileId", FT_INT, true, 0, NULL},
    [PF_TX] = {"transactionId", FT_INT, false, 0, NULL},
    [PF_STACK] = {"stackLevel", FT_INT, true, 0, NULL},
    [PF_PURPOSE] = {"chargingProfilePurpose", FT_STRING, true, 0, purpose_names},
    [PF_KIND] = {"chargingProfileKind", FT_STRING, true, 0, kind_names},
    [PF_RECUR] = {"recurrencyKind", FT_STRING, false, 0, recur_names},
    [PF_FROM] = {"validFrom", FT_DATETIME, false, 0, NULL},
    [PF_TO] = {"validTo", FT_DATETIME, false, 0, NULL},
    [PF_SCHEDULE] = {"chargingSchedule", FT_OBJECT, true, 0, NULL},
    {NULL, 0, false, 0, NULL},
};

enum { SF_DURATION, SF_START, SF_UNIT, SF_PERIODS, SF_MIN_RATE };
static const struct ocpp_field f_schedule[] = {
    [SF_DURATION] = {"duration", FT_INT, false, 0, NULL},
    [SF_START] = {"startSchedule", FT_DATETIME, false, 0, NULL},
    [SF_UNIT] = {"chargingRateUnit", FT_STRING, true, 0, unit_names},
    [SF_PERIODS] = {"chargingSchedulePeriod", FT_ARRAY, true, 0, NULL},
    [SF_MIN_RATE] = {"minChargingRate", FT_NUMBER, false, 0, NULL},
    {NULL, 0, false, 0, NULL},
};

enum { PP_START, PP_LIMIT, PP_PHASES };
static const struct ocpp_field f_period[] = {
    [PP_START] = {"startPeriod", FT_INT, true, 0, NULL},
    [PP_LIMIT] = {"limit", FT_NUMBER, true, 0, NULL},
    [PP_PHASES] = {"numberPhases", FT_INT, false, 0, NULL},
    {NULL, 0, false, 0, NULL},
};

static const cJSON *item(const cJSON *obj, const struct ocpp_field *fields, int i)
{
    return cJSON_GetObjectItemCaseSensitive(obj, fields[i].name);
}

/* Sets the CALLERROR code and says what is wrong with which field. */
static int bad(const char **code, const char *c, struct cs_error *err, const char *field,
               const char *problem)
{
    *code = c;
    return cs_error_set(err, CS_ERR_RANGE, "%s %s", field, problem);
}

/* Reads an integer field ocpp_check has passed (whole, not negative) when it is there
 * (*present, when not NULL, says so); it must also fit int32_t. */
static int get_i32(const cJSON *obj, const struct ocpp_field *fields, int i, int32_t *out,
                   bool *present, const char **code, struct cs_error *err)
{
    const cJSON *v = item(obj, fields, i);
    if (present)
        *present = v != NULL;
    if (v && v->valuedouble > INT32_MAX)
        return bad(code, OCPP_E_PROPERTY, err, fields[i].name, "is out of range");
    if (v)
        *out = (int32_t)v->valuedouble;
    return CS_OK;
}

static bool get_time(const cJSON *obj, const struct ocpp_field *fields, int i, int64_t *out)
{
    const cJSON *v = item(obj, fields, i);
    return v && ocpp_datetime_parse(v->valuestring, out); /* checked by ocpp_check */
}

static int parse_period(const cJSON *o, int i, struct chp_period *prev, struct chp_period *out,
                        const char **code, struct cs_error *err)
{
    if (!cJSON_IsObject(o))
        return bad(code, OCPP_E_TYPE, err, f_schedule[SF_PERIODS].name,
                   "has an element that is not an object");
    bool has_phases;
    int rc = ocpp_check(o, f_period, code, err);
    if (rc || (rc = get_i32(o, f_period, PP_START, &out->start_s, NULL, code, err)) ||
        (rc = get_i32(o, f_period, PP_PHASES, &out->phases, &has_phases, code, err)))
        return rc;
    double limit = item(o, f_period, PP_LIMIT)->valuedouble;
    if (!(limit >= 0 && limit <= LIMIT_MAX))
        return bad(code, OCPP_E_PROPERTY, err, f_period[PP_LIMIT].name, "must be in 0..1e9");
    out->limit = limit;
    if (has_phases && (out->phases < 1 || out->phases > 3))
        return bad(code, OCPP_E_PROPERTY, err, f_period[PP_PHASES].name, "must be 1, 2 or 3");
    /* the schedule starts with its first period, and each one starts after the one before */
    if (i == 0 ? out->start_s != 0 : out->start_s <= prev->start_s)
        return bad(code, OCPP_E_PROPERTY, err, f_period[PP_START].name,
                   "must be 0 first, then increase");
    return CS_OK;
}

static int parse_schedule(const cJSON *o, struct chprof *out, const char **code,
                          struct cs_error *err)
{
    int rc = ocpp_check(o, f_schedule, code, err);
    if (rc ||
        (rc = get_i32(o, f_schedule, SF_DURATION, &out->duration_s, &out->has_duration, code, err)))
        return rc;
    out->has_start = get_time(o, f_schedule, SF_START, &out->start_ms);
    out->unit = (enum chp_unit)name_index(unit_names, item(o, f_schedule, SF_UNIT)->valuestring);
    const cJSON *rate = item(o, f_schedule, SF_MIN_RATE);
    if (rate && !(rate->valuedouble >= 0 && rate->valuedouble <= LIMIT_MAX))
        return bad(code, OCPP_E_PROPERTY, err, f_schedule[SF_MIN_RATE].name, "must be in 0..1e9");
    out->min_rate = rate ? rate->valuedouble : 0;
    const cJSON *periods = item(o, f_schedule, SF_PERIODS);
    if (cJSON_GetArraySize(periods) == 0)
        return bad(code, OCPP_E_OCCURRENCE, err, f_schedule[SF_PERIODS].name, "is empty");
    /* Every period is checked; those beyond what this charger keeps are only counted, and
     * chprof_install refuses the profile. */
    struct chp_period scratch[2], *prev = NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, periods)
    {
        int i = out->periods_given++;
        struct chp_period *p = i < CHPROF_MAX_PERIODS ? &out->period[i] : &scratch[i % 2];
        if ((rc = parse_period(e, i, prev, p, code, err)) != CS_OK)
            return rc;
        prev = p;
    }
    out->nperiods =
        out->periods_given < CHPROF_MAX_PERIODS ? out->periods_given : CHPROF_MAX_PERIODS;
    return CS_OK;
}

int chprof_parse(const cJSON *obj, int conn, int64_t now_ms, struct chprof *out, const char **code,
                 struct cs_error *err)
{
    memset(out, 0, sizeof(*out));
    *code = NULL;
    out->conn = conn;
    out->installed_ms = now_ms;
    out->valid_from_ms = INT64_MIN;
    out->valid_to_ms = INT64_MAX;
    if (!cJSON_IsObject(obj))
        return bad(code, OCPP_E_TYPE, err, "csChargingProfiles", "is not an object");
    int32_t stack = 0;
    int rc = ocpp_check(obj, f_profile, code, err);
    if (rc || (rc = get_i32(obj, f_profile, PF_ID, &out->id, NULL, code, err)) ||
        (rc = get_i32(obj, f_profile, PF_STACK, &stack, NULL, code, err)))
        return rc;
    out->stack = stack;
    out->purpose =
        (enum chp_purpose)chprof_purpose_of(item(obj, f_profile, PF_PURPOSE)->valuestring);
    out->kind = (enum chp_kind)name_index(kind_names, item(obj, f_profile, PF_KIND)->valuestring);
    if (out->purpose == CHP_TX &&
        (rc = get_i32(obj, f_profile, PF_TX, &out->tx_id, &out->has_tx, code, err)))
        return rc;
    if (out->kind == CHK_RECURRING) {
        const cJSON *r = item(obj, f_profile, PF_RECUR);
        if (!r)
            return bad(code, OCPP_E_OCCURRENCE, err, f_profile[PF_RECUR].name,
                       "is required when the profile is Recurring");
        out->recur = (enum chp_recur)(name_index(recur_names, r->valuestring) + 1);
    }
    get_time(obj, f_profile, PF_FROM, &out->valid_from_ms);
    get_time(obj, f_profile, PF_TO, &out->valid_to_ms);
    if (out->valid_from_ms >= out->valid_to_ms)
        return bad(code, OCPP_E_PROPERTY, err, f_profile[PF_FROM].name, "must come before validTo");
    return parse_schedule(item(obj, f_profile, PF_SCHEDULE), out, code, err);
}

static void put_time(struct jw *w, const char *key, int64_t ms)
{
    char ts[32];
    jw_kstr(w, key, cs_fmt_iso8601(ts, sizeof(ts), ms));
}

void chprof_json(const struct chprof *p, struct jw *w)
{
    jw_obj(w);
    jw_kint(w, f_profile[PF_ID].name, p->id);
    if (p->purpose == CHP_TX && p->has_tx && p->tx_id >= 0)
        jw_kint(w, f_profile[PF_TX].name, p->tx_id);
    jw_kint(w, f_profile[PF_STACK].name, p->stack);
    jw_kstr(w, f_profile[PF_PURPOSE].name, purpose_names[p->purpose]);
    jw_kstr(w, f_profile[PF_KIND].name, kind_names[p->kind]);
    if (p->kind == CHK_RECURRING && p->recur != CHR_NONE)
        jw_kstr(w, f_profile[PF_RECUR].name, recur_names[p->recur - 1]);
    if (p->valid_from_ms != INT64_MIN)
        put_time(w, f_profile[PF_FROM].name, p->valid_from_ms);
    if (p->valid_to_ms != INT64_MAX)
        put_time(w, f_profile[PF_TO].name, p->valid_to_ms);
    jw_key(w, f_profile[PF_SCHEDULE].name);
    jw_obj(w);
    if (p->has_duration)
        jw_kint(w, f_schedule[SF_DURATION].name, p->duration_s);
    if (p->has_start)
        put_time(w, f_schedule[SF_START].name, p->start_ms);
    jw_kstr(w, f_schedule[SF_UNIT].name, unit_names[p->unit]);
    jw_key(w, f_schedule[SF_PERIODS].name);
    jw_arr(w);
    for (int i = 0; i < p->nperiods; i++) {
        jw_obj(w);
        jw_kint(w, f_period[PP_START].name, p->period[i].start_s);
        jw_kdouble(w, f_period[PP_LIMIT].name, p->period[i].limit, 3);
        if (p->period[i].phases)
            jw_kint(w, f_period[PP_PHASES].name, p->period[i].phases);
        jw_end(w);
    }
    jw_end(w);
    if (p->min_rate > 0)
        jw_kdouble(w, f_schedule[SF_MIN_RATE].name, p->min_rate, 3);
    jw_end(w);
    jw_end(w);
}

/* ---- install and clear ------------------------------------------------------------------- */

typedef bool (*chprof_match_fn)(const struct chprof *old, const void *arg);

/* Removes the profiles match selects; returns how many. The array goes when it empties. */
static int remove_if(struct chprof_set *s, chprof_match_fn match, const void *arg)
{
    int kept = 0;
    for (int i = 0; i < s->n; i++)
        if (!match(&s->p[i], arg))
            s->p[kept++] = s->p[i];
    int removed = s->n - kept;
    s->n = kept;
    if (s->n == 0)
        chprof_free(s);
    return removed;
}

/* The spec's replacement rule: same id, or same stack level, purpose and connector. */
static bool replaced_by(const struct chprof *old, const void *arg)
{
    const struct chprof *p = arg;
    return old->id == p->id ||
           (old->stack == p->stack && old->purpose == p->purpose && old->conn == p->conn);
}

static const char *refusal(const struct chprof *p, const struct chp_ctx *ctx)
{
    if (p->stack > CHPROF_MAX_STACK)
        return "stackLevel above ChargeProfileMaxStackLevel";
    if (p->periods_given > CHPROF_MAX_PERIODS)
        return "more periods than ChargingScheduleMaxPeriods";
    if (p->conn < 0)
        return "no such connector";
    if (p->purpose == CHP_CP_MAX && p->conn != 0)
        return "a ChargePointMaxProfile belongs on connector 0";
    if (p->purpose == CHP_TX && p->conn == 0)
        return "a TxProfile belongs on a connector, not 0";
    if (p->purpose == CHP_TX && (!ctx || !ctx->tx_active))
        return "a TxProfile needs a transaction on its connector";
    if (p->purpose == CHP_TX && p->has_tx && p->tx_id != ctx->tx_id)
        return "transactionId is not the running transaction";
    return NULL;
}

bool chprof_install(struct chprof_set *s, const struct chprof *p, const struct chp_ctx *ctx,
                    struct cs_error *why)
{
    const char *no = refusal(p, ctx);
    if (no) {
        cs_error_set(why, CS_ERR_STATE, "%s", no);
        return false;
    }
    int staying = 0;
    for (int i = 0; i < s->n; i++)
        staying += !replaced_by(&s->p[i], p);
    if (staying >= CHPROF_MAX_INSTALLED) {
        cs_error_set(why, CS_ERR_TOO_BIG, "%d profiles installed (MaxChargingProfilesInstalled)",
                     staying);
        return false;
    }
    remove_if(s, replaced_by, p);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1;
        s->p = cs_realloc(s->p, (size_t)s->cap * sizeof(*s->p));
    }
    struct chprof *q = &s->p[s->n++];
    *q = *p;
    if (q->purpose == CHP_TX && !q->has_tx) { /* it ends with the transaction running now */
        q->has_tx = true;
        q->tx_id = ctx->tx_id;
    }
    return true;
}

struct criteria {
    int32_t id; /* -1 = any, as the others */
    int conn, purpose, stack;
};

static bool meets(const struct chprof *old, const void *arg)
{
    const struct criteria *c = arg;
    return (c->id < 0 || old->id == c->id) && (c->conn < 0 || old->conn == c->conn) &&
           (c->purpose < 0 || (int)old->purpose == c->purpose) &&
           (c->stack < 0 || old->stack == c->stack);
}

int chprof_clear(struct chprof_set *s, int32_t id, int conn, int purpose, int stack)
{
    struct criteria by_id = {id, -1, -1, -1}, by_rest = {-1, conn, purpose, stack};
    return remove_if(s, meets, id >= 0 ? &by_id : &by_rest);
}

void chprof_tx_ended(struct chprof_set *s, int conn)
{
    struct criteria c = {-1, conn, CHP_TX, -1};
    remove_if(s, meets, &c);
}

void chprof_free(struct chprof_set *s)
{
    cs_free(s->p);
    memset(s, 0, sizeof(*s));
}

/* ---- limits ------------------------------------------------------------------------------ */

/* A limit in W (negative: none) and the numberPhases of the period that set it (0: none). */
struct lim {
    double w;
    int phases;
};

static const struct lim NO_LIMIT = {-1, 0};

/* The time asked about and the earliest change after it seen so far. */
struct scan {
    int64_t t;
    int64_t next;
};

static void bump(struct scan *sc, int64_t at)
{
    if (at > sc->t && at < sc->next)
        sc->next = at;
}

static struct chp_ctx ctx_or_default(const struct chp_ctx *ctx)
{
    struct chp_ctx x = {0};
    if (ctx)
        x = *ctx;
    if (!(x.voltage > 0))
        x.voltage = DEFAULT_VOLTAGE;
    if (x.phases <= 0)
        x.phases = DEFAULT_PHASES;
    return x;
}

/* The phases current flows on: the charger's, or fewer when the period says so. */
static int phases_used(const struct chp_ctx *x, int given)
{
    return given > 0 && given < x->phases ? given : x->phases;
}

/* When the schedule run in effect at sc->t started; false when none has started. */
static bool run_start(const struct chprof *p, const struct chp_ctx *x, struct scan *sc,
                      int64_t *start)
{
    *start = p->has_start ? p->start_ms : p->installed_ms;
    if (p->kind == CHK_RELATIVE) {
        if (!x->tx_active)
            return false;
        *start = x->tx_start_ms;
    } else if (p->kind == CHK_RECURRING && sc->t >= *start) {
        int64_t step = p->recur == CHR_WEEKLY ? 7 * DAY_MS : DAY_MS;
        *start += (sc->t - *start) / step * step;
        bump(sc, *start + step);
    }
    if (sc->t < *start) {
        bump(sc, *start);
        return false;
    }
    return true;
}

/* Whether p applies at sc->t and, if so, its limit; notes in sc each time after sc->t at which
 * that may change. */
static bool eval(const struct chprof *p, const struct chp_ctx *x, struct scan *sc, struct lim *out)
{
    if (sc->t < p->valid_from_ms) {
        bump(sc, p->valid_from_ms);
        return false;
    }
    if (sc->t >= p->valid_to_ms)
        return false;
    bump(sc, p->valid_to_ms);
    int64_t start;
    if (!run_start(p, x, sc, &start))
        return false;
    if (p->has_duration) {
        int64_t end = start + (int64_t)p->duration_s * 1000;
        if (sc->t >= end)
            return false;
        bump(sc, end);
    }
    int64_t offset = sc->t - start;
    int i = 0;
    while (i + 1 < p->nperiods && (int64_t)p->period[i + 1].start_s * 1000 <= offset)
        i++;
    if (i + 1 < p->nperiods)
        bump(sc, start + (int64_t)p->period[i + 1].start_s * 1000);
    const struct chp_period *pd = &p->period[i];
    out->phases = pd->phases;
    out->w = p->unit == CHU_A ? pd->limit * x->voltage * phases_used(x, pd->phases) : pd->limit;
    return true;
}

/* Where p stands in the order of precedence for connector conn's tx limit, or for the
 * charge-point limit (cp), first = 0; -1 when it plays no part. A TxProfile for the running
 * transaction beats TxDefaultProfiles, those on the connector beat those on 0, and within
 * each the higher stack level wins. */
static int rank(const struct chprof *p, int conn, const struct chp_ctx *x, bool cp)
{
    int tier = -1;
    if (cp)
        tier = p->purpose == CHP_CP_MAX ? 0 : -1;
    else if (p->purpose == CHP_TX)
        tier = p->conn == conn && x->tx_active && p->has_tx && p->tx_id == x->tx_id ? 0 : -1;
    else if (p->purpose == CHP_TX_DEFAULT)
        tier = p->conn == conn ? 1 : p->conn == 0 ? 2 : -1;
    if (tier < 0 || p->stack < 0 || p->stack > CHPROF_MAX_STACK)
        return -1;
    return tier * (CHPROF_MAX_STACK + 1) + CHPROF_MAX_STACK - p->stack;
}

/* The limit of the first profile in order of precedence that applies at sc->t. */
static struct lim pick(const struct chprof_set *s, int conn, const struct chp_ctx *x, bool cp,
                       struct scan *sc)
{
    int order[CHPROF_MAX_INSTALLED], key[CHPROF_MAX_INSTALLED], n = 0;
    for (int i = 0; i < s->n && i < CHPROF_MAX_INSTALLED; i++) {
        int r = rank(&s->p[i], conn, x, cp), j = n++;
        if (r < 0) {
            n--;
            continue;
        }
        for (; j > 0 && key[j - 1] > r; j--) {
            key[j] = key[j - 1];
            order[j] = order[j - 1];
        }
        key[j] = r;
        order[j] = i;
    }
    struct lim l;
    for (int j = 0; j < n; j++)
        if (eval(&s->p[order[j]], x, sc, &l))
            return l;
    return NO_LIMIT;
}

static struct lim lower(struct lim a, struct lim b)
{
    return b.w >= 0 && (a.w < 0 || b.w < a.w) ? b : a;
}

/* min(tx limit (connectors only), charge-point limit, max_w). */
static struct lim combined(const struct chprof_set *s, int conn, const struct chp_ctx *x,
                           struct scan *sc)
{
    struct lim l = pick(s, 0, x, true, sc);
    if (conn >= 1)
        l = lower(l, pick(s, conn, x, false, sc));
    struct lim max = {x->max_w > 0 ? x->max_w : -1, 0};
    return lower(l, max);
}

double chprof_tx_limit_w(const struct chprof_set *s, int conn, const struct chp_ctx *ctx,
                         int64_t t_ms, int64_t *next_ms)
{
    struct chp_ctx x = ctx_or_default(ctx);
    struct scan sc = {t_ms, INT64_MAX};
    struct lim l = conn >= 1 ? pick(s, conn, &x, false, &sc) : NO_LIMIT;
    if (next_ms)
        *next_ms = sc.next;
    return l.w;
}

double chprof_cp_limit_w(const struct chprof_set *s, const struct chp_ctx *ctx, int64_t t_ms,
                         int64_t *next_ms)
{
    struct chp_ctx x = ctx_or_default(ctx);
    struct scan sc = {t_ms, INT64_MAX};
    struct lim l = pick(s, 0, &x, true, &sc);
    if (next_ms)
        *next_ms = sc.next;
    return l.w;
}

double chprof_limit_w(const struct chprof_set *s, int conn, const struct chp_ctx *ctx, int64_t t_ms,
                      int64_t *next_ms)
{
    struct chp_ctx x = ctx_or_default(ctx);
    struct scan sc = {t_ms, INT64_MAX};
    struct lim l = combined(s, conn, &x, &sc);
    if (next_ms)
        *next_ms = sc.next;
    return l.w;
}

/* ---- composite schedule --------------------------------------------------------------------- */

struct composite {
    int n;
    int32_t reach_s; /* how far the periods reach */
    struct chp_period period[CHPROF_MAX_PERIODS];
};

/* Appends the limit that starts at_s seconds in, in the unit asked for and rounded as it will
 * be written, so that periods that would read the same merge. False when the list is full. */
static bool add_period(struct composite *c, int32_t at_s, struct lim l, const struct chp_ctx *x,
                       enum chp_unit unit)
{
    double v = unit == CHU_A ? l.w / (x->voltage * phases_used(x, l.phases)) : l.w;
    v = round(v * 10) / 10;
    if (c->n > 0 && c->period[c->n - 1].start_s == at_s)
        c->n--; /* two changes within one second: the later one holds from that second */
    struct chp_period *last = c->n > 0 ? &c->period[c->n - 1] : NULL;
    if (last && last->limit == v && last->phases == l.phases)
        return true;
    if (c->n == CHPROF_MAX_PERIODS)
        return false;
    c->period[c->n++] = (struct chp_period){at_s, l.phases, v};
    return true;
}

/* The composite's periods for [now, now + duration); false when at some time nothing limits. */
static bool build_composite(const struct chprof_set *s, int conn, const struct chp_ctx *x,
                            int64_t now_ms, int32_t duration_s, enum chp_unit unit,
                            struct composite *c)
{
    int64_t end = now_ms + (int64_t)(duration_s > 0 ? duration_s : 0) * 1000;
    c->n = 0;
    c->reach_s = (int32_t)((end - now_ms) / 1000);
    struct scan sc = {now_ms, INT64_MAX};
    for (int steps = 0; sc.t < end || c->n == 0; steps++, sc.t = sc.next, sc.next = INT64_MAX) {
        /* periods start on whole seconds: a change within a second takes effect at its end */
        int32_t at_s = (int32_t)((sc.t - now_ms + 999) / 1000);
        if (steps == COMPOSITE_MAX_STEPS) {
            c->reach_s = at_s;
            break;
        }
        struct lim l = combined(s, conn, x, &sc);
        if (l.w < 0)
            return false;
        if (!add_period(c, at_s, l, x, unit)) {
            c->reach_s = at_s;
            break;
        }
    }
    return true;
}

void chprof_composite_json(const struct chprof_set *s, int conn, const struct chp_ctx *ctx,
                           int64_t now_ms, int32_t duration_s, enum chp_unit unit, struct jw *out)
{
    struct chp_ctx x = ctx_or_default(ctx);
    struct composite c;
    if (conn < 0 || !build_composite(s, conn, &x, now_ms, duration_s, unit, &c)) {
        jw_kstr(out, "status", "Rejected");
        return;
    }
    char start[32];
    cs_fmt_iso8601(start, sizeof(start), now_ms);
    jw_kstr(out, "status", "Accepted");
    jw_kint(out, "connectorId", conn);
    jw_kstr(out, "scheduleStart", start);
    jw_key(out, "chargingSchedule");
    jw_obj(out);
    jw_kint(out, "duration", c.reach_s);
    jw_kstr(out, "startSchedule", start);
    jw_kstr(out, "chargingRateUnit", chprof_unit_name(unit));
    jw_key(out, "chargingSchedulePeriod");
    jw_arr(out);
    for (int i = 0; i < c.n; i++) {
        jw_obj(out);
        jw_kint(out, "startPeriod", c.period[i].start_s);
        jw_kdouble(out, "limit", c.period[i].limit, 1);
        if (c.period[i].phases)
            jw_kint(out, "numberPhases", c.period[i].phases);
        jw_end(out);
    }
    jw_end(out);
    jw_end(out);
}
