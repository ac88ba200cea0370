/* tr_paho.c - the MQTT transport on paho's MQTTAsync (transport.h).
 *
 * paho runs its own threads. Its callbacks (tr_paho_cb.c) only copy what arrived into an inbox
 * item and wake the loop (inbox.h); the loop turns items into events here. A callback names its
 * connection by a cookie (table index and generation), never by a pointer, so a late one is
 * recognised.
 *
 * paho may still be inside a callback for a client when the loop learns that the client is
 * done (connection lost, connect failed, disconnected): destroying the handle then frees memory
 * paho is about to touch. So a connection its owner frees becomes an orphan: it stays in the
 * table, is disconnected if it is (or becomes) connected, and its handle is destroyed only
 * after paho has had nothing to say about it for ORPHAN_GRACE_MS. A free while connected says
 * DISCONNECT with no wait (paho has no way to drop a socket silently).
 *
 * A close ends (TR_EV_DOWN) only when paho has closed the socket, never before: the link opens
 * the charger's next connection right after it, and a second session with the same client ID
 * makes the broker kick one of them. paho may be late with a DISCONNECT (its own timeout runs
 * on its thread's turns, which a busy broker stretches past ours): a close not confirmed by its
 * deadline gets CLOSE_WAIT_MS more; after that, once paho has been quiet for ORPHAN_GRACE_MS,
 * the handle is destroyed (which closes the socket) and the close ends. A close asked while
 * connecting waits for the connect to resolve, by the connect timeout. [loop] unless marked. */
#include <string.h>

#include <MQTTAsync.h>
#include <event2/event.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "cs/util.h"
#include "inbox.h"
#include "outq.h"
#include "tr_paho_int.h"
#include "ctx.h"
#include "transport.h"

#define MAX_INFLIGHT 2       /* publishes awaiting completion per connection */
#define PAHO_MAX_BUFFERED 10 /* paho's own window (maxInflight, maxBufferedMessages) */
#define ORPHAN_GRACE_MS 3000
#define SWEEP_MS 1000
#define CLOSE_SLACK_MS 1000 /* a DISCONNECT is due this long after its timeout */
#define CLOSE_WAIT_MS 5000  /* then waited for this much longer before the handle is destroyed */

enum pc_state { PC_CONNECTING, PC_UP, PC_CLOSING, PC_DOWN };

struct paho;

struct tr_conn {
    struct paho *p;
    MQTTAsync h;
    uint32_t idx, gen;
    enum pc_state state;
    bool close_asked; /* tr_close while connecting: close once up */
    int close_timeout_ms;
    bool close_now;  /* paho refused the DISCONNECT: nothing to wait for */
    bool close_late; /* the close's deadline passed once: CLOSE_WAIT_MS more */
    bool orphan;
    int64_t quiet_ms; /* last sign of life from paho for this connection */
    struct tr_conn *onext, *oprev;
    tr_event_fn *fn;
    void *owner;
    char *client_id, *username, *password;
    char *tls_ca, *tls_cert, *tls_key, *tls_key_password;
    bool tls, tls_verify;
    int keepalive_s, connect_timeout_s, qos;
    bool clean_session;
    char *topic_up, *topic_reply, *topic_down;
    struct outq q;
    struct {
        int token;
        int64_t t_us;
    } infl[MAX_INFLIGHT];
    int ninfl;
    struct event *close_ev;
};

struct paho {
    struct transport t; /* first: the interface */
    struct event_base *base;
    struct inbox *inbox;
    struct tr_stats st;
    struct tr_conn **tab;
    uint32_t cap, used;
    uint32_t *free_idx;
    uint32_t nfree;
    uint32_t gen;
    struct tr_conn orphans; /* sentinel of a circular list */
    size_t norphans;
    struct event *sweep_ev;
};

/* ---- the connection table -------------------------------------------------------------------- */

static uint64_t cookie_of(const struct tr_conn *c)
{
    return (uint64_t)c->idx << 32 | c->gen;
}

