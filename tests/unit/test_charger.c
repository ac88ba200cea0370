/* test_charger.c - the OCPP 1.6 charger model (cs/charger.h): names, the StatusNotification
 * transition table of OCPP 1.6 section 4.9, the connector event table, transactions, energy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
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
    "Available", "Preparing", "Charging",    "SuspendedEV", "SuspendedEVSE",
    "Finishing", "Reserved",  "Unavailable", "Faulted",
};

/* ChargePointErrorCode of OCPP 1.6, in enum order. */
static const char *const errors[] = {
    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure",     "HighTemperature",
    "InternalError",        "LocalListConflict",    "NoError",           "OtherError",
    "OverCurrentFailure",   "OverVoltage",          "PowerMeterFailure", "PowerSwitchFailure",
    "ReaderFailure",        "ResetFailure",         "UnderVoltage",      "WeakSignal",
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
    static const char *const bad[] = {"charging",  "CHARGING", "",       "Charging ",
                                      "Suspended", "Occupied", "Unknown"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum ocpp_status st = ST_FAULTED;
        assert_false(ocpp_status_parse(bad[i], &st));
        assert_int_equal(st, ST_FAULTED); /* untouched */
    }
    assert_string_equal(ocpp_status_name(ST__COUNT), "Unknown");
    assert_string_equal(ocpp_status_name((enum ocpp_status) - 1), "Unknown");
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
    assert_string_equal(ocpp_error_name((enum ocpp_error) - 1), "OtherError");
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
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, &err),
                     CS_OK);
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
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                     CS_OK);
    for (int64_t t = T0; t <= T0 + 30 * MIN_MS; t += 1000)
        charger_integrate(&c, t);
    assert_close(c.conn[1].meter_wh, 11000);

    /* stopping mid-way: 15 minutes at 22 kW, then 15 minutes Available */
    charger_init(&c, 42, "CP-000042", 1, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                     CS_OK);
    assert_int_equal(
        charger_set_status(&c, 1, ST_AVAILABLE, OE_NO_ERROR, 22, false, T0 + 15 * MIN_MS, NULL),
        CS_OK);
    assert_close(c.conn[1].power_w, 0);
    charger_integrate(&c, T0 + 30 * MIN_MS);
    assert_close(c.conn[1].meter_wh, 5500);

    /* a max_kw change applies from that instant: 30 min at 22 kW + 30 min at 11 kW */
    charger_init(&c, 42, "CP-000042", 2, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                     CS_OK);
    charger_set_max_kw(&c, 11, T0 + 30 * MIN_MS);
    assert_close(c.conn[1].power_w, 11000);
    assert_close(c.conn[2].power_w, 0); /* not charging: stays at 0 */
    charger_integrate(&c, T0 + 60 * MIN_MS);
    assert_close(c.conn[1].meter_wh, 16500);

    /* two connectors charging add up */
    charger_init(&c, 42, "CP-000042", 2, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                     CS_OK);
    assert_int_equal(charger_set_status(&c, 2, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                     CS_OK);
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
            charger_set_status(&c, 1, (enum ocpp_status)st, OE_NO_ERROR, 22, false, T0, NULL),
            CS_OK);
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
    assert_string_equal(err.msg, "CP-000042: connector 0 (the charge point) can only be Available, "
                                 "Unavailable or Faulted");
    assert_memory_equal(&c, &before, sizeof(c));
    assert_int_equal(charger_set_status(&c, 0, ST_FAULTED, OE_GROUND_FAILURE, 22, false, T0, &err),
                     CS_OK);
    assert_int_equal(c.conn[0].status, ST_FAULTED);
    assert_int_equal(c.conn[0].error, OE_GROUND_FAILURE);
    assert_true(c.conn[0].power_w == 0.0);
    assert_int_equal(charger_set_status(&c, 0, ST_UNAVAILABLE, OE_NO_ERROR, 22, false, T0, NULL),
                     CS_OK);

    /* connectors outside 0..nconn */
    static const int bad[] = {-1, 3, 8, 9, 1000};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        memcpy(&before, &c, sizeof(c));
        memset(&err, 0, sizeof(err));
        assert_int_equal(charger_set_status(&c, bad[i], ST_FAULTED, OE_OTHER_ERROR, 22, false,
                                            T0 + MIN_MS, &err),
                         CS_ERR_RANGE);
        assert_int_equal(err.code, CS_ERR_RANGE);
        assert_non_null(strstr(err.msg, "does not exist (0..2)"));
        assert_memory_equal(&c, &before, sizeof(c));
        assert_int_equal(
            charger_set_status(&c, bad[i], ST_FAULTED, OE_OTHER_ERROR, 22, false, T0, NULL),
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
                                     (enum ocpp_status)cs_rng_below(&rng, ST__COUNT), OE_NO_ERROR,
                                     1 + (double)cs_rng_below(&rng, 50), false, t, NULL);
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

/* ---- OCPP 1.6 section 4.9: legal status transitions ----------------------------------------- */

