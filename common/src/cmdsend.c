/* cmdsend.c - one command on its way: the steps as a small state machine over Redis requests
 * and replies. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/cmdsend.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/rset.h"
#include "cs/selector.h"

enum step {
    STEP_ROUTE,   /* HGETALL {ns}:assign (selectors of IDs and ranges only) */
    STEP_LOG,     /* XADD {ns}:cmdlog */
    STEP_AGENTS,  /* ZRANGE {ns}:agents */
    STEP_LIVE,    /* EXISTS {ns}:agent:{worker}, one per registered worker */
    STEP_PUBLISH, /* PUBLISH to the owners or to everyone */
    STEP_WAIT,    /* published: replies only */
    STEP_FAILED,
};

#define REQ_ARGS_MAX 16

/* One request: its words, owned. */
struct req {
    int argc;
    char *argv[REQ_ARGS_MAX];
    size_t argl[REQ_ARGS_MAX];
};

struct cmdsend {
    struct cmd cmd;
    char ns[64];
    char by[CMDSEND_BY_MAX];
    struct idfmt idf;
    enum step step;
    bool by_index;    /* the selector is IDs and ranges: route it */
    struct rset want; /* ... their indexes */

    /* the batch handed out and how many of its replies were fed */
    struct req *reqs;
    struct cmdsend_req *views;
    size_t nreqs, fed;

    struct kvlist owners; /* workers whose ranges hold selected chargers */
    struct kvlist agents; /* registered workers (ZRANGE), then the live ones */
    struct kvlist live;
    bool routed;
    struct buf to;
    struct buf payload; /* the JSON published */
    char *log_error;    /* owned; NULL when logged */
    long long expect;
    int64_t published_ms;

    struct reply_tally tally;
    char *errors[CMDSEND_ERRORS_KEPT]; /* owned */
    size_t nerrors;
    cJSON *replies; /* array */
};

/* ---- requests ---------------------------------------------------------------------------- */

static void batch_clear(struct cmdsend *s)
{
    for (size_t i = 0; i < s->nreqs; i++)
        for (int a = 0; a < s->reqs[i].argc; a++)
            cs_free(s->reqs[i].argv[a]);
    cs_free(s->reqs);
    cs_free(s->views);
    s->reqs = NULL;
    s->views = NULL;
    s->nreqs = s->fed = 0;
}

static struct req *batch_add(struct cmdsend *s)
{
    s->reqs = cs_realloc(s->reqs, (s->nreqs + 1) * sizeof(*s->reqs));
    struct req *r = &s->reqs[s->nreqs++];
    memset(r, 0, sizeof(*r));
    return r;
}

static void arg(struct req *r, const char *p, size_t n)
{
    char *copy = cs_malloc(n + 1);
    memcpy(copy, p, n);
    copy[n] = '\0';
    r->argv[r->argc] = copy;
    r->argl[r->argc] = n;
    r->argc++;
}

static void arg_s(struct req *r, const char *p)
{
    arg(r, p, strlen(p));
}

static void arg_key(struct cmdsend *s, struct req *r, enum cs_key k, const char *a)
{
    char key[CS_KEY_MAX];
    arg_s(r, cs_key(key, s->ns, k, a));
}

/* ---- setup ------------------------------------------------------------------------------- */

struct cmdsend *cmdsend_new(struct cmd *cmd, const struct cmdsend_opts *o, struct cs_error *err)
{
    struct sel *sel = NULL;
    if (cmd->def->flags & CMD_F_INTERNAL) {
        cs_error_set(err, CS_ERR_INVAL, "'%s' is sent by the coordinator only", cmd->def->name);
        return NULL;
    }
    if (cmd->select && !(sel = sel_parse(cmd->select, o->idf, err)))
        return NULL;
    struct cmdsend *s = cs_calloc(1, sizeof(*s));
    s->by_index = sel && sel_index_set(sel, &s->want);
    sel_free(sel);
    s->cmd = *cmd;
    memset(cmd, 0, sizeof(*cmd));
    cs_strlcpy(s->ns, o->ns, sizeof(s->ns));
    cs_strlcpy(s->by, o->by ? o->by : "", sizeof(s->by));
    s->idf = *o->idf;
    if (!s->cmd.id[0]) {
        struct cs_rng own, *rng = o->rng;
        if (!rng) {
            cs_rng_seed(&own, cs_seed_entropy());
            rng = &own;
        }
        snprintf(s->cmd.id, sizeof(s->cmd.id), "%.20s-%08llx", o->id_prefix ? o->id_prefix : "cmd",
                 (unsigned long long)(cs_rng_next(rng) & 0xffffffffULL));
    }
    s->cmd.ts_ms = cs_now_ms();
    s->step = s->by_index ? STEP_ROUTE : STEP_LOG;
    s->replies = cJSON_CreateArray();
    return s;
}