static struct tr_conn *lookup(struct paho *p, uint64_t cookie)
{
    uint32_t idx = (uint32_t)(cookie >> 32), gen = (uint32_t)cookie;
    if (idx >= p->cap || !p->tab[idx] || p->tab[idx]->gen != gen)
        return NULL;
    return p->tab[idx];
}

static void table_add(struct paho *p, struct tr_conn *c)
{
    if (!p->nfree) {
        uint32_t ncap = p->cap ? p->cap * 2 : 64;
        p->tab = cs_realloc(p->tab, ncap * sizeof(*p->tab));
        p->free_idx = cs_realloc(p->free_idx, ncap * sizeof(*p->free_idx));
        for (uint32_t i = ncap; i-- > p->cap;) {
            p->tab[i] = NULL;
            p->free_idx[p->nfree++] = i;
        }
        p->cap = ncap;
    }
    c->idx = p->free_idx[--p->nfree];
    if (++p->gen == 0)
        p->gen = 1;
    c->gen = p->gen;
    p->tab[c->idx] = c;
    p->used++;
}

static void conn_destroy(struct tr_conn *c)
{
    struct paho *p = c->p;
    p->tab[c->idx] = NULL;
    p->free_idx[p->nfree++] = c->idx;
    p->used--;
    if (c->h)
        MQTTAsync_destroy(&c->h);
    p->st.msgs_dropped[0] += outq_free(&c->q);
    if (c->close_ev)
        event_free(c->close_ev);
    cs_free(c->client_id);
    cs_free(c->username);
    cs_free(c->password);
    cs_free(c->tls_ca);
    cs_free(c->tls_cert);
    cs_free(c->tls_key);
    cs_free(c->tls_key_password);
    cs_free(c->topic_up);
    cs_free(c->topic_reply);
    cs_free(c->topic_down);
    cs_free(c);
}

/* ---- events ---------------------------------------------------------------------------------- */

static void emit(struct tr_conn *c, enum tr_ev_type type, enum tr_down why, int code,
                 const char *msg, const char *data, size_t len)
{
    struct tr_event ev = {type, why, code, msg ? msg : "", data, len};
    c->fn(c->owner, &ev);
}

static void go_down(struct tr_conn *c, enum tr_down why, int code, const char *msg)
{
    c->state = PC_DOWN;
    c->ninfl = 0;
    c->p->st.msgs_dropped[0] += outq_clear(&c->q);
    if (c->close_ev)
        evtimer_del(c->close_ev);
    emit(c, TR_EV_DOWN, why, code, msg, NULL, 0);
}

static int publish_one(struct tr_conn *c, const struct outmsg *m, int *token)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    msg.payload = m->data;
    msg.payloadlen = (int)m->len;
    msg.qos = c->qos;
    msg.retained = 0;
    ro.onSuccess = on_paho_sent;
    ro.onFailure = on_paho_send_failed;
    ro.context = cookie_ptr(cookie_of(c));
    int rc = MQTTAsync_sendMessage(c->h, m->dst, &msg, &ro);
    *token = ro.token;
    return rc == MQTTASYNC_SUCCESS ? CS_OK : CS_ERR_IO;
}

/* Hands queued frames to paho, at most MAX_INFLIGHT awaiting completion (all when flushing
 * before a DISCONNECT: they go out ahead of it). */
static void pump(struct tr_conn *c, bool flush)
{
    struct paho *p = c->p;
    struct outmsg *m;
    while (c->state == PC_UP && (flush || c->ninfl < MAX_INFLIGHT) && (m = outq_peek(&c->q))) {
        int token = 0;
        if (publish_one(c, m, &token) == CS_OK) {
            p->st.msgs_out[0]++;
            if (c->ninfl < MAX_INFLIGHT) {
                c->infl[c->ninfl].token = token;
                c->infl[c->ninfl].t_us = cs_mono_us();
                c->ninfl++;
            }
        } else {
            p->st.publish_errors[0]++;
        }
        outq_pop(&c->q);
    }
}

