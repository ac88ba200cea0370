/* web.c - /metrics and the dashboard over libevent's evhttp, on the coordinator's loop.
 *
 * Nothing here waits: GETs render what obs.h holds; POST /api/command keeps the request
 * (evhttp lets a reply be sent later), logs the command in {ns}:cmdlog and publishes it on
 * {ns}:cmd like swarm-cli, and answers when every live worker replied on {ns}:reply or the
 * timer fires. A command answered while its XADD or PUBLISH is still in flight is unlinked at
 * once and freed by the last of those callbacks (rds runs each exactly once, with NULL when the
 * connection drops or is freed), so no callback ever sees freed memory. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cs/cmd.h"
#include "cs/ids.h"
#include "cs/keys.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/opts.h"
#include "cs/reply.h"
#include "cs/selector.h"
#include "cs/util.h"
#include "dashboard_html.h"
#include "metrics.h"
#include "web.h"

#define HISTORY_DEFAULT 120
#define ERROR_LINES_MAX 20
#define REPLIES_KEPT_MAX 256

enum { SERVE_METRICS = 1 << 0, SERVE_DASHBOARD = 1 << 1 };

struct listener {
    struct web *w;
    struct evhttp *http;
    unsigned serves;
};

struct pending {
    struct web *w;      /* NULL once answered */
    int inflight;       /* Redis commands whose callback has not run yet */
    struct evhttp_request *req;
    struct event *timer;
    struct cmd cmd;
    int64_t t0_ms;
    bool published;
    long long expect;
    struct reply_tally n;
    cJSON *replies;     /* array of reply objects */
    cJSON *error_lines; /* array of "worker: message" */
    struct pending *next;
};

struct web {
    struct event_base *base;
    struct web_opts o;
    char ns[CS_NS_MAX + 1];
    char id[128];
    struct listener lis[2];
    size_t nlis;
    struct rds *sub;
    char ch_reply[CS_KEY_MAX], ch_events[CS_KEY_MAX];
    struct pending *pending;
    size_t npending;
    struct cs_rng rng;
};

/* ---- responses ------------------------------------------------------------------------------- */

static void send_body(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                      const void *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (b)
        evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}

static void send_json(struct evhttp_request *req, int code, const char *reason,
                      const struct buf *json)
{
    send_body(req, code, reason, "application/json", json->s ? json->s : "", json->len);
}

/* {"error": msg} with the given status. */
static void send_error(struct evhttp_request *req, int code, const char *reason, const char *msg)
{
    struct buf b = BUF_INIT;
    struct jw j;
    jw_init(&j, &b);
    jw_obj(&j);
    jw_kstr(&j, "error", msg);
    jw_end(&j);
    send_json(req, code, reason, &b);
    buf_free(&b);
}

/* ---- commands -------------------------------------------------------------------------------- */

static struct pending *find_id(struct web *w, const char *id)
{
    for (struct pending *p = w->pending; p; p = p->next)
        if (strcmp(p->cmd.id, id) == 0)
            return p;
    return NULL;
}

