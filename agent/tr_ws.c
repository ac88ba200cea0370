/* tr_ws.c - OCPP-J over WebSocket (RFC 6455, as OCPP 1.6 JSON uses it), driven by the worker's
 * own loop (transport.h).
 *
 * The framing is ours (common/src/wsframe.c: masking, fragments, control frames); the bytes move
 * through one libevent bufferevent per connection, a plain socket or OpenSSL's for wss://, and a
 * frame is read in place from its input buffer. No thread of its own: a received frame costs
 * only the socket it arrived on. (wslay was the first choice: its context holds two 4 KB buffers,
 * 8.8 KB per connection, which put a WebSocket charger far over an MQTT one: design-notes.md.)
 *
 * A connection goes: TCP (and TLS) connect -> the HTTP upgrade (GET PATH/IDENTITY, offering the
 * subprotocol, Basic auth when a user name is set) -> the 101 answer checked (accept key,
 * upgrade headers, the subprotocol chosen: a server that accepts without it is refused) -> up:
 * each OCPP-J frame is one text message; pings every ping interval, a server silent for two is
 * lost -> the close handshake (1000), or the socket's end.
 *
 * Bufferevents defer their callbacks to the loop, so no event reaches the owner inside tr_open,
 * tr_send, tr_close or tr_free. An owner that frees its connection from inside one of our
 * callbacks only marks it (dead); it is destroyed once we are off the stack (busy). The socket
 * is closed (the bufferevent freed) before TR_EV_DOWN is told. [loop] throughout. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/util.h"
#include "cs/wsframe.h"
#include "cs/wshs.h"
#include "ctx.h"
#include "transport.h"
#include "wstls.h"

#define UPGRADE_MAX 16384     /* bytes of the server's upgrade answer we read at most */
#define MSG_MAX (1024 * 1024) /* a received message longer than this ends the connection */
#define OUT_MAX (1024 * 1024) /* bytes waiting for the socket before a send is refused */
#define CLOSE_SLACK_MS 1000   /* a close handshake not answered ends this long after its timeout */

enum ws_state { WS_CONNECTING, WS_UPGRADING, WS_UP, WS_CLOSING, WS_DOWN };

struct ws;

struct tr_conn {
    struct ws *t;
    tr_event_fn *fn;
    void *owner;
    enum ws_state state;
    struct bufferevent *bev; /* NULL once the socket is closed */
    struct wsf_reader rx;
    struct event *tick;
    int busy;         /* one of our callbacks is on the stack for this connection */
    bool dead;        /* freed by its owner while busy */
    bool close_asked; /* tr_close while connecting: close once up */
    bool close_sent, close_received;
    /* A protocol error of the server's: our close frame says why, then the end is told. */
    bool failing;
    int fail_code;
    char fail_msg[160];
    int close_timeout_ms;
    bool tls;
    int64_t deadline_ms; /* connect, upgrade or close deadline; 0 = none */
    int ping_ms;
    int64_t last_rx_ms, next_ping_ms;
    char key[WSHS_KEY_LEN + 1]; /* Sec-WebSocket-Key we sent */
    char *request;              /* the upgrade request, written once connected */
    char *subprotocol;
    char *tls_key_password;
    /* An end waiting to be told. */
    bool down_pending;
    enum tr_down down_why;
    int down_code;
    char down_msg[200];
};

struct ws {
    struct transport t; /* first: the interface */
    struct event_base *base;
    struct tr_stats st;
    struct cs_rng rng; /* masking keys and Sec-WebSocket-Key */
    struct wstls *tls; /* wss:// sessions */
};

/* ---- telling the owner -------------------------------------------------------------------- */

static void conn_destroy(struct tr_conn *c);

/* Tells the owner; false when the connection is gone or going (freed from inside). */
static bool emit(struct tr_conn *c, enum tr_ev_type type, enum tr_down why, int code,
                 const char *msg, const char *data, size_t len)
{
    if (!c->fn || c->dead)
        return false;
    struct tr_event ev = {type, why, code, msg ? msg : "", data, len};
    c->busy++;
    c->fn(c->owner, &ev);
    c->busy--;
    return !c->dead;
}

/* Done with the stack: a connection freed meanwhile goes now. True when it is still there. */
static bool settle(struct tr_conn *c)
{
    if (c->busy || !c->dead)
        return !c->dead;
    conn_destroy(c);
    return false;
}