static void on_ack(struct tr_conn *c, int token, bool ok)
{
    for (int i = 0; i < c->ninfl; i++) {
        if (c->infl[i].token != token)
            continue;
        if (ok)
            hist_add(c->p->st.ack_us, (uint64_t)(cs_mono_us() - c->infl[i].t_us));
        c->infl[i] = c->infl[--c->ninfl];
        break;
    }
    if (!ok)
        c->p->st.publish_errors[0]++;
    pump(c, false);
}

/* DISCONNECT, confirmed by a PE_DISCONNECTED event when asked; false when paho refuses (not
 * connected after all). */
static bool say_goodbye(struct tr_conn *c, int timeout_ms, bool confirm)
{
    if (!c->h)
        return false; /* destroyed by a close paho never confirmed */
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = timeout_ms;
    if (confirm) {
        d.onSuccess = on_paho_disconnected;
        d.onFailure = on_paho_disconnect_failed;
    }
    d.context = cookie_ptr(cookie_of(c));
    return MQTTAsync_disconnect(c->h, &d) == MQTTASYNC_SUCCESS;
}

static void start_close(struct tr_conn *c)
{
    pump(c, true);
    c->state = PC_CLOSING;
    if (!say_goodbye(c, c->close_timeout_ms, true)) {
        struct timeval now = {0, 0}; /* nothing to wait for */
        c->close_now = true;
        evtimer_add(c->close_ev, &now);
    }
}

/* An orphan: tear down whatever paho still does for it; quiet for long enough, it goes. */
static void orphan_event(struct tr_conn *c, enum paho_ev type)
{
    c->quiet_ms = cs_mono_ms();
    switch (type) {
    case PE_CONNECTED:
        c->state = say_goodbye(c, 0, true) ? PC_CLOSING : PC_DOWN;
        break;
    case PE_CONNECT_FAILED:
    case PE_LOST:
    case PE_DISCONNECTED:
        c->state = PC_DOWN;
        break;
    default:
        break;
    }
}

static void on_event(struct paho *p, const struct wire *w, const char *payload, const char *msg)
{
    struct tr_conn *c = lookup(p, w->cookie);
    if (!c)
        return;
    c->quiet_ms = cs_mono_ms();
    if (c->orphan) {
        orphan_event(c, w->type);
        return;
    }
    switch (w->type) {
    case PE_CONNECTED: {
        if (c->state != PC_CONNECTING)
            break;
        c->state = PC_UP;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.onSuccess = on_paho_subscribed;
        ro.onFailure = on_paho_subscribe_failed;
        ro.context = cookie_ptr(cookie_of(c));
        if (MQTTAsync_subscribe(c->h, c->topic_down, 1, &ro) != MQTTASYNC_SUCCESS)
            emit(c, TR_EV_NOTE, 0, 0, "cannot subscribe to its downlink topic", NULL, 0);
        if (c->close_asked) {
            ctx_arm(c->close_ev, (int64_t)c->close_timeout_ms + CLOSE_SLACK_MS);
            start_close(c);
            break;
        }
        emit(c, TR_EV_UP, 0, 0, NULL, NULL, 0);
        if (!c->orphan)
            pump(c, false);
        break;
    }
    case PE_CONNECT_FAILED:
        if (c->state == PC_CONNECTING || c->state == PC_CLOSING)
            go_down(c, c->close_asked ? TR_DOWN_CLOSED : TR_DOWN_FAILED, w->code, msg);
        break;
    case PE_TLS_ERROR: {
        char note[300];
        snprintf(note, sizeof(note), "TLS: %s", msg);
        emit(c, TR_EV_NOTE, 0, 0, note, NULL, 0);
        break;
    }
    case PE_LOST:
        if (c->state == PC_UP)
            go_down(c, TR_DOWN_LOST, w->code, msg);
        else if (c->state == PC_CLOSING)
            go_down(c, TR_DOWN_CLOSED, w->code, msg);
        break;
    case PE_DISCONNECTED:
        if (c->state == PC_CLOSING)
            go_down(c, TR_DOWN_CLOSED, w->code, msg);
        break;
    case PE_SENT:
        on_ack(c, w->token, true);
        break;
    case PE_SEND_FAILED:
        on_ack(c, w->token, false);
        break;
    case PE_MESSAGE:
        if (c->state == PC_UP)
            emit(c, TR_EV_FRAME, 0, 0, NULL, payload, w->payload_len);
        break;
    case PE_SUBSCRIBE_FAILED: {
        char note[160];
        snprintf(note, sizeof(note), "subscription to its downlink topic failed: %s",
                 *msg ? msg : "refused");
        emit(c, TR_EV_NOTE, 0, w->code, note, NULL, 0);
        break;
    }
    }
}