static void pending_free_mem(struct pending *p)
{
    cmd_free(&p->cmd);
    cJSON_Delete(p->replies);
    cJSON_Delete(p->error_lines);
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

/* The one-line summary swarm-cli prints for the same replies. */
static void summarise(const struct pending *p, struct buf *s)
{
    char ch[CS_KEY_MAX];
    if (p->expect == 0)
        buf_printf(s, "%s: no live workers are listening on %s", p->cmd.def->name,
                   cs_key(ch, p->w->ns, CH_CMD, NULL));
    else
        reply_summary(&p->n, &p->cmd, "cancel", s);
    if (p->published && p->n.replied < p->expect)
        buf_printf(s, " (only %d of %lld worker%s replied within %d ms)", p->n.replied,
                   p->expect, cs_plural(p->expect), WEB_CMD_TIMEOUT_MS);
}

/* Sends the result and forgets the command. */
static void finish(struct pending *p)
{
    struct buf b = BUF_INIT, sum = BUF_INIT;
    struct jw j;
    summarise(p, &sum);
    jw_init(&j, &b);
    jw_obj(&j);
    jw_kstr(&j, "id", p->cmd.id);
    jw_kstr(&j, "cmd", p->cmd.def->name);
    jw_kstr(&j, "to", "*");
    if (p->cmd.log_id[0])
        jw_kstr(&j, "log", p->cmd.log_id);
    jw_kint(&j, "workers_expected", p->expect);
    jw_kint(&j, "workers_replied", p->n.replied);
    jw_kint(&j, "matched", p->n.matched);
    jw_kint(&j, "done", p->n.done);
    jw_kint(&j, "skipped", p->n.skipped);
    jw_kint(&j, "failed", p->n.failed);
    jw_kint(&j, "errors", p->n.nerr);
    jw_kbool(&j, "nothing_matched", reply_nothing_matched(&p->n, &p->cmd));
    jw_kint(&j, "ms", cs_mono_ms() - p->t0_ms);
    jw_kbool(&j, "ok", p->expect > 0 && p->n.nerr == 0 && p->n.replied >= p->expect &&
                           !reply_nothing_matched(&p->n, &p->cmd));
    jw_kstr(&j, "summary", buf_cstr(&sum));
    /* Replies are anyone's PUBLISH: written back through the writer, never as they came. */
    jw_key(&j, "error_lines");
    jw_cjson(&j, p->error_lines);
    jw_key(&j, "replies");
    jw_cjson(&j, p->replies);
    jw_end(&j);
    log_info("web command %s (%s): %s", p->cmd.id, p->cmd.def->name, buf_cstr(&sum));
    send_json(p->req, 200, "OK", &b);
    buf_free(&b);
    buf_free(&sum);
    pending_done(p);
}

/* Answers with an error instead of a result and forgets the command. */
static void fail(struct pending *p, int code, const char *reason, const char *msg)
{
    log_warn("web command %s: %s", p->cmd.id, msg);
    send_error(p->req, code, reason, msg);
    pending_done(p);
}

static void maybe_finish(struct pending *p)
{
    if (p->published && p->n.replied >= p->expect)
        finish(p);
}

static void on_cmd_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct pending *p = privdata;
    if (!p->published)
        fail(p, 504, "Gateway Timeout", "Redis did not answer in time; the command may or may not "
                                        "have been sent");
    else
        finish(p);
}

static void on_cmd_published(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct pending *p = callback_enter(privdata);
    if (!p)
        return;
    struct web *w = p->w;
    if (!rds_reply_ok(reply) || rds_reply_type(reply) != RDS_INT) {
        fail(p, 503, "Service Unavailable", "PUBLISH failed: Redis connection lost");
        return;
    }
    long long receivers = rds_reply_int(reply), live = (long long)obs_live_workers(w->o.obs);
    p->expect = live < receivers ? live : receivers;
    p->published = true;
    maybe_finish(p);
}

static void publish(struct pending *p)
{
    struct web *w = p->w;
    char ch[CS_KEY_MAX];
    struct buf payload = BUF_INIT;
    cmd_to_json(&p->cmd, &payload);
    p->inflight++;
    if (rds_cmd(w->o.r, on_cmd_published, p, "PUBLISH %s %b", cs_key(ch, w->ns, CH_CMD, NULL),
                payload.s, payload.len) != CS_OK) {
        p->inflight--;
        fail(p, 503, "Service Unavailable", "Redis is not connected");
    }
    buf_free(&payload);
}

/* Sent to {ns}:cmdlog first, as swarm-cli does: a worker that misses the PUBLISH catches up. */
static void on_cmd_logged(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct pending *p = callback_enter(privdata);
    if (!p)
        return;
    if (!reply) {
        fail(p, 503, "Service Unavailable", "Redis connection lost");
        return;
    }
    const char *log_id = rds_reply_type(reply) == RDS_STRING ? rds_reply_str(reply, NULL) : NULL;
    if (log_id)
        cs_strlcpy(p->cmd.log_id, log_id, sizeof(p->cmd.log_id));
    else
        log_warn("web command %s: not logged in {ns}:cmdlog (%s): delivery is at most once",
                 p->cmd.id, rds_reply_str(reply, NULL) ? rds_reply_str(reply, NULL) : "?");
    publish(p);
}

