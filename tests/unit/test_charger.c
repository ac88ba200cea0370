/* test_charger.c - the OCPP 1.6 charger model: names, connectors, energy (cs/charger.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cs/charger.h"
#include "cs/mem.h"
#include "cs/util.h"

#define T0 1767225600000LL
#define MIN_MS 60000LL

static void assert_close(double got, double want)
{
    if (fabs(got - want) > 1e-6)
        print_error("got %.9f, want %.9f\n", got, want);
    assert_true(fabs(got - want) <= 1e-6);
}

/* ---- name tables --------------------------------------------------------------------------- */

/* ChargePointStatus of OCPP 1.6, in enum order. */
static const char *const statuses[] = {
    "Available",     "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE",
    "Finishing",     "Reserved",  "Unavailable", "Faulted",
};

/* ChargePointErrorCode of OCPP 1.6, in enum order. */
static const char *const errors[] = {
    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure",      "HighTemperature",
    "InternalError",        "LocalListConflict",    "NoError",            "OtherError",
    "OverCurrentFailure",   "OverVoltage",          "PowerMeterFailure",  "PowerSwitchFailure",
    "ReaderFailure",        "ResetFailure",         "UnderVoltage",       "WeakSignal",
};

static void test_status_names(void **state)
{
    (void)state;
    assert_int_equal(ARRAY_SIZE(statuses), ST__COUNT);
    assert_int_equal(ST__COUNT, 9);
    for (int i = 0; i < ST__COUNT; i++) {
        enum ocpp_status st = ST__COUNT;
        assert_string_equal(ocpp_status_name((enum ocpp_status)i), statuses[i]);
        assert_true(ocpp_status_parse(statuses[i], &st));
        assert_int_equal(st, i);
    }
    static const char *const bad[] = {"charging", "CHARGING", "", "Charging ", "Suspended",
                                      "Occupied", "Unknown"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum ocpp_status st = ST_FAULTED;
        assert_false(ocpp_status_parse(bad[i], &st));
        assert_int_equal(st, ST_FAULTED); /* untouched */
    }
    assert_string_equal(ocpp_status_name(ST__COUNT), "Unknown");
    assert_string_equal(ocpp_status_name((enum ocpp_status)-1), "Unknown");
}

static void test_error_names(void **state)
{
    (void)state;
    assert_int_equal(ARRAY_SIZE(errors), OE__COUNT);
    assert_int_equal(OE__COUNT, 16);
    for (int i = 0; i < OE__COUNT; i++) {
        enum ocpp_error e = OE__COUNT;
        assert_string_equal(ocpp_error_name((enum ocpp_error)i), errors[i]);
        assert_true(ocpp_error_parse(errors[i], &e));
        assert_int_equal(e, i);
    }
    static const char *const bad[] = {"noerror", "", "NoError ", "Mode3Error", "OtherErrors"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum ocpp_error e = OE_WEAK_SIGNAL;
        assert_false(ocpp_error_parse(bad[i], &e));
        assert_int_equal(e, OE_WEAK_SIGNAL);
    }
    assert_string_equal(ocpp_error_name(OE__COUNT), "OtherError");
    assert_string_equal(ocpp_error_name((enum ocpp_error)-1), "OtherError");
}

/* ---- the model ----------------------------------------------------------------------------- */

static void test_init(void **state)
{
    (void)state;
    static const struct {
        int asked, got;
    } nconn[] = {{1, 1}, {2, 2}, {8, 8}, {0, 1}, {-3, 1}, {9, 8}, {1000, 8}};
    for (size_t i = 0; i < ARRAY_SIZE(nconn); i++) {
        struct charger c;
        memset(&c, 0x55, sizeof(c));
        charger_init(&c, 42, "CP-000042", nconn[i].asked, T0);
        assert_int_equal(c.nconn, nconn[i].got);
        assert_int_equal(c.index, 42);
        assert_string_equal(c.id, "CP-000042");
        assert_int_equal(c.integrated_ms, T0);
        for (int k = 0; k <= CHARGER_MAX_CONN; k++) {
            assert_int_equal(c.conn[k].status, ST_AVAILABLE);
            assert_int_equal(c.conn[k].error, OE_NO_ERROR);
            assert_true(c.conn[k].meter_wh == 0.0);
            assert_true(c.conn[k].power_w == 0.0);
        }
        assert_true(charger_energy_wh(&c) == 0.0);
    }
    /* an over-long ID is cut to CS_ID_MAX */
    char longid[100];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    struct charger c;
    charger_init(&c, 1, longid, 1, 0);
    assert_int_equal(strlen(c.id), CS_ID_MAX);
}