/* [loop] */
static void on_inbox(struct inbox_item *first, void *privdata)
{
    struct paho *p = privdata;
    for (struct inbox_item *it = first, *next; it; it = next) {
        next = it->next;
        const struct wire *w = (const struct wire *)it->data;
        const char *payload = it->data + sizeof(*w);
        on_event(p, w, payload, payload + w->payload_len + 1);
        inbox_item_free(it);
    }
}

/* The deadline of a close: a DISCONNECT paho has not confirmed, a connect that has not
 * resolved, or a close of something that was not connected. */
static void on_close_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct tr_conn *c = privdata;
    if (c->orphan || c->state == PC_DOWN)
        return;
    if (c->close_now) {
        go_down(c, TR_DOWN_CLOSED, 0, "");
        return;
    }
    if (!c->close_late) {
        c->close_late = true;
        ctx_arm(c->close_ev, CLOSE_WAIT_MS);
        return;
    }
    int64_t quiet = cs_mono_ms() - c->quiet_ms;
    if (quiet < ORPHAN_GRACE_MS) {
        ctx_arm(c->close_ev, ORPHAN_GRACE_MS - quiet);
        return;
    }
    /* paho has had nothing to say for long enough: destroying the handle closes its socket,
     * before the charger's next connection can open. */
    bool connecting = c->state == PC_CONNECTING;
    MQTTAsync_destroy(&c->h);
    c->h = NULL;
    go_down(c, TR_DOWN_CLOSED, 0,
            connecting ? "the connect never resolved: dropped"
                       : "disconnect not confirmed: dropped");
}

static void on_sweep(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct paho *p = privdata;
    int64_t now = cs_mono_ms();
    for (struct tr_conn *c = p->orphans.onext, *next; c != &p->orphans; c = next) {
        next = c->onext;
        if (c->state != PC_DOWN || now - c->quiet_ms < ORPHAN_GRACE_MS)
            continue;
        c->oprev->onext = c->onext;
        c->onext->oprev = c->oprev;
        p->norphans--;
        conn_destroy(c);
    }
    if (p->norphans) {
        struct timeval tv = {SWEEP_MS / 1000, (SWEEP_MS % 1000) * 1000};
        evtimer_add(p->sweep_ev, &tv);
    }
}

/* ---- the interface ------------------------------------------------------------------------- */

static char *dup_opt(const char *s)
{
    return s && *s ? cs_strdup(s) : NULL;
}

/* paho spells mqtt:// and mqtts:// as tcp:// and ssl://. */
static void paho_uri(const char *uri, char *out, size_t n)
{
    if (strncmp(uri, "mqtt://", 7) == 0)
        snprintf(out, n, "tcp://%s", uri + 7);
    else if (strncmp(uri, "mqtts://", 8) == 0)
        snprintf(out, n, "ssl://%s", uri + 8);
    else
        snprintf(out, n, "%s", uri);
}

