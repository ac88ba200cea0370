/* link.c - the link state machine. [loop] */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cs/buf.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/tmpl.h"
#include "cs/util.h"
#include "ctx.h"
#include "link.h"

#define CONNECT_TIMEOUT_S 15

static const char *const link_names[] = {
    [LINK_LOADING] = "loading", [LINK_IDLE] = "idle",
    [LINK_QUEUED] = "queued",   [LINK_CONNECTING] = "connecting",
    [LINK_UP] = "up",           [LINK_BACKOFF] = "backoff",
    [LINK_CLOSING] = "closing", [LINK_DISABLED] = "disabled",
    [LINK_OFFLINE] = "offline",
};
_Static_assert(ARRAY_SIZE(link_names) == LINK__COUNT, "link_names out of step");

const char *link_state_name(enum link_state s)
{
    return (unsigned)s < LINK__COUNT ? link_names[s] : "?";
}

static const struct charger_cfg *cfg_of(const struct link *l)
{
    return l->env->cfg(l);
}

static void drop_conn(struct link *l)
{
    if (l->conn) {
        l->tr->free(l->conn);
        l->conn = NULL;
    }
}

/* A connect or a close under way is not abandoned: a CONNECT may already wait in the
 * broker's queue. It is closed (finished, then goodbye) and kept as l->old until it is over;
 * an established connection goes at once, as in a network loss. */
static void retire_conn(struct link *l)
{
    if (l->conn && (l->state == LINK_CONNECTING || l->state == LINK_CLOSING) && !l->old) {
        l->old = l->conn;
        l->old_tr = l->tr;
        l->conn = NULL;
        l->old_tr->close(l->old, 0);
        return;
    }
    drop_conn(l);
}

static void unqueue(struct link *l)
{
    ramp_remove(l->env->ramp, &l->rn);
}

static void backoff(struct link *l)
{
    const struct charger_cfg *c = cfg_of(l);
    int64_t cap = c->reconnect_min_ms;
    for (int i = 0; i < l->attempt && cap < c->reconnect_max_ms; i++)
        cap *= 2;
    if (cap > c->reconnect_max_ms)
        cap = c->reconnect_max_ms;
    l->attempt++;
    l->state = LINK_BACKOFF;
    /* full jitter */
    ctx_arm(l->retry_ev, (int64_t)cs_rng_below(&l->env->x->rng, (uint64_t)(cap > 0 ? cap : 1)) + 1);
}

/* The TLS files can be read: a missing or unreadable one is named once per charger, not left
 * to an opaque handshake failure. */
static bool tls_files_ok(struct link *l, const struct charger_cfg *c, const char *cert,
                         const char *key)
{
    const struct {
        const char *key, *path;
    } files[] = {{"tls_ca", c->tls_ca}, {"tls_cert", cert}, {"tls_key", key}};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        if (!*files[i].path || access(files[i].path, R_OK) == 0)
            continue;
        if (l->attempt == 0 || cs_log_enabled(CS_LOG_DEBUG))
            log_error("%s: %s '%s': %s", l->id, files[i].key, files[i].path, strerror(errno));
        return false;
    }
    return true;
}

static bool is_tls(const char *uri)
{
    return strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0 ||
           strncmp(uri, "wss://", 6) == 0;
}

static bool is_ws(const char *uri)
{
    return strncmp(uri, "ws://", 5) == 0 || strncmp(uri, "wss://", 6) == 0;
}

static void on_transport(void *owner, const struct tr_event *ev);