/* The socket goes (events first): nothing more of this connection reaches the server. */
static void drop_socket(struct tr_conn *c)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    wsf_reader_free(&c->rx);
}

static void conn_destroy(struct tr_conn *c)
{
    drop_socket(c);
    if (c->tick)
        event_free(c->tick);
    cs_free(c->request);
    cs_free(c->subprotocol);
    cs_free(c->tls_key_password);
    cs_free(c);
}

/* Records the end (the first one counts), closes the socket, and tells it on the next turn. */
static void mark_down(struct tr_conn *c, enum tr_down why, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void mark_down(struct tr_conn *c, enum tr_down why, int code, const char *fmt, ...)
{
    if (c->down_pending || c->state == WS_DOWN)
        return;
    c->down_pending = true;
    c->down_why = why;
    c->down_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->down_msg, sizeof(c->down_msg), fmt, ap);
    va_end(ap);
    c->state = WS_DOWN;
    drop_socket(c);
    ctx_arm(c->tick, 0);
}

/* An end, as the state it happened in makes it. */
static void mark_ended(struct tr_conn *c, int code, const char *what)
{
    switch (c->state) {
    case WS_CONNECTING:
    case WS_UPGRADING:
        mark_down(c, c->close_asked ? TR_DOWN_CLOSED : TR_DOWN_FAILED, code, "%s", what);
        break;
    case WS_UP:
        mark_down(c, TR_DOWN_LOST, code, "%s", what);
        break;
    case WS_CLOSING:
        mark_down(c, TR_DOWN_CLOSED, code, "%s", what);
        break;
    case WS_DOWN:
        break;
    }
}

static void tell_down(struct tr_conn *c)
{
    c->down_pending = false;
    evtimer_del(c->tick);
    char msg[sizeof(c->down_msg)];
    memcpy(msg, c->down_msg, sizeof(msg));
    emit(c, TR_EV_DOWN, c->down_why, c->down_code, msg, NULL, 0);
    settle(c);
}

/* ---- frames ----------------------------------------------------------------------------- */

/* Writes one frame, masked, after everything written before it. */
static bool put_frame(struct tr_conn *c, enum wsf_op op, const void *payload, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct evbuffer_iovec v;
    size_t n = wsf_frame_size(len);
    if (evbuffer_reserve_space(out, (ev_ssize_t)n, &v, 1) < 1 || v.iov_len < n)
        return false;
    uint64_t r = cs_rng_next(&c->t->rng);
    uint8_t mask[4];
    memcpy(mask, &r, 4);
    wsf_encode(v.iov_base, op, payload, len, mask);
    v.iov_len = n;
    return evbuffer_commit_space(out, &v, 1) == 0;
}

static void put_close(struct tr_conn *c, int code)
{
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    if (!c->close_sent && put_frame(c, WSF_CLOSE, p, sizeof(p)))
        c->close_sent = true;
}

/* Both close frames have crossed: the connection ends once our last bytes are out. */
static void check_closed(struct tr_conn *c)
{
    if (!c->bev || !c->close_received || !c->close_sent)
        return;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
        return; /* on_write comes back when it is drained (or the deadline ends it) */
    if (c->failing)
        mark_ended(c, c->fail_code, c->fail_msg);
    else if (c->state == WS_CLOSING)
        mark_down(c, TR_DOWN_CLOSED, 0, "%s", "");
    else
        mark_down(c, TR_DOWN_LOST, c->down_code, "the server closed the WebSocket (code %d)",
                  c->down_code);
}

/* ---- up ----------------------------------------------------------------------------------- */

static void go_up(struct tr_conn *c)
{
    wsf_reader_init(&c->rx, MSG_MAX);
    c->state = WS_UP;
    c->deadline_ms = 0;
    c->last_rx_ms = cs_mono_ms();
    if (c->ping_ms > 0) {
        c->next_ping_ms = c->last_rx_ms + c->ping_ms;
        ctx_arm_shared(c->tick, c->ping_ms);
    } else {
        evtimer_del(c->tick);
    }
    if (c->close_asked) {
        c->state = WS_CLOSING;
        c->deadline_ms = cs_mono_ms() + c->close_timeout_ms + CLOSE_SLACK_MS;
        ctx_arm(c->tick, c->close_timeout_ms + CLOSE_SLACK_MS);
        put_close(c, 1000);
        return;
    }
    emit(c, TR_EV_UP, 0, 0, NULL, NULL, 0);
}

