/* persist.c - {ns}:state:{id}, from one field table. [loop] */
#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/rds.h"
#include "crt.h"
#include "persist.h"

/* Where a field applies: the charger, every connector (c0 = the charge point), the connectors
 * 1..n, or connectors with an open transaction (removed when it ends). */
enum sf_scope { SF_CHARGER, SF_CONN, SF_OUTLET, SF_TX };

#define SF_TEXT 100

struct state_field {
    const char *name;
    enum sf_scope scope;
    /* Writes the value; false: nothing to write. */
    bool (*save)(const struct charger_rt *ch, int conn, char *out);
    /* Reads it back. */
    void (*load)(struct charger_rt *ch, int conn, const char *text);
    /* Read back for every possible connector, beyond today's count: an energy register is kept
     * for when its connector comes back. */
    bool keep_beyond;
};

static struct connector *K(struct charger_rt *ch, int conn)
{
    return &ch->m.conn[conn];
}

static const struct connector *KC(const struct charger_rt *ch, int conn)
{
    return &ch->m.conn[conn];
}

#define SAVE(fn, ...)                                                                              \
    static bool fn(const struct charger_rt *ch, int conn, char *out)                               \
    {                                                                                              \
        (void)ch;                                                                                  \
        (void)conn;                                                                                \
        snprintf(out, SF_TEXT, __VA_ARGS__);                                                       \
        return true;                                                                               \
    }

SAVE(save_connected, "%d", ch->link.state == LINK_UP && !ch->releasing)
/* Released: its move is planned (not a crash), and it is on its way out. */
SAVE(save_owner, "%s", ch->releasing ? "" : crt_ctx(ch)->name)
SAVE(save_link, "%s", link_state_name(ch->releasing ? LINK_IDLE : ch->link.state))
SAVE(save_updated, "%lld", (long long)cs_now_ms())
SAVE(save_connectors, "%d", ch->m.nconn)
SAVE(save_energy, "%.0f", charger_energy_wh(&ch->m))
SAVE(save_last_tx, "%d", (int)ch->m.last_local_tx)
SAVE(save_status, "%s", ocpp_status_name(KC(ch, conn)->status))
SAVE(save_error, "%s", ocpp_error_name(KC(ch, conn)->error))
SAVE(save_meter, "%.3f", KC(ch, conn)->meter_wh)
SAVE(save_plugged, "%d", KC(ch, conn)->plugged)
SAVE(save_tx_id, "%d", (int)KC(ch, conn)->tx.id)
SAVE(save_tx_tag, "%s", KC(ch, conn)->tx.id_tag)
SAVE(save_tx_meter, "%.3f", KC(ch, conn)->tx.meter_start_wh)
SAVE(save_tx_start, "%lld", (long long)KC(ch, conn)->tx.start_ms)
SAVE(save_tx_kw, "%.3f", KC(ch, conn)->tx.kw)
SAVE(save_tx_seq, "%u", (unsigned)KC(ch, conn)->tx.seq)
#undef SAVE

static void load_owner(struct charger_rt *ch, int conn, const char *t)
{
    (void)conn;
    /* A charger released on purpose leaves owner empty; otherwise its worker died with it. */
    ch->s.crashed = *t != '\0';
}

static void load_last_tx(struct charger_rt *ch, int conn, const char *t)
{
    (void)conn;
    int64_t v;
    if (cs_parse_i64(t, INT32_MIN, 0, &v))
        ch->m.last_local_tx = (int32_t)v;
}

static void load_status(struct charger_rt *ch, int conn, const char *t)
{
    enum ocpp_status s;
    /* Reservations stay with the worker that held them (reserve.h): no Reserved without one. */
    if (ocpp_status_parse(t, &s))
        K(ch, conn)->status = s == ST_RESERVED ? ST_AVAILABLE : s;
}

static void load_error(struct charger_rt *ch, int conn, const char *t)
{
    enum ocpp_error e;
    if (ocpp_error_parse(t, &e))
        K(ch, conn)->error = e;
}

static void load_meter(struct charger_rt *ch, int conn, const char *t)
{
    double d;
    if (cs_parse_double(t, 0, 1e15, &d))
        K(ch, conn)->meter_wh = d;
}

static void load_plugged(struct charger_rt *ch, int conn, const char *t)
{
    K(ch, conn)->plugged = strcmp(t, "1") == 0;
}

/* The transaction is open when its id reads back; its other fields follow it in the table. */
static void load_tx_id(struct charger_rt *ch, int conn, const char *t)
{
    int64_t v;
    if (!cs_parse_i64(t, INT32_MIN, INT32_MAX, &v))
        return;
    K(ch, conn)->tx_active = true;
    K(ch, conn)->tx.id = (int32_t)v;
    K(ch, conn)->tx.confirmed = v > 0;
}

static void load_tx_tag(struct charger_rt *ch, int conn, const char *t)
{
    if (K(ch, conn)->tx_active)
        cs_strlcpy(K(ch, conn)->tx.id_tag, t, sizeof(K(ch, conn)->tx.id_tag));
}

static void load_tx_meter(struct charger_rt *ch, int conn, const char *t)
{
    double d;
    if (K(ch, conn)->tx_active && cs_parse_double(t, 0, 1e15, &d))
        K(ch, conn)->tx.meter_start_wh = d;
}

static void load_tx_start(struct charger_rt *ch, int conn, const char *t)
{
    int64_t v;
    if (K(ch, conn)->tx_active && cs_parse_i64(t, 0, INT64_MAX / 2, &v))
        K(ch, conn)->tx.start_ms = v;
}