void cmdsend_free(struct cmdsend *s)
{
    if (!s)
        return;
    batch_clear(s);
    cmd_free(&s->cmd);
    rset_free(&s->want);
    kv_free(&s->owners);
    kv_free(&s->agents);
    kv_free(&s->live);
    buf_free(&s->to);
    buf_free(&s->payload);
    cs_free(s->log_error);
    for (size_t i = 0; i < s->nerrors; i++)
        cs_free(s->errors[i]);
    cJSON_Delete(s->replies);
    cs_free(s);
}

/* ---- the steps --------------------------------------------------------------------------- */

static void build(struct cmdsend *s)
{
    struct req *r;
    switch (s->step) {
    case STEP_ROUTE:
        r = batch_add(s);
        arg_s(r, "HGETALL");
        arg_key(s, r, K_ASSIGN, NULL);
        break;
    case STEP_LOG: {
        char maxlen[24];
        snprintf(maxlen, sizeof(maxlen), "%d", CMDSEND_LOG_MAX);
        buf_reset(&s->payload);
        cmd_to_json(&s->cmd, &s->payload);
        if (!s->to.len)
            buf_puts(&s->to, "*");
        r = batch_add(s);
        arg_s(r, "XADD");
        arg_key(s, r, K_CMDLOG, NULL);
        arg_s(r, "MAXLEN");
        arg_s(r, "~");
        arg_s(r, maxlen);
        arg_s(r, "*");
        arg_s(r, "id");
        arg_s(r, s->cmd.id);
        arg_s(r, "cmd");
        arg(r, s->payload.s, s->payload.len);
        arg_s(r, "to");
        arg(r, s->to.s, s->to.len);
        arg_s(r, "by");
        arg_s(r, s->by);
        break;
    }
    case STEP_AGENTS:
        r = batch_add(s);
        arg_s(r, "ZRANGE");
        arg_key(s, r, K_AGENTS, NULL);
        arg_s(r, "0");
        arg_s(r, "-1");
        break;
    case STEP_LIVE:
        for (size_t i = 0; i < s->agents.n; i++) {
            r = batch_add(s);
            arg_s(r, "EXISTS");
            arg_key(s, r, K_AGENT, s->agents.v[i].key);
        }
        break;
    case STEP_PUBLISH:
        s->published_ms = cs_mono_ms();
        for (size_t i = 0; s->routed && i < s->owners.n; i++) {
            if (!kv_get(&s->live, s->owners.v[i].key))
                continue;
            r = batch_add(s);
            arg_s(r, "PUBLISH");
            arg_key(s, r, CH_CMD_W, s->owners.v[i].key);
            arg(r, s->payload.s, s->payload.len);
        }
        if (!s->routed) {
            r = batch_add(s);
            arg_s(r, "PUBLISH");
            arg_key(s, r, CH_CMD, NULL);
            arg(r, s->payload.s, s->payload.len);
        }
        break;
    case STEP_WAIT:
    case STEP_FAILED:
        break;
    }
}

size_t cmdsend_next(struct cmdsend *s, const struct cmdsend_req **reqs)
{
    *reqs = NULL;
    if (s->nreqs && s->fed < s->nreqs)
        return 0; /* the batch handed out is not answered yet */
    batch_clear(s);
    for (;;) {
        build(s);
        if (s->nreqs || s->step == STEP_WAIT || s->step == STEP_FAILED)
            break;
        /* A step with nothing to send: no registered workers (LIVE), no live owner (PUBLISH). */
        s->step = s->step == STEP_LIVE ? STEP_PUBLISH : STEP_WAIT;
    }
    s->views = cs_calloc(s->nreqs ? s->nreqs : 1, sizeof(*s->views));
    for (size_t i = 0; i < s->nreqs; i++) {
        s->views[i].argc = s->reqs[i].argc;
        s->views[i].argv = (const char **)s->reqs[i].argv;
        s->views[i].argl = s->reqs[i].argl;
    }
    *reqs = s->views;
    return s->nreqs;
}

