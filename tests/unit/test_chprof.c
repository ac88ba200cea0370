/* test_chprof.c - OCPP 1.6 charging profiles (cs/chprof.h): parsing and its CALLERROR codes,
 * the install and clear rules, the limit in effect (stacking, precedence, validity, recurrence,
 * Relative schedules, amperes), the next change, and GetCompositeSchedule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/chprof.h"
#include "cs/ocpp.h"

#define S 1000LL
#define MIN (60 * S)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 1767571200000LL /* 2026-01-05T00:00:00.000Z, a Monday */

/* JSON written with ' for " so that the cases stay readable. */
static cJSON *json(const char *text)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", text);
    for (char *c = buf; *c; c++)
        if (*c == '\'')
            *c = '"';
    cJSON *j = cJSON_Parse(buf);
    if (!j)
        print_error("not valid JSON: %s\n", buf);
    assert_non_null(j);
    return j;
}

static int parse(const char *text, int conn, struct chprof *out, const char **code)
{
    cJSON *j = json(text);
    struct cs_error err = {0};
    int rc = chprof_parse(j, conn, T0, out, code, &err);
    cJSON_Delete(j);
    return rc;
}

static struct chprof parsed(const char *text, int conn)
{
    struct chprof p;
    const char *code = NULL;
    struct cs_error err = {0};
    cJSON *j = json(text);
    if (chprof_parse(j, conn, T0, &p, &code, &err) != 0)
        print_error("%s: %s\n", code, err.msg);
    assert_null(code);
    cJSON_Delete(j);
    return p;
}

/* A profile from its parts: purpose and kind names, extra profile fields (ending in a comma,
 * or empty), and the schedule's fields. */
static struct chprof mk(int conn, int id, int stack, const char *purpose, const char *kind,
                        const char *extra, const char *schedule)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{'chargingProfileId':%d,'stackLevel':%d,'chargingProfilePurpose':'%s',"
             "'chargingProfileKind':'%s',%s'chargingSchedule':{%s}}",
             id, stack, purpose, kind, extra, schedule);
    return parsed(text, conn);
}

static void install_ok(struct chprof_set *s, struct chprof p, const struct chp_ctx *ctx)
{
    struct cs_error why = {0};
    if (!chprof_install(s, &p, ctx, &why))
        print_error("refused: %s\n", why.msg);
    assert_true(chprof_install(s, &p, ctx, &why)); /* installing it again replaces it */
}

static bool install(struct chprof_set *s, struct chprof p, const struct chp_ctx *ctx)
{
    struct cs_error why = {0};
    return chprof_install(s, &p, ctx, &why);
}

#define ABS_W(lim)                                                                                 \
    "'chargingRateUnit':'W','chargingSchedulePeriod':[{'startPeriod':0,'limit':" #lim "}]"

static const struct chp_ctx TX7 = {.tx_active = true, .tx_id = 7, .tx_start_ms = T0};

/* ---- parsing ------------------------------------------------------------------------------ */