static void connect_now(struct link *l)
{
    struct agent_ctx *x = l->env->x;
    if (l->old) {
        /* Starts once the given-up one is over (old_gone): one session per client ID. */
        l->state = LINK_CONNECTING;
        return;
    }
    const struct charger_cfg *c = cfg_of(l);
    char uri[512], idx[16];
    struct buf cid = BUF_INIT, user = BUF_INIT, pass = BUF_INIT, cert = BUF_INIT, key = BUF_INIT;
    struct buf up = BUF_INIT, reply = BUF_INIT, down = BUF_INIT;
    struct cs_error err = {0};
    int n = cfg_broker_count(c->broker);

    snprintf(idx, sizeof(idx), "%u", l->index);
    const struct tmpl_var vars[] = {
        {"id", l->id}, {"index", idx}, {"worker", x->name}, {"msg", "\x01"}};
    size_t nv = ARRAY_SIZE(vars) - 1; /* {msg} only in topics */
    if (!cfg_broker_pick(c->broker, (int)(l->index % (uint32_t)(n ? n : 1)), uri, sizeof(uri)) ||
        tmpl_render(c->client_id, vars, nv, &cid, &err) ||
        tmpl_render(c->username, vars, nv, &user, &err) ||
        tmpl_render(c->password, vars, nv, &pass, &err) ||
        tmpl_render(c->tls_cert, vars, nv, &cert, &err) ||
        tmpl_render(c->tls_key, vars, nv, &key, &err) ||
        tmpl_render(c->topic_up, vars, ARRAY_SIZE(vars), &up, &err) ||
        tmpl_render(c->topic_reply, vars, ARRAY_SIZE(vars), &reply, &err) ||
        tmpl_render(c->topic_down, vars, nv, &down, &err)) {
        log_error("%s: cannot build connect options: %s", l->id, err.msg);
        goto fail;
    }
    if (is_tls(uri) && !tls_files_ok(l, c, buf_cstr(&cert), buf_cstr(&key)))
        goto fail;
    struct tr_opts o = {.uri = uri,
                        .client_id = buf_cstr(&cid),
                        .username = buf_cstr(&user),
                        .password = buf_cstr(&pass),
                        .keepalive_s = c->keepalive_s,
                        .clean_session = c->clean_session,
                        .connect_timeout_s = CONNECT_TIMEOUT_S,
                        .qos = c->qos,
                        .topic_up = buf_cstr(&up),
                        .topic_reply = buf_cstr(&reply),
                        .topic_down = buf_cstr(&down),
                        .tls_ca = c->tls_ca,
                        .tls_cert = buf_cstr(&cert),
                        .tls_key = buf_cstr(&key),
                        .tls_key_password = c->tls_key_password,
                        .tls_verify = c->tls_verify,
                        .subprotocol = ocpp_version_subprotocol(ocpp_version_of(c->ocpp_version)),
                        .ping_s = c->ws_ping_s};
    l->tr = l->env->tr[is_ws(uri) ? TR_WS : tr_mqtt_of(c->mqtt_client)];
    l->conn = tr_open(l->tr, &o, on_transport, l, &err);
    if (!l->conn) {
        log_error("%s: %s", l->id, err.msg);
        goto fail;
    }
    l->state = LINK_CONNECTING;
    goto out;
fail:
    x->st->connect_failures++;
    backoff(l);
out:
    buf_free(&cid);
    buf_free(&user);
    buf_free(&pass);
    buf_free(&cert);
    buf_free(&key);
    buf_free(&up);
    buf_free(&reply);
    buf_free(&down);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct link *l = privdata;
    if (l->state == LINK_BACKOFF)
        link_want(l);
}

/* The given-up connect is over: a connect that waited for it starts, a release that waited for
 * it ends. */
static void old_gone(struct link *l)
{
    l->old_tr->free(l->old);
    l->old = NULL;
    l->old_tr = NULL;
    if (l->state == LINK_CONNECTING && !l->conn) {
        connect_now(l);
    } else if (l->state == LINK_CLOSING && !l->conn) {
        l->state = LINK_IDLE;
        l->env->on_event(l, LINK_EV_CLOSED, NULL, 0);
    }
}

static void on_transport(void *owner, const struct tr_event *ev)
{
    struct link *l = owner;
    struct agent_ctx *x = l->env->x;
    if (l->old) {
        /* No connection of its own is open while one is given up: this is the old one's. */
        if (ev->type == TR_EV_DOWN)
            old_gone(l);
        return;
    }
    switch (ev->type) {
    case TR_EV_UP:
        if (l->state != LINK_CONNECTING)
            break;
        l->state = LINK_UP;
        l->attempt = 0;
        l->connects++;
        x->st->connects++;
        l->env->on_event(l, LINK_EV_UP, NULL, 0);
        break;
    case TR_EV_FRAME:
        x->st->msgs_in++;
        if (l->state == LINK_UP)
            l->env->on_event(l, LINK_EV_FRAME, ev->data, ev->len);
        break;
    case TR_EV_NOTE:
        if (l->attempt == 0 || cs_log_enabled(CS_LOG_DEBUG))
            log_warn("%s: %s", l->id, ev->msg);
        break;
    case TR_EV_DOWN:
        drop_conn(l);
        switch (ev->why) {
        case TR_DOWN_FAILED:
            x->st->connect_failures++;
            if (l->attempt == 0 || cs_log_enabled(CS_LOG_DEBUG))
                log_warn("%s: connect failed (code %d%s%s); retrying with backoff", l->id, ev->code,
                         *ev->msg ? ": " : "", ev->msg);
            if (l->released) {
                l->state = LINK_IDLE;
                l->env->on_event(l, LINK_EV_CLOSED, NULL, 0);
            } else {
                backoff(l);
            }
            break;
        case TR_DOWN_LOST:
            x->st->conn_lost++;
            l->lost++;
            log_debug("%s: connection lost: %s", l->id, ev->msg);
            if (l->released) {
                l->state = LINK_IDLE;
                l->env->on_event(l, LINK_EV_CLOSED, NULL, 0);
                break;
            }
            backoff(l);
            l->env->on_event(l, LINK_EV_LOST, NULL, 0);
            break;
        case TR_DOWN_CLOSED:
            l->state = LINK_IDLE;
            if (l->storm && !l->released) {
                l->storm = false;
                connect_now(l); /* a storm: straight back, past the ramp */
            } else if (!l->released) {
                link_want(l); /* back through the ramp (disabled: stays down) */
            }
            l->env->on_event(l, LINK_EV_CLOSED, NULL, 0);
            break;
        }
        break;
    }
}