static void error_line(void *ctx, int n, const char *worker, const char *msg)
{
    struct pending *p = ctx;
    if (n > ERROR_LINES_MAX)
        return;
    struct buf line = BUF_INIT;
    buf_printf(&line, "%s: %s", worker, msg);
    cJSON_AddItemToArray(p->error_lines, cJSON_CreateString(buf_cstr(&line)));
    buf_free(&line);
}

static void on_reply(struct web *w, const char *payload, size_t len)
{
    const char *id;
    cJSON *obj = reply_parse(payload, len, &id);
    struct pending *p = obj ? find_id(w, id) : NULL;
    if (!p) {
        cJSON_Delete(obj);
        return;
    }
    reply_tally_add(&p->n, obj, error_line, p);
    if (cJSON_GetArraySize(p->replies) < REPLIES_KEPT_MAX)
        cJSON_AddItemToArray(p->replies, obj);
    else
        cJSON_Delete(obj);
    maybe_finish(p);
}

/* [loop] {ns}:reply and {ns}:events. */
static void on_sub_message(struct rds *r, const char *pattern, const char *channel,
                           const char *payload, size_t len, void *privdata)
{
    (void)r;
    (void)pattern;
    struct web *w = privdata;
    if (strcmp(channel, w->ch_reply) == 0)
        on_reply(w, payload, len);
    else if (strcmp(channel, w->ch_events) == 0)
        obs_event_add(w->o.obs, payload, len);
}

static bool header_is(struct evhttp_request *req, const char *name, const char *prefix)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
    return v && strncasecmp(v, prefix, strlen(prefix)) == 0;
}

/* A browser posting from another site's page sends an Origin that is not ours. */
static bool same_origin(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *origin = evhttp_find_header(h, "Origin"), *host = evhttp_find_header(h, "Host");
    if (!origin)
        return true; /* not a browser, or a same-origin GET-style request */
    if (!host || strncmp(origin, "http://", 7) != 0)
        return false;
    return strcmp(origin + 7, host) == 0;
}