static void test_parse_valid(void **state)
{
    (void)state;
    struct chprof p = parsed(
        "{'chargingProfileId':12,'transactionId':7,'stackLevel':3,"
        "'chargingProfilePurpose':'TxProfile','chargingProfileKind':'Recurring',"
        "'recurrencyKind':'Weekly','validFrom':'2026-01-05T00:00:00Z',"
        "'validTo':'2026-02-01T00:00:00.500Z','chargingSchedule':{'duration':7200,"
        "'startSchedule':'2026-01-05T06:00:00Z','chargingRateUnit':'A','minChargingRate':6.5,"
        "'chargingSchedulePeriod':[{'startPeriod':0,'limit':16.0,'numberPhases':1},"
        "{'startPeriod':1800,'limit':32.5}]}}",
        2);
    assert_int_equal(p.id, 12);
    assert_int_equal(p.conn, 2);
    assert_true(p.has_tx);
    assert_int_equal(p.tx_id, 7);
    assert_int_equal(p.stack, 3);
    assert_int_equal(p.purpose, CHP_TX);
    assert_int_equal(p.kind, CHK_RECURRING);
    assert_int_equal(p.recur, CHR_WEEKLY);
    assert_int_equal(p.valid_from_ms, T0);
    assert_int_equal(p.valid_to_ms, T0 + 27 * DAY + 500);
    assert_true(p.has_duration);
    assert_int_equal(p.duration_s, 7200);
    assert_true(p.has_start);
    assert_int_equal(p.start_ms, T0 + 6 * HOUR);
    assert_int_equal(p.installed_ms, T0);
    assert_int_equal(p.unit, CHU_A);
    assert_true(p.min_rate == 6.5);
    assert_int_equal(p.nperiods, 2);
    assert_int_equal(p.periods_given, 2);
    assert_int_equal(p.period[0].start_s, 0);
    assert_true(p.period[0].limit == 16.0);
    assert_int_equal(p.period[0].phases, 1);
    assert_int_equal(p.period[1].start_s, 1800);
    assert_true(p.period[1].limit == 32.5);
    assert_int_equal(p.period[1].phases, 0);

    /* the optional parts absent: open validity, no duration, no start; transactionId only
     * counts on a TxProfile, recurrencyKind only on a Recurring one */
    p = mk(0, 1, 0, "TxDefaultProfile", "Absolute", "'transactionId':5,'recurrencyKind':'Daily',",
           ABS_W(11000));
    assert_false(p.has_tx);
    assert_int_equal(p.recur, CHR_NONE);
    assert_int_equal(p.valid_from_ms, INT64_MIN);
    assert_int_equal(p.valid_to_ms, INT64_MAX);
    assert_false(p.has_duration);
    assert_false(p.has_start);
    assert_int_equal(p.unit, CHU_W);

    /* more periods than kept: each is still checked, install refuses the profile */
    char text[4096] = "{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':"
                      "'TxDefaultProfile','chargingProfileKind':'Absolute','chargingSchedule':"
                      "{'chargingRateUnit':'W','chargingSchedulePeriod':[";
    for (int i = 0; i < 30; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "%s{'startPeriod':%d,'limit':%d}", i ? "," : "", i * 60, 1000 + i);
    strcat(text, "]}}");
    p = parsed(text, 0);
    assert_int_equal(p.nperiods, CHPROF_MAX_PERIODS);
    assert_int_equal(p.periods_given, 30);
    struct chprof_set s = {0};
    assert_false(install(&s, p, NULL));
    assert_int_equal(s.n, 0);
}

static void test_parse_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *code;
    } cases[] = {
        {"[1]", OCPP_E_TYPE},
        {"{'stackLevel':0,'chargingProfilePurpose':'TxProfile','chargingProfileKind':'Absolute',"
         "'chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_OCCURRENCE},
        {"{'chargingProfileId':1,'stackLevel':'0','chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_TYPE},
        {"{'chargingProfileId':1,'stackLevel':-1,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':3000000000,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'MaxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Recurring','chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_OCCURRENCE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Recurring','recurrencyKind':'Monthly',"
         "'chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','validFrom':'yesterday','chargingSchedule':{" ABS_W(
             1) "}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','validFrom':'2026-01-05T00:00:00Z',"
         "'validTo':'2026-01-05T00:00:00Z','chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','transactionId':1.5,'chargingSchedule':{" ABS_W(1) "}}",
         OCPP_E_TYPE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute'}",
         OCPP_E_OCCURRENCE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':[]}",
         OCPP_E_TYPE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'kW',"
         "'chargingSchedulePeriod':[{'startPeriod':0,'limit':1}]}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W'}}",
         OCPP_E_OCCURRENCE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[]}}",
         OCPP_E_OCCURRENCE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':{}}}",
         OCPP_E_TYPE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'duration':1.5,'chargingSchedulePeriod':[{'startPeriod':0,'limit':1}]}}",
         OCPP_E_TYPE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'startSchedule':'2026-02-30T00:00:00Z','chargingSchedulePeriod':[{'startPeriod':0,"
         "'limit':1}]}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'minChargingRate':-1,'chargingSchedulePeriod':[{'startPeriod':0,'limit':1}]}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[5]}}",
         OCPP_E_TYPE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[{'limit':1}]}}",
         OCPP_E_OCCURRENCE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[{'startPeriod':60,'limit':1}]}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[{'startPeriod':0,'limit':1},{'startPeriod':0,'limit':2}]}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[{'startPeriod':0,'limit':-1}]}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[{'startPeriod':0,'limit':1e12}]}}",
         OCPP_E_PROPERTY},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[{'startPeriod':0,'limit':'16'}]}}",
         OCPP_E_TYPE},
        {"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
         "'chargingProfileKind':'Absolute','chargingSchedule':{'chargingRateUnit':'W',"
         "'chargingSchedulePeriod':[{'startPeriod':0,'limit':1,'numberPhases':4}]}}",
         OCPP_E_PROPERTY},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct chprof p;
        const char *code = NULL;
        int rc = parse(cases[i].text, 1, &p, &code);
        if (rc == 0 || !code || strcmp(code, cases[i].code) != 0)
            print_error("case %zu: rc %d code %s, want %s\n", i, rc, code ? code : "(none)",
                        cases[i].code);
        assert_int_not_equal(rc, 0);
        assert_string_equal(code, cases[i].code);
    }
}