void link_init(struct link *l, const struct link_env *env, const char *id, uint32_t index)
{
    memset(l, 0, sizeof(*l));
    l->env = env;
    l->id = id;
    l->index = index;
    l->state = LINK_LOADING;
    l->retry_ev = evtimer_new(env->x->base, on_retry_timer, l);
}

void link_fini(struct link *l)
{
    unqueue(l);
    drop_conn(l);
    if (l->old) {
        l->old_tr->free(l->old);
        l->old = NULL;
    }
    if (l->retry_ev)
        event_free(l->retry_ev);
    l->retry_ev = NULL;
}

void link_start(struct link *l)
{
    if (l->state != LINK_LOADING)
        return;
    l->state = LINK_IDLE;
    link_want(l);
}

void link_want(struct link *l)
{
    unqueue(l);
    if (l->released)
        return;
    if (!cfg_of(l)->enabled) {
        l->state = LINK_DISABLED;
        return;
    }
    l->state = LINK_QUEUED;
    ramp_enqueue(l->env->ramp, &l->rn);
}

void link_on_token(struct ramp_node *n, void *privdata)
{
    (void)privdata;
    struct link *l = (struct link *)(void *)((char *)n - offsetof(struct link, rn));
    if (l->state == LINK_QUEUED)
        connect_now(l);
}

int link_send(struct link *l, enum tr_kind kind, const char *action, const char *frame, size_t len,
              struct cs_error *err)
{
    if (l->state != LINK_UP || !l->conn) {
        l->env->x->st->msgs_dropped++;
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", l->id,
                            link_state_name(l->state));
    }
    int rc = l->tr->send(l->conn, kind, action, frame, len, err);
    if (rc == CS_OK)
        l->sent++;
    return rc;
}

bool link_close(struct link *l, int timeout_ms)
{
    bool was_up = l->state == LINK_UP;
    unqueue(l);
    evtimer_del(l->retry_ev);
    if (l->conn && (l->state == LINK_UP || l->state == LINK_CONNECTING)) {
        l->state = LINK_CLOSING;
        l->tr->close(l->conn, timeout_ms);
        return was_up;
    }
    if (l->state == LINK_CLOSING)
        return false;
    /* Not connected: nothing to say goodbye to. */
    drop_conn(l);
    l->state = LINK_IDLE;
    link_want(l);
    return false;
}

bool link_drop(struct link *l, bool reconnect)
{
    bool was_up = l->state == LINK_UP;
    unqueue(l);
    evtimer_del(l->retry_ev);
    retire_conn(l);
    l->state = LINK_IDLE;
    if (reconnect)
        link_want(l);
    return was_up;
}

bool link_park(struct link *l)
{
    switch (l->state) {
    case LINK_UP:
    case LINK_CONNECTING:
    case LINK_QUEUED:
    case LINK_BACKOFF: {
        bool was_up = link_drop(l, false);
        l->parked = true;
        return was_up;
    }
    default:
        return false; /* loading, idle, closing, offline on purpose, disabled */
    }
}

void link_unpark(struct link *l)
{
    if (!l->parked)
        return;
    l->parked = false;
    if (l->state == LINK_IDLE && !l->released) {
        l->attempt = 0;
        link_want(l);
    }
}

bool link_offline(struct link *l)
{
    bool was_up = link_drop(l, false);
    l->state = LINK_OFFLINE;
    return was_up;
}

void link_online(struct link *l)
{
    if (l->state == LINK_OFFLINE || l->state == LINK_IDLE || l->state == LINK_BACKOFF) {
        evtimer_del(l->retry_ev);
        l->attempt = 0;
        link_want(l);
    }
}

int link_storm(struct link *l, bool *was_up, struct cs_error *err)
{
    *was_up = false;
    if (l->state != LINK_UP && l->state != LINK_BACKOFF && l->state != LINK_QUEUED)
        return cs_error_set(err, CS_ERR_NOOP, "%s: not connected (%s)", l->id,
                            link_state_name(l->state));
    l->attempt = 0;
    if (l->state == LINK_UP) {
        /* The old session ends before the new one starts (no client ID twice at the broker):
         * the reconnect follows its close, without a ramp token. */
        l->storm = true;
        *was_up = link_close(l, 0);
        return CS_OK;
    }
    link_drop(l, false);
    connect_now(l); /* everyone selected at once */
    return CS_OK;
}

bool link_release(struct link *l, int timeout_ms)
{
    l->released = true;
    unqueue(l);
    evtimer_del(l->retry_ev);
    if (l->state == LINK_UP || (l->state == LINK_CONNECTING && l->conn)) {
        link_close(l, timeout_ms);
        return true;
    }
    if (l->old) {
        l->state = LINK_CLOSING; /* the given-up connect's end is the release's (old_gone) */
        return true;
    }
    return l->state == LINK_CLOSING;
}