/* POST /api/command  {"line": "trigger CP-000003 Heartbeat"}  (line or JSON command form) */
static void handle_command(struct listener *l, struct evhttp_request *req)
{
    struct web *w = l->w;
    struct cs_error err;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);

    /* JSON only: a cross-site form cannot send it without a CORS preflight we never allow. */
    if (!header_is(req, "Content-Type", "application/json")) {
        send_error(req, 415, "Unsupported Media Type",
                   "send {\"line\": \"COMMAND\"} as application/json");
        return;
    }
    if (!same_origin(req)) {
        send_error(req, 403, "Forbidden", "cross-origin command refused");
        return;
    }
    if (len > WEB_BODY_MAX) {
        send_error(req, 413, "Payload Too Large", "request body over 64 KiB");
        return;
    }
    char *body = cs_malloc(len + 1);
    evbuffer_copyout(in, body, len);
    body[len] = '\0';
    cJSON *json = cJSON_ParseWithLength(body, len);
    cs_free(body);
    const cJSON *line = json ? cJSON_GetObjectItemCaseSensitive(json, "line") : NULL;
    if (!cJSON_IsString(line) || !line->valuestring[0]) {
        cJSON_Delete(json);
        send_error(req, 400, "Bad Request", "expected {\"line\": \"COMMAND\"}");
        return;
    }

    struct pending *p = cs_calloc(1, sizeof(*p));
    p->w = w;
    if (cmd_parse(line->valuestring, strlen(line->valuestring), &p->cmd, &err) != CS_OK) {
        cJSON_Delete(json);
        cs_free(p);
        send_error(req, 400, "Bad Request", err.msg);
        return;
    }
    cJSON_Delete(json);
    const char *refusal = NULL;
    char msg[300];
    if (p->cmd.def->flags & CMD_F_INTERNAL) {
        snprintf(msg, sizeof(msg), "'%s' is sent by the coordinator only", p->cmd.def->name);
        refusal = msg;
    } else if (p->cmd.select) {
        struct idfmt idf;
        struct sel *s = NULL;
        if (idfmt_parse(&idf, w->o.fleet->id_format, &err) == CS_OK)
            s = sel_parse(p->cmd.select, &idf, &err);
        if (!s) {
            cs_strlcpy(msg, err.msg, sizeof(msg));
            refusal = msg;
        }
        sel_free(s);
    }
    if (!refusal && p->cmd.id[0] && find_id(w, p->cmd.id)) {
        snprintf(msg, sizeof(msg), "command id %s is already waiting for replies", p->cmd.id);
        refusal = msg;
    }
    if (refusal) {
        cmd_free(&p->cmd);
        cs_free(p);
        send_error(req, 400, "Bad Request", refusal);
        return;
    }
    if (w->npending >= WEB_PENDING_MAX || !rds_is_up(w->o.r) || !rds_is_up(w->sub)) {
        cmd_free(&p->cmd);
        cs_free(p);
        send_error(req, 503, "Service Unavailable",
                   w->npending >= WEB_PENDING_MAX ? "too many commands waiting for replies"
                                                  : "Redis is not connected");
        return;
    }
    if (!p->cmd.id[0])
        snprintf(p->cmd.id, sizeof(p->cmd.id), "web-%08llx",
                 (unsigned long long)(cs_rng_next(&w->rng) & 0xffffffffULL));
    p->cmd.ts_ms = cs_now_ms();
    p->t0_ms = cs_mono_ms();
    p->req = req;
    p->replies = cJSON_CreateArray();
    p->error_lines = cJSON_CreateArray();
    p->next = w->pending;
    w->pending = p;
    w->npending++;
    p->timer = evtimer_new(w->base, on_cmd_timer, p);
    struct timeval tv = {WEB_CMD_TIMEOUT_MS / 1000, (WEB_CMD_TIMEOUT_MS % 1000) * 1000};
    evtimer_add(p->timer, &tv);

    char k[CS_KEY_MAX], maxlen[24];
    struct buf payload = BUF_INIT;
    cmd_to_json(&p->cmd, &payload);
    snprintf(maxlen, sizeof(maxlen), "%d", WEB_CMDLOG_MAX);
    const char *argv[] = {"XADD", cs_key(k, w->ns, K_CMDLOG, NULL), "MAXLEN", "~", maxlen, "*",
                          "id",   p->cmd.id, "cmd", payload.s, "to", "*"};
    size_t argl[ARRAY_SIZE(argv)];
    for (size_t i = 0; i < ARRAY_SIZE(argv); i++)
        argl[i] = strlen(argv[i]);
    argl[9] = payload.len;
    log_info("web command %s: %s%s%s", p->cmd.id, p->cmd.def->name, p->cmd.select ? " " : "",
             p->cmd.select ? p->cmd.select : "");
    p->inflight++;
    if (rds_cmdv(w->o.r, on_cmd_logged, p, (int)ARRAY_SIZE(argv), argv, argl) != CS_OK) {
        p->inflight--;
        fail(p, 503, "Service Unavailable", "Redis is not connected");
    }
    buf_free(&payload);
}

/* ---- GET handlers ---------------------------------------------------------------------------- */

static void handle_metrics(struct listener *l, struct evhttp_request *req)
{
    struct buf b = BUF_INIT;
    metrics_render(l->w->o.obs, &b);
    send_body(req, 200, "OK", METRICS_CONTENT_TYPE, b.s ? b.s : "", b.len);
    buf_free(&b);
}