/* A profile written back by chprof_json parses into the same profile. */
static void roundtrip(const struct chprof *p)
{
    struct buf b = BUF_INIT;
    struct jw w;
    jw_init(&w, &b);
    chprof_json(p, &w);
    cJSON *j = cJSON_Parse(buf_cstr(&b));
    assert_non_null(j);
    struct chprof q;
    const char *code = NULL;
    struct cs_error err = {0};
    assert_int_equal(chprof_parse(j, p->conn, p->installed_ms, &q, &code, &err), CS_OK);
    assert_memory_equal(&q, p, sizeof(q));
    cJSON_Delete(j);
    buf_free(&b);
}

static void test_json_roundtrip(void **state)
{
    (void)state;
    struct chprof p = parsed(
        "{'chargingProfileId':12,'transactionId':7,'stackLevel':3,"
        "'chargingProfilePurpose':'TxProfile','chargingProfileKind':'Recurring',"
        "'recurrencyKind':'Weekly','validFrom':'2026-01-05T00:00:00Z',"
        "'validTo':'2026-02-01T00:00:00.500Z','chargingSchedule':{'duration':7200,"
        "'startSchedule':'2026-01-05T06:00:00Z','chargingRateUnit':'A','minChargingRate':6.5,"
        "'chargingSchedulePeriod':[{'startPeriod':0,'limit':16.0,'numberPhases':1},"
        "{'startPeriod':1800,'limit':32.5}]}}",
        2);
    roundtrip(&p);
    p = mk(0, 1, 0, "TxDefaultProfile", "Absolute", "", ABS_W(11000));
    roundtrip(&p);
    p = mk(0, 4, 2, "ChargePointMaxProfile", "Relative", "'validTo':'2027-01-01T00:00:00Z',",
           ABS_W(7400.5));
    roundtrip(&p);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(chprof_purpose_of("ChargePointMaxProfile"), CHP_CP_MAX);
    assert_int_equal(chprof_purpose_of("TxDefaultProfile"), CHP_TX_DEFAULT);
    assert_int_equal(chprof_purpose_of("TxProfile"), CHP_TX);
    assert_int_equal(chprof_purpose_of("txprofile"), -1);
    assert_int_equal(chprof_purpose_of(NULL), -1);
    assert_string_equal(chprof_purpose_name(CHP_TX_DEFAULT), "TxDefaultProfile");
    assert_int_equal(chprof_unit_of("W"), CHU_W);
    assert_int_equal(chprof_unit_of("A"), CHU_A);
    assert_int_equal(chprof_unit_of("kW"), -1);
    assert_string_equal(chprof_unit_name(CHU_A), "A");
}

/* ---- install and clear --------------------------------------------------------------------- */

static void test_install_rules(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    struct chp_ctx idle = {0}, other = TX7;
    other.tx_id = 8;
    /* a ChargePointMaxProfile only on 0, a TxProfile never on 0 */
    assert_false(install(&s, mk(1, 1, 0, "ChargePointMaxProfile", "Absolute", "", ABS_W(1)), NULL));
    assert_true(install(&s, mk(0, 1, 0, "ChargePointMaxProfile", "Absolute", "", ABS_W(1)), NULL));
    assert_false(install(&s, mk(0, 2, 0, "TxProfile", "Absolute", "", ABS_W(1)), &TX7));
    /* a TxProfile needs a transaction, and the running one when it names one */
    assert_false(install(&s, mk(1, 2, 0, "TxProfile", "Absolute", "", ABS_W(1)), NULL));
    assert_false(install(&s, mk(1, 2, 0, "TxProfile", "Absolute", "", ABS_W(1)), &idle));
    assert_false(
        install(&s, mk(1, 2, 0, "TxProfile", "Absolute", "'transactionId':7,", ABS_W(1)), &other));
    assert_true(
        install(&s, mk(1, 2, 0, "TxProfile", "Absolute", "'transactionId':7,", ABS_W(1)), &TX7));
    /* without transactionId it is bound to the transaction running then */
    assert_true(install(&s, mk(2, 3, 0, "TxProfile", "Absolute", "", ABS_W(1)), &other));
    assert_true(s.p[2].has_tx);
    assert_int_equal(s.p[2].tx_id, 8);
    /* stack levels up to ChargeProfileMaxStackLevel */
    assert_true(install(&s, mk(0, 4, 8, "TxDefaultProfile", "Absolute", "", ABS_W(1)), NULL));
    assert_false(install(&s, mk(0, 5, 9, "TxDefaultProfile", "Absolute", "", ABS_W(1)), NULL));
    assert_int_equal(s.n, 4);
    /* at most MaxChargingProfilesInstalled; a replacement still fits when full */
    for (int id = 10; s.n < CHPROF_MAX_INSTALLED; id++)
        assert_true(install(
            &s, mk(id % 4, id, id % 9, "TxDefaultProfile", "Absolute", "", ABS_W(1)), NULL));
    struct cs_error why = {0};
    struct chprof extra = mk(3, 99, 0, "TxDefaultProfile", "Relative", "", ABS_W(1));
    extra.stack = 7; /* a free (stack, purpose, connector) */
    assert_false(chprof_install(&s, &extra, NULL, &why));
    assert_non_null(strstr(why.msg, "MaxChargingProfilesInstalled"));
    assert_true(install(&s, mk(0, 4, 8, "TxDefaultProfile", "Absolute", "", ABS_W(2)), NULL));
    assert_int_equal(s.n, CHPROF_MAX_INSTALLED);
    chprof_free(&s);
    chprof_free(&s); /* twice is harmless */
    assert_null(s.p);
}

