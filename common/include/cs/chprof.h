/* chprof.h - OCPP 1.6 Smart Charging (section 3.13) for one charger: the charging profiles it
 * has installed, the power limit they set on a connector at a given time, and the composite
 * schedule GetCompositeSchedule answers with (pure: no I/O, no clock; times are ms since the
 * epoch and are passed in).
 *
 * Choices where the specification leaves room:
 *  - Absolute profiles without startSchedule start when installed; so do Recurring ones (the
 *    first recurrence), which do not apply before their first start.
 *  - Relative profiles start with the transaction of the connector asked about; with no
 *    transaction they do not apply (the limit changes when one starts, which the caller
 *    knows). A Relative ChargePointMaxProfile therefore follows the transaction in ctx.
 *  - A TxProfile installed without transactionId is bound to the transaction running then.
 *  - The ChargePointMaxProfile caps each connector on its own: chprof_limit_w is min(tx limit,
 *    charge-point limit, max_w). A caller that shares the charge point's limit among several
 *    connectors takes chprof_tx_limit_w and chprof_cp_limit_w apart instead.
 *  - Amperes become watts as limit x voltage x phases, phases being the charger's (ctx) or the
 *    period's numberPhases when that is fewer.
 *  - recurrencyKind on a profile that is not Recurring, and transactionId on one that is not a
 *    TxProfile, are ignored. */
#ifndef CS_CHPROF_H
#define CS_CHPROF_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"

struct cJSON;

#define CHPROF_MAX_INSTALLED 16 /* MaxChargingProfilesInstalled */
#define CHPROF_MAX_PERIODS 24   /* ChargingScheduleMaxPeriods */
#define CHPROF_MAX_STACK 8      /* ChargeProfileMaxStackLevel */

enum chp_purpose { CHP_CP_MAX, CHP_TX_DEFAULT, CHP_TX, CHP__COUNT };
enum chp_kind { CHK_ABSOLUTE, CHK_RECURRING, CHK_RELATIVE, CHK__COUNT };
enum chp_recur { CHR_NONE, CHR_DAILY, CHR_WEEKLY };
enum chp_unit { CHU_W, CHU_A, CHU__COUNT };

struct chp_period {
    int32_t start_s; /* from the start of the schedule */
    int32_t phases;  /* numberPhases; 0 = not given */
    double limit;    /* in the profile's unit */
};

struct chprof {
    int32_t id;
    int32_t tx_id; /* TxProfile: the transaction it belongs to (has_tx) */
    int conn;
    int stack;
    enum chp_purpose purpose;
    enum chp_kind kind;
    enum chp_recur recur;
    enum chp_unit unit;
    bool has_tx;
    bool has_duration;
    bool has_start;
    int32_t duration_s;
    int64_t valid_from_ms; /* INT64_MIN when open */
    int64_t valid_to_ms;   /* INT64_MAX when open; exclusive */
    int64_t start_ms;      /* startSchedule (has_start) */
    int64_t installed_ms;
    double min_rate;   /* minChargingRate, 0 when absent; not used for limits */
    int nperiods;      /* kept in period[] */
    int periods_given; /* in the request; above CHPROF_MAX_PERIODS install refuses it */
    struct chp_period period[CHPROF_MAX_PERIODS];
};

/* A charger's installed profiles: a heap array grown on demand and freed when it empties, so
 * the many chargers without a profile carry only this header. Zero-initialised is empty. */
struct chprof_set {
    int n;
    int cap;
    struct chprof *p; /* owned; NULL when empty */
};

/* What the limit depends on beyond the profiles: the connector's transaction, and the
 * electrics for turning amperes into watts. Fields at 0 take the defaults. */
struct chp_ctx {
    bool tx_active;
    int32_t tx_id;
    int64_t tx_start_ms;
    double voltage; /* per phase; default 230 */
    int phases;     /* default 3 */
    double max_w;   /* the charger's own maximum (the connector's, or the whole charge point's
                     * for connector 0); <= 0 = none */
};

