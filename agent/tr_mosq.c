/* tr_mosq.c - the MQTT transport on libmosquitto, driven by the worker's own loop (transport.h).
 *
 * No thread of its own: each connection's socket has a read event (always on) and a write event
 * (on while libmosquitto has bytes to send), and a timer for keepalive, the connect deadline and
 * the close deadline. A received packet costs only the socket it arrived on.
 *
 * libmosquitto calls back from inside mosquitto_loop_read/write/misc and, when it writes at
 * once, from inside mosquitto_publish and mosquitto_disconnect. So:
 *   - UP, FRAME and NOTE are only ever produced by a read, which only happens from the loop (a
 *     socket event): they go to the owner at once, inside the library's callback;
 *   - the end of a connection is kept (down_*) and told after the library returns: at once from
 *     a socket event or a timer, or on the next loop turn (the timer at zero) when it ended inside
 *     tr_send/tr_close;
 *   - an owner that frees its connection while the library is on the stack (busy) only marks it;
 *     the connection is destroyed once the library has returned.
 * A free drops the socket at once, as a network loss would (no DISCONNECT). [loop] throughout. */
#include <errno.h>
#include <string.h>

#include <event2/event.h>
#include <mosquitto.h>

#include "cs/cfg.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/util.h"
#include "nopair.h"
#include "outq.h"
#include "ctx.h"
#include "transport.h"

#define DOWN_MSG_MAX 200
#define LAST_ERROR_MAX 160
#define MAX_INFLIGHT 2      /* publishes awaiting completion per connection (as the paho one) */
#define CLOSE_SLACK_MS 1000 /* a DISCONNECT never written ends this long after its timeout */
#define SUBACK_FAILURE 0x80

enum mc_state { MC_CONNECTING, MC_UP, MC_CLOSING, MC_DOWN };

struct mosq;

struct tr_conn {
    struct mosq *t;
    struct mosquitto *m; /* NULL once the library's handle is gone */
    enum mc_state state;
    tr_event_fn *fn;
    void *owner;
    int busy;         /* libmosquitto is on the stack for this connection */
    bool dead;        /* freed by its owner while busy */
    bool close_asked; /* tr_close while connecting: close once up */
    bool tls;
    int qos;
    int tick_ms;          /* keepalive check period while up */
    int64_t deadline_ms;  /* connect or close deadline, 0 = none */
    int close_timeout_ms; /* asked while connecting */
    char *topic_up, *topic_reply, *topic_down;
    char *tls_key_password;
    struct outq q;
    struct {
        int mid;
        int64_t t_us;
    } infl[MAX_INFLIGHT];
    int ninfl;
    bool in_publish; /* a publish under way: its completion may come before its mid is known */
    bool acked_inside;
    struct event *rd, *wr, *tick;
    bool wr_on;
    /* An end waiting to be told. */
    bool down_pending;
    enum tr_down down_why;
    int down_code;
    char *down_msg;   /* DOWN_MSG_MAX; allocated when one is kept (rare: not per charger) */
    char *last_error; /* the library's last error log line (TLS handshakes), LAST_ERROR_MAX */
};

struct mosq {
    struct transport t; /* first: the interface */
    struct event_base *base;
    struct tr_stats st;
};

/* ---- events ---------------------------------------------------------------------------------- */

static void emit(struct tr_conn *c, enum tr_ev_type type, enum tr_down why, int code,
                 const char *msg, const char *data, size_t len)
{
    if (!c->fn || c->dead)
        return;
    struct tr_event ev = {type, why, code, msg ? msg : "", data, len};
    c->fn(c->owner, &ev);
}

/* The socket is gone (closed by the library, or about to be with the handle): its events go
 * first, before the descriptor number can be reused. */
static void drop_events(struct tr_conn *c)
{
    if (c->rd)
        event_free(c->rd);
    if (c->wr)
        event_free(c->wr);
    c->rd = c->wr = NULL;
    c->wr_on = false;
}

static void drop_handle(struct tr_conn *c)
{
    drop_events(c);
    if (c->m) {
        mosquitto_destroy(c->m);
        c->m = NULL;
    }
}

/* *dst = a copy of s cut to max - 1 bytes (what the fixed buffers kept). */
static void set_text(char **dst, const char *s, size_t max)
{
    cs_free(*dst);
    *dst = cs_strndup(s, strnlen(s, max - 1));
}