/* The StatusNotification transition table of OCPP 1.6 (edition 2, section 4.9), written from the
 * spec: row = from, column = to, in the order Available, Preparing, Charging, SuspendedEV,
 * SuspendedEVSE, Finishing, Reserved, Unavailable, Faulted. 'x' = a transition the spec lists
 * (A2..I8), '.' = an empty cell, '=' = the diagonal (repeating the same status is allowed). */
static const char *const spec_legal[ST__COUNT] = {
    /*                   A P C D E F R U X */
    [ST_AVAILABLE] /*  */ = "=xxxx.xxx",  /* A2-A5, A7-A9; never straight to Finishing */
    [ST_PREPARING] /*  */ = "x=xxxx..x",  /* B1, B3-B6, B9 */
    [ST_CHARGING] /*   */ = "x.=xxx.xx",  /* C1, C4-C6, C8, C9 */
    [ST_SUSPENDED_EV] /**/ = "x.x=xx.xx", /* D1, D3, D5, D6, D8, D9 */
    [ST_SUSPENDED_EVSE] = "x.xx=x.xx",    /* E1, E3, E4, E6, E8, E9 */
    [ST_FINISHING] /*  */ = "xx...=.xx",  /* F1, F2, F8, F9 */
    [ST_RESERVED] /*   */ = "xx....=xx",  /* G1, G2, G8, G9 */
    [ST_UNAVAILABLE] /**/ = "xxxxx..=x",  /* H1-H5, H9 */
    [ST_FAULTED] /*    */ = "xxxxxxxx=",  /* I1-I8 */
};

static bool spec_allows(enum ocpp_status from, enum ocpp_status to)
{
    return spec_legal[from][to] != '.';
}

/* Connector 0 (the charge point) only knows these three. */
static bool cp_status(enum ocpp_status s)
{
    return s == ST_AVAILABLE || s == ST_UNAVAILABLE || s == ST_FAULTED;
}

static void test_legal_matrix(void **state)
{
    (void)state;
    int legal = 0;
    for (int f = 0; f < ST__COUNT; f++) {
        assert_int_equal(strlen(spec_legal[f]), ST__COUNT);
        assert_int_equal(spec_legal[f][f], '=');
        for (int t = 0; t < ST__COUNT; t++) {
            bool want = spec_allows((enum ocpp_status)f, (enum ocpp_status)t);
            bool got = ocpp_transition_legal((enum ocpp_status)f, (enum ocpp_status)t, false);
            if (got != want)
                print_error("%s -> %s: got %d, want %d\n", statuses[f], statuses[t], got, want);
            assert_int_equal(got, want);
            legal += want && f != t;
        }
    }
    assert_int_equal(legal, 53); /* the cells A2..I8 the spec fills */

    /* connector 0: any of Available/Unavailable/Faulted to any of them, nothing else */
    for (int f = 0; f < ST__COUNT; f++) {
        for (int t = 0; t < ST__COUNT; t++) {
            bool got = ocpp_transition_legal((enum ocpp_status)f, (enum ocpp_status)t, true);
            if (!cp_status((enum ocpp_status)t))
                assert_false(got);
            else if (cp_status((enum ocpp_status)f))
                assert_true(got);
        }
    }

    /* out of range, including the row targets that are not statuses */
    static const int bad[] = {-1, ST__COUNT, ST_RESTORE, ST_SAME, 1000};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        for (int s = 0; s < ST__COUNT; s++) {
            for (int cp = 0; cp < 2; cp++) {
                assert_false(
                    ocpp_transition_legal((enum ocpp_status)bad[i], (enum ocpp_status)s, cp));
                assert_false(
                    ocpp_transition_legal((enum ocpp_status)s, (enum ocpp_status)bad[i], cp));
            }
        }
    }
}

/* charger_set_status: strict follows the table for connectors 1..n, non-strict allows every
 * change; connector 0 is limited to its three statuses either way. */