static const char *type_name(enum rds_type t)
{
    static const char *const names[] = {
        [RDS_NIL] = "nil",     [RDS_STRING] = "string", [RDS_INT] = "integer",
        [RDS_ARRAY] = "array", [RDS_STATUS] = "status", [RDS_ERROR] = "error",
    };
    return (size_t)t < ARRAY_SIZE(names) && names[t] ? names[t] : "unknown";
}

/* CS_OK when the reply is of type `want`; otherwise the command fails with the reason. */
static int check_type(struct cmdsend *s, const struct rds_reply *reply, enum rds_type want,
                      const char *what, struct cs_error *err)
{
    enum rds_type t = rds_reply_type(reply);
    const char *msg = rds_reply_str(reply, NULL);
    if (reply && t == want)
        return CS_OK;
    s->step = STEP_FAILED;
    if (!reply)
        return cs_error_set(err, CS_ERR_IO, "connection lost");
    if (t == RDS_ERROR)
        return cs_error_set(err, CS_ERR_STATE, "%s", msg && *msg ? msg : "error reply");
    return cs_error_set(err, CS_ERR_PARSE, "unexpected %s reply to %s", type_name(t), what);
}

static void routed_by(struct cmdsend *s, const struct rds_reply *reply)
{
    struct kvlist assign = KVLIST_INIT;
    struct rset have = RSET_INIT, both = RSET_INIT;
    rds_reply_kv(reply, &assign);
    for (size_t i = 0; i < assign.n; i++) {
        if (strcmp(assign.v[i].key, CS_ASSIGN_EPOCH_FIELD) == 0 ||
            rset_parse(&have, assign.v[i].val, NULL) != CS_OK)
            continue;
        rset_intersect(&both, &s->want, &have);
        if (!rset_empty(&both))
            kv_set(&s->owners, assign.v[i].key, "1");
    }
    s->routed = s->owners.n > 0;
    for (size_t i = 0; s->routed && i < s->owners.n; i++)
        buf_printf(&s->to, "%s%s", i ? "," : "", s->owners.v[i].key);
    kv_free(&assign);
    rset_free(&have);
    rset_free(&both);
}

int cmdsend_feed(struct cmdsend *s, const struct rds_reply *reply, struct cs_error *err)
{
    if (s->step == STEP_FAILED || s->fed >= s->nreqs)
        return cs_error_set(err, CS_ERR_STATE, "no command is waiting for a reply");
    size_t i = s->fed++;
    bool last = s->fed == s->nreqs;
    int rc;
    switch (s->step) {
    case STEP_ROUTE:
        if ((rc = check_type(s, reply, RDS_ARRAY, "HGETALL", err)) != CS_OK)
            return rc;
        routed_by(s, reply);
        s->step = STEP_LOG;
        break;
    case STEP_LOG:
        if (!reply)
            return check_type(s, reply, RDS_STRING, "XADD", err);
        if (rds_reply_type(reply) == RDS_STRING) {
            cs_strlcpy(s->cmd.log_id, rds_reply_str(reply, NULL), sizeof(s->cmd.log_id));
            buf_reset(&s->payload);
            cmd_to_json(&s->cmd, &s->payload);
        } else {
            /* Not logged (an ACL without XADD, a full Redis): it still goes out, at most once. */
            const char *why = rds_reply_str(reply, NULL);
            s->log_error = cs_strdup(why && *why ? why : type_name(rds_reply_type(reply)));
        }
        s->step = STEP_AGENTS;
        break;
    case STEP_AGENTS:
        if ((rc = check_type(s, reply, RDS_ARRAY, "ZRANGE", err)) != CS_OK)
            return rc;
        for (size_t k = 0; k < rds_reply_len(reply); k++) {
            const char *name = rds_reply_str(rds_reply_at(reply, k), NULL);
            if (name && *name)
                kv_set(&s->agents, name, "1");
        }
        s->step = STEP_LIVE;
        break;
    case STEP_LIVE:
        if ((rc = check_type(s, reply, RDS_INT, "EXISTS", err)) != CS_OK)
            return rc;
        if (rds_reply_int(reply) == 1 && i < s->agents.n)
            kv_set(&s->live, s->agents.v[i].key, "1");
        if (last)
            s->step = STEP_PUBLISH;
        break;
    case STEP_PUBLISH:
        if ((rc = check_type(s, reply, RDS_INT, "PUBLISH", err)) != CS_OK)
            return rc;
        if (s->routed) {
            s->expect += rds_reply_int(reply) > 0;
        } else {
            long long receivers = rds_reply_int(reply), live = (long long)s->live.n;
            s->expect = live < receivers ? live : receivers;
        }
        if (last)
            s->step = STEP_WAIT;
        break;
    case STEP_WAIT:
    case STEP_FAILED:
        break;
    }
    return CS_OK;
}