/* Records the end; the first one counts. */
static void mark_down(struct tr_conn *c, enum tr_down why, int code, const char *msg)
{
    if (c->down_pending || c->state == MC_DOWN)
        return;
    c->down_pending = true;
    c->down_why = why;
    c->down_code = code;
    set_text(&c->down_msg, msg ? msg : "", DOWN_MSG_MAX);
    c->state = MC_DOWN;
}

/* Why a connection in its state ended, with the library's code. */
static void mark_ended(struct tr_conn *c, int rc)
{
    char msg[DOWN_MSG_MAX];
    const char *what = rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
    if (c->last_error)
        snprintf(msg, sizeof(msg), "%s (%s)", what, c->last_error);
    else
        snprintf(msg, sizeof(msg), "%s", what);
    enum tr_down why = c->state == MC_CLOSING || c->close_asked ? TR_DOWN_CLOSED
                       : c->state == MC_UP                      ? TR_DOWN_LOST
                                                                : TR_DOWN_FAILED;
    mark_down(c, why, rc, msg);
}

static void conn_destroy(struct tr_conn *c)
{
    drop_handle(c);
    c->t->st.msgs_dropped[0] += outq_free(&c->q);
    if (c->tick)
        event_free(c->tick);
    cs_free(c->topic_up);
    cs_free(c->topic_reply);
    cs_free(c->topic_down);
    cs_free(c->tls_key_password);
    cs_free(c->down_msg);
    cs_free(c->last_error);
    cs_free(c);
}

/* Tells a kept end (the connection may be freed by its owner inside). */
static void tell_down(struct tr_conn *c)
{
    c->down_pending = false;
    c->ninfl = 0;
    c->t->st.msgs_dropped[0] += outq_clear(&c->q);
    drop_handle(c);
    evtimer_del(c->tick);
    if (c->tls && c->last_error && c->down_why != TR_DOWN_CLOSED) {
        /* What OpenSSL said (a certificate that did not verify), as a note of its own. */
        char note[LAST_ERROR_MAX + 8];
        snprintf(note, sizeof(note), "TLS: %s", c->last_error);
        c->busy++;
        emit(c, TR_EV_NOTE, 0, 0, note, NULL, 0);
        c->busy--;
        if (c->dead) {
            conn_destroy(c);
            return;
        }
    }
    char msg[DOWN_MSG_MAX];
    snprintf(msg, sizeof(msg), "%s", c->down_msg ? c->down_msg : "");
    emit(c, TR_EV_DOWN, c->down_why, c->down_code, msg, NULL, 0);
}

/* ---- sending --------------------------------------------------------------------------------- */

static void pump(struct tr_conn *c, bool flush);

/* After the library returned: the write interest follows what it has to send; an end is told
 * (may_tell: from the loop; otherwise on the next turn); a connection its owner freed meanwhile
 * goes. */
static void settle(struct tr_conn *c, bool may_tell)
{
    if (c->busy)
        return;
    if (c->dead) {
        conn_destroy(c);
        return;
    }
    if (c->m && c->state != MC_DOWN && mosquitto_socket(c->m) < 0)
        mark_ended(c, MOSQ_ERR_NO_CONN);
    if (c->down_pending) {
        if (may_tell) {
            tell_down(c);
        } else {
            drop_events(c);
            ctx_arm(c->tick, 0);
        }
        return;
    }
    if (c->wr) {
        bool want = mosquitto_want_write(c->m);
        if (want && !c->wr_on)
            event_add(c->wr, NULL);
        else if (!want && c->wr_on)
            event_del(c->wr);
        c->wr_on = want;
    }
}

static void publish_one(struct tr_conn *c, const struct outmsg *m, bool track)
{
    struct mosq *t = c->t;
    int mid = 0;
    int64_t t_us = cs_mono_us();
    c->acked_inside = false;
    c->in_publish = true;
    c->busy++;
    int rc = mosquitto_publish(c->m, &mid, m->dst, (int)m->len, m->data, c->qos, false);
    c->busy--;
    c->in_publish = false;
    if (rc != MOSQ_ERR_SUCCESS) {
        t->st.publish_errors[0]++;
        return;
    }
    t->st.msgs_out[0]++;
    if (c->acked_inside) /* QoS 0 written at once: complete already */
        hist_add(t->st.ack_us, (uint64_t)(cs_mono_us() - t_us));
    else if (track && c->ninfl < MAX_INFLIGHT) {
        c->infl[c->ninfl].mid = mid;
        c->infl[c->ninfl].t_us = t_us;
        c->ninfl++;
    }
}