static void test_set_status_strict(void **state)
{
    (void)state;
    for (int conn = 1; conn <= 3; conn++) {
        for (int f = 0; f < ST__COUNT; f++) {
            for (int t = 0; t < ST__COUNT; t++) {
                struct charger c, before;
                struct cs_error err;
                charger_init(&c, 3, "CP-3", 3, T0);
                assert_int_equal(charger_set_status(&c, conn, (enum ocpp_status)f, OE_NO_ERROR, 22,
                                                    false, T0, NULL),
                                 CS_OK);
                memcpy(&before, &c, sizeof(c));
                memset(&err, 0, sizeof(err));
                int rc = charger_set_status(&c, conn, (enum ocpp_status)t, OE_NO_ERROR, 22, true,
                                            T0 + MIN_MS, &err);
                if (spec_allows((enum ocpp_status)f, (enum ocpp_status)t)) {
                    assert_int_equal(rc, CS_OK);
                    assert_int_equal(c.conn[conn].status, t);
                } else {
                    char want[256];
                    snprintf(want, sizeof(want),
                             "CP-3: connector %d cannot go from %s to %s (OCPP 1.6 transition "
                             "table; strict=0 allows it)",
                             conn, statuses[f], statuses[t]);
                    assert_int_equal(rc, CS_ERR_STATE);
                    assert_int_equal(err.code, CS_ERR_STATE);
                    assert_string_equal(err.msg, want);
                    assert_memory_equal(&c, &before, sizeof(c));
                    /* without strict the same change goes through */
                    assert_int_equal(charger_set_status(&c, conn, (enum ocpp_status)t,
                                                        OE_OTHER_ERROR, 22, false, T0 + MIN_MS,
                                                        NULL),
                                     CS_OK);
                    assert_int_equal(c.conn[conn].status, t);
                    assert_int_equal(c.conn[conn].error, OE_OTHER_ERROR);
                }
                /* the other connectors never move */
                for (int k = 0; k <= 3; k++)
                    if (k != conn)
                        assert_int_equal(c.conn[k].status, ST_AVAILABLE);
            }
        }
    }

    /* connector 0, strict or not */
    for (int strict = 0; strict < 2; strict++) {
        for (int f = 0; f < ST__COUNT; f++) {
            if (!cp_status((enum ocpp_status)f))
                continue;
            for (int t = 0; t < ST__COUNT; t++) {
                struct charger c, before;
                charger_init(&c, 3, "CP-3", 1, T0);
                assert_int_equal(charger_set_status(&c, 0, (enum ocpp_status)f, OE_NO_ERROR, 22,
                                                    strict, T0, NULL),
                                 CS_OK);
                memcpy(&before, &c, sizeof(c));
                int rc = charger_set_status(&c, 0, (enum ocpp_status)t, OE_NO_ERROR, 22, strict, T0,
                                            NULL);
                if (cp_status((enum ocpp_status)t)) {
                    assert_int_equal(rc, CS_OK);
                    assert_int_equal(c.conn[0].status, t);
                } else {
                    assert_int_equal(rc, CS_ERR_STATE);
                    assert_memory_equal(&c, &before, sizeof(c));
                }
                assert_true(c.conn[0].power_w == 0.0);
            }
        }
    }
}

/* ---- the connector event table ------------------------------------------------------------- */

static const char *const events[] = {
    "plug",  "unplug", "start",   "stop",      "suspend-ev",  "suspend-evse", "resume",
    "fault", "clear",  "reserve", "unreserve", "inoperative", "operative",
};

static void test_event_names(void **state)
{
    (void)state;
    assert_int_equal(ARRAY_SIZE(events), CE__COUNT);
    for (int e = 0; e < CE__COUNT; e++)
        assert_string_equal(conn_event_name((enum conn_event)e), events[e]);
    assert_string_equal(conn_event_name(CE__COUNT), "?");
    assert_string_equal(conn_event_name((enum conn_event) - 1), "?");
}

#define TX_MASK ((1u << ST_CHARGING) | (1u << ST_SUSPENDED_EV) | (1u << ST_SUSPENDED_EVSE))

static bool in_tx(unsigned s)
{
    return s < ST__COUNT && (TX_MASK & (1u << s));
}

/* The rows are well formed, (from, event) pairs are unique, charger_transition finds them, and
 * every concrete target is a transition OCPP 1.6 allows from every status of the row. */
static void test_event_table(void **state)
{
    (void)state;
    size_t n = 0;
    const struct transition *t = charger_transitions(&n);
    assert_non_null(t);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_not_equal(t[i].from, 0);
        assert_int_equal(t[i].from >> ST__COUNT, 0);
        assert_true((unsigned)t[i].ev < CE__COUNT);
        assert_true((unsigned)t[i].to < ST__COUNT || t[i].to == ST_RESTORE || t[i].to == ST_SAME);
        assert_int_equal(t[i].act & ~(unsigned)(CA_START_TX | CA_STOP_TX), 0);
        /* StartTransaction goes with the start event only */
        assert_int_equal(!!(t[i].act & CA_START_TX), t[i].ev == CE_START);
        for (int f = 0; f < ST__COUNT; f++) {
            if (!(t[i].from & (1u << f)))
                continue;
            if ((unsigned)t[i].to < ST__COUNT) {
                if (!spec_allows((enum ocpp_status)f, t[i].to))
                    print_error("row %zu (%s): %s -> %s is not an OCPP 1.6 transition\n", i,
                                events[t[i].ev], statuses[f], statuses[t[i].to]);
                assert_true(spec_allows((enum ocpp_status)f, t[i].to));
                /* leaving a transaction status sends StopTransaction, nothing else does */
                assert_int_equal(!!(t[i].act & CA_STOP_TX), in_tx((unsigned)f) && !in_tx(t[i].to));
            } else {
                assert_int_equal(t[i].act & CA_STOP_TX, 0);
            }
            /* no other row for the same (from, event) */
            for (size_t j = 0; j < n; j++)
                if (j != i && t[j].ev == t[i].ev && (t[j].from & (1u << f)))
                    fail_msg("rows %zu and %zu both handle (%s, %s)", i, j, statuses[f],
                             events[t[i].ev]);
        }
    }
    /* the lookup agrees with a scan of the table */
    for (int f = 0; f < ST__COUNT; f++) {
        for (int e = 0; e < CE__COUNT; e++) {
            const struct transition *want = NULL;
            for (size_t i = 0; i < n; i++)
                if (t[i].ev == (enum conn_event)e && (t[i].from & (1u << f)))
                    want = &t[i];
            assert_ptr_equal(charger_transition((enum ocpp_status)f, (enum conn_event)e), want);
        }
        assert_null(charger_transition((enum ocpp_status)f, CE__COUNT));
    }
    assert_null(charger_transition(ST__COUNT, CE_PLUG));
}

