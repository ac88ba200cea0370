/* verbs.c - the operator verbs on this worker's chargers. [loop] */
#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "ccfg.h"
#include "chaos.h"
#include "charger_rt.h"
#include "chargers.h"
#include "cs/cmd.h"
#include "cs/selector.h"
#include "livecfg.h"
#include "result.h"
#include "sched.h"
#include "session.h"
#include "trigger.h"
#include "verbs.h"

#define INFO_MAX 50 /* OCPP's CiString50 (StatusNotification.info) */

typedef void handler_fn(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                        struct result *r);

/* Per-charger action of a selector verb. */
typedef int charger_action_fn(struct charger_rt *ch, const struct cmd *c, void *arg,
                              struct cs_error *err);

static void for_selected(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                         struct result *r, charger_action_fn *fn, void *arg)
{
    for (size_t i = 0; i < chargers_count(v->set); i++) {
        struct charger_rt *ch = chargers_at(v->set, i);
        if (ch->releasing)
            continue;
        struct sel_subject subj = {ch->m.id, ch->m.index, v->x->name, ccfg_value, ch};
        if (!sel_match(s, &subj))
            continue;
        struct cs_error err = {0};
        int rc = fn(ch, c, arg, &err);
        result_charger(r, rc, err.msg);
    }
}

static bool parse_connector(const struct cmd *c, int *out, struct result *r)
{
    const char *v = kv_get(&c->args, "connector");
    int64_t n;
    *out = -1;
    if (!v)
        return true;
    if (!cs_parse_i64(v, 0, CHARGER_MAX_CONN, &n)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%s: connector must be 0..%d", c->def->name, CHARGER_MAX_CONN);
        result_refuse(r, msg);
        return false;
    }
    *out = (int)n;
    return true;
}

/* A numeric argument; false (the command refused) when it is malformed. */
static bool num_arg(const struct cmd *c, const char *key, double lo, double hi, double *out,
                    struct result *r)
{
    const char *v = kv_get(&c->args, key);
    *out = 0;
    if (!v)
        return true;
    if (cs_parse_double(v, lo, hi, out))
        return true;
    char msg[160];
    snprintf(msg, sizeof(msg), "%s: %s must be a number in %g..%g", c->def->name, key, lo, hi);
    result_refuse(r, msg);
    return false;
}

/* info= of status and fault: OCPP's 50 characters at most. */
static bool info_arg(const struct cmd *c, const char **out, struct result *r)
{
    *out = kv_get(&c->args, "info");
    if (!*out || strlen(*out) <= INFO_MAX)
        return true;
    char msg[120];
    snprintf(msg, sizeof(msg), "%s: info is at most %d characters (OCPP)", c->def->name, INFO_MAX);
    result_refuse(r, msg);
    return false;
}

/* ---- trigger ------------------------------------------------------------------------------ */

struct trigger_arg {
    const char *msg;
    int connector;
    struct kvlist over;
};

static int act_trigger(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    (void)c;
    struct trigger_arg *t = arg;
    return trigger_send(ch, t->msg, t->connector, &t->over, err);
}

static void h_trigger(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                      struct result *r)
{
    struct trigger_arg t = {cmd_pos(c, "msg"), -1, KVLIST_INIT};
    if (!catalog_lookup_v(OCPP_V16, t.msg) && !catalog_lookup_v(OCPP_V201, t.msg) &&
        !ctx_catalog_get(v->x, t.msg)) {
        char msg[640];
        snprintf(msg, sizeof(msg),
                 "trigger: unknown message '%.40s' (built-in: %s; OCPP 2.0.1: %s; or a name in "
                 "%s:catalog)",
                 t.msg, catalog_names(), catalog_names_v(OCPP_V201), v->x->ns);
        result_refuse(r, msg);
        return;
    }
    if (!parse_connector(c, &t.connector, r))
        return;
    kv_copy(&t.over, &c->args);
    kv_del(&t.over, "connector");
    for_selected(v, c, s, r, act_trigger, &t);
    kv_free(&t.over);
}

/* ---- status --------------------------------------------------------------------------------- */

struct status_arg {
    enum ocpp_status st;
    enum ocpp_error e;
    int connector;
    const char *info;
};

static int act_status(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    (void)c;
    struct status_arg *a = arg;
    return session_status(ch, a->connector, a->st, a->e, a->info, err);
}