/* Hands queued frames to the library, at most MAX_INFLIGHT awaiting completion (all of them
 * when flushing before a DISCONNECT: they go out ahead of it). */
static void pump(struct tr_conn *c, bool flush)
{
    struct outmsg *m;
    while (c->state == MC_UP && c->m && (flush || c->ninfl < MAX_INFLIGHT) &&
           (m = outq_peek(&c->q))) {
        publish_one(c, m, !flush);
        outq_pop(&c->q);
    }
}

static void start_close(struct tr_conn *c)
{
    pump(c, true);
    c->state = MC_CLOSING;
    c->busy++;
    int rc = mosquitto_disconnect(c->m);
    c->busy--;
    if (rc != MOSQ_ERR_SUCCESS && c->state == MC_CLOSING)
        mark_down(c, TR_DOWN_CLOSED, rc, mosquitto_strerror(rc));
}

/* ---- the library's callbacks (inside mosquitto_* calls) ------------------------------------- */

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    struct tr_conn *c = ud;
    if (c->state != MC_CONNECTING)
        return;
    if (rc != 0) {
        mark_down(c, TR_DOWN_FAILED, rc, mosquitto_connack_string(rc));
        return;
    }
    c->state = MC_UP;
    c->deadline_ms = 0;
    ctx_arm_shared(c->tick, c->tick_ms);
    if (mosquitto_subscribe(m, NULL, c->topic_down, 1) != MOSQ_ERR_SUCCESS)
        emit(c, TR_EV_NOTE, 0, 0, "cannot subscribe to its downlink topic", NULL, 0);
    if (c->close_asked) {
        c->deadline_ms = cs_mono_ms() + c->close_timeout_ms + CLOSE_SLACK_MS;
        ctx_arm(c->tick, c->close_timeout_ms + CLOSE_SLACK_MS);
        start_close(c);
        return;
    }
    emit(c, TR_EV_UP, 0, 0, NULL, NULL, 0);
    if (!c->dead)
        pump(c, false);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    struct tr_conn *c = ud;
    drop_events(c); /* the library closed the socket */
    if (c->state == MC_CLOSING && rc == MOSQ_ERR_SUCCESS)
        mark_down(c, TR_DOWN_CLOSED, 0, "");
    else
        mark_ended(c, rc ? rc : MOSQ_ERR_CONN_LOST);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    struct tr_conn *c = ud;
    if (c->state == MC_UP && msg->payloadlen >= 0)
        emit(c, TR_EV_FRAME, 0, 0, NULL, msg->payload, (size_t)msg->payloadlen);
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    (void)m;
    struct tr_conn *c = ud;
    for (int i = 0; i < c->ninfl; i++) {
        if (c->infl[i].mid != mid)
            continue;
        hist_add(c->t->st.ack_us, (uint64_t)(cs_mono_us() - c->infl[i].t_us));
        c->infl[i] = c->infl[--c->ninfl];
        return;
    }
    if (c->in_publish)
        c->acked_inside = true;
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
    (void)m;
    (void)mid;
    struct tr_conn *c = ud;
    if (n >= 1 && granted[0] == SUBACK_FAILURE)
        emit(c, TR_EV_NOTE, 0, SUBACK_FAILURE,
             "subscription to its downlink topic failed: refused by the broker", NULL, 0);
}

/* The library's own words on a failure (a TLS handshake that failed, say) end up in the DOWN
 * event's message. */
static void on_log(struct mosquitto *m, void *ud, int level, const char *str)
{
    (void)m;
    struct tr_conn *c = ud;
    if (level & MOSQ_LOG_ERR)
        set_text(&c->last_error, str, LAST_ERROR_MAX);
}

static int on_key_password(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    struct tr_conn *c = mosquitto_userdata(userdata);
    if (!c || !c->tls_key_password || size <= 0)
        return 0;
    int n = (int)strlen(c->tls_key_password);
    if (n >= size)
        n = size - 1;
    memcpy(buf, c->tls_key_password, (size_t)n);
    buf[n] = '\0';
    return n;
}

/* ---- the loop's side ------------------------------------------------------------------------- */