static void test_replace(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    install_ok(&s, mk(0, 1, 0, "TxDefaultProfile", "Absolute", "", ABS_W(1000)), NULL);
    assert_int_equal(s.n, 1);
    /* same id, another stack level and connector: replaced */
    install_ok(&s, mk(1, 1, 3, "TxDefaultProfile", "Absolute", "", ABS_W(2000)), NULL);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.p[0].conn, 1);
    /* same stack level, purpose and connector, another id: replaced */
    install_ok(&s, mk(1, 2, 3, "TxDefaultProfile", "Absolute", "", ABS_W(3000)), NULL);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.p[0].id, 2);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0, NULL) == 3000);
    /* another connector, stack level or purpose: added */
    install_ok(&s, mk(2, 3, 3, "TxDefaultProfile", "Absolute", "", ABS_W(4000)), NULL);
    install_ok(&s, mk(1, 4, 2, "TxDefaultProfile", "Absolute", "", ABS_W(5000)), NULL);
    install_ok(&s, mk(1, 5, 3, "TxProfile", "Absolute", "", ABS_W(6000)), &TX7);
    assert_int_equal(s.n, 4);
    /* one that replaces two at once (id 3, and stack 2 on connector 1) */
    install_ok(&s, mk(1, 3, 2, "TxDefaultProfile", "Absolute", "", ABS_W(7000)), NULL);
    assert_int_equal(s.n, 3);
    chprof_free(&s);
}

static void test_clear(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    install_ok(&s, mk(0, 1, 0, "ChargePointMaxProfile", "Absolute", "", ABS_W(1)), NULL);
    install_ok(&s, mk(0, 2, 0, "TxDefaultProfile", "Absolute", "", ABS_W(1)), NULL);
    install_ok(&s, mk(1, 3, 1, "TxDefaultProfile", "Absolute", "", ABS_W(1)), NULL);
    install_ok(&s, mk(2, 4, 1, "TxDefaultProfile", "Absolute", "", ABS_W(1)), NULL);
    install_ok(&s, mk(1, 5, 2, "TxProfile", "Absolute", "", ABS_W(1)), &TX7);
    install_ok(&s, mk(2, 6, 2, "TxProfile", "Absolute", "", ABS_W(1)), &TX7);
    /* by id, whatever the other criteria say */
    assert_int_equal(chprof_clear(&s, 1, 5, CHP_TX, 7), 1);
    assert_int_equal(chprof_clear(&s, 1, -1, -1, -1), 0);
    assert_int_equal(s.n, 5);
    /* by connector, purpose, stack level, and all of them together */
    assert_int_equal(chprof_clear(&s, -1, 2, CHP_TX_DEFAULT, 1), 1);
    assert_int_equal(chprof_clear(&s, -1, 2, -1, -1), 1);
    assert_int_equal(chprof_clear(&s, -1, -1, CHP_TX_DEFAULT, -1), 2);
    assert_int_equal(chprof_clear(&s, -1, -1, -1, 0), 0);
    assert_int_equal(chprof_clear(&s, -1, -1, -1, 2), 1);
    assert_int_equal(s.n, 0);
    assert_null(s.p); /* an empty set holds no memory */
    /* nothing given: all of them */
    install_ok(&s, mk(0, 1, 0, "ChargePointMaxProfile", "Absolute", "", ABS_W(1)), NULL);
    install_ok(&s, mk(1, 3, 1, "TxDefaultProfile", "Absolute", "", ABS_W(1)), NULL);
    assert_int_equal(chprof_clear(&s, -1, -1, -1, -1), 2);
    assert_null(s.p);
    assert_int_equal(chprof_clear(&s, -1, -1, -1, -1), 0);
}