/* Parses a csChargingProfiles object (SetChargingProfile.req, or RemoteStartTransaction's
 * chargingProfile) for connector conn, received at now_ms. On a bad payload returns non-zero
 * with *code the CALLERROR to answer: TypeConstraintViolation for a wrong JSON type,
 * OccurenceConstraintViolation for a missing field (or an empty period list),
 * PropertyConstraintViolation for a bad value. A valid profile beyond this charger's limits
 * (stack level, periods) parses; chprof_install refuses it. */
int chprof_parse(const struct cJSON *obj, int conn, int64_t now_ms, struct chprof *out,
                 const char **code, struct cs_error *err);

/* Installs a copy of p, replacing an installed profile with the same id or with the same
 * stack level, purpose and connector. ctx is the transaction state of p's connector (NULL =
 * none). Returns false, with the reason in *why, when the answer is Rejected: a limit reached,
 * a ChargePointMaxProfile off connector 0, a TxProfile on 0, without a transaction or for
 * another one. A rejected profile changes nothing. */
bool chprof_install(struct chprof_set *s, const struct chprof *p, const struct chp_ctx *ctx,
                    struct cs_error *why);

/* ClearChargingProfile: with id >= 0 removes that profile whatever the other criteria; else
 * every profile matching all the criteria given (-1 = any). Returns how many went (Accepted
 * when > 0, else Unknown). */
int chprof_clear(struct chprof_set *s, int32_t id, int conn, int purpose, int stack);

/* Removes connector conn's TxProfiles: call it when its transaction ends. */
void chprof_tx_ended(struct chprof_set *s, int conn);

/* Limits in effect at t_ms, in W; negative when no profile sets one. *next_ms (may be NULL)
 * receives the next time after t_ms at which the limit may change (a period boundary, the end
 * of a schedule, a validity edge, a recurrence), INT64_MAX when none: arm a timer for it.
 * ctx is the connector's (NULL = no transaction, defaults). */
double chprof_tx_limit_w(const struct chprof_set *s, int conn, const struct chp_ctx *ctx,
                         int64_t t_ms, int64_t *next_ms);
double chprof_cp_limit_w(const struct chprof_set *s, const struct chp_ctx *ctx, int64_t t_ms,
                         int64_t *next_ms);
/* min(tx limit, charge-point limit, ctx->max_w); negative when none of them is set. */
double chprof_limit_w(const struct chprof_set *s, int conn, const struct chp_ctx *ctx, int64_t t_ms,
                      int64_t *next_ms);

/* Writes the GetCompositeSchedule.conf fields into an open object: status, connectorId,
 * scheduleStart (now_ms) and chargingSchedule for [now, now + duration_s). Connector 0 gets
 * the charge-point limit and ctx->max_w (the whole charge point's); others the min of the tx
 * limit, the charge-point limit and ctx->max_w. Limits are in unit (W when the request names
 * none), one decimal; adjacent equal periods merge. The schedule stops at CHPROF_MAX_PERIODS
 * periods, its duration then saying how far it reaches. When at some time no limit is set at
 * all (no profile, no max_w) the status is Rejected and nothing else is written. */
void chprof_composite_json(const struct chprof_set *s, int conn, const struct chp_ctx *ctx,
                           int64_t now_ms, int32_t duration_s, enum chp_unit unit, struct jw *out);

/* Writes p back as a csChargingProfiles object that chprof_parse, given p's conn and
 * installed_ms, reads into the same profile (a charger's profiles are saved this way); a
 * TxProfile bound to a local (negative) transaction id is written without it. */
void chprof_json(const struct chprof *p, struct jw *w);

void chprof_free(struct chprof_set *s);

/* Names as OCPP spells them: chargingProfilePurpose (for ClearChargingProfile), and
 * chargingRateUnit (for GetCompositeSchedule). -1 when not one of them. */
int chprof_purpose_of(const char *name);
const char *chprof_purpose_name(enum chp_purpose p);
int chprof_unit_of(const char *name);
const char *chprof_unit_name(enum chp_unit u);

#endif