static void on_io(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    struct tr_conn *c = privdata;
    int rc = MOSQ_ERR_SUCCESS;
    if (what & EV_WRITE)
        c->wr_on = false; /* the write event is one-shot: it has fired */
    c->busy++;
    /* A TLS handshake moves on in the read call, whichever way the socket became ready. */
    if ((what & EV_READ) || (c->tls && c->state == MC_CONNECTING))
        rc = mosquitto_loop_read(c->m, 1);
    if (rc == MOSQ_ERR_SUCCESS && (what & EV_WRITE) && c->m && c->rd && !c->dead)
        rc = mosquitto_loop_write(c->m, 1);
    c->busy--;
    if (!c->dead && rc != MOSQ_ERR_SUCCESS && c->state != MC_DOWN)
        mark_ended(c, rc); /* some failures (a TLS handshake) return without a callback */
    if (!c->dead && c->state == MC_UP)
        pump(c, false);
    settle(c, true);
}

static void on_tick(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct tr_conn *c = privdata;
    if (c->down_pending) {
        tell_down(c);
        return;
    }
    int64_t now = cs_mono_ms();
    if (c->deadline_ms && now >= c->deadline_ms && c->state != MC_DOWN) {
        if (c->state == MC_CLOSING)
            mark_down(c, TR_DOWN_CLOSED, 0, "disconnect not confirmed");
        else
            mark_down(c, c->close_asked ? TR_DOWN_CLOSED : TR_DOWN_FAILED, 0,
                      c->last_error ? c->last_error : "connect timed out");
        tell_down(c);
        return;
    }
    if (c->state == MC_UP && c->m) {
        c->busy++;
        int rc = mosquitto_loop_misc(c->m); /* PINGREQ when due; a broker gone silent ends it */
        c->busy--;
        if (rc != MOSQ_ERR_SUCCESS && c->state == MC_UP && !c->dead)
            mark_ended(c, rc);
        settle(c, true);
        if (c->dead || c->state == MC_DOWN)
            return;
    }
    if (c->state == MC_UP)
        ctx_arm_shared(c->tick, c->tick_ms);
    else if (c->deadline_ms)
        ctx_arm(c->tick, c->deadline_ms - now);
}

/* ---- the interface --------------------------------------------------------------------------- */

static char *dup_opt(const char *s)
{
    return s && *s ? cs_strdup(s) : NULL;
}