/* ---- the socket's events ------------------------------------------------------------------ */

/* Every whole frame in the input buffer, read in place. */
static void read_frames(struct tr_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    c->last_rx_ms = cs_mono_ms();
    size_t want = WSF_HEADER_MAX;
    for (;;) {
        size_t have = evbuffer_get_length(in);
        if (have == 0 || c->close_received)
            break;
        const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)(have < want ? have : want));
        struct wsf_event ev;
        struct cs_error err = {0};
        int close_code = 0;
        long used = wsf_next(&c->rx, p, have < want ? have : want, &ev, &close_code, &err);
        if (used < 0) {
            /* Our close frame says why; nothing more is read; the end comes once it is out. */
            put_close(c, close_code);
            c->failing = true;
            c->fail_code = close_code;
            snprintf(c->fail_msg, sizeof(c->fail_msg), "%.150s", err.msg);
            c->close_received = true;
            c->deadline_ms = cs_mono_ms() + CLOSE_SLACK_MS;
            ctx_arm(c->tick, CLOSE_SLACK_MS);
            break;
        }
        if (used == 0) {
            if (ev.need <= want || ev.need > have)
                break; /* the frame is not all there yet */
            want = ev.need;
            continue;
        }
        want = WSF_HEADER_MAX;
        switch (ev.type) {
        case WSF_EV_MESSAGE:
            if (c->state == WS_UP) {
                c->busy++;
                emit(c, TR_EV_FRAME, 0, 0, NULL, (const char *)ev.data, ev.len);
                c->busy--;
            }
            break;
        case WSF_EV_PING:
            if (!c->close_sent)
                put_frame(c, WSF_PONG, ev.data, ev.len);
            break;
        case WSF_EV_CLOSE:
            c->close_received = true;
            c->down_code = ev.code;
            put_close(c, ev.code == 1005 ? 1000 : ev.code); /* echoed, as RFC 6455 asks */
            if (c->state != WS_CLOSING) { /* ends when the echo is out, or soon after */
                c->deadline_ms = cs_mono_ms() + CLOSE_SLACK_MS;
                ctx_arm(c->tick, CLOSE_SLACK_MS);
            }
            break;
        default:
            break; /* a pong (a sign of life), a fragment */
        }
        if (c->dead || !c->bev) {
            settle(c);
            return;
        }
        evbuffer_drain(in, (size_t)used);
    }
    check_closed(c);
}

static void on_read(struct bufferevent *bev, void *privdata)
{
    struct tr_conn *c = privdata;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->state == WS_UPGRADING) {
        struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (end.pos < 0) {
            if (evbuffer_get_length(in) > UPGRADE_MAX)
                mark_down(c, TR_DOWN_FAILED, 0, "upgrade answer longer than %d bytes", UPGRADE_MAX);
            return;
        }
        size_t n = (size_t)end.pos + 4;
        char *head = cs_malloc(n + 1);
        evbuffer_remove(in, head, n);
        head[n] = '\0';
        struct cs_error err = {0};
        int status = 0;
        int rc = wshs_check(head, c->key, c->subprotocol, &status, &err);
        cs_free(head);
        if (rc != CS_OK) {
            mark_down(c, c->close_asked ? TR_DOWN_CLOSED : TR_DOWN_FAILED, status, "%s", err.msg);
            return;
        }
        go_up(c);
        if (!settle(c) || c->state == WS_DOWN || evbuffer_get_length(in) == 0)
            return;
    }
    if (c->state == WS_UP || c->state == WS_CLOSING)
        read_frames(c);
}

static void on_write(struct bufferevent *bev, void *privdata)
{
    (void)bev;
    check_closed(privdata); /* the output drained: a finished close handshake ends */
}

static const char *ssl_error(struct bufferevent *bev, char *out, size_t n)
{
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (!e)
        return NULL;
    ERR_error_string_n(e, out, n);
    return out;
}