static struct tr_conn *paho_open(struct transport *t, const struct tr_opts *o, tr_event_fn *fn,
                                 void *owner, struct cs_error *err)
{
    struct paho *p = (struct paho *)t;
    char uri[600];
    paho_uri(o->uri, uri, sizeof(uri));
    struct tr_conn *c = cs_calloc(1, sizeof(*c));
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.sendWhileDisconnected = 0;
    co.maxBufferedMessages = PAHO_MAX_BUFFERED;
    int rc = MQTTAsync_createWithOptions(&c->h, uri, o->client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        cs_error_set(err, CS_ERR_INVAL, "mqtt: cannot create client %s for %s: %s", o->client_id,
                     o->uri, MQTTAsync_strerror(rc));
        cs_free(c);
        return NULL;
    }
    c->p = p;
    c->fn = fn;
    c->owner = owner;
    c->client_id = cs_strdup(o->client_id);
    c->username = dup_opt(o->username);
    c->password = dup_opt(o->password);
    c->tls = strncmp(uri, "ssl://", 6) == 0;
    c->tls_ca = dup_opt(o->tls_ca);
    c->tls_cert = dup_opt(o->tls_cert);
    c->tls_key = dup_opt(o->tls_key);
    c->tls_key_password = dup_opt(o->tls_key_password);
    c->tls_verify = o->tls_verify;
    c->keepalive_s = o->keepalive_s;
    c->clean_session = o->clean_session;
    c->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 15;
    c->qos = o->qos;
    c->topic_up = cs_strdup(o->topic_up);
    c->topic_reply = cs_strdup(o->topic_reply);
    c->topic_down = cs_strdup(o->topic_down);
    c->close_ev = evtimer_new(p->base, on_close_timer, c);
    c->quiet_ms = cs_mono_ms();
    table_add(p, c);
    MQTTAsync_setCallbacks(c->h, cookie_ptr(cookie_of(c)), on_paho_lost, on_paho_message, NULL);

    MQTTAsync_connectOptions cn = MQTTAsync_connectOptions_initializer;
    cn.keepAliveInterval = c->keepalive_s;
    cn.cleansession = c->clean_session;
    cn.maxInflight = PAHO_MAX_BUFFERED;
    cn.connectTimeout = c->connect_timeout_s;
    cn.username = c->username;
    cn.password = c->password;
    cn.automaticReconnect =
        0; /* reconnects are the link's: paced by the ramp, gated by the lease */
    cn.MQTTVersion = MQTTVERSION_3_1_1;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    if (c->tls) {
        ssl.trustStore = c->tls_ca;
        ssl.keyStore = c->tls_cert;
        ssl.privateKey = c->tls_key;
        ssl.privateKeyPassword = c->tls_key_password;
        ssl.enableServerCertAuth = c->tls_verify;
        ssl.verify = c->tls_verify;                /* the host name, after the handshake */
        ssl.sslVersion = MQTT_SSL_VERSION_DEFAULT; /* OpenSSL's: TLS 1.2 or newer */
        ssl.ssl_error_cb = on_paho_ssl_error;
        ssl.ssl_error_context = cookie_ptr(cookie_of(c));
        cn.ssl = &ssl;
    }
    cn.onSuccess = on_paho_connected;
    cn.onFailure = on_paho_connect_failed;
    cn.context = cookie_ptr(cookie_of(c));
    if (MQTTAsync_connect(c->h, &cn) != MQTTASYNC_SUCCESS) {
        cs_error_set(err, CS_ERR_IO, "mqtt: connect to %s refused by the library", o->uri);
        conn_destroy(c); /* nothing started: paho has nothing to call back */
        return NULL;
    }
    c->state = PC_CONNECTING;
    return c;
}

/* A topic template with "\x01" for the action. */
static char *render_topic(const char *tmpl, const char *action)
{
    struct buf b = BUF_INIT;
    for (const char *s = tmpl; *s; s++) {
        if (*s == '\x01')
            buf_puts(&b, action);
        else
            buf_putc(&b, *s);
    }
    return buf_detach(&b);
}

