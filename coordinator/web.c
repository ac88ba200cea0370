/* web.c - /metrics and the dashboard over libevent's evhttp, on the coordinator's loop: the
 * listeners (plain or TLS), the gate every request passes (who it is, what it may do, whether
 * a browser sent it from our own page), and the answers read from obs.
 *
 * Nothing here waits: GETs render what obs.h holds; a command (web_cmd.c) keeps its request
 * and is answered when the replies are in. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "dashboard_html.h"
#include "listen.h"
#include "metrics.h"
#include "tls.h"
#include "web_int.h"

#define HISTORY_DEFAULT 120
#define HSTS "max-age=31536000"

enum { SERVE_METRICS = 1 << 0, SERVE_DASHBOARD = 1 << 1 };

/* ---- answers --------------------------------------------------------------------------------- */

void web_send(struct evhttp_request *req, int code, const char *reason, const char *ctype,
              const void *body, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    if (b)
        evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}

void web_send_json(struct evhttp_request *req, int code, const char *reason, const struct buf *json)
{
    web_send(req, code, reason, "application/json", json->s ? json->s : "", json->len);
}

void web_send_error(struct evhttp_request *req, int code, const char *reason, const char *msg)
{
    struct buf b = BUF_INIT;
    struct jw j;
    jw_init(&j, &b);
    jw_obj(&j);
    jw_kstr(&j, "error", msg);
    jw_end(&j);
    web_send_json(req, code, reason, &b);
    buf_free(&b);
}

void web_send_busy(struct evhttp_request *req, int retry_s, const char *msg)
{
    char s[16];
    snprintf(s, sizeof(s), "%d", retry_s > 0 ? retry_s : 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", s);
    web_send_error(req, 429, "Too Many Requests", msg);
}

bool web_tls(const struct web *w)
{
    return w->tls != NULL;
}

cJSON *web_json_body(struct web_req *r, const char *expect)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    size_t len = evbuffer_get_length(in);
    if (len > WEB_BODY_MAX) { /* evhttp refuses bigger bodies itself; kept for safety */
        web_send_error(r->req, 413, "Payload Too Large", "request body over 64 KiB");
        return NULL;
    }
    char *body = cs_malloc(len + 1);
    evbuffer_copyout(in, body, len);
    body[len] = '\0';
    cJSON *json = cJSON_ParseWithLength(body, len);
    OPENSSL_cleanse(body, len); /* may hold a password */
    cs_free(body);
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        web_send_error(r->req, 400, "Bad Request", expect);
        return NULL;
    }
    return json;
}

/* ---- reads ----------------------------------------------------------------------------------- */

static void handle_metrics(struct web_req *r)
{
    struct buf b = BUF_INIT;
    metrics_render(r->l->w->o.obs, &b);
    web_send(r->req, 200, "OK", METRICS_CONTENT_TYPE, b.s ? b.s : "", b.len);
    buf_free(&b);
}

/* The page holds no data (it asks the API, which wants a role): served to everyone, so that it
 * can show the sign-in form. */