static int setup_tls(struct tr_conn *c, const struct tr_opts *o, struct cs_error *err)
{
    const char *cert = o->tls_cert && *o->tls_cert ? o->tls_cert : NULL;
    const char *key = o->tls_key && *o->tls_key ? o->tls_key : NULL;
    const char *ca = o->tls_ca && *o->tls_ca ? o->tls_ca : NULL;
    int rc;
    if (ca || cert) {
        rc = mosquitto_tls_set(c->m, ca, ca ? NULL : "/etc/ssl/certs", cert, key, on_key_password);
    } else {
        rc = mosquitto_int_option(c->m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
    }
    if (rc == MOSQ_ERR_SUCCESS && !o->tls_verify) {
        rc = mosquitto_tls_opts_set(c->m, 0 /* SSL_VERIFY_NONE */, NULL, NULL);
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_tls_insecure_set(c->m, true);
    }
    if (rc != MOSQ_ERR_SUCCESS)
        return cs_error_set(err, CS_ERR_INVAL, "mqtt: TLS settings refused by libmosquitto: %s",
                            mosquitto_strerror(rc));
    return CS_OK;
}

static struct tr_conn *mosq_open(struct transport *tt, const struct tr_opts *o, tr_event_fn *fn,
                                 void *owner, struct cs_error *err)
{
    struct mosq *t = (struct mosq *)tt;
    struct cfg_broker b;
    if (cfg_broker_parse(o->uri, &b, err))
        return NULL;
    struct tr_conn *c = cs_calloc(1, sizeof(*c));
    c->t = t;
    c->fn = fn;
    c->owner = owner;
    c->tls = b.tls;
    c->qos = o->qos;
    int keepalive = o->keepalive_s < 5 ? 5 : o->keepalive_s;
    c->tick_ms = keepalive * 1000 / 4;
    c->topic_up = cs_strdup(o->topic_up);
    c->topic_reply = cs_strdup(o->topic_reply);
    c->topic_down = cs_strdup(o->topic_down);
    c->tls_key_password = dup_opt(o->tls_key_password);
    c->tick = evtimer_new(t->base, on_tick, c);
    nopair_begin();
    c->m = mosquitto_new(o->client_id, o->clean_session, c);
    nopair_end();
    if (!c->m) {
        cs_error_set(err, CS_ERR_INVAL, "mqtt: cannot create client %s: %s", o->client_id,
                     strerror(errno));
        conn_destroy(c);
        return NULL;
    }
    mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    /* A CALL goes out when it is made: Nagle would hold it for the previous one's ACK (about
     * 40 ms on a response time). */
    mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(c->m, on_connect);
    mosquitto_disconnect_callback_set(c->m, on_disconnect);
    mosquitto_message_callback_set(c->m, on_message);
    mosquitto_publish_callback_set(c->m, on_publish);
    mosquitto_subscribe_callback_set(c->m, on_subscribe);
    mosquitto_log_callback_set(c->m, on_log);
    if (o->username && *o->username &&
        mosquitto_username_pw_set(c->m, o->username,
                                  o->password && *o->password ? o->password : NULL)) {
        cs_error_set(err, CS_ERR_INVAL, "mqtt: user name refused by libmosquitto");
        conn_destroy(c);
        return NULL;
    }
    if (c->tls && setup_tls(c, o, err)) {
        conn_destroy(c);
        return NULL;
    }
    c->state = MC_CONNECTING;
    int connect_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 15;
    c->deadline_ms = cs_mono_ms() + connect_s * 1000;
    int rc = mosquitto_connect_async(c->m, b.host, b.port, keepalive);
    int fd = rc == MOSQ_ERR_SUCCESS ? mosquitto_socket(c->m) : -1;
    if (fd < 0) {
        /* Refused at once (nothing listens on loopback, say): told on the next turn, as an
         * asynchronous failure would be. */
        mark_ended(c, rc != MOSQ_ERR_SUCCESS ? rc : MOSQ_ERR_NO_CONN);
        ctx_arm(c->tick, 0);
        return c;
    }
    c->rd = event_new(t->base, fd, EV_READ | EV_PERSIST, on_io, c);
    c->wr = event_new(t->base, fd, EV_WRITE, on_io, c);
    event_add(c->rd, NULL);
    event_add(c->wr, NULL); /* the connect completes by becoming writable */
    c->wr_on = true;
    ctx_arm(c->tick, c->deadline_ms - cs_mono_ms());
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

static int mosq_send(struct tr_conn *c, enum tr_kind kind, const char *action, const char *frame,
                     size_t len, struct cs_error *err)
{
    if (c->state != MC_UP) {
        c->t->st.msgs_dropped[0]++;
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
        c->t->st.msgs_dropped[0]++;
        return cs_error_set(err, CS_ERR_TOO_BIG, "send queue full (%d frames waiting)", OUTQ_CAP);
    }
    pump(c, false);
    settle(c, false); /* inside this connection's callback: its socket event settles after */
    return CS_OK;
}

static void mosq_close(struct tr_conn *c, int timeout_ms)
{
    switch (c->state) {
    case MC_UP:
        c->deadline_ms = cs_mono_ms() + timeout_ms + CLOSE_SLACK_MS;
        ctx_arm(c->tick, timeout_ms + CLOSE_SLACK_MS);
        start_close(c);
        break;
    case MC_CONNECTING:
        /* The connect finishes first (by its own deadline), then goodbye: its CONNECT may be
         * in the broker's queue, and a socket dropped now could still be accepted after the
         * next connection's. */
        c->close_asked = true;
        c->close_timeout_ms = timeout_ms;
        break;
    case MC_CLOSING:
    case MC_DOWN:
        break; /* an end is under way, or was told */
    }
    settle(c, false);
}

static void mosq_free(struct tr_conn *c)
{
    if (!c)
        return;
    c->fn = NULL;
    c->owner = NULL;
    if (c->busy) {
        c->dead = true; /* destroyed once the library has returned */
        return;
    }
    conn_destroy(c);
}

static void mosq_destroy(struct transport *tt)
{
    cs_free(tt);
    mosquitto_lib_cleanup();
}

enum tr_mqtt tr_mqtt_of(const char *mqtt_client)
{
    return strcmp(mqtt_client, "mosquitto") == 0 ? TR_MOSQUITTO : TR_PAHO;
}

struct transport *tr_mosq_new(struct event_base *base, const struct tr_stats *st)
{
    if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
        return NULL;
    struct mosq *t = cs_calloc(1, sizeof(*t));
    t->t =
        (struct transport){"mosquitto", mosq_open, mosq_send, mosq_close, mosq_free, mosq_destroy};
    t->base = base;
    t->st = *st;
    return &t->t;
}
