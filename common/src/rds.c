/* rds.c - hiredis async on libevent with reconnect, handshake and re-subscription. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/util.h"

struct sub {
    char *name;
    bool pattern;
};

struct rds {
    struct event_base *base;
    struct rds_opts o;
    char name[64];
    redisAsyncContext *ac;
    bool up; /* handshake done, commands accepted */
    bool freeing;
    bool server_down;    /* the server closed on us or refuses connects (vs. silence) */
    int attempt;         /* consecutive failed connects */
    int64_t up_since_ms; /* when the current connection became ready; 0 = not up */
    int pending;         /* user commands awaiting a reply */
    int64_t last_io_ms;
    struct event *retry_ev;
    struct event *reset_ev; /* frees the context outside hiredis callbacks */
    struct event *watch_ev;
    struct sub *subs;
    size_t nsubs;
    struct cs_rng rng;
};

#define STABLE_MS 5000 /* a connection up this long resets the reconnect backoff */

struct pending {
    struct rds *r;
    rds_reply_fn *fn;
    void *privdata;
};

static void connect_now(struct rds *r);

enum rds_type rds_reply_type(const struct rds_reply *rp)
{
    const redisReply *x = (const redisReply *)rp;
    if (!x)
        return RDS_NIL;
    switch (x->type) {
    case REDIS_REPLY_STRING:
        return RDS_STRING;
    case REDIS_REPLY_INTEGER:
        return RDS_INT;
    case REDIS_REPLY_ARRAY:
        return RDS_ARRAY;
    case REDIS_REPLY_STATUS:
        return RDS_STATUS;
    case REDIS_REPLY_ERROR:
        return RDS_ERROR;
    default:
        return RDS_NIL;
    }
}

long long rds_reply_int(const struct rds_reply *rp)
{
    const redisReply *x = (const redisReply *)rp;
    return x && x->type == REDIS_REPLY_INTEGER ? x->integer : 0;
}

const char *rds_reply_str(const struct rds_reply *rp, size_t *len)
{
    const redisReply *x = (const redisReply *)rp;
    if (!x || !(x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_STATUS ||
                x->type == REDIS_REPLY_ERROR))
        return NULL;
    if (len)
        *len = x->len;
    return x->str;
}

size_t rds_reply_len(const struct rds_reply *rp)
{
    const redisReply *x = (const redisReply *)rp;
    return x && x->type == REDIS_REPLY_ARRAY ? x->elements : 0;
}

const struct rds_reply *rds_reply_at(const struct rds_reply *rp, size_t i)
{
    const redisReply *x = (const redisReply *)rp;
    if (!x || x->type != REDIS_REPLY_ARRAY || i >= x->elements)
        return NULL;
    return (const struct rds_reply *)x->element[i];
}

bool rds_reply_ok(const struct rds_reply *rp)
{
    return rp && rds_reply_type(rp) != RDS_ERROR;
}

void rds_reply_kv(const struct rds_reply *rp, struct kvlist *out)
{
    size_t n = rds_reply_len(rp);
    /* Into an empty list the pairs go as they come (a hash's fields are distinct, and a
     * search per field would cost fields^2 on the big stats hashes). */
    bool fresh = out->n == 0 && rds_reply_type(rp) == RDS_ARRAY;
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t kl = 0, vl = 0;
        const char *k = rds_reply_str(rds_reply_at(rp, i), &kl);
        const char *v = rds_reply_str(rds_reply_at(rp, i + 1), &vl);
        if (!k || !v)
            continue;
        if (fresh)
            kv_appendn(out, k, kl, v, vl);
        else
            kv_setn(out, k, kl, v, vl);
    }
}

long long rds_reply_num(const struct rds_reply *rp, long long def)
{
    if (rds_reply_type(rp) == RDS_INT)
        return rds_reply_int(rp);
    const char *s = rds_reply_str(rp, NULL);
    int64_t v;
    if (s && rds_reply_type(rp) == RDS_STRING && cs_parse_i64(s, INT64_MIN, INT64_MAX, &v))
        return v;
    return def;
}