static void load_tx_kw(struct charger_rt *ch, int conn, const char *t)
{
    double d;
    if (K(ch, conn)->tx_active && cs_parse_double(t, 0, 1e6, &d))
        K(ch, conn)->tx.kw = d;
}

static void load_tx_seq(struct charger_rt *ch, int conn, const char *t)
{
    int64_t v;
    if (K(ch, conn)->tx_active && cs_parse_i64(t, 0, UINT32_MAX, &v))
        K(ch, conn)->tx.seq = (uint32_t)v;
}

static const struct state_field fields[] = {
    {"connected", SF_CHARGER, save_connected, NULL, false},
    {"owner", SF_CHARGER, save_owner, load_owner, false},
    {"link", SF_CHARGER, save_link, NULL, false},
    {"updated_ms", SF_CHARGER, save_updated, NULL, false},
    {"connectors", SF_CHARGER, save_connectors, NULL, false},
    {"energy_wh", SF_CHARGER, save_energy, NULL, false},
    {"last_local_tx", SF_CHARGER, save_last_tx, load_last_tx, false},
    {"status", SF_CONN, save_status, load_status, false},
    {"error", SF_CONN, save_error, load_error, false},
    {"meter_wh", SF_OUTLET, save_meter, load_meter, true},
    {"plugged", SF_OUTLET, save_plugged, load_plugged, false},
    {"tx_id", SF_TX, save_tx_id, load_tx_id, false},
    {"tx_tag", SF_TX, save_tx_tag, load_tx_tag, false},
    {"tx_meter_start", SF_TX, save_tx_meter, load_tx_meter, false},
    {"tx_start_ms", SF_TX, save_tx_start, load_tx_start, false},
    {"tx_kw", SF_TX, save_tx_kw, load_tx_kw, false},
    {"tx_seq", SF_TX, save_tx_seq, load_tx_seq, false},
};

#define MAXF (ARRAY_SIZE(fields) * (CHARGER_MAX_CONN + 1))

static void field_name(const struct state_field *f, int conn, char *out, size_t n)
{
    if (f->scope == SF_CHARGER)
        snprintf(out, n, "%s", f->name);
    else
        snprintf(out, n, "c%d.%s", conn, f->name);
}

static void save_now(struct charger_rt *ch)
{
    struct agent_ctx *x = crt_ctx(ch);
    char key[CS_KEY_MAX], names[MAXF][40], vals[MAXF][SF_TEXT], gone[MAXF][40];
    const char *argv[2 + 2 * MAXF], *dv[2 + MAXF];
    int argc = 0, dc = 0, nv = 0, ng = 0;

    if (ch->link.state == LINK_LOADING)
        return; /* nothing known yet: never overwrite the saved state with defaults */
    charger_integrate(&ch->m, cs_now_ms());
    argv[argc++] = "HSET";
    argv[argc++] = ctx_key(x, key, K_STATE, ch->m.id);
    dv[dc++] = "HDEL";
    dv[dc++] = key;
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const struct state_field *f = &fields[i];
        int from = f->scope == SF_CHARGER || f->scope == SF_CONN ? 0 : 1;
        int to = f->scope == SF_CHARGER ? 0 : ch->m.nconn;
        for (int c = from; c <= to; c++) {
            if (f->scope == SF_TX && !ch->m.conn[c].tx_active) {
                /* The fields of a transaction that ended go. */
                field_name(f, c, gone[ng], sizeof(gone[ng]));
                dv[dc++] = gone[ng++];
                continue;
            }
            if (!f->save(ch, c, vals[nv]))
                continue;
            field_name(f, c, names[nv], sizeof(names[nv]));
            argv[argc++] = names[nv];
            argv[argc++] = vals[nv++];
        }
    }
    rds_cmdv(x->rc, NULL, NULL, argc, argv, NULL);
    if (dc > 2)
        rds_cmdv(x->rc, NULL, NULL, dc, dv, NULL);
    if (ch->installed_dirty && ch->env->save_installed)
        ch->env->save_installed(ch, key);
    ch->installed_dirty = false;
}

static void on_save(void *privdata)
{
    save_now(privdata);
}

void persist_mark(struct charger_rt *ch)
{
    defer_add(crt_ctx(ch)->defer, &ch->save_item, on_save, ch);
}

void persist_mark_installed(struct charger_rt *ch)
{
    ch->installed_dirty = true;
    persist_mark(ch);
}

void persist_flush(struct charger_rt *ch)
{
    if (!ch->save_item.queued)
        return;
    defer_cancel(crt_ctx(ch)->defer, &ch->save_item);
    save_now(ch);
}

void persist_forget(struct charger_rt *ch)
{
    defer_cancel(crt_ctx(ch)->defer, &ch->save_item);
}

void persist_restore(struct charger_rt *ch, const struct kvlist *st)
{
    char name[40];
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const struct state_field *f = &fields[i];
        if (!f->load)
            continue;
        int from = f->scope == SF_CHARGER || f->scope == SF_CONN ? 0 : 1;
        int to = f->scope == SF_CHARGER ? 0 : f->keep_beyond ? CHARGER_MAX_CONN : ch->m.nconn;
        for (int c = from; c <= to; c++) {
            field_name(f, c, name, sizeof(name));
            const char *v = kv_get(st, name);
            if (v)
                f->load(ch, c, v);
        }
    }
    charger_set_max_kw(&ch->m, crt_cfg(ch)->max_kw, cs_now_ms());
}