static void handle_page(struct web_req *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(h, "Content-Security-Policy", r->l->w->csp);
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    web_send(r->req, 200, "OK", "text/html; charset=utf-8", dashboard_html, dashboard_html_len);
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

static void handle_status(struct web_req *r)
{
    long long n = query_num(r->req, "history", HISTORY_DEFAULT, OBS_HISTORY_MAX);
    if (n < 0) {
        web_send_error(r->req, 400, "Bad Request", "history: 0..600");
        return;
    }
    struct buf b = BUF_INIT;
    obs_status_json(r->l->w->o.obs, &b, (size_t)n);
    web_send_json(r->req, 200, "OK", &b);
    buf_free(&b);
}

/* GET /api/events and /api/commands: what obs holds after ?since=SEQ. */
static void handle_since(struct web_req *r,
                         void (*render)(const struct obs *o, struct buf *out, uint64_t since))
{
    long long since = query_num(r->req, "since", 0, INT64_MAX);
    if (since < 0) {
        web_send_error(r->req, 400, "Bad Request", "since: a sequence number");
        return;
    }
    struct buf b = BUF_INIT;
    render(r->l->w->o.obs, &b, (uint64_t)since);
    web_send_json(r->req, 200, "OK", &b);
    buf_free(&b);
}

static void handle_events(struct web_req *r)
{
    handle_since(r, obs_events_json);
}

static void handle_commands(struct web_req *r)
{
    handle_since(r, obs_commands_json);
}

/* ---- the gate -------------------------------------------------------------------------------- */

#define M_GET (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)
#define M_POST EVHTTP_REQ_POST

enum {
    CHK_FORM = 1 << 0,     /* changes something: JSON, from our own origin */
    CHK_CSRF = 1 << 1,     /* ... and the session's CSRF token when signed in by cookie */
    CHK_COMMANDS = 1 << 2, /* refused when commands are off (--http-read-only) */
};

static const struct route {
    const char *path;
    unsigned serves; /* listeners that serve it */
    int methods;
    const char *allow;
    enum auth_role role; /* the least role it wants (when credentials are configured) */
    unsigned checks;
    void (*fn)(struct web_req *r);
} routes[] = {
    {"/metrics", SERVE_METRICS | SERVE_DASHBOARD, M_GET, "GET, HEAD", AUTH_VIEWER, 0,
     handle_metrics},
    {"/", SERVE_DASHBOARD, M_GET, "GET, HEAD", AUTH_NONE, 0, handle_page},
    {"/api/session", SERVE_DASHBOARD, M_GET, "GET, HEAD", AUTH_NONE, 0, web_handle_session},
    {"/api/login", SERVE_DASHBOARD, M_POST, "POST", AUTH_NONE, CHK_FORM, web_handle_login},
    {"/api/logout", SERVE_DASHBOARD, M_POST, "POST", AUTH_VIEWER, CHK_FORM | CHK_CSRF,
     web_handle_logout},
    {"/api/status", SERVE_DASHBOARD, M_GET, "GET, HEAD", AUTH_VIEWER, 0, handle_status},
    {"/api/events", SERVE_DASHBOARD, M_GET, "GET, HEAD", AUTH_VIEWER, 0, handle_events},
    {"/api/commands", SERVE_DASHBOARD, M_GET, "GET, HEAD", AUTH_VIEWER, 0, handle_commands},
    {"/api/command", SERVE_DASHBOARD, M_POST, "POST", AUTH_OPERATOR,
     CHK_FORM | CHK_CSRF | CHK_COMMANDS, web_handle_command},
};

static const char *header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* The host part of a Host header or an origin's authority ("[::1]:80" -> "::1"). */
static void host_of(const char *authority, char *out, size_t n)
{
    const char *end;
    if (authority[0] == '[') {
        authority++;
        end = strchr(authority, ']');
    } else {
        end = strchr(authority, ':');
    }
    size_t len = end ? (size_t)(end - authority) : strlen(authority);
    if (len >= n)
        len = 0;
    memcpy(out, authority, len);
    out[len] = '\0';
}

/* Without credentials, a page on another site could reach this one through a DNS name it
 * controls that points here (DNS rebinding): only addresses and names we know are served. */
static bool host_known(const struct web *w, const char *host_header)
{
    char host[256], oh[256];
    unsigned char addr[16];
    if (!host_header)
        return true; /* HTTP/1.0 clients: not a browser */
    host_of(host_header, host, sizeof(host));
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1 ||
        strcasecmp(host, "localhost") == 0)
        return true;
    for (size_t i = 0; i < w->o.norigins; i++) {
        const char *a = strstr(w->o.origins[i], "://");
        host_of(a ? a + 3 : "", oh, sizeof(oh));
        if (strcasecmp(host, oh) == 0)
            return true;
    }
    return false;
}

/* A browser request from another site carries its Origin (or Sec-Fetch-Site); ours is
 * SCHEME://HOST as the browser addressed us, or one of http-origin. */