static void handle_page(struct listener *l, struct evhttp_request *req)
{
    (void)l;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    /* Inline script and style only; data is fetched from this origin and shown as text. */
    evhttp_add_header(h, "Content-Security-Policy",
                      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                      "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
                      "frame-ancestors 'none'");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    send_body(req, 200, "OK", "text/html; charset=utf-8", dashboard_html, dashboard_html_len);
}

/* A non-negative integer query parameter; def when absent, -1 when malformed. */
static long long query_num(struct evhttp_request *req, const char *name, long long def,
                           long long max)
{
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    struct evkeyvalq params;
    long long v = def;
    int64_t x;
    if (!q)
        return def;
    /* evhttp_parse_query_str initialises params first. */
    if (evhttp_parse_query_str(q, &params) != 0) {
        evhttp_clear_headers(&params);
        return -1;
    }
    const char *s = evhttp_find_header(&params, name);
    if (s)
        v = cs_parse_i64(s, 0, max, &x) ? x : -1;
    evhttp_clear_headers(&params);
    return v;
}

static void handle_status(struct listener *l, struct evhttp_request *req)
{
    long long n = query_num(req, "history", HISTORY_DEFAULT, OBS_HISTORY_MAX);
    if (n < 0) {
        send_error(req, 400, "Bad Request", "history: 0..600");
        return;
    }
    struct buf b = BUF_INIT;
    obs_status_json(l->w->o.obs, &b, (size_t)n);
    send_json(req, 200, "OK", &b);
    buf_free(&b);
}

static void handle_events(struct listener *l, struct evhttp_request *req)
{
    long long since = query_num(req, "since", 0, INT64_MAX);
    if (since < 0) {
        send_error(req, 400, "Bad Request", "since: a sequence number");
        return;
    }
    struct buf b = BUF_INIT;
    obs_events_json(l->w->o.obs, &b, (uint64_t)since);
    send_json(req, 200, "OK", &b);
    buf_free(&b);
}

/* ---- routing --------------------------------------------------------------------------------- */

#define M_GET (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)
#define M_POST EVHTTP_REQ_POST

static const struct route {
    const char *path;
    unsigned serves; /* listeners that serve it */
    int methods;
    const char *allow;
    void (*fn)(struct listener *l, struct evhttp_request *req);
} routes[] = {
    {"/metrics", SERVE_METRICS | SERVE_DASHBOARD, M_GET, "GET, HEAD", handle_metrics},
    {"/", SERVE_DASHBOARD, M_GET, "GET, HEAD", handle_page},
    {"/api/status", SERVE_DASHBOARD, M_GET, "GET, HEAD", handle_status},
    {"/api/events", SERVE_DASHBOARD, M_GET, "GET, HEAD", handle_events},
    {"/api/command", SERVE_DASHBOARD, M_POST, "POST", handle_command},
};

/* [loop] Every request of every listener. */
static void on_http_request(struct evhttp_request *req, void *privdata)
{
    struct listener *l = privdata;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path) {
        send_error(req, 400, "Bad Request", "no path");
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        const struct route *rt = &routes[i];
        if (!(rt->serves & l->serves) || strcmp(rt->path, path) != 0)
            continue;
        if (!((int)evhttp_request_get_command(req) & rt->methods)) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", rt->allow);
            send_error(req, 405, "Method Not Allowed", "method not allowed");
            return;
        }
        rt->fn(l, req);
        return;
    }
    send_error(req, 404, "Not Found", "not found");
}

/* ---- setup ----------------------------------------------------------------------------------- */

int web_parse_listen(const char *s, char *host, size_t hostlen, int *port, struct cs_error *err)
{
    const char *colon = strrchr(s, ':');
    int64_t p;
    if (!colon || !cs_parse_i64(colon + 1, 0, 65535, &p))
        return cs_error_set(err, CS_ERR_INVAL, "'%s': expected ADDR:PORT (PORT 0..65535)", s);
    const char *h = s;
    size_t n = (size_t)(colon - s);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    } else if (memchr(h, ':', n)) {
        return cs_error_set(err, CS_ERR_INVAL, "'%s': write IPv6 addresses as [ADDR]:PORT", s);
    }
    if (n == 0) {
        h = "0.0.0.0";
        n = 7;
    }
    if (n >= hostlen)
        return cs_error_set(err, CS_ERR_TOO_BIG, "'%s': address too long", s);
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (int)p;
    return CS_OK;
}