static void test_tx_ended(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    install_ok(&s, mk(0, 1, 0, "TxDefaultProfile", "Absolute", "", ABS_W(9000)), NULL);
    install_ok(&s, mk(1, 2, 0, "TxProfile", "Absolute", "", ABS_W(3000)), &TX7);
    install_ok(&s, mk(2, 3, 0, "TxProfile", "Absolute", "", ABS_W(4000)), &TX7);
    assert_true(chprof_tx_limit_w(&s, 1, &TX7, T0, NULL) == 3000);
    /* a TxProfile counts only for its own transaction */
    struct chp_ctx next_tx = TX7;
    next_tx.tx_id = 8;
    assert_true(chprof_tx_limit_w(&s, 1, &next_tx, T0, NULL) == 9000);
    chprof_tx_ended(&s, 1);
    assert_int_equal(s.n, 2);
    assert_true(chprof_tx_limit_w(&s, 1, &TX7, T0, NULL) == 9000);
    assert_true(chprof_tx_limit_w(&s, 2, &TX7, T0, NULL) == 4000);
    chprof_free(&s);
}

/* ---- limits ------------------------------------------------------------------------------- */

static void test_stacking(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    int64_t next;
    install_ok(&s,
               mk(0, 1, 0, "TxDefaultProfile", "Absolute", "",
                  "'startSchedule':'2026-01-01T00:00:00Z'," ABS_W(10000)),
               NULL);
    install_ok(&s,
               mk(0, 2, 1, "TxDefaultProfile", "Absolute", "",
                  "'duration':3600,'startSchedule':'2026-01-05T00:00:00Z'," ABS_W(5000)),
               NULL);
    /* the higher stack level wins while it runs, then the lower one is back */
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + 10 * MIN, &next) == 5000);
    assert_int_equal(next, T0 + HOUR);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + HOUR - 1, NULL) == 5000);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + HOUR, &next) == 10000);
    assert_int_equal(next, INT64_MAX);
    /* before the higher one starts: the lower one, changing when it does */
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 - MIN, &next) == 10000);
    assert_int_equal(next, T0);
    /* no tx limit on connector 0; no charge-point limit without its profile */
    assert_true(chprof_tx_limit_w(&s, 0, NULL, T0, NULL) < 0);
    assert_true(chprof_cp_limit_w(&s, NULL, T0, &next) < 0);
    assert_int_equal(next, INT64_MAX);
    chprof_free(&s);
}

static void test_precedence(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    install_ok(&s, mk(0, 1, 5, "TxDefaultProfile", "Absolute", "", ABS_W(7000)), NULL);
    install_ok(&s, mk(1, 2, 0, "TxDefaultProfile", "Absolute", "", ABS_W(9000)), NULL);
    /* the connector's own TxDefaultProfile beats one on 0 whatever the stack levels */
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0, NULL) == 9000);
    assert_true(chprof_tx_limit_w(&s, 2, NULL, T0, NULL) == 7000);
    /* and a TxProfile beats both */
    install_ok(&s, mk(1, 3, 0, "TxProfile", "Absolute", "", ABS_W(12000)), &TX7);
    assert_true(chprof_tx_limit_w(&s, 1, &TX7, T0, NULL) == 12000);
    /* the connector's limit is the lowest of the tx limit, the charge point's and its own */
    install_ok(&s, mk(0, 4, 0, "ChargePointMaxProfile", "Absolute", "", ABS_W(11000)), NULL);
    assert_true(chprof_cp_limit_w(&s, NULL, T0, NULL) == 11000);
    assert_true(chprof_limit_w(&s, 1, &TX7, T0, NULL) == 11000);
    struct chp_ctx small = TX7;
    small.max_w = 7400;
    assert_true(chprof_limit_w(&s, 1, &small, T0, NULL) == 7400);
    assert_true(chprof_limit_w(&s, 2, &small, T0, NULL) == 7000);
    /* with no profile at all: max_w, or no limit */
    struct chprof_set none = {0};
    assert_true(chprof_limit_w(&none, 1, &small, T0, NULL) == 7400);
    assert_true(chprof_limit_w(&none, 1, NULL, T0, NULL) < 0);
    chprof_free(&s);
}