static const char *cross_site(const struct web_req *r)
{
    const struct web *w = r->l->w;
    const char *site = header(r->req, "Sec-Fetch-Site");
    const char *origin = header(r->req, "Origin"), *host = header(r->req, "Host");
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return "cross-site request refused";
    if (!origin)
        return NULL; /* not a browser (curl, scripts) */
    for (size_t i = 0; i < w->o.norigins; i++)
        if (strcasecmp(origin, w->o.origins[i]) == 0)
            return NULL;
    const char *scheme = web_tls(w) ? "https://" : "http://";
    size_t sl = strlen(scheme);
    if (host && strncasecmp(origin, scheme, sl) == 0 && strcasecmp(origin + sl, host) == 0)
        return NULL;
    return "cross-origin request refused";
}

static void deny_sign_in(struct web_req *r, int code, const char *reason, const char *msg)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "WWW-Authenticate",
                      "Bearer realm=\"chargeswarm\"");
    web_send_error(r->req, code, reason, msg);
}

/* Who sent the request: its Authorization header, else its session cookie, else nobody (or
 * everybody's anonymous role without credentials). False after answering (wrong credentials,
 * too many of them). */
static bool identify(struct web_req *r)
{
    struct web *w = r->l->w;
    const char *authz = header(r->req, "Authorization");
    const char *cookies = header(r->req, "Cookie");
    char sid[SESS_ID_HEX + 1];
    int retry;
    int64_t now = cs_mono_ms();
    r->role = AUTH_NONE;
    r->name[0] = r->session[0] = '\0';
    if (!auth_enabled(w->o.auth)) {
        r->role = AUTH_OPERATOR;
        cs_strlcpy(r->name, "anonymous", sizeof(r->name));
    } else if (authz && *authz) {
        if (!rl_allows(w->rl, r->client, RL_AUTH_FAIL, now, &retry)) {
            web_send_busy(r->req, retry, "too many wrong credentials from this address: wait");
            return false;
        }
        const struct auth_cred *c;
        enum auth_header h = auth_check_header(w->o.auth, authz, &c);
        if (h != AUTH_HDR_OK) {
            web_auth_failed(w, r->client,
                            h == AUTH_HDR_BAD ? "a malformed Authorization header"
                                              : "wrong credentials");
            deny_sign_in(r, 401, "Unauthorized",
                         h == AUTH_HDR_BAD ? "Authorization: use Basic or Bearer"
                                           : "wrong user name, password or token");
            return false;
        }
        r->role = c->role;
        cs_strlcpy(r->name, c->name, sizeof(r->name));
        return true;
    }
    /* The session cookie (also without credentials: the page's CSRF token lives in it). */
    if (cookies && auth_cookie(cookies, r->l->cookie, sid, sizeof(sid))) {
        const struct session *s = sess_find(w->sess, sid, cs_mono_ms());
        if (s) {
            r->role = s->role;
            cs_strlcpy(r->name, s->name, sizeof(r->name));
            cs_strlcpy(r->session, s->id, sizeof(r->session));
        }
    }
    return true;
}

static void common_headers(struct web_req *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (web_tls(r->l->w))
        evhttp_add_header(h, "Strict-Transport-Security", HSTS);
}