/* What each event does in each status: the target letter per event, in the order plug, unplug,
 * start, stop, suspend-ev, suspend-evse, resume, fault, clear, reserve, unreserve, inoperative,
 * operative. A P C V E F R U X = the statuses, '=' = status unchanged (only the cable flag
 * moves), '*' = restored from cable/transaction/availability, '.' = refused. */
static const char *const event_outcome[ST__COUNT] = {
    /*                    pl up st sp sv se re fa cl rs ur in op */
    [ST_AVAILABLE] = /* */ "P......X.R.U.", [ST_PREPARING] = /* */ ".AC....X.....",
    [ST_CHARGING] = /*  */ ".A.FVE.X.....", [ST_SUSPENDED_EV] = ".A.F.ECX.....",
    [ST_SUSPENDED_EVSE] = ".A.FV.CX.....",  [ST_FINISHING] = /* */ ".A.....X...U.",
    [ST_RESERVED] = /*  */ "P......X..AU.", [ST_UNAVAILABLE] = "==.....X....*",
    [ST_FAULTED] = /*   */ "==......*....",
};

static unsigned letter_status(char l)
{
    static const char letters[] = "APCVEFRUX";
    const char *p = strchr(letters, l);
    assert_non_null(p);
    return (unsigned)(p - letters);
}

/* The status ST_RESTORE leads to for a connector's flags (after the event's own flag change). */
static enum ocpp_status restored(const struct connector *k)
{
    if (k->inoperative)
        return ST_UNAVAILABLE;
    if (k->tx_active)
        return ST_CHARGING;
    return k->plugged ? ST_PREPARING : ST_AVAILABLE;
}

/* Every (status, event) pair on connectors 1..n, with every combination of the connector's
 * flags: either the row applies or CS_ERR_STATE leaves the whole charger untouched. */
static void test_events_exhaustive(void **state)
{
    (void)state;
    for (int conn = 1; conn <= 2; conn++) {
        for (int f = 0; f < ST__COUNT; f++) {
            assert_int_equal(strlen(event_outcome[f]), CE__COUNT);
            for (int e = 0; e < CE__COUNT; e++) {
                for (unsigned flags = 0; flags < 8; flags++) {
                    struct charger c, before;
                    struct cs_error err;
                    const struct transition *row = (const void *)&c;
                    charger_init(&c, 9, "CP-9", 2, T0);
                    struct connector *k = &c.conn[conn];
                    k->status = (enum ocpp_status)f;
                    k->plugged = flags & 1;
                    k->inoperative = flags & 2;
                    k->tx_active = flags & 4;
                    k->meter_wh = 100;
                    memcpy(&before, &c, sizeof(c));
                    memset(&err, 0, sizeof(err));
                    int rc =
                        charger_event(&c, conn, (enum conn_event)e, 22, T0 + MIN_MS, &row, &err);
                    char l = event_outcome[f][e];
                    if (l == '.') {
                        char want[160];
                        snprintf(want, sizeof(want), "CP-9: connector %d is %s: cannot %s", conn,
                                 statuses[f], events[e]);
                        assert_int_equal(rc, CS_ERR_STATE);
                        assert_int_equal(err.code, CS_ERR_STATE);
                        assert_string_equal(err.msg, want);
                        assert_ptr_equal(row, (const void *)&c); /* not written */
                        assert_memory_equal(&c, &before, sizeof(c));
                        assert_null(charger_transition((enum ocpp_status)f, (enum conn_event)e));
                        continue;
                    }
                    if (rc)
                        print_error("%s + %s: %s\n", statuses[f], events[e], err.msg);
                    assert_int_equal(rc, CS_OK);
                    assert_ptr_equal(row,
                                     charger_transition((enum ocpp_status)f, (enum conn_event)e));
                    /* the flags each event moves, and only those */
                    assert_int_equal(k->plugged, e == CE_PLUG     ? true
                                                 : e == CE_UNPLUG ? false
                                                                  : (bool)(flags & 1));
                    assert_int_equal(k->inoperative, e == CE_INOPERATIVE ? true
                                                     : e == CE_OPERATIVE ? false
                                                                         : (bool)(flags & 2));
                    assert_int_equal(k->tx_active, (bool)(flags & 4)); /* the runtime ends it */
                    unsigned want = l == '='   ? (unsigned)f
                                    : l == '*' ? (unsigned)restored(k)
                                               : letter_status(l);
                    assert_int_equal(k->status, want);
                    assert_int_equal(row->to, l == '=' ? ST_SAME : l == '*' ? ST_RESTORE : want);
                    assert_true(ocpp_transition_legal((enum ocpp_status)f, k->status, false));
                    assert_true(spec_allows((enum ocpp_status)f, k->status));
                    /* power follows the new status; the register was brought up to now */
                    assert_close(k->power_w, k->status == ST_CHARGING ? 22000 : 0);
                    assert_int_equal(c.integrated_ms, T0 + MIN_MS);
                    assert_close(k->meter_wh, 100);
                    /* the other connector is untouched */
                    assert_memory_equal(&c.conn[3 - conn], &before.conn[3 - conn],
                                        sizeof(struct connector));
                }
            }
        }
    }

    /* connectors outside 1..n; connector 0 takes no events */
    static const int bad[] = {0, -1, 3, CHARGER_MAX_CONN + 1};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct charger c, before;
        struct cs_error err;
        charger_init(&c, 9, "CP-9", 2, T0);
        memcpy(&before, &c, sizeof(c));
        assert_int_equal(charger_event(&c, bad[i], CE_PLUG, 22, T0, NULL, &err), CS_ERR_RANGE);
        assert_non_null(strstr(err.msg, "does not exist (1..2)"));
        assert_memory_equal(&c, &before, sizeof(c));
    }
    /* row may be NULL */
    struct charger c;
    charger_init(&c, 9, "CP-9", 1, T0);
    assert_int_equal(charger_event(&c, 1, CE_PLUG, 22, T0, NULL, NULL), CS_OK);
    assert_int_equal(c.conn[1].status, ST_PREPARING);
}