static void test_validity(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    int64_t next;
    install_ok(&s,
               mk(1, 1, 0, "TxDefaultProfile", "Absolute",
                  "'validFrom':'2026-01-05T01:00:00Z','validTo':'2026-01-05T02:00:00Z',",
                  "'startSchedule':'2026-01-05T00:00:00Z','chargingRateUnit':'W',"
                  "'chargingSchedulePeriod':[{'startPeriod':0,'limit':6000},"
                  "{'startPeriod':5400,'limit':4000}]"),
               NULL);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + HOUR - 1, &next) < 0);
    assert_int_equal(next, T0 + HOUR);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + HOUR, &next) == 6000);
    assert_int_equal(next, T0 + 90 * MIN);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + 2 * HOUR - 1, &next) == 4000);
    assert_int_equal(next, T0 + 2 * HOUR);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + 2 * HOUR, &next) < 0);
    assert_int_equal(next, INT64_MAX);
    chprof_free(&s);
}

static void test_recurring_daily(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    int64_t next;
    /* 16 A from midnight, 32 A from 06:00, 10 A from 22:00, every day from Monday */
    install_ok(&s,
               mk(0, 1, 0, "TxDefaultProfile", "Recurring", "'recurrencyKind':'Daily',",
                  "'startSchedule':'2026-01-05T00:00:00Z','chargingRateUnit':'A',"
                  "'chargingSchedulePeriod':[{'startPeriod':0,'limit':16},"
                  "{'startPeriod':21600,'limit':32},{'startPeriod':79200,'limit':10}]"),
               NULL);
    /* Thursday 23:59, then Friday 00:01 */
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + 3 * DAY + 23 * HOUR + 59 * MIN, &next) ==
                10 * 230 * 3);
    assert_int_equal(next, T0 + 4 * DAY);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + 4 * DAY + MIN, &next) == 11040);
    assert_int_equal(next, T0 + 4 * DAY + 6 * HOUR);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + 4 * DAY + 6 * HOUR, NULL) == 32 * 690);
    /* not before its first day */
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 - MIN, &next) < 0);
    assert_int_equal(next, T0);
    chprof_free(&s);

    /* with a duration: off between the end of one day's run and the next day */
    install_ok(&s,
               mk(0, 1, 0, "TxDefaultProfile", "Recurring", "'recurrencyKind':'Daily',",
                  "'duration':3600,'startSchedule':'2026-01-05T12:00:00Z',"
                  "'chargingRateUnit':'W','chargingSchedulePeriod':[{'startPeriod':0,"
                  "'limit':2000}]"),
               NULL);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + 2 * DAY + 12 * HOUR + 30 * MIN, &next) == 2000);
    assert_int_equal(next, T0 + 2 * DAY + 13 * HOUR);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + 2 * DAY + 13 * HOUR, &next) < 0);
    assert_int_equal(next, T0 + 3 * DAY + 12 * HOUR);
    chprof_free(&s);
}

static void test_recurring_weekly(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    int64_t next;
    /* 11 kW on weekdays, 22 kW from Saturday 00:00 */
    install_ok(&s,
               mk(0, 0, 1, "ChargePointMaxProfile", "Recurring", "'recurrencyKind':'Weekly',",
                  "'startSchedule':'2026-01-05T00:00:00Z','chargingRateUnit':'W',"
                  "'chargingSchedulePeriod':[{'startPeriod':0,'limit':11000},"
                  "{'startPeriod':432000,'limit':22000}]"),
               NULL);
    /* Sunday 23:59 of the second week, Monday 00:01 of the third */
    assert_true(chprof_cp_limit_w(&s, NULL, T0 + 13 * DAY + 23 * HOUR + 59 * MIN, &next) == 22000);
    assert_int_equal(next, T0 + 14 * DAY);
    assert_true(chprof_cp_limit_w(&s, NULL, T0 + 14 * DAY + MIN, &next) == 11000);
    assert_int_equal(next, T0 + 19 * DAY);
    assert_true(chprof_cp_limit_w(&s, NULL, T0 + 16 * DAY, NULL) == 11000);
    chprof_free(&s);
}