struct rds_reply *rds_reply_parse(const char *resp, size_t len)
{
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    if (!rd)
        return NULL;
    if (redisReaderFeed(rd, resp, len) != REDIS_OK || redisReaderGetReply(rd, &reply) != REDIS_OK)
        reply = NULL;
    redisReaderFree(rd);
    return reply;
}

bool rds_is_up(const struct rds *r)
{
    return r && r->up;
}

bool rds_server_down(const struct rds *r)
{
    return r && !r->up && r->server_down;
}

/* What an error says about the far end: a refusal or a close comes from a host we reach whose
 * Redis is not there; a timeout or an unreachable network says nothing about Redis. */
static bool says_server_down(const char *errstr)
{
    static const int codes[] = {ECONNREFUSED, ECONNRESET, EPIPE};
    if (!errstr)
        return false;
    if (strstr(errstr, "closed the connection")) /* hiredis: EOF from the server */
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
        if (strstr(errstr, strerror(codes[i])))
            return true;
    return false;
}

void *rds_privdata(const struct rds *r)
{
    return r->o.privdata;
}

static void set_down(struct rds *r)
{
    bool was_up = r->up;
    r->up = false;
    if (was_up && r->o.on_state && !r->freeing)
        r->o.on_state(r, false, r->o.privdata);
}

static void schedule_retry(struct rds *r)
{
    if (r->freeing)
        return;
    /* A connection that lived a while starts the backoff afresh; one that the server drops
     * right after the handshake (a refused SUBSCRIBE, say) keeps backing off. */
    if (r->up_since_ms && cs_mono_ms() - r->up_since_ms > STABLE_MS)
        r->attempt = 0;
    r->up_since_ms = 0;
    int64_t cap = r->o.reconnect_min_ms;
    for (int i = 0; i < r->attempt && cap < r->o.reconnect_max_ms; i++)
        cap *= 2;
    if (cap > r->o.reconnect_max_ms)
        cap = r->o.reconnect_max_ms;
    /* Full jitter, but never a busy loop. */
    int64_t delay = 50 + (int64_t)cs_rng_below(&r->rng, (uint64_t)cap);
    r->attempt++;
    struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
    evtimer_add(r->retry_ev, &tv);
}

/* [loop] hiredis: an established connection ended (we freed it, or it failed). */
static void on_redis_disconnect(const redisAsyncContext *ac, int status)
{
    struct rds *r = ac->data;
    if (status != REDIS_OK)
        log_warn("redis %s: connection lost: %s", r->name, ac->errstr ? ac->errstr : "?");
    r->server_down = status != REDIS_OK && says_server_down(ac->errstr);
    r->ac = NULL;
    set_down(r);
    schedule_retry(r);
}

/* [loop] hiredis: the TCP connect finished. On failure hiredis frees the context itself. */
static void on_redis_connect(const redisAsyncContext *ac, int status)
{
    struct rds *r = ac->data;
    if (status != REDIS_OK) {
        if (r->attempt <= 1 || cs_log_enabled(CS_LOG_DEBUG))
            log_warn("redis %s: connect to %s:%d failed: %s (retrying)", r->name, r->o.url.host,
                     r->o.url.port, ac->errstr ? ac->errstr : "?");
        r->server_down = says_server_down(ac->errstr);
        r->ac = NULL;
        schedule_retry(r);
    }
}

static void reset_soon(struct rds *r)
{
    event_active(r->reset_ev, 0, 0);
}

/* [loop] Next loop turn after reset_soon: drop the context (never from inside hiredis). */
static void on_reset(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct rds *r = privdata;
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        set_down(r);
        /* on_redis_disconnect runs inside this call for connected contexts and schedules the
         * retry; a context still connecting gets no callback, so retry here. */
        bool connected = ac->c.flags & REDIS_CONNECTED;
        redisAsyncFree(ac);
        if (!connected)
            schedule_retry(r);
    }
}

void rds_reconnect(struct rds *r)
{
    if (r)
        reset_soon(r);
}