/* Fault and clear keep a specific error code; restore follows cable, transaction and
 * availability. */
static void test_restore(void **state)
{
    (void)state;
    static const struct {
        bool plugged, inoperative, tx;
        enum ocpp_status after_clear, after_operative;
    } cases[] = {
        {false, false, false, ST_AVAILABLE, ST_AVAILABLE},
        {true, false, false, ST_PREPARING, ST_PREPARING},
        {false, true, false, ST_UNAVAILABLE, ST_AVAILABLE},
        {true, true, false, ST_UNAVAILABLE, ST_PREPARING},
        {true, false, true, ST_CHARGING, ST_CHARGING},
        {true, true, true, ST_UNAVAILABLE, ST_CHARGING},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        for (int e = 0; e < 2; e++) {
            struct charger c;
            charger_init(&c, 1, "CP-1", 1, T0);
            struct connector *k = &c.conn[1];
            k->status = e == 0 ? ST_FAULTED : ST_UNAVAILABLE;
            k->error = e == 0 ? OE_GROUND_FAILURE : OE_NO_ERROR;
            k->plugged = cases[i].plugged;
            k->inoperative = cases[i].inoperative;
            k->tx_active = cases[i].tx;
            k->tx.kw = 7;
            assert_int_equal(
                charger_event(&c, 1, e == 0 ? CE_CLEAR : CE_OPERATIVE, 22, T0, NULL, NULL), CS_OK);
            print_message("  case %zu %s -> %s\n", i, e == 0 ? "clear" : "operative",
                          statuses[k->status]);
            assert_int_equal(k->status, e == 0 ? cases[i].after_clear : cases[i].after_operative);
            assert_int_equal(k->error, OE_NO_ERROR);
            assert_int_equal(k->inoperative, e == 0 ? cases[i].inoperative : false);
            assert_close(k->power_w, k->status == ST_CHARGING ? 7000 : 0);
        }
    }

    /* a fault without a code becomes OtherError; a specific code stays */
    struct charger c;
    charger_init(&c, 1, "CP-1", 1, T0);
    assert_int_equal(charger_event(&c, 1, CE_FAULT, 22, T0, NULL, NULL), CS_OK);
    assert_int_equal(c.conn[1].error, OE_OTHER_ERROR);
    assert_int_equal(charger_event(&c, 1, CE_CLEAR, 22, T0, NULL, NULL), CS_OK);
    assert_int_equal(c.conn[1].error, OE_NO_ERROR);
    assert_int_equal(c.conn[1].status, ST_AVAILABLE);
    c.conn[1].error = OE_HIGH_TEMPERATURE;
    assert_int_equal(charger_event(&c, 1, CE_FAULT, 22, T0, NULL, NULL), CS_OK);
    assert_int_equal(c.conn[1].error, OE_HIGH_TEMPERATURE);
    assert_int_equal(c.conn[1].status, ST_FAULTED);
}