static void on_event(struct bufferevent *bev, short what, void *privdata)
{
    struct tr_conn *c = privdata;
    if (what & BEV_EVENT_CONNECTED) {
        int fd = (int)bufferevent_getfd(bev), one = 1;
        /* A CALL goes out when it is made: Nagle would hold it for the previous one's ACK. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->state = WS_UPGRADING;
        bufferevent_write(bev, c->request, strlen(c->request));
        cs_free(c->request);
        c->request = NULL;
        return;
    }
    char tls[160];
    const char *why = c->tls ? ssl_error(bev, tls, sizeof(tls)) : NULL;
    if (what & BEV_EVENT_EOF)
        mark_ended(c, 0,
                   why                        ? why
                   : c->state == WS_UPGRADING ? "connection closed during the upgrade"
                                              : "connection closed by the server");
    else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        mark_ended(c, EVUTIL_SOCKET_ERROR(),
                   why ? why : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
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
    if (c->deadline_ms && now >= c->deadline_ms) {
        switch (c->state) {
        case WS_CONNECTING:
            mark_ended(c, 0, "connect timed out");
            return;
        case WS_UPGRADING:
            mark_ended(c, 0, "no answer to the WebSocket upgrade");
            return;
        case WS_CLOSING:
            if (c->failing)
                mark_ended(c, c->fail_code, c->fail_msg);
            else
                mark_down(c, TR_DOWN_CLOSED, 0, "%s", "close not answered");
            return;
        case WS_UP:
            if (c->failing)
                mark_ended(c, c->fail_code, c->fail_msg);
            else if (c->close_received)
                mark_down(c, TR_DOWN_LOST, c->down_code,
                          "the server closed the WebSocket (code %d)", c->down_code);
            else
                break;
            return;
        default:
            break;
        }
    }
    if (c->state == WS_UP && c->ping_ms > 0 && !c->close_sent) {
        if (now - c->last_rx_ms >= 2 * (int64_t)c->ping_ms) {
            mark_down(c, TR_DOWN_LOST, 0, "no pong from the server in %d s", 2 * c->ping_ms / 1000);
            return;
        }
        if (now >= c->next_ping_ms) {
            put_frame(c, WSF_PING, NULL, 0);
            c->next_ping_ms = now + c->ping_ms;
        }
        if (c->next_ping_ms - now == c->ping_ms)
            ctx_arm_shared(c->tick, c->ping_ms); /* just pinged: the duration every charger has */
        else
            ctx_arm(c->tick, c->next_ping_ms - now);
    } else if (c->deadline_ms) {
        ctx_arm(c->tick, c->deadline_ms - now);
    }
}

/* ---- the interface ------------------------------------------------------------------------ */

static char *upgrade_request(struct tr_conn *c, const struct cfg_broker *b, const struct tr_opts *o)
{
    struct wshs_req r = {.host = b->host,
                         .port = b->port,
                         .tls = b->tls,
                         .path = b->path,
                         .identity = o->client_id,
                         .subprotocol = c->subprotocol,
                         .username = o->username,
                         .password = o->password};
    for (size_t i = 0; i < sizeof(r.nonce); i += 8) {
        uint64_t x = cs_rng_next(&c->t->rng);
        memcpy(r.nonce + i, &x, 8);
    }
    struct buf out = BUF_INIT;
    wshs_request(&out, &r, c->key);
    return buf_detach(&out);
}