static void on_pubsub(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct rds *r = privdata;
    const struct rds_reply *rp = reply;
    if (!rp || rds_reply_type(rp) != RDS_ARRAY)
        return;
    r->last_io_ms = cs_mono_ms();
    const char *kind = rds_reply_str(rds_reply_at(rp, 0), NULL);
    if (!kind)
        return;
    size_t len = 0;
    if (strcmp(kind, "message") == 0 && rds_reply_len(rp) == 3) {
        const char *ch = rds_reply_str(rds_reply_at(rp, 1), NULL);
        const char *pl = rds_reply_str(rds_reply_at(rp, 2), &len);
        if (ch && pl)
            r->o.on_message(r, NULL, ch, pl, len, r->o.privdata);
    } else if (strcmp(kind, "pmessage") == 0 && rds_reply_len(rp) == 4) {
        const char *pat = rds_reply_str(rds_reply_at(rp, 1), NULL);
        const char *ch = rds_reply_str(rds_reply_at(rp, 2), NULL);
        const char *pl = rds_reply_str(rds_reply_at(rp, 3), &len);
        if (pat && ch && pl)
            r->o.on_message(r, pat, ch, pl, len, r->o.privdata);
    }
}

static void send_sub(struct rds *r, const struct sub *s)
{
    if (!r->ac)
        return;
    redisAsyncCommand(r->ac, on_pubsub, r, s->pattern ? "PSUBSCRIBE %s" : "SUBSCRIBE %s", s->name);
}

/* [loop] The last handshake reply (CLIENT SETNAME): the connection is ready. */
static void on_handshake(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    struct rds *r = ac->data;
    const struct rds_reply *rp = reply;
    if (!rp)
        return;
    if (rds_reply_type(rp) == RDS_ERROR) {
        log_error("redis %s: handshake failed: %s", r->name, rds_reply_str(rp, NULL));
        reset_soon(r);
        return;
    }
    if (privdata != r) /* AUTH / SELECT replies: only errors matter */
        return;
    r->up = true;
    r->up_since_ms = cs_mono_ms();
    r->server_down = false;
    r->last_io_ms = cs_mono_ms();
    log_info("redis %s: connected to %s:%d db %d", r->name, r->o.url.host, r->o.url.port,
             r->o.url.db);
    if (r->o.on_message)
        for (size_t i = 0; i < r->nsubs; i++)
            send_sub(r, &r->subs[i]);
    if (r->o.on_state)
        r->o.on_state(r, true, r->o.privdata);
}

static void connect_now(struct rds *r)
{
    redisAsyncContext *ac = redisAsyncConnect(r->o.url.host, r->o.url.port);
    if (!ac || ac->err) {
        if (r->attempt == 0)
            log_warn("redis %s: connect to %s:%d: %s", r->name, r->o.url.host, r->o.url.port,
                     ac ? ac->errstr : "out of memory");
        r->server_down = ac && says_server_down(ac->errstr);
        if (ac)
            redisAsyncFree(ac);
        schedule_retry(r);
        return;
    }
    ac->data = r;
    r->ac = ac;
    redisLibeventAttach(ac, r->base);
    redisAsyncSetConnectCallback(ac, on_redis_connect);
    redisAsyncSetDisconnectCallback(ac, on_redis_disconnect);
    /* Pipelined handshake; the write also triggers the connect callback. */
    if (r->o.url.pass[0]) {
        if (r->o.url.user[0])
            redisAsyncCommand(ac, on_handshake, NULL, "AUTH %s %s", r->o.url.user, r->o.url.pass);
        else
            redisAsyncCommand(ac, on_handshake, NULL, "AUTH %s", r->o.url.pass);
    }
    if (r->o.url.db)
        redisAsyncCommand(ac, on_handshake, NULL, "SELECT %d", r->o.url.db);
    redisAsyncCommand(ac, on_handshake, r, "CLIENT SETNAME %s", r->name);
}

static void on_retry(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct rds *r = privdata;
    if (!r->ac && !r->freeing)
        connect_now(r);
}