static void test_energy(void **state)
{
    (void)state;
    struct charger c;
    struct cs_error err;

    /* 22 kW for 30 minutes = 11000 Wh */
    charger_init(&c, 42, "CP-000042", 2, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, &err), CS_OK);
    assert_close(c.conn[1].power_w, 22000);
    charger_integrate(&c, T0 + 30 * MIN_MS);
    assert_close(c.conn[1].meter_wh, 11000);
    assert_close(c.conn[2].meter_wh, 0);
    assert_close(charger_energy_wh(&c), 11000);
    assert_int_equal(c.integrated_ms, T0 + 30 * MIN_MS);

    /* integrating the same instant again, or an earlier one, adds nothing */
    charger_integrate(&c, T0 + 30 * MIN_MS);
    charger_integrate(&c, T0);
    assert_close(c.conn[1].meter_wh, 11000);
    assert_int_equal(c.integrated_ms, T0 + 30 * MIN_MS);

    /* in small steps: the same total */
    charger_init(&c, 42, "CP-000042", 1, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL), CS_OK);
    for (int64_t t = T0; t <= T0 + 30 * MIN_MS; t += 1000)
        charger_integrate(&c, t);
    assert_close(c.conn[1].meter_wh, 11000);

    /* stopping mid-way: 15 minutes at 22 kW, then 15 minutes Available */
    charger_init(&c, 42, "CP-000042", 1, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL), CS_OK);
    assert_int_equal(
        charger_set_status(&c, 1, ST_AVAILABLE, OE_NO_ERROR, 22, false, T0 + 15 * MIN_MS, NULL), CS_OK);
    assert_close(c.conn[1].power_w, 0);
    charger_integrate(&c, T0 + 30 * MIN_MS);
    assert_close(c.conn[1].meter_wh, 5500);

    /* a max_kw change applies from that instant: 30 min at 22 kW + 30 min at 11 kW */
    charger_init(&c, 42, "CP-000042", 2, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL), CS_OK);
    charger_set_max_kw(&c, 11, T0 + 30 * MIN_MS);
    assert_close(c.conn[1].power_w, 11000);
    assert_close(c.conn[2].power_w, 0); /* not charging: stays at 0 */
    charger_integrate(&c, T0 + 60 * MIN_MS);
    assert_close(c.conn[1].meter_wh, 16500);

    /* two connectors charging add up */
    charger_init(&c, 42, "CP-000042", 2, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL), CS_OK);
    assert_int_equal(charger_set_status(&c, 2, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL), CS_OK);
    charger_integrate(&c, T0 + 30 * MIN_MS);
    assert_close(charger_energy_wh(&c), 22000);
}

/* Every status but Charging draws nothing. */
static void test_no_energy_unless_charging(void **state)
{
    (void)state;
    for (int st = 0; st < ST__COUNT; st++) {
        struct charger c;
        charger_init(&c, 1, "CP-1", 1, T0);
        assert_int_equal(
            charger_set_status(&c, 1, (enum ocpp_status)st, OE_NO_ERROR, 22, false, T0, NULL), CS_OK);
        charger_integrate(&c, T0 + 60 * MIN_MS);
        charger_set_max_kw(&c, 50, T0 + 61 * MIN_MS);
        charger_integrate(&c, T0 + 120 * MIN_MS);
        if (st == ST_CHARGING) {
            assert_close(c.conn[1].meter_wh, 22000 + 50000.0 * 59 / 60 + 22000.0 / 60);
        } else {
            assert_close(c.conn[1].meter_wh, 0);
            assert_close(c.conn[1].power_w, 0);
        }
    }
}