static void h_status(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                     struct result *r)
{
    struct status_arg a = {ST_AVAILABLE, OE_NO_ERROR, -1, NULL};
    char msg[300];
    if (!ocpp_status_parse(cmd_pos(c, "status"), &a.st)) {
        snprintf(msg, sizeof(msg), "status: unknown status '%.40s' (%s)", cmd_pos(c, "status"),
                 ocpp_status_names());
        result_refuse(r, msg);
        return;
    }
    const char *code = kv_get(&c->args, "errorCode");
    a.e = a.st == ST_FAULTED ? OE_OTHER_ERROR : OE_NO_ERROR;
    if (code && !ocpp_error_parse(code, &a.e)) {
        snprintf(msg, sizeof(msg),
                 "status: unknown errorCode '%.40s' (an OCPP ChargePointErrorCode)", code);
        result_refuse(r, msg);
        return;
    }
    if (!parse_connector(c, &a.connector, r) || !info_arg(c, &a.info, r))
        return;
    for_selected(v, c, s, r, act_status, &a);
}

/* ---- the session verbs: one argument block, one action per verb --------------------------- */

struct session_arg {
    int connector;
    char id_tag[21];
    double kw, kwh, minutes, seconds;
    enum stop_reason reason;
    enum ocpp_error code;
    const char *info;
};

static int act_session(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    struct session_arg *a = arg;
    switch (c->def->verb) {
    case CMD_START:
        return session_start(ch, a->connector, a->id_tag[0] ? a->id_tag : NULL, a->kw, a->kwh,
                             a->minutes, false, err);
    case CMD_STOP:
        return session_stop(ch, a->connector, a->reason, err);
    case CMD_PLUG:
        return session_plug(ch, a->connector, err);
    case CMD_UNPLUG:
        return session_unplug(ch, a->connector, err);
    case CMD_FAULT:
        return session_fault(ch, a->connector, a->code, a->info, err);
    case CMD_CLEAR:
        return session_clear(ch, a->connector, err);
    case CMD_REBOOT:
        session_reboot(ch, SR_REBOOT);
        return CS_OK;
    case CMD_OFFLINE:
        return session_offline(ch, (int)a->seconds, err);
    case CMD_ONLINE:
        return session_online(ch, err);
    case CMD_AUTHORIZE:
        return trigger_authorize(ch, a->id_tag[0] ? a->id_tag : NULL, err);
    default:
        return cs_error_set(err, CS_ERR_INVAL, "not a session verb");
    }
}

static void h_session(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                      struct result *r)
{
    struct session_arg a = {.reason = SR_LOCAL, .code = OE_OTHER_ERROR};
    char msg[200];
    const char *val;
    if (!parse_connector(c, &a.connector, r) || !num_arg(c, "kw", 0.1, 1000, &a.kw, r) ||
        !num_arg(c, "kwh", 0.01, 10000, &a.kwh, r) ||
        !num_arg(c, "minutes", 0.01, 100000, &a.minutes, r) ||
        !num_arg(c, "seconds", 1, 86400 * 7, &a.seconds, r) || !info_arg(c, &a.info, r))
        return;
    if ((val = kv_get(&c->args, "id_tag"))) {
        if (strlen(val) > 20 || !*val) {
            snprintf(msg, sizeof(msg), "%s: id_tag must be 1..20 characters (OCPP idTag)",
                     c->def->name);
            result_refuse(r, msg);
            return;
        }
        cs_strlcpy(a.id_tag, val, sizeof(a.id_tag));
    }
    if ((val = kv_get(&c->args, "reason")) && !stop_reason_parse(val, &a.reason)) {
        snprintf(msg, sizeof(msg), "stop: unknown reason '%.40s'", val);
        result_refuse(r, msg);
        return;
    }
    if ((val = kv_get(&c->args, "code")) && !ocpp_error_parse(val, &a.code)) {
        snprintf(msg, sizeof(msg), "fault: unknown code '%.40s' (an OCPP ChargePointErrorCode)",
                 val);
        result_refuse(r, msg);
        return;
    }
    for_selected(v, c, s, r, act_session, &a);
}

/* ---- pause, reload, ping, cancel ------------------------------------------------------------- */

static int act_pause(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    (void)c;
    (void)err;
    crt_pause(ch, *(bool *)arg);
    return CS_OK;
}

static void h_pause(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                    struct result *r)
{
    bool on = c->def->verb == CMD_PAUSE;
    for_selected(v, c, s, r, act_pause, &on);
}

/* The reads a reload started are in: the reply says which keys could not be read. */
static void on_reloaded(void *privdata, const struct kvlist *errors)
{
    struct result_hold *h = privdata;
    for (size_t i = 0; i < errors->n; i++) {
        char msg[300];
        snprintf(msg, sizeof(msg), "reload: %.120s: %.150s", errors->v[i].key, errors->v[i].val);
        result_refuse(&h->r, msg);
    }
    h->finish(h);
}