static void test_relative(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    int64_t next;
    install_ok(&s,
               mk(0, 1, 0, "TxDefaultProfile", "Relative", "",
                  "'duration':3600,'chargingRateUnit':'W','chargingSchedulePeriod':["
                  "{'startPeriod':0,'limit':7000},{'startPeriod':600,'limit':3700}]"),
               NULL);
    /* no transaction: it does not apply */
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0, &next) < 0);
    assert_int_equal(next, INT64_MAX);
    struct chp_ctx tx = {.tx_active = true, .tx_id = 1, .tx_start_ms = T0 + 1000 * S};
    assert_true(chprof_tx_limit_w(&s, 1, &tx, T0 + 1000 * S + 5 * MIN, &next) == 7000);
    assert_int_equal(next, tx.tx_start_ms + 600 * S);
    assert_true(chprof_tx_limit_w(&s, 1, &tx, T0 + 1000 * S + 20 * MIN, &next) == 3700);
    assert_int_equal(next, tx.tx_start_ms + HOUR);
    assert_true(chprof_tx_limit_w(&s, 1, &tx, tx.tx_start_ms + HOUR, &next) < 0);
    assert_int_equal(next, INT64_MAX);
    chprof_free(&s);
}

static void test_amps(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    install_ok(&s,
               mk(1, 1, 0, "TxDefaultProfile", "Absolute", "",
                  "'startSchedule':'2026-01-05T00:00:00Z','chargingRateUnit':'A',"
                  "'chargingSchedulePeriod':[{'startPeriod':0,'limit':16},"
                  "{'startPeriod':60,'limit':16,'numberPhases':1}]"),
               NULL);
    /* 16 A x 230 V x 3 phases, then on one phase; a one-phase 240 V charger */
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0, NULL) == 11040);
    assert_true(chprof_tx_limit_w(&s, 1, NULL, T0 + MIN, NULL) == 3680);
    struct chp_ctx uk = {.voltage = 240, .phases = 1};
    assert_true(chprof_tx_limit_w(&s, 1, &uk, T0, NULL) == 3840);
    chprof_free(&s);
}

/* ---- composite schedule -------------------------------------------------------------------- */

static char *composite(const struct chprof_set *s, int conn, const struct chp_ctx *x, int64_t now,
                       int32_t duration, enum chp_unit unit, struct buf *b)
{
    struct jw w;
    buf_reset(b);
    jw_init(&w, b);
    jw_obj(&w);
    chprof_composite_json(s, conn, x, now, duration, unit, &w);
    jw_end(&w);
    return b->s;
}

/* A charge point capped at 22 kW then 11 kW, and a TxDefaultProfile in amperes under it. */
static void composite_profiles(struct chprof_set *s)
{
    install_ok(s,
               mk(0, 1, 0, "ChargePointMaxProfile", "Absolute", "",
                  "'startSchedule':'2026-01-05T10:00:00Z','chargingRateUnit':'W',"
                  "'chargingSchedulePeriod':[{'startPeriod':0,'limit':22000},"
                  "{'startPeriod':1800,'limit':11000}]"),
               NULL);
    install_ok(s,
               mk(0, 2, 0, "TxDefaultProfile", "Absolute", "",
                  "'startSchedule':'2026-01-05T10:00:00Z','chargingRateUnit':'A',"
                  "'chargingSchedulePeriod':[{'startPeriod':0,'limit':16,'numberPhases':3},"
                  "{'startPeriod':600,'limit':10},{'startPeriod':1200,'limit':32},"
                  "{'startPeriod':2400,'limit':48}]"),
               NULL);
}