static void test_connector_errors(void **state)
{
    (void)state;
    struct charger c, before;
    struct cs_error err;
    charger_init(&c, 42, "CP-000042", 2, T0);

    /* connector 0 is the charge point: it can fault, not charge */
    memcpy(&before, &c, sizeof(c));
    assert_int_equal(charger_set_status(&c, 0, ST_CHARGING, OE_NO_ERROR, 22, false, T0, &err),
                     CS_ERR_STATE);
    assert_int_equal(err.code, CS_ERR_STATE);
    assert_string_equal(err.msg, "CP-000042: connector 0 (the charge point) cannot be Charging");
    assert_memory_equal(&c, &before, sizeof(c));
    assert_int_equal(charger_set_status(&c, 0, ST_FAULTED, OE_GROUND_FAILURE, 22, false, T0, &err), CS_OK);
    assert_int_equal(c.conn[0].status, ST_FAULTED);
    assert_int_equal(c.conn[0].error, OE_GROUND_FAILURE);
    assert_true(c.conn[0].power_w == 0.0);
    assert_int_equal(charger_set_status(&c, 0, ST_UNAVAILABLE, OE_NO_ERROR, 22, false, T0, NULL), CS_OK);

    /* connectors outside 0..nconn */
    static const int bad[] = {-1, 3, 8, 9, 1000};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        memcpy(&before, &c, sizeof(c));
        memset(&err, 0, sizeof(err));
        assert_int_equal(
            charger_set_status(&c, bad[i], ST_FAULTED, OE_OTHER_ERROR, 22, false, T0 + MIN_MS, &err),
            CS_ERR_RANGE);
        assert_int_equal(err.code, CS_ERR_RANGE);
        assert_non_null(strstr(err.msg, "does not exist (0..2)"));
        assert_memory_equal(&c, &before, sizeof(c));
        assert_int_equal(charger_set_status(&c, bad[i], ST_FAULTED, OE_OTHER_ERROR, 22, false, T0, NULL),
                         CS_ERR_RANGE);
    }
    assert_int_equal(charger_set_status(&c, 3, ST_FAULTED, OE_OTHER_ERROR, 22, false, T0, &err),
                     CS_ERR_RANGE);
    assert_string_equal(err.msg, "CP-000042: connector 3 does not exist (0..2)");
}

/* Registers never run backwards, whatever happens. */
static void test_monotonic(void **state)
{
    (void)state;
    struct cs_rng rng;
    cs_rng_seed(&rng, 5);
    struct charger c;
    charger_init(&c, 7, "CP-7", 3, T0);
    int64_t t = T0;
    double last[CHARGER_MAX_CONN + 1] = {0};
    for (int step = 0; step < 1000; step++) {
        t += (int64_t)cs_rng_below(&rng, 120000) - 10000; /* sometimes backwards */
        switch (cs_rng_below(&rng, 3)) {
        case 0:
            charger_integrate(&c, t);
            break;
        case 1:
            (void)charger_set_status(&c, (int)cs_rng_below(&rng, 5) - 1,
                                     (enum ocpp_status)cs_rng_below(&rng, ST__COUNT),
                                     OE_NO_ERROR, 1 + (double)cs_rng_below(&rng, 50), false, t, NULL);
            break;
        default:
            charger_set_max_kw(&c, 0.1 + (double)cs_rng_below(&rng, 300), t);
            break;
        }
        for (int k = 0; k <= c.nconn; k++) {
            assert_true(c.conn[k].meter_wh >= last[k]);
            last[k] = c.conn[k].meter_wh;
        }
        assert_true(c.conn[0].meter_wh == 0.0);
        assert_true(c.conn[0].status != ST_CHARGING);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_energy),
        cmocka_unit_test(test_no_energy_unless_charging),
        cmocka_unit_test(test_connector_errors),
        cmocka_unit_test(test_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