static int bound_port(struct evhttp_bound_socket *bs)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

static int add_listener(struct web *w, const char *addr, unsigned serves, struct cs_error *err)
{
    char host[WEB_LISTEN_MAX];
    int port;
    int rc = web_parse_listen(addr, host, sizeof(host), &port, err);
    if (rc != CS_OK)
        return rc;
    struct listener *l = &w->lis[w->nlis];
    l->w = w;
    l->serves = serves;
    l->http = evhttp_new(w->base);
    if (!l->http)
        return cs_error_set(err, CS_ERR_NOMEM, "cannot create an HTTP server");
    w->nlis++;
    evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_body_size(l->http, WEB_BODY_MAX);
    evhttp_set_max_headers_size(l->http, 16 * 1024);
    evhttp_set_timeout(l->http, 30);
    evhttp_set_gencb(l->http, on_http_request, l);
    errno = 0;
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(l->http, host, (uint16_t)port);
    if (!bs)
        return cs_error_set(err, CS_ERR_IO, "cannot listen on %s: %s", addr,
                            errno ? strerror(errno) : "address not usable");
    bool v6 = strchr(host, ':') != NULL;
    int actual = bound_port(bs);
    if (serves & SERVE_DASHBOARD)
        log_info("dashboard on http://%s%s%s:%d/ (metrics on /metrics)", v6 ? "[" : "", host,
                 v6 ? "]" : "", actual);
    else
        log_info("metrics on http://%s%s%s:%d/metrics", v6 ? "[" : "", host, v6 ? "]" : "",
                 actual);
    return CS_OK;
}

struct web *web_new(struct event_base *base, const struct web_opts *o, struct cs_error *err)
{
    struct web *w = cs_calloc(1, sizeof(*w));
    w->base = base;
    w->o = *o;
    cs_strlcpy(w->ns, o->ns, sizeof(w->ns));
    cs_strlcpy(w->id, o->id, sizeof(w->id));
    w->o.ns = w->ns;
    w->o.id = w->id;
    cs_rng_seed(&w->rng, cs_seed_entropy());
    bool metrics = o->metrics_listen && *o->metrics_listen;
    bool http = o->http_listen && *o->http_listen;
    if (http && add_listener(w, o->http_listen, SERVE_DASHBOARD, err) != CS_OK)
        goto out_free;
    if (metrics && http && strcmp(o->metrics_listen, o->http_listen) == 0)
        metrics = false; /* one listener serves both */
    if (metrics && add_listener(w, o->metrics_listen, SERVE_METRICS, err) != CS_OK)
        goto out_free;

    if (http) {
        struct rds_opts ro = {.url = o->url, .name = "coordinator-sub",
                              .on_message = on_sub_message, .privdata = w};
        w->sub = rds_new(base, &ro);
        cs_key(w->ch_reply, w->ns, CH_REPLY, NULL);
        cs_key(w->ch_events, w->ns, CH_EVENTS, NULL);
        rds_subscribe(w->sub, w->ch_events);
        rds_subscribe(w->sub, w->ch_reply);
    }
    return w;

out_free:
    web_free(w);
    return NULL;
}

size_t web_stop(struct web *w)
{
    size_t n = 0;
    while (w && w->pending) {
        fail(w->pending, 503, "Service Unavailable", "the coordinator is stopping");
        n++;
    }
    return n;
}

void web_free(struct web *w)
{
    if (!w)
        return;
    web_stop(w);
    for (size_t i = 0; i < w->nlis; i++)
        evhttp_free(w->lis[i].http);
    rds_free(w->sub);
    cs_free(w);
}