/* ---- replies ----------------------------------------------------------------------------- */

static void keep_error(void *ctx, int n, const char *worker, const char *msg)
{
    struct cmdsend *s = ctx;
    (void)n;
    if (s->nerrors >= CMDSEND_ERRORS_KEPT)
        return;
    struct buf line = BUF_INIT;
    buf_printf(&line, "%s: %s", worker, msg);
    s->errors[s->nerrors++] = buf_detach(&line);
}

bool cmdsend_on_reply(struct cmdsend *s, const char *payload, size_t len)
{
    const char *id;
    cJSON *obj = reply_parse(payload, len, &id);
    if (!obj || strcmp(id, s->cmd.id) != 0) {
        cJSON_Delete(obj);
        return false;
    }
    reply_tally_add(&s->tally, obj, keep_error, s);
    if (cJSON_GetArraySize(s->replies) < CMDSEND_REPLIES_KEPT)
        cJSON_AddItemToArray(s->replies, obj);
    else
        cJSON_Delete(obj);
    return true;
}

/* ---- what came of it --------------------------------------------------------------------- */

bool cmdsend_published(const struct cmdsend *s)
{
    return s->step == STEP_WAIT;
}

bool cmdsend_complete(const struct cmdsend *s)
{
    return s->step == STEP_WAIT && s->tally.replied >= s->expect;
}

int64_t cmdsend_published_ms(const struct cmdsend *s)
{
    return s->published_ms;
}

const struct cmd *cmdsend_cmd(const struct cmdsend *s)
{
    return &s->cmd;
}

bool cmdsend_routed(const struct cmdsend *s)
{
    return s->routed;
}

const char *cmdsend_to(const struct cmdsend *s)
{
    return s->to.len ? buf_cstr(&s->to) : "*";
}

long long cmdsend_expected(const struct cmdsend *s)
{
    return s->expect;
}

const struct reply_tally *cmdsend_tally(const struct cmdsend *s)
{
    return &s->tally;
}

const char *cmdsend_log_error(const struct cmdsend *s)
{
    return s->log_error;
}

const cJSON *cmdsend_replies(const struct cmdsend *s)
{
    return s->replies;
}

const char *const *cmdsend_error_lines(const struct cmdsend *s, size_t *n)
{
    *n = s->nerrors;
    return (const char *const *)s->errors;
}

void cmdsend_summary(const struct cmdsend *s, const char *cancel, struct buf *out)
{
    char ch[CS_KEY_MAX];
    if (s->expect == 0 && s->routed)
        buf_printf(out, "%s: no live worker holds the selected chargers", s->cmd.def->name);
    else if (s->expect == 0)
        buf_printf(out, "%s: no live workers are listening on %s", s->cmd.def->name,
                   cs_key(ch, s->ns, CH_CMD, NULL));
    else
        reply_summary(&s->tally, &s->cmd, cancel, out);
}

void cmdsend_result_fields(const struct cmdsend *s, int64_t ms, struct jw *j)
{
    jw_kstr(j, "id", s->cmd.id);
    jw_kstr(j, "cmd", s->cmd.def->name);
    jw_kstr(j, "to", cmdsend_to(s));
    if (s->cmd.log_id[0])
        jw_kstr(j, "log", s->cmd.log_id);
    jw_kint(j, "workers_expected", s->expect);
    jw_kint(j, "workers_replied", s->tally.replied);
    jw_kint(j, "matched", s->tally.matched);
    jw_kint(j, "done", s->tally.done);
    jw_kint(j, "skipped", s->tally.skipped);
    jw_kint(j, "failed", s->tally.failed);
    jw_kint(j, "errors", s->tally.nerr);
    if (s->cmd.def->verb == CMD_PING)
        jw_kint(j, "connected", s->tally.connected);
    jw_kbool(j, "nothing_matched", reply_nothing_matched(&s->tally, &s->cmd));
    jw_kint(j, "ms", ms);
}

void cmdsend_result_replies(const struct cmdsend *s, struct jw *j)
{
    /* Replies are anyone's PUBLISH: written back through the writer, never as they came. */
    jw_key(j, "replies");
    jw_cjson(j, s->replies);
}