static struct tr_conn *ws_open(struct transport *tt, const struct tr_opts *o, tr_event_fn *fn,
                               void *owner, struct cs_error *err)
{
    struct ws *t = (struct ws *)tt;
    struct cfg_broker b;
    if (cfg_broker_parse(o->uri, &b, err))
        return NULL;
    if (!b.ws) {
        cs_error_set(err, CS_ERR_INVAL, "ws: '%s' is not a ws:// or wss:// URI", o->uri);
        return NULL;
    }
    char port[8];
    snprintf(port, sizeof(port), "%d", b.port);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gai = getaddrinfo(b.host, port, &hints, &ai);
    if (gai != 0) {
        cs_error_set(err, CS_ERR_IO, "ws: cannot resolve %s: %s", b.host, gai_strerror(gai));
        return NULL;
    }
    struct tr_conn *c = cs_calloc(1, sizeof(*c));
    c->t = t;
    c->fn = fn;
    c->owner = owner;
    c->tls = b.tls;
    c->ping_ms = o->ping_s > 0 ? o->ping_s * 1000 : 0;
    c->subprotocol = cs_strdup(o->subprotocol && *o->subprotocol ? o->subprotocol : "ocpp1.6");
    c->tls_key_password =
        o->tls_key_password && *o->tls_key_password ? cs_strdup(o->tls_key_password) : NULL;
    c->tick = evtimer_new(t->base, on_tick, c);
    c->request = upgrade_request(c, &b, o);
    int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
    if (c->tls) {
        struct wstls_opts to = {.ca = o->tls_ca,
                                .cert = o->tls_cert,
                                .key = o->tls_key,
                                .key_password = c->tls_key_password,
                                .host = b.host,
                                .verify = o->tls_verify};
        SSL *ssl = wstls_session(t->tls, &to, err);
        if (!ssl) {
            freeaddrinfo(ai);
            conn_destroy(c);
            return NULL;
        }
        c->bev = bufferevent_openssl_socket_new(t->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, opts);
        if (!c->bev)
            SSL_free(ssl);
    } else {
        c->bev = bufferevent_socket_new(t->base, -1, opts);
    }
    if (!c->bev) {
        freeaddrinfo(ai);
        cs_error_set(err, CS_ERR_IO, "ws: cannot make a socket for %s", o->uri);
        conn_destroy(c);
        return NULL;
    }
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->state = WS_CONNECTING;
    int connect_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 15;
    c->deadline_ms = cs_mono_ms() + connect_s * 1000;
    ctx_arm(c->tick, (int64_t)connect_s * 1000);
    int rc = bufferevent_socket_connect(c->bev, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc != 0) /* refused at once: told on the next turn, as a later failure would be */
        mark_down(c, TR_DOWN_FAILED, EVUTIL_SOCKET_ERROR(), "connect: %s",
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    return c;
}

static int ws_send_frame(struct tr_conn *c, enum tr_kind kind, const char *action,
                         const char *frame, size_t len, struct cs_error *err)
{
    (void)kind;
    (void)action; /* OCPP-J frames carry their action themselves: no topics */
    if (c->state != WS_UP || !c->bev || c->close_sent || c->close_received) {
        c->t->st.msgs_dropped[0]++;
        return cs_error_set(err, CS_ERR_STATE, "not connected");
    }
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_MAX) {
        c->t->st.msgs_dropped[0]++;
        return cs_error_set(err, CS_ERR_TOO_BIG, "send queue full (%d bytes waiting)", OUT_MAX);
    }
    if (!put_frame(c, WSF_TEXT, frame, len)) {
        c->t->st.publish_errors[0]++;
        return cs_error_set(err, CS_ERR_IO, "WebSocket: out of buffer space");
    }
    c->t->st.msgs_out[0]++;
    return CS_OK;
}

static void ws_close(struct tr_conn *c, int timeout_ms)
{
    switch (c->state) {
    case WS_UP:
        /* After what was sent before it: the answer to a Reset goes out first. */
        c->state = WS_CLOSING;
        c->deadline_ms = cs_mono_ms() + timeout_ms + CLOSE_SLACK_MS;
        ctx_arm(c->tick, timeout_ms + CLOSE_SLACK_MS);
        put_close(c, 1000);
        break;
    case WS_CONNECTING:
    case WS_UPGRADING:
        /* The connect finishes first (by its deadline), then the close handshake. */
        c->close_asked = true;
        c->close_timeout_ms = timeout_ms;
        break;
    case WS_CLOSING:
    case WS_DOWN:
        break; /* an end is under way, or was told */
    }
}

static void ws_free(struct tr_conn *c)
{
    if (!c)
        return;
    c->fn = NULL;
    c->owner = NULL;
    if (c->busy) {
        c->dead = true; /* destroyed once we are off the stack */
        return;
    }
    conn_destroy(c);
}

static void ws_destroy(struct transport *tt)
{
    struct ws *t = (struct ws *)tt;
    wstls_free(t->tls);
    cs_free(t);
}

struct transport *tr_ws_new(struct event_base *base, const struct tr_stats *st)
{
    struct ws *t = cs_calloc(1, sizeof(*t));
    t->t = (struct transport){"websocket", ws_open, ws_send_frame, ws_close, ws_free, ws_destroy};
    t->base = base;
    t->st = *st;
    cs_rng_seed(&t->rng, cs_seed_entropy());
    t->tls = wstls_new();
    return &t->t;
}