/* Everything a route wants before its handler runs. False after answering. */
static bool admit(struct web_req *r, const struct route *rt)
{
    struct web *w = r->l->w;
    bool open = !auth_enabled(w->o.auth);
    if (open && !host_known(w, header(r->req, "Host"))) {
        web_send_error(r->req, 403, "Forbidden",
                       "unknown Host: use the address (or add the name with http-origin)");
        return false;
    }
    if (!identify(r))
        return false;
    if ((rt->checks & CHK_COMMANDS) && w->o.read_only) {
        web_send_error(r->req, 403, "Forbidden",
                       "commands are off on this coordinator (--http-read-only)");
        return false;
    }
    if (!open && r->role < rt->role) {
        if (r->role == AUTH_NONE)
            deny_sign_in(r, 401, "Unauthorized", "sign in first");
        else
            web_send_error(r->req, 403, "Forbidden",
                           rt->role == AUTH_OPERATOR ? "this needs the operator role"
                                                     : "this needs a role");
        return false;
    }
    if (rt->checks & CHK_FORM) {
        const char *why = cross_site(r);
        const char *ct = header(r->req, "Content-Type");
        if (why) { /* debug only: anyone may send these, as often as they like */
            log_debug("web: %s %s from %s (Origin %s): %s",
                      evhttp_request_get_command(r->req) == EVHTTP_REQ_POST ? "POST" : "request",
                      rt->path, r->client,
                      header(r->req, "Origin") ? header(r->req, "Origin") : "-", why);
            web_send_error(r->req, 403, "Forbidden", why);
            return false;
        }
        /* JSON only: a cross-site form cannot send it without a CORS preflight, never allowed. */
        if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
            web_send_error(r->req, 415, "Unsupported Media Type", "send JSON (application/json)");
            return false;
        }
    }
    if ((rt->checks & CHK_CSRF) && r->session[0]) {
        const struct session *s = sess_find(w->sess, r->session, cs_mono_ms());
        const char *token = header(r->req, "X-CSRF-Token");
        if (!s || !token || !auth_str_equal(token, s->csrf)) {
            web_send_error(r->req, 403, "Forbidden",
                           "missing or wrong X-CSRF-Token (reload the page)");
            return false;
        }
    }
    return true;
}

/* [loop] Every request of every listener. */
static void on_http_request(struct evhttp_request *req, void *privdata)
{
    struct web_req r = {.l = privdata, .req = req};
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    char *addr = NULL;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
    cs_strlcpy(r.client, addr ? addr : "?", sizeof(r.client));
    common_headers(&r);
    if (!path || !*path) {
        web_send_error(req, 400, "Bad Request", "no path");
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        const struct route *rt = &routes[i];
        if (!(rt->serves & r.l->serves) || strcmp(rt->path, path) != 0)
            continue;
        if (!((int)evhttp_request_get_command(req) & rt->methods)) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", rt->allow);
            web_send_error(req, 405, "Method Not Allowed", "method not allowed");
            return;
        }
        if (admit(&r, rt))
            rt->fn(&r);
        return;
    }
    web_send_error(req, 404, "Not Found", "not found");
}

/* [loop] {ns}:reply. */
static void on_sub_message(struct rds *r, const char *pattern, const char *channel,
                           const char *payload, size_t len, void *privdata)
{
    (void)r;
    (void)pattern;
    struct web *w = privdata;
    if (strcmp(channel, w->ch_reply) == 0)
        web_cmd_on_reply(w, payload, len);
}

/* ---- checks of the options ----------------------------------------------------------------- */

int web_check_access(const struct web_opts *o, struct cs_error *err)
{
    struct listen_plan p = {
        .http = o->http_listen,
        .metrics = o->metrics_listen,
        .commands = !o->read_only,
        .credentials = auth_enabled(o->auth),
        .tls_cert = o->tls_cert && *o->tls_cert,
        .tls_key = o->tls_key && *o->tls_key,
        .insecure = o->insecure,
    };
    return listen_check(&p, err);
}

static bool set(const char *s)
{
    return s && *s;
}

/* ---- setup ----------------------------------------------------------------------------------- */

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
    char host[LISTEN_MAX];
    int port;
    int rc = listen_parse(addr, host, sizeof(host), &port, err);
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
    if (w->tls)
        evhttp_set_bevcb(l->http, tls_bevcb, w->tls);
    errno = 0;
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(l->http, host, (uint16_t)port);
    if (!bs)
        return cs_error_set(err, CS_ERR_IO, "cannot listen on %s: %s", addr,
                            errno ? strerror(errno) : "address not usable");
    l->port = bound_port(bs);
    snprintf(l->cookie, sizeof(l->cookie), "cs_session_%d", l->port);
    bool v6 = strchr(host, ':') != NULL;
    const char *scheme = w->tls ? "https" : "http";
    if (serves & SERVE_DASHBOARD)
        log_info("dashboard on %s://%s%s%s:%d/ (metrics on /metrics)", scheme, v6 ? "[" : "", host,
                 v6 ? "]" : "", l->port);
    else
        log_info("metrics on %s://%s%s%s:%d/metrics", scheme, v6 ? "[" : "", host, v6 ? "]" : "",
                 l->port);
    return CS_OK;
}