void verbs_reload(const struct verbs_env *v, const struct cmd *c, struct result *r,
                  uint64_t concerned)
{
    const char *key = cmd_pos(c, "key");
    struct cs_error err;
    if (!livecfg_key_valid(v->cfg, key, &err)) {
        result_refuse(r, err.msg);
        return;
    }
    r->matched = r->done = concerned;
    struct result_hold *h = v->hold(v->hold_privdata, r);
    livecfg_reload(v->cfg, key, c->ts_ms, on_reloaded, h, &err);
}

static void h_reload(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                     struct result *r)
{
    (void)s;
    const char *key = cmd_pos(c, "key");
    uint32_t index;
    /* Counted as the chargers it concerns: all of them, or the one whose hash it names. */
    bool one = key && livecfg_charger_key(v->cfg, key, &index);
    verbs_reload(v, c, r, one ? chargers_find(v->set, index) != NULL : chargers_count(v->set));
}

static void h_ping(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                   struct result *r)
{
    (void)c;
    (void)s;
    struct worker_stats st = *v->x->st;
    chargers_gauges(v->set, &st);
    /* Every charger this worker holds answers for itself; how many are connected is news. */
    r->matched = r->done = chargers_count(v->set);
    result_extra(r, "connected", (int64_t)st.connected);
}

static void h_cancel(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                     struct result *r)
{
    (void)s;
    r->matched = r->done = sched_cancel(v->sched, cmd_pos(c, "cmd_id"));
}

#define SCHEDULES_LISTED 100 /* per worker, in one reply */

static void h_schedules(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                        struct result *r)
{
    (void)c;
    (void)s;
    struct buf list = BUF_INIT;
    sched_list(v->sched, SCHEDULES_LISTED, &list);
    r->matched = r->done = sched_count(v->sched);
    result_extra_json(r, "schedules", list.s, list.len);
    buf_free(&list);
}

/* ---- chaos -------------------------------------------------------------------------------------
 */

struct chaos_arg {
    const char *kind;
    const char *msg;
};

static int act_chaos(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    struct chaos_arg *a = arg;
    switch (c->def->verb) {
    case CMD_GARBLE:
        return chaos_garble(ch, a->kind, a->msg, err);
    case CMD_DUP:
        return chaos_dup_next(ch, err);
    case CMD_STORM:
        return chaos_storm(ch, err);
    default:
        return cs_error_set(err, CS_ERR_INVAL, "not a chaos verb");
    }
}

static void h_chaos(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                    struct result *r)
{
    struct chaos_arg a = {kv_get(&c->args, "kind"), kv_get(&c->args, "msg")};
    if (a.msg && !catalog_name_valid(a.msg)) {
        char msg[120];
        snprintf(msg, sizeof(msg), "garble: msg= must be a message name ([A-Za-z0-9_], 1..%d)",
                 CATALOG_NAME_MAX);
        result_refuse(r, msg);
        return;
    }
    if (a.kind && !chaos_garble_kind_valid(a.kind)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "garble: unknown kind '%.40s' (%s)", a.kind,
                 chaos_garble_kinds());
        result_refuse(r, msg);
        return;
    }
    for_selected(v, c, s, r, act_chaos, &a);
}

/* Dispatch, indexed by verb: the table in cmd.c is the single list of verbs. */
static handler_fn *const handlers[] = {
    [CMD_TRIGGER] = h_trigger, [CMD_START] = h_session,       [CMD_STOP] = h_session,
    [CMD_PLUG] = h_session,    [CMD_UNPLUG] = h_session,      [CMD_FAULT] = h_session,
    [CMD_CLEAR] = h_session,   [CMD_REBOOT] = h_session,      [CMD_OFFLINE] = h_session,
    [CMD_ONLINE] = h_session,  [CMD_STATUS] = h_status,       [CMD_PAUSE] = h_pause,
    [CMD_RESUME] = h_pause,    [CMD_RELOAD] = h_reload,       [CMD_PING] = h_ping,
    [CMD_CANCEL] = h_cancel,   [CMD_SCHEDULES] = h_schedules, [CMD_GARBLE] = h_chaos,
    [CMD_DUP] = h_chaos,       [CMD_STORM] = h_chaos,         [CMD_AUTHORIZE] = h_session,
};
_Static_assert(ARRAY_SIZE(handlers) == CMD__COUNT, "a verb has no handler");

bool verbs_complete(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(handlers); i++)
        if (!handlers[i])
            return false;
    return true;
}

void verbs_run(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
               struct result *r)
{
    handlers[c->def->verb](v, c, s, r);
}