/* A whole session through the event table: plug, start, pauses, stop, unplug. */
static void test_session_story(void **state)
{
    (void)state;
    static const struct {
        enum conn_event ev;
        int64_t at_min;
        enum ocpp_status st;
        unsigned act;
        bool plugged;
        double power_w;
        double meter_wh; /* after the event */
    } steps[] = {
        {CE_RESERVE, 0, ST_RESERVED, 0, false, 0, 0},
        {CE_PLUG, 1, ST_PREPARING, 0, true, 0, 0},
        {CE_START, 2, ST_CHARGING, CA_START_TX, true, 11000, 0},
        {CE_SUSPEND_EVSE, 32, ST_SUSPENDED_EVSE, 0, true, 0, 5500},
        {CE_SUSPEND_EV, 40, ST_SUSPENDED_EV, 0, true, 0, 5500},
        {CE_RESUME, 50, ST_CHARGING, 0, true, 11000, 5500},
        {CE_SUSPEND_EV, 56, ST_SUSPENDED_EV, 0, true, 0, 6600},
        {CE_SUSPEND_EVSE, 57, ST_SUSPENDED_EVSE, 0, true, 0, 6600},
        {CE_RESUME, 58, ST_CHARGING, 0, true, 11000, 6600},
        {CE_STOP, 88, ST_FINISHING, CA_STOP_TX, true, 0, 12100},
        {CE_UNPLUG, 90, ST_AVAILABLE, 0, false, 0, 12100},
        {CE_INOPERATIVE, 91, ST_UNAVAILABLE, 0, false, 0, 12100},
        {CE_PLUG, 92, ST_UNAVAILABLE, 0, true, 0, 12100},
        {CE_OPERATIVE, 93, ST_PREPARING, 0, true, 0, 12100},
        {CE_FAULT, 94, ST_FAULTED, 0, true, 0, 12100},
        {CE_UNPLUG, 95, ST_FAULTED, 0, false, 0, 12100},
        {CE_CLEAR, 96, ST_AVAILABLE, 0, false, 0, 12100},
    };
    struct charger c;
    charger_init(&c, 5, "CP-5", 1, T0);
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        const struct transition *row = NULL;
        struct cs_error err;
        if (steps[i].ev == CE_START)
            charger_tx_begin(&c, 1, "TAG", 11, 0, 0, 50, T0 + steps[i].at_min * MIN_MS);
        int rc = charger_event(&c, 1, steps[i].ev, 22, T0 + steps[i].at_min * MIN_MS, &row, &err);
        if (rc)
            print_error("step %zu: %s\n", i, err.msg);
        assert_int_equal(rc, CS_OK);
        if (steps[i].act & CA_STOP_TX)
            charger_tx_end(&c, 1, T0 + steps[i].at_min * MIN_MS);
        print_message("  step %zu: %s -> %s\n", i, events[steps[i].ev], statuses[c.conn[1].status]);
        assert_int_equal(c.conn[1].status, steps[i].st);
        assert_int_equal(row->act, steps[i].act);
        assert_int_equal(c.conn[1].plugged, steps[i].plugged);
        assert_close(c.conn[1].power_w, steps[i].power_w);
        assert_close(c.conn[1].meter_wh, steps[i].meter_wh);
    }
}

/* ---- transactions -------------------------------------------------------------------------- */

static void test_tx(void **state)
{
    (void)state;
    struct charger c;
    charger_init(&c, 4, "CP-4", 3, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                     CS_OK);

    /* meter start is the register at that instant; local ids count down from -1 */
    charger_tx_begin(&c, 1, "TAG-1", 22, 5000, T0 + 60 * MIN_MS, 20, T0 + 30 * MIN_MS);
    const struct tx *t = &c.conn[1].tx;
    assert_true(c.conn[1].tx_active);
    assert_int_equal(t->id, -1);
    assert_false(t->confirmed);
    assert_string_equal(t->id_tag, "TAG-1");
    assert_close(t->meter_start_wh, 11000);
    assert_int_equal(t->start_ms, T0 + 30 * MIN_MS);
    assert_close(t->kw, 22);
    assert_close(t->target_wh, 5000);
    assert_int_equal(t->end_ms, T0 + 60 * MIN_MS);
    assert_close(t->soc_start, 20);

    /* an idTag longer than OCPP's 20 characters is cut */
    charger_tx_begin(&c, 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 11, 0, 0, 0, T0 + 30 * MIN_MS);
    assert_int_equal(c.conn[2].tx.id, -2);
    assert_string_equal(c.conn[2].tx.id_tag, "ABCDEFGHIJKLMNOPQRST");
    charger_tx_begin(&c, 3, "", 11, 0, 0, 0, T0 + 30 * MIN_MS);
    assert_int_equal(c.conn[3].tx.id, -3);
    assert_int_equal(c.last_local_tx, -3);

    /* lookups by local id, then by the id the platform confirmed */
    static const struct {
        int32_t id;
        int conn;
    } finds[] = {{-1, 1}, {-2, 2}, {-3, 3}, {0, -1}, {-4, -1}, {1, -1}, {INT32_MIN, -1}};
    for (size_t i = 0; i < ARRAY_SIZE(finds); i++)
        assert_int_equal(charger_tx_find(&c, finds[i].id), finds[i].conn);
    c.conn[2].tx.id = 4711;
    c.conn[2].tx.confirmed = true;
    assert_int_equal(charger_tx_find(&c, 4711), 2);
    assert_int_equal(charger_tx_find(&c, -2), -1);

    /* the end integrates up to that instant and returns the meter stop */
    assert_close(charger_tx_end(&c, 1, T0 + 45 * MIN_MS), 16500);
    assert_false(c.conn[1].tx_active);
    assert_int_equal(c.integrated_ms, T0 + 45 * MIN_MS);
    assert_int_equal(charger_tx_find(&c, -1), -1);
    assert_int_equal(charger_tx_find(&c, 4711), 2);
    assert_close(charger_tx_end(&c, 2, T0 + 45 * MIN_MS), 0);
    assert_int_equal(charger_tx_find(&c, 4711), -1);

    /* a new transaction on the same connector gets the next id */
    charger_tx_begin(&c, 1, "TAG-1", 22, 0, 0, 0, T0 + 50 * MIN_MS);
    assert_int_equal(c.conn[1].tx.id, -4);
    assert_int_equal(charger_tx_find(&c, -4), 1);

    /* local ids stay negative: past -1000000000 they start again at -1 */
    c.last_local_tx = -1000000000;
    charger_tx_begin(&c, 2, "T", 22, 0, 0, 0, T0 + 50 * MIN_MS);
    assert_int_equal(c.conn[2].tx.id, -1000000001);
    charger_tx_begin(&c, 3, "T", 22, 0, 0, 0, T0 + 50 * MIN_MS);
    assert_int_equal(c.conn[3].tx.id, -1);
}