/* 'sha256-BASE64' of the text between open and close in the page, for its CSP. */
static void csp_hash(const char *open, const char *close, char *out, size_t n)
{
    const char *a = strstr(dashboard_html, open), *b = a ? strstr(a, close) : NULL;
    unsigned char d[32], b64[48];
    unsigned int dl = sizeof(d);
    out[0] = '\0';
    if (!a || !b)
        return;
    a += strlen(open);
    if (EVP_Digest(a, (size_t)(b - a), d, &dl, EVP_sha256(), NULL) != 1)
        return;
    EVP_EncodeBlock(b64, d, (int)dl);
    snprintf(out, n, "'sha256-%s'", (const char *)b64);
}

/* The page's inline script and style are allowed by their hashes: nothing else runs. */
static void make_csp(struct web *w)
{
    char script[64], style[64];
    csp_hash("<script>", "</script>", script, sizeof(script));
    csp_hash("<style>", "</style>", style, sizeof(style));
    snprintf(w->csp, sizeof(w->csp),
             "default-src 'none'; script-src %s; style-src %s; connect-src 'self'; img-src data:; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
             script[0] ? script : "'none'", style[0] ? style : "'none'");
}

static void log_access(const struct web *w)
{
    const struct auth *a = w->o.auth;
    struct buf b = BUF_INIT;
    for (size_t i = 0; a && i < a->n; i++)
        buf_printf(&b, "%s%s %s (%s)", i ? ", " : "",
                   a->cred[i].kind == AUTH_TOKEN ? "token" : "user", a->cred[i].name,
                   auth_role_name(a->cred[i].role));
    if (auth_enabled(a))
        log_info("HTTP access: %s%s", buf_cstr(&b), w->o.read_only ? "; commands off" : "");
    else
        log_warn("HTTP access: no credentials: whoever reaches the listeners %s",
                 w->o.read_only ? "reads the fleet's data (commands off)"
                                : "reads the fleet's data and sends commands");
    buf_free(&b);
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
    w->sess = sess_new();
    w->rl = rl_new();
    make_csp(w);
    if (set(o->tls_cert) && !(w->tls = tls_new(o->tls_cert, o->tls_key, err)))
        goto out_free;
    bool metrics = set(o->metrics_listen), http = set(o->http_listen);
    if (http && add_listener(w, o->http_listen, SERVE_DASHBOARD, err) != CS_OK)
        goto out_free;
    if (metrics && http && strcmp(o->metrics_listen, o->http_listen) == 0)
        metrics = false; /* one listener serves both */
    if (metrics && add_listener(w, o->metrics_listen, SERVE_METRICS, err) != CS_OK)
        goto out_free;
    log_access(w);
    if (http) {
        struct rds_opts ro = {
            .url = o->url, .name = "coordinator-sub", .on_message = on_sub_message, .privdata = w};
        w->sub = rds_new(base, &ro);
        rds_subscribe(w->sub, cs_key(w->ch_reply, w->ns, CH_REPLY, NULL));
    }
    return w;

out_free:
    web_free(w);
    return NULL;
}

size_t web_stop(struct web *w)
{
    return w ? web_cmd_stop(w) : 0;
}

void web_free(struct web *w)
{
    if (!w)
        return;
    web_cmd_stop(w);
    for (size_t i = 0; i < w->nlis; i++)
        evhttp_free(w->lis[i].http);
    rds_free(w->sub);
    tls_free(w->tls);
    sess_free(w->sess);
    rl_free(w->rl);
    cs_free(w);
}