/* [loop] A command unanswered for timeout_ms means Redis is stuck or the path is dead. */
static void on_watch(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct rds *r = privdata;
    if (r->up && r->pending > 0 && cs_mono_ms() - r->last_io_ms > r->o.timeout_ms) {
        log_warn("redis %s: no reply for %d ms with %d commands pending; reconnecting", r->name,
                 r->o.timeout_ms, r->pending);
        r->server_down = false;
        reset_soon(r);
    }
}

struct rds *rds_new(struct event_base *base, const struct rds_opts *o)
{
    struct rds *r = cs_calloc(1, sizeof(*r));
    r->base = base;
    r->o = *o;
    cs_strlcpy(r->name, o->name ? o->name : "chargeswarm", sizeof(r->name));
    for (char *p = r->name; *p; p++)
        if (*p == ' ')
            *p = '_';
    r->o.name = r->name;
    if (r->o.reconnect_min_ms <= 0)
        r->o.reconnect_min_ms = 100;
    if (r->o.reconnect_max_ms <= 0)
        r->o.reconnect_max_ms = 5000;
    if (r->o.timeout_ms <= 0)
        r->o.timeout_ms = 10000;
    cs_rng_seed(&r->rng, cs_seed_entropy());
    r->retry_ev = evtimer_new(base, on_retry, r);
    r->reset_ev = event_new(base, -1, 0, on_reset, r);
    r->watch_ev = event_new(base, -1, EV_PERSIST, on_watch, r);
    struct timeval tv = {1, 0};
    evtimer_add(r->watch_ev, &tv);
    connect_now(r);
    return r;
}

void rds_free(struct rds *r)
{
    if (!r)
        return;
    r->freeing = true;
    r->up = false;
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac);
    }
    event_free(r->retry_ev);
    event_free(r->reset_ev);
    event_free(r->watch_ev);
    for (size_t i = 0; i < r->nsubs; i++)
        cs_free(r->subs[i].name);
    cs_free(r->subs);
    cs_free(r);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct pending *p = privdata;
    struct rds *r = p->r;
    r->pending--;
    if (reply)
        r->last_io_ms = cs_mono_ms();
    if (p->fn)
        p->fn(r, reply, p->privdata);
    cs_free(p);
}

static struct pending *new_pending(struct rds *r, rds_reply_fn *fn, void *privdata)
{
    struct pending *p = cs_malloc(sizeof(*p));
    p->r = r;
    p->fn = fn;
    p->privdata = privdata;
    if (r->pending == 0)
        r->last_io_ms = cs_mono_ms();
    r->pending++;
    return p;
}

int rds_cmd(struct rds *r, rds_reply_fn *fn, void *privdata, const char *fmt, ...)
{
    if (!r || !r->up || !r->ac || r->freeing)
        return CS_ERR_IO;
    struct pending *p = new_pending(r, fn, privdata);
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(r->ac, on_reply, p, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        r->pending--;
        cs_free(p);
        return CS_ERR_IO;
    }
    return CS_OK;
}

int rds_cmdv(struct rds *r, rds_reply_fn *fn, void *privdata, int argc, const char **argv,
             const size_t *argvlen)
{
    if (!r || !r->up || !r->ac || r->freeing)
        return CS_ERR_IO;
    struct pending *p = new_pending(r, fn, privdata);
    if (redisAsyncCommandArgv(r->ac, on_reply, p, argc, argv, argvlen) != REDIS_OK) {
        r->pending--;
        cs_free(p);
        return CS_ERR_IO;
    }
    return CS_OK;
}

static void add_sub(struct rds *r, const char *name, bool pattern)
{
    for (size_t i = 0; i < r->nsubs; i++)
        if (r->subs[i].pattern == pattern && strcmp(r->subs[i].name, name) == 0)
            return;
    r->subs = cs_realloc(r->subs, (r->nsubs + 1) * sizeof(*r->subs));
    r->subs[r->nsubs].name = cs_strdup(name);
    r->subs[r->nsubs].pattern = pattern;
    r->nsubs++;
    if (r->up)
        send_sub(r, &r->subs[r->nsubs - 1]);
}