/* The session ends at its energy target or its end time, whichever comes first. */
static void test_session_done(void **state)
{
    (void)state;
    static const struct {
        double target_wh;
        int64_t end_min; /* 0 = no end time */
        int64_t at_min;
        bool done;
    } cases[] = {
        {0, 0, 0, false},       {0, 0, 100000, false}, /* no limits: never */
        {11000, 0, 29, false},  {11000, 0, 30, true},   {11000, 0, 31, true},
        {0, 45, 44, false},     {0, 45, 45, true},      {0, 45, 46, true},
        {11000, 45, 20, false}, {11000, 45, 30, true},  /* energy first */
        {22000, 45, 45, true},  {22000, 45, 44, false}, /* time first */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct charger c;
        charger_init(&c, 1, "CP-1", 2, T0);
        /* the register already holds energy from an earlier session */
        c.conn[1].meter_wh = 3000;
        assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                         CS_OK);
        charger_tx_begin(&c, 1, "T", 22, cases[i].target_wh,
                         cases[i].end_min ? T0 + cases[i].end_min * MIN_MS : 0, 0, T0);
        int64_t now = T0 + cases[i].at_min * MIN_MS;
        charger_integrate(&c, now);
        print_message("  case %zu\n", i);
        assert_int_equal(charger_session_done(&c, 1, now), cases[i].done);
        assert_false(charger_session_done(&c, 2, now)); /* no transaction there */
        charger_tx_end(&c, 1, now);
        assert_false(charger_session_done(&c, 1, now));
    }
}

static void test_soc(void **state)
{
    (void)state;
    static const struct {
        double soc_start, battery_kwh;
        int64_t minutes; /* at 22 kW */
        double soc;
    } cases[] = {
        {20, 60, 0, 20},   {20, 60, 30, 20 + 11000.0 / 600}, /* 11 kWh into 60 kWh: +18.33 % */
        {20, 44, 60, 70},                                    /* 22 kWh into 44 kWh: +50 % */
        {90, 60, 60, 100},                                   /* capped */
        {20, 0, 60, 20},                                     /* no battery size: stays */
        {20, -1, 60, 20},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct charger c;
        charger_init(&c, 1, "CP-1", 1, T0);
        c.conn[1].meter_wh = 500;
        assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                         CS_OK);
        charger_tx_begin(&c, 1, "T", 22, 0, 0, cases[i].soc_start, T0);
        charger_integrate(&c, T0 + cases[i].minutes * MIN_MS);
        assert_close(charger_soc(&c, 1, cases[i].battery_kwh), cases[i].soc);
        /* after the transaction: the start value */
        charger_tx_end(&c, 1, T0 + cases[i].minutes * MIN_MS);
        assert_close(charger_soc(&c, 1, cases[i].battery_kwh), cases[i].soc_start);
    }
}

/* time_scale compresses time: the register grows time_scale times faster. */
static void test_time_scale(void **state)
{
    (void)state;
    static const struct {
        double scale;
        int64_t ms;
        double wh; /* at 22 kW */
    } cases[] = {
        {1, 60 * MIN_MS, 22000},        {60, MIN_MS, 22000},
        {60, 30 * MIN_MS, 660000},      {0.5, 60 * MIN_MS, 11000},
        {10000, 1000, 61111.111111111}, {3600, 1000, 22000},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct charger c;
        charger_init(&c, 1, "CP-1", 1, T0);
        assert_close(c.time_scale, 1);
        c.time_scale = cases[i].scale;
        assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, false, T0, NULL),
                         CS_OK);
        charger_integrate(&c, T0 + cases[i].ms);
        if (fabs(c.conn[1].meter_wh - cases[i].wh) > 1e-3)
            print_error("case %zu: %f Wh\n", i, c.conn[1].meter_wh);
        assert_true(fabs(c.conn[1].meter_wh - cases[i].wh) <= 1e-3);
        /* the session's end time is in real milliseconds: unaffected */
        charger_tx_begin(&c, 1, "T", 22, 0, T0 + cases[i].ms + 1, 0, T0 + cases[i].ms);
        assert_false(charger_session_done(&c, 1, T0 + cases[i].ms));
        assert_true(charger_session_done(&c, 1, T0 + cases[i].ms + 1));
    }
}

