/* web_cmd.c - POST /api/command: a command sent as swarm-cli sends it (cmdsend.h: checked,
 * routed to the owners, logged in {ns}:cmdlog as web:USER, published), its steps run on the
 * coordinator's Redis connection, answered when every live worker reached has replied on
 * {ns}:reply or the timer fires.
 *
 * A command answered while a Redis command of it is still in flight is unlinked at once and
 * freed by the last of those callbacks (rds runs each exactly once, with NULL when the
 * connection drops or is freed), so no callback ever sees freed memory. */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "cs/cmdsend.h"
#include "cs/ids.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "web_int.h"

struct pending {
    struct web *w;     /* NULL once answered */
    int inflight;      /* Redis commands whose callback has not run yet */
    size_t batch_left; /* replies of the current step still to come */
    struct evhttp_request *req;
    struct event *timer;
    struct cmdsend *s;
    char client[WEB_CLIENT_MAX];
    char by[CMDSEND_BY_MAX];
    struct pending *next;
};

static struct pending *find_id(struct web *w, const char *id)
{
    for (struct pending *p = w->pending; p; p = p->next)
        if (strcmp(cmdsend_cmd(p->s)->id, id) == 0)
            return p;
    return NULL;
}

static size_t from_client(struct web *w, const char *client)
{
    size_t n = 0;
    for (struct pending *p = w->pending; p; p = p->next)
        n += strcmp(p->client, client) == 0;
    return n;
}

static void pending_free_mem(struct pending *p)
{
    cmdsend_free(p->s);
    cs_free(p);
}

/* Answered: off the list and the timer now; the memory when no callback is left to run. */
static void pending_done(struct pending *p)
{
    struct web *w = p->w;
    for (struct pending **pp = &w->pending; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            w->npending--;
            break;
        }
    }
    if (p->timer)
        event_free(p->timer);
    p->timer = NULL;
    p->req = NULL;
    p->w = NULL;
    if (p->inflight == 0)
        pending_free_mem(p);
}

/* [loop] Start of every Redis callback of a command: NULL when it was answered meanwhile (and
 * then frees it if this was the last callback). */
static struct pending *callback_enter(void *privdata)
{
    struct pending *p = privdata;
    p->inflight--;
    if (p->w)
        return p;
    if (p->inflight == 0)
        pending_free_mem(p);
    return NULL;
}

/* Sends the result and forgets the command: swarm-cli --json's fields, then "ok", the
 * one-line summary swarm-cli prints, the error lines, who sent it, the replies. */
static void finish(struct pending *p)
{
    const struct cmd *cmd = cmdsend_cmd(p->s);
    const struct reply_tally *t = cmdsend_tally(p->s);
    long long expect = cmdsend_expected(p->s);
    struct buf b = BUF_INIT, sum = BUF_INIT;
    struct jw j;
    size_t nlines;
    const char *const *lines = cmdsend_error_lines(p->s, &nlines);
    cmdsend_summary(p->s, "cancel", &sum);
    if (cmdsend_published(p->s) && t->replied < expect)
        buf_printf(&sum, " (only %d of %lld worker%s replied within %d ms)", t->replied, expect,
                   cs_plural(expect), WEB_CMD_TIMEOUT_MS);
    jw_init(&j, &b);
    jw_obj(&j);
    cmdsend_result_fields(p->s, cs_mono_ms() - cmdsend_published_ms(p->s), &j);
    jw_kbool(&j, "ok",
             expect > 0 && t->nerr == 0 && t->replied >= expect &&
                 !reply_nothing_matched(t, cmdsend_cmd(p->s)));
    jw_kstr(&j, "summary", buf_cstr(&sum));
    jw_key(&j, "error_lines");
    jw_arr(&j);
    for (size_t i = 0; i < nlines; i++)
        jw_str(&j, lines[i]);
    jw_end(&j);
    jw_kstr(&j, "by", p->by);
    cmdsend_result_replies(p->s, &j);
    jw_end(&j);
    log_info("web command %s (%s) by %s: %s", cmd->id, cmd->def->name, p->by, buf_cstr(&sum));
    web_send_json(p->req, 200, "OK", &b);
    buf_free(&b);
    buf_free(&sum);
    pending_done(p);
}