void rds_subscribe(struct rds *r, const char *channel)
{
    add_sub(r, channel, false);
}

void rds_psubscribe(struct rds *r, const char *pattern)
{
    add_sub(r, pattern, true);
}

/* ---- blocking client ------------------------------------------------------------------------ */

struct rds_sync {
    redisContext *c;
    char err[128];
};

const char *rds_sync_error(const struct rds_sync *s)
{
    return s->c && s->c->err ? s->c->errstr : s->err;
}

void rds_reply_free(struct rds_reply *rp)
{
    if (rp)
        freeReplyObject(rp);
}

struct rds_sync *rds_sync_connect(const struct redis_url *url, int timeout_ms, struct cs_error *err)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(url->host, url->port, tv);
    if (!c || c->err) {
        cs_error_set(err, CS_ERR_IO, "cannot connect to Redis at %s:%d: %s", url->host, url->port,
                     c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    struct rds_sync *s = cs_calloc(1, sizeof(*s));
    s->c = c;
    redisReply *r = NULL;
    if (url->pass[0]) {
        r = url->user[0] ? redisCommand(c, "AUTH %s %s", url->user, url->pass)
                         : redisCommand(c, "AUTH %s", url->pass);
        if (!r || r->type == REDIS_REPLY_ERROR)
            goto fail;
        freeReplyObject(r);
    }
    if (url->db) {
        r = redisCommand(c, "SELECT %d", url->db);
        if (!r || r->type == REDIS_REPLY_ERROR)
            goto fail;
        freeReplyObject(r);
    }
    return s;
fail:
    cs_error_set(err, CS_ERR_IO, "Redis at %s:%d refused the handshake: %s", url->host, url->port,
                 r ? r->str : c->errstr);
    if (r)
        freeReplyObject(r);
    rds_sync_free(s);
    return NULL;
}

void rds_sync_free(struct rds_sync *s)
{
    if (!s)
        return;
    if (s->c)
        redisFree(s->c);
    cs_free(s);
}

struct rds_reply *rds_sync_cmd(struct rds_sync *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    void *r = redisvCommand(s->c, fmt, ap);
    va_end(ap);
    return r;
}

struct rds_reply *rds_sync_cmdv(struct rds_sync *s, int argc, const char **argv,
                                const size_t *argvlen)
{
    return redisCommandArgv(s->c, argc, argv, argvlen);
}

int rds_sync_append(struct rds_sync *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(s->c, fmt, ap);
    va_end(ap);
    return rc == REDIS_OK ? CS_OK : CS_ERR_IO;
}

int rds_sync_appendv(struct rds_sync *s, int argc, const char **argv, const size_t *argvlen)
{
    return redisAppendCommandArgv(s->c, argc, argv, argvlen) == REDIS_OK ? CS_OK : CS_ERR_IO;
}

int rds_sync_read(struct rds_sync *s, int timeout_ms, struct rds_reply **out)
{
    int64_t deadline = timeout_ms < 0 ? 0 : cs_mono_ms() + timeout_ms;
    void *reply = NULL;
    *out = NULL;
    /* Flush what was appended. */
    int done = 0;
    while (!done)
        if (redisBufferWrite(s->c, &done) != REDIS_OK)
            return CS_ERR_IO;
    for (;;) {
        if (redisGetReplyFromReader(s->c, &reply) != REDIS_OK)
            return CS_ERR_IO;
        if (reply) {
            *out = reply;
            return CS_OK;
        }
        int wait = -1;
        if (timeout_ms >= 0) {
            int64_t left = deadline - cs_mono_ms();
            if (left <= 0)
                return CS_ERR_STATE;
            wait = (int)left;
        }
        struct pollfd p = {s->c->fd, POLLIN, 0};
        int n = poll(&p, 1, wait);
        if (n == 0)
            return CS_ERR_STATE;
        if (n < 0) {
            if (errno == EINTR)
                return CS_ERR_STATE;
            return CS_ERR_IO;
        }
        if (redisBufferRead(s->c) != REDIS_OK)
            return CS_ERR_IO;
    }
}