/* Charging draws the transaction's kW capped by max_kw, or max_kw without one. */
static void test_power(void **state)
{
    (void)state;
    static const struct {
        bool tx;
        double tx_kw, max_kw, new_max_kw;
        double w, w_after; /* power before and after charger_set_max_kw */
    } cases[] = {
        {false, 0, 22, 11, 22000, 11000},  {true, 11, 22, 50, 11000, 11000},
        {true, 50, 22, 100, 22000, 50000}, {true, 0, 22, 7.4, 22000, 7400},
        {true, 11, 22, 3.7, 11000, 3700},  {true, -5, 22, 22, 22000, 22000},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct charger c;
        charger_init(&c, 1, "CP-1", 2, T0);
        if (cases[i].tx)
            charger_tx_begin(&c, 1, "T", cases[i].tx_kw, 0, 0, 0, T0);
        assert_int_equal(
            charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, cases[i].max_kw, true, T0, NULL),
            CS_OK);
        assert_close(c.conn[1].power_w, cases[i].w);
        charger_set_max_kw(&c, cases[i].new_max_kw, T0 + 30 * MIN_MS);
        assert_close(c.conn[1].power_w, cases[i].w_after);
        assert_close(c.conn[1].meter_wh, cases[i].w / 2);
        assert_close(c.conn[2].power_w, 0);
        /* through the event table the same rule holds */
        assert_int_equal(
            charger_event(&c, 1, CE_SUSPEND_EV, cases[i].new_max_kw, T0 + 30 * MIN_MS, NULL, NULL),
            CS_OK);
        assert_close(c.conn[1].power_w, 0);
        assert_int_equal(
            charger_event(&c, 1, CE_RESUME, cases[i].new_max_kw, T0 + 30 * MIN_MS, NULL, NULL),
            CS_OK);
        assert_close(c.conn[1].power_w, cases[i].w_after);
    }
}

static const char *const reasons[] = {
    "EmergencyStop", "EVDisconnected", "HardReset", "Local",         "Other",        "PowerLoss",
    "Reboot",        "Remote",         "SoftReset", "UnlockCommand", "DeAuthorized",
};

/* The smart charging limit: the power follows it while lower than max_kw (and the EV's kW),
 * energy integrates at it; a connector made anew has no limit. */
static void test_cap(void **state)
{
    (void)state;
    struct charger c;
    charger_init(&c, 1, "CP-1", 2, T0);
    assert_close(c.conn[1].cap_w, -1);
    assert_close(charger_offered_w(&c.conn[1], 22), 22000);
    charger_tx_begin(&c, 1, "T", 11, 0, 0, 0, T0);
    assert_int_equal(charger_set_status(&c, 1, ST_CHARGING, OE_NO_ERROR, 22, true, T0, NULL),
                     CS_OK);
    assert_close(c.conn[1].power_w, 11000);
    charger_set_cap(&c, 1, 7000, 22, T0);
    assert_close(c.conn[1].power_w, 7000);
    assert_close(charger_offered_w(&c.conn[1], 22), 7000);
    charger_set_cap(&c, 1, 15000, 22, T0 + 60 * MIN_MS); /* an hour at 7 kW */
    assert_close(c.conn[1].meter_wh, 7000);
    assert_close(c.conn[1].power_w, 11000); /* the EV takes 11 kW */
    charger_set_max_kw(&c, 3.7, T0 + 60 * MIN_MS);
    assert_close(c.conn[1].power_w, 3700);
    charger_set_cap(&c, 1, 0, 3.7, T0 + 60 * MIN_MS);
    assert_close(c.conn[1].power_w, 0);
    charger_set_cap(&c, 9, 1000, 22, T0); /* no such connector: nothing */
    c.conn[2].cap_w = 0;
    c.conn[2].meter_wh = 5;
    charger_conn_reset(&c.conn[2]);
    assert_close(c.conn[2].cap_w, -1);
    assert_close(c.conn[2].meter_wh, 0);
    assert_int_equal(c.conn[2].status, ST_AVAILABLE);
}

static void test_stop_reasons(void **state)
{
    (void)state;
    assert_int_equal(ARRAY_SIZE(reasons), SR__COUNT);
    for (int i = 0; i < SR__COUNT; i++) {
        enum stop_reason r = SR__COUNT;
        assert_string_equal(stop_reason_name((enum stop_reason)i), reasons[i]);
        assert_true(stop_reason_parse(reasons[i], &r));
        assert_int_equal(r, i);
        assert_true(stop_reason_parse(stop_reason_name(r), &r));
        assert_int_equal(r, i);
    }
    static const char *const bad[] = {"", "local", "Deauthorized", "EVDisconnected ", "Unknown"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum stop_reason r = SR_REMOTE;
        assert_false(stop_reason_parse(bad[i], &r));
        assert_int_equal(r, SR_REMOTE);
    }
    assert_string_equal(stop_reason_name(SR__COUNT), "Other");
    assert_string_equal(stop_reason_name((enum stop_reason) - 1), "Other");
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
        cmocka_unit_test(test_legal_matrix),
        cmocka_unit_test(test_set_status_strict),
        cmocka_unit_test(test_event_names),
        cmocka_unit_test(test_event_table),
        cmocka_unit_test(test_events_exhaustive),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_session_story),
        cmocka_unit_test(test_tx),
        cmocka_unit_test(test_session_done),
        cmocka_unit_test(test_soc),
        cmocka_unit_test(test_time_scale),
        cmocka_unit_test(test_power),
        cmocka_unit_test(test_stop_reasons),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