/* Answers with an error instead of a result and forgets the command. */
static void fail(struct pending *p, int code, const char *reason, const char *msg)
{
    log_warn("web command %s: %s", cmdsend_cmd(p->s)->id, msg);
    web_send_error(p->req, code, reason, msg);
    pending_done(p);
}

static void on_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct pending *p = privdata;
    if (!cmdsend_published(p->s))
        fail(p, 504, "Gateway Timeout",
             "Redis did not answer in time; the command may or may not "
             "have been sent");
    else
        finish(p);
}

static void step(struct pending *p);

static void on_step_reply(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct pending *p = callback_enter(privdata);
    struct cs_error err;
    if (!p)
        return;
    if (cmdsend_feed(p->s, reply, &err) != CS_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "Redis: %s", err.msg);
        fail(p, 503, "Service Unavailable", msg);
        return;
    }
    if (--p->batch_left == 0)
        step(p);
}

/* Sends the next step's Redis commands, or answers when there is nothing left to send and
 * every reply is in. */
static void step(struct pending *p)
{
    const struct cmdsend_req *reqs;
    size_t n = cmdsend_next(p->s, &reqs);
    if (n == 0) {
        if (cmdsend_log_error(p->s))
            log_warn("web command %s: not logged in {ns}:cmdlog (%s): delivery is at most once",
                     cmdsend_cmd(p->s)->id, cmdsend_log_error(p->s));
        if (cmdsend_complete(p->s))
            finish(p);
        return;
    }
    p->batch_left = n;
    for (size_t i = 0; i < n; i++) {
        p->inflight++;
        if (rds_cmdv(p->w->o.r, on_step_reply, p, reqs[i].argc, reqs[i].argv, reqs[i].argl) !=
            CS_OK) {
            p->inflight--;
            fail(p, 503, "Service Unavailable", "Redis is not connected");
            return;
        }
    }
}

/* The line of a parse failure: an unknown first word gets what the box does take. */
static void parse_error(const char *line, const struct cs_error *err, char *msg, size_t n)
{
    size_t off = strspn(line, " \t");
    if (line[off] == '@') {
        off += strcspn(line + off, " \t");
        off += strspn(line + off, " \t");
    }
    size_t wl = strcspn(line + off, " \t");
    char word[48];
    snprintf(word, sizeof(word), "%.*s", (int)(wl < 40 ? wl : 40), line + off);
    if (err->code != CS_ERR_UNKNOWN || !word[0] || cmd_lookup(word) || line[off] == '{') {
        snprintf(msg, n, "%s", err->msg);
        return;
    }
    size_t nverbs;
    const struct cmd_def *t = cmd_table(&nverbs);
    struct buf verbs = BUF_INIT;
    for (size_t i = 0; i < nverbs; i++)
        if (!(t[i].flags & CMD_F_INTERNAL))
            buf_printf(&verbs, "%s%s", verbs.len ? ", " : "", t[i].name);
    snprintf(msg, n,
             "'%s' is not a fleet command: this line takes the verbs %s (what swarm-cli sends "
             "to the workers). swarm-cli's own subcommands (config, scale, catalog...) run in "
             "swarm-cli",
             word, buf_cstr(&verbs));
    buf_free(&verbs);
}