static int paho_send(struct tr_conn *c, enum tr_kind kind, const char *action, const char *frame,
                     size_t len, struct cs_error *err)
{
    if (c->state != PC_UP) {
        c->p->st.msgs_dropped[0]++;
        return cs_error_set(err, CS_ERR_STATE, "not connected");
    }
    char resp[80];
    const char *msg = action;
    if (kind == TR_ANSWER) {
        snprintf(resp, sizeof(resp), "%sResponse", action && *action ? action : "Unknown");
        msg = resp;
    }
    char *topic = render_topic(kind == TR_CALL ? c->topic_up : c->topic_reply, msg);
    if (!outq_push(&c->q, topic, cs_strndup(frame, len), len)) {
        c->p->st.msgs_dropped[0]++;
        return cs_error_set(err, CS_ERR_TOO_BIG, "send queue full (%d frames waiting)", OUTQ_CAP);
    }
    pump(c, false);
    return CS_OK;
}

static void paho_close(struct tr_conn *c, int timeout_ms)
{
    c->close_timeout_ms = timeout_ms;
    switch (c->state) {
    case PC_UP:
        ctx_arm(c->close_ev, (int64_t)timeout_ms + CLOSE_SLACK_MS);
        start_close(c);
        break;
    case PC_CONNECTING:
        /* The connect resolves first (paho's connect timeout), then goodbye. */
        c->close_asked = true;
        ctx_arm(c->close_ev, (int64_t)c->connect_timeout_s * 1000 + timeout_ms + CLOSE_SLACK_MS);
        break;
    case PC_CLOSING:
        break;
    case PC_DOWN:
        break; /* its end was told */
    }
}

static void paho_free(struct tr_conn *c)
{
    if (!c)
        return;
    struct paho *p = c->p;
    c->fn = NULL;
    c->owner = NULL;
    c->orphan = true;
    c->quiet_ms = cs_mono_ms();
    p->st.msgs_dropped[0] += outq_clear(&c->q);
    evtimer_del(c->close_ev);
    if (c->state == PC_UP || c->state == PC_CLOSING)
        c->state = say_goodbye(c, 0, true) ? PC_CLOSING : PC_DOWN;
    c->onext = &p->orphans;
    c->oprev = p->orphans.oprev;
    p->orphans.oprev->onext = c;
    p->orphans.oprev = c;
    if (p->norphans++ == 0) {
        struct timeval tv = {SWEEP_MS / 1000, (SWEEP_MS % 1000) * 1000};
        evtimer_add(p->sweep_ev, &tv);
    }
}

static void paho_destroy(struct transport *t)
{
    struct paho *p = (struct paho *)t;
    if (!p)
        return;
    for (uint32_t i = 0; i < p->cap; i++)
        if (p->tab[i])
            conn_destroy(p->tab[i]);
    inbox_free(p->inbox);
    g_paho_inbox = NULL;
    event_free(p->sweep_ev);
    cs_free(p->tab);
    cs_free(p->free_idx);
    cs_free(p);
}

struct transport *tr_paho_new(struct event_base *base, const struct tr_stats *st)
{
    struct paho *p = cs_calloc(1, sizeof(*p));
    p->t = (struct transport){"paho", paho_open, paho_send, paho_close, paho_free, paho_destroy};
    p->base = base;
    p->st = *st;
    p->orphans.onext = p->orphans.oprev = &p->orphans;
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    init.do_openssl_init = 1;
    MQTTAsync_global_init(&init);
    p->inbox = inbox_new(base, on_inbox, p);
    if (!p->inbox) {
        cs_free(p);
        return NULL;
    }
    g_paho_inbox = p->inbox;
    p->sweep_ev = evtimer_new(base, on_sweep, p);
    if (cs_log_enabled(CS_LOG_DEBUG)) {
        MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
        MQTTAsync_setTraceCallback(on_paho_trace);
    }
    return &p->t;
}