static void test_composite(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    struct buf b = BUF_INIT;
    const int64_t now = T0 + 10 * HOUR;
    composite_profiles(&s);
    /* the lowest of both at each time; 48 A at 2400 s is above the 11 kW cap, which goes on */
    assert_string_equal(
        composite(&s, 1, NULL, now, 3600, CHU_W, &b),
        "{\"status\":\"Accepted\",\"connectorId\":1,\"scheduleStart\":\"2026-01-05T10:00:00.000Z\","
        "\"chargingSchedule\":{\"duration\":3600,\"startSchedule\":\"2026-01-05T10:00:00.000Z\","
        "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":["
        "{\"startPeriod\":0,\"limit\":11040.0,\"numberPhases\":3},"
        "{\"startPeriod\":600,\"limit\":6900.0},{\"startPeriod\":1200,\"limit\":22000.0},"
        "{\"startPeriod\":1800,\"limit\":11000.0}]}}");
    /* in amperes (3 x 230 V), one decimal */
    assert_non_null(strstr(composite(&s, 1, NULL, now, 3600, CHU_A, &b),
                           "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":["
                           "{\"startPeriod\":0,\"limit\":16.0,\"numberPhases\":3},"
                           "{\"startPeriod\":600,\"limit\":10.0},{\"startPeriod\":1200,"
                           "\"limit\":31.9},{\"startPeriod\":1800,\"limit\":15.9}]"));
    /* connector 0: the charge point's limit under its own maximum */
    struct chp_ctx cp = {.max_w = 15000};
    assert_non_null(strstr(composite(&s, 0, &cp, now, 7200, CHU_W, &b),
                           "\"connectorId\":0,\"scheduleStart\":\"2026-01-05T10:00:00.000Z\","
                           "\"chargingSchedule\":{\"duration\":7200,"));
    assert_non_null(strstr(b.s, "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":"
                                "15000.0},{\"startPeriod\":1800,\"limit\":11000.0}]"));
    /* asked from within a period, and for less than the whole */
    assert_non_null(strstr(composite(&s, 1, NULL, now + 300 * S, 600, CHU_W, &b),
                           "\"duration\":600,\"startSchedule\":\"2026-01-05T10:05:00.000Z\","
                           "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":["
                           "{\"startPeriod\":0,\"limit\":11040.0,\"numberPhases\":3},"
                           "{\"startPeriod\":300,\"limit\":6900.0}]}"));
    /* a change within a second takes effect at the end of that second */
    assert_non_null(strstr(composite(&s, 1, NULL, now + 599500, 10, CHU_W, &b),
                           "[{\"startPeriod\":0,\"limit\":11040.0,\"numberPhases\":3},"
                           "{\"startPeriod\":1,\"limit\":6900.0}]"));
    /* nothing limits at all: Rejected */
    struct chprof_set none = {0};
    assert_string_equal(composite(&none, 1, NULL, now, 60, CHU_W, &b), "{\"status\":\"Rejected\"}");
    assert_string_equal(composite(&s, -1, NULL, now, 60, CHU_W, &b), "{\"status\":\"Rejected\"}");
    /* no profile: the charger's maximum */
    struct chp_ctx max = {.max_w = 7400};
    assert_non_null(strstr(composite(&none, 1, &max, now, 60, CHU_W, &b),
                           "\"duration\":60,\"startSchedule\":\"2026-01-05T10:00:00.000Z\","
                           "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":["
                           "{\"startPeriod\":0,\"limit\":7400.0}]}"));
    buf_free(&b);
    chprof_free(&s);
}

static void test_composite_cap(void **state)
{
    (void)state;
    struct chprof_set s = {0};
    struct buf b = BUF_INIT;
    /* 2 kW by day, 4 kW by night, for 30 days: 60 changes, of which 24 periods are written */
    install_ok(&s,
               mk(0, 1, 0, "TxDefaultProfile", "Recurring", "'recurrencyKind':'Daily',",
                  "'startSchedule':'2026-01-05T00:00:00Z','chargingRateUnit':'W',"
                  "'chargingSchedulePeriod':[{'startPeriod':0,'limit':4000},"
                  "{'startPeriod':43200,'limit':2000}]"),
               NULL);
    composite(&s, 1, NULL, T0, 30 * 86400, CHU_W, &b);
    cJSON *j = cJSON_Parse(b.s);
    assert_non_null(j);
    const cJSON *sched = cJSON_GetObjectItem(j, "chargingSchedule");
    const cJSON *periods = cJSON_GetObjectItem(sched, "chargingSchedulePeriod");
    assert_int_equal(cJSON_GetArraySize(periods), CHPROF_MAX_PERIODS);
    /* the duration says how far the periods reach: 12 days */
    assert_int_equal(cJSON_GetObjectItem(sched, "duration")->valueint, 12 * 86400);
    const cJSON *last = cJSON_GetArrayItem(periods, CHPROF_MAX_PERIODS - 1);
    assert_int_equal(cJSON_GetObjectItem(last, "startPeriod")->valueint, 11 * 86400 + 43200);
    cJSON_Delete(j);
    buf_free(&b);
    chprof_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),     cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_names),           cmocka_unit_test(test_install_rules),
        cmocka_unit_test(test_replace),         cmocka_unit_test(test_clear),
        cmocka_unit_test(test_tx_ended),        cmocka_unit_test(test_stacking),
        cmocka_unit_test(test_precedence),      cmocka_unit_test(test_validity),
        cmocka_unit_test(test_recurring_daily), cmocka_unit_test(test_recurring_weekly),
        cmocka_unit_test(test_relative),        cmocka_unit_test(test_amps),
        cmocka_unit_test(test_composite),       cmocka_unit_test(test_composite_cap),
        cmocka_unit_test(test_json_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