/* POST /api/command  {"line": "trigger CP-000003 Heartbeat"}  (line or JSON command form) */
void web_handle_command(struct web_req *r)
{
    struct web *w = r->l->w;
    struct cs_error err;
    char msg[600];
    int retry = 1;
    cJSON *json = web_json_body(r, "expected {\"line\": \"COMMAND\"}");
    if (!json)
        return;
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(json, "line");
    if (!cJSON_IsString(line) || !line->valuestring[0]) {
        cJSON_Delete(json);
        web_send_error(r->req, 400, "Bad Request", "expected {\"line\": \"COMMAND\"}");
        return;
    }
    struct cmd cmd;
    if (cmd_parse(line->valuestring, strlen(line->valuestring), &cmd, &err) != CS_OK) {
        parse_error(line->valuestring, &err, msg, sizeof(msg));
        cJSON_Delete(json);
        web_send_error(r->req, 400, "Bad Request", msg);
        return;
    }
    cJSON_Delete(json);

    struct pending *p = cs_calloc(1, sizeof(*p));
    struct idfmt idf;
    snprintf(p->by, sizeof(p->by), "web:%s", r->name);
    cs_strlcpy(p->client, r->client, sizeof(p->client));
    struct cmdsend_opts so = {
        .ns = w->ns, .idf = &idf, .by = p->by, .id_prefix = "web", .rng = &w->rng};
    if (idfmt_parse(&idf, w->o.fleet->id_format, &err) == CS_OK)
        p->s = cmdsend_new(&cmd, &so, &err);
    if (!p->s) {
        cmd_free(&cmd);
        cs_free(p);
        web_send_error(r->req, 400, "Bad Request", err.msg);
        return;
    }
    cmd_free(&cmd);
    const struct cmd *c = cmdsend_cmd(p->s);
    const char *refusal = NULL;
    int code = 503;
    if (find_id(w, c->id)) {
        snprintf(msg, sizeof(msg), "command id %s is already waiting for replies", c->id);
        refusal = msg;
        code = 400;
    } else if (w->npending >= WEB_PENDING_MAX) {
        refusal = "too many commands waiting for replies";
    } else if (from_client(w, r->client) >= WEB_PENDING_PER_CLIENT) {
        refusal = "too many of this client's commands waiting for replies";
        code = 429;
    } else if (!rds_is_up(w->o.r) || !rds_is_up(w->sub)) {
        refusal = "Redis is not connected";
    } else if (!rl_take(w->rl, r->client, RL_COMMAND, cs_mono_ms(), &retry)) {
        snprintf(msg, sizeof(msg), "more than %.0f commands at once from this address: wait %d s",
                 rl_def(RL_COMMAND)->burst, retry);
        refusal = msg;
        code = 429;
    }
    if (refusal) {
        pending_free_mem(p);
        if (code == 429)
            web_send_busy(r->req, retry, refusal);
        else
            web_send_error(r->req, code, code == 400 ? "Bad Request" : "Service Unavailable",
                           refusal);
        return;
    }
    p->w = w;
    p->req = r->req;
    p->next = w->pending;
    w->pending = p;
    w->npending++;
    p->timer = evtimer_new(w->base, on_timer, p);
    struct timeval tv = {WEB_CMD_TIMEOUT_MS / 1000, (WEB_CMD_TIMEOUT_MS % 1000) * 1000};
    evtimer_add(p->timer, &tv);
    struct buf text = BUF_INIT;
    cmd_to_line(c, false, &text);
    log_info("web command %s by %s from %s: %s", c->id, p->by, r->client, buf_cstr(&text));
    buf_free(&text);
    step(p);
}

void web_cmd_on_reply(struct web *w, const char *payload, size_t len)
{
    const char *id;
    cJSON *obj = w->pending ? reply_parse(payload, len, &id) : NULL; /* most answer others */
    struct pending *p = obj ? find_id(w, id) : NULL;
    cJSON_Delete(obj);
    if (p && cmdsend_on_reply(p->s, payload, len) && cmdsend_complete(p->s))
        finish(p);
}

size_t web_cmd_stop(struct web *w)
{
    size_t n = 0;
    while (w->pending) {
        fail(w->pending, 503, "Service Unavailable", "the coordinator is stopping");
        n++;
    }
    return n;
}
