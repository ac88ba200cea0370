/* transport.h - how a charger's frames reach the platform: one small interface, one file per
 * implementation (tr_paho.c: MQTT through paho's MQTTAsync; tr_mosq.c: MQTT through libmosquitto
 * on the worker's loop; tr_ws.c: OCPP-J over WebSocket). The layer above (link.c) knows
 * frames and actions, never sockets or topics; everything a transport has to say arrives as an
 * event through the one callback its owner gave at open.
 *
 * Life of a connection: tr_open starts connecting; TR_EV_UP when it is up; TR_EV_FRAME for every
 * frame that arrives; TR_EV_DOWN once when it is over (the connect failed, the connection was
 * lost, or a tr_close finished) — no event follows TR_EV_DOWN; the owner then calls tr_free.
 * TR_EV_DOWN means nothing of the connection can reach the broker any more (its socket is
 * closed): the owner may open the same client ID again at once.
 * tr_free may also be called at any earlier time: the connection is dropped at once, as in a
 * network loss, and no event arrives after it returns. Events never arrive inside tr_open,
 * tr_send, tr_close or tr_free: always from the loop, on a later callback. [loop] throughout. */
#ifndef CS_AGENT_TRANSPORT_H
#define CS_AGENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/err.h"
#include "cs/hist.h"

struct event_base;
struct tr_conn;

/* What a frame is: a CALL the charger makes, or its answer to one of the platform's (MQTT puts
 * the two on topic_up and topic_reply). */
enum tr_kind { TR_CALL, TR_ANSWER };

enum tr_ev_type {
    TR_EV_UP,
    TR_EV_FRAME, /* data, len: one frame, borrowed for the callback */
    TR_EV_NOTE, /* msg: something worth logging (why a TLS handshake failed, a refused subscription)
                 */
    TR_EV_DOWN, /* why, code, msg */
};

enum tr_down { TR_DOWN_FAILED, TR_DOWN_LOST, TR_DOWN_CLOSED };

struct tr_event {
    enum tr_ev_type type;
    enum tr_down why;
    int code;         /* the library's code, 0 if none */
    const char *msg;  /* text from the library, may be "" */
    const char *data; /* TR_EV_FRAME */
    size_t len;
};

typedef void tr_event_fn(void *owner, const struct tr_event *ev);

/* Where and as whom to connect. Strings are copied. */
struct tr_opts {
    const char *uri;
    const char *client_id;
    const char *username; /* NULL or "" = none */
    const char *password;
    int keepalive_s;
    bool clean_session;
    int connect_timeout_s;
    int qos;
    /* MQTT: topics rendered for this charger; "\x01" stands for the action ({msg}). */
    const char *topic_up, *topic_reply, *topic_down;
    /* TLS (ssl:// URIs); PEM files, NULL or "" = none. */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
    const char *tls_key_password;
    bool tls_verify;
    /* WebSocket: the subprotocol offered and required ("ocpp1.6"), the ping interval (0: none). */
    const char *subprotocol;
    int ping_s;
};

/* What every transport counts, into the worker's stats. */
struct tr_stats {
    uint64_t *msgs_out;       /* frames handed to the network library */
    uint64_t *publish_errors; /* refused by it, or reported failed */
    uint64_t *msgs_dropped;   /* given up before they left (queue full, link closing) */
    struct hist *ack_us;      /* send -> the library's completion (QoS1: PUBACK) */
};

struct transport {
    const char *name;
    struct tr_conn *(*open)(struct transport *t, const struct tr_opts *o, tr_event_fn *fn,
                            void *owner, struct cs_error *err);
    int (*send)(struct tr_conn *c, enum tr_kind kind, const char *action, const char *frame,
                size_t len, struct cs_error *err);
    /* Sends what is queued, then says goodbye; TR_EV_DOWN(CLOSED) follows, about timeout_ms
     * later at most (a library late with its goodbye is given a few seconds more). A
     * connection still connecting finishes its connect first (within its connect timeout):
     * its CONNECT may be waiting in the broker's queue. */
    void (*close)(struct tr_conn *c, int timeout_ms);
    void (*free)(struct tr_conn *c);
    void (*destroy)(struct transport *t);
};

static inline struct tr_conn *tr_open(struct transport *t, const struct tr_opts *o, tr_event_fn *fn,
                                      void *owner, struct cs_error *err)
{
    return t->open(t, o, fn, owner, err);
}

/* The transports a worker has: the MQTT client libraries a charger may use (its mqtt_client
 * key, in the schema's order), then WebSocket (a ws:// or wss:// broker). */
enum tr_mqtt { TR_PAHO, TR_MOSQUITTO, TR_MQTT__COUNT, TR_WS = TR_MQTT__COUNT, TR__COUNT };

/* TR_MOSQUITTO for "mosquitto", else TR_PAHO. */
enum tr_mqtt tr_mqtt_of(const char *mqtt_client);

/* The paho MQTTAsync transport: one per process (paho is a process-wide singleton with its own
 * threads), created after fork. Caller frees with t->destroy(t). */
struct transport *tr_paho_new(struct event_base *base, const struct tr_stats *st);
/* The libmosquitto transport, driven by base's loop (tr_mosq.c); one per worker. */
struct transport *tr_mosq_new(struct event_base *base, const struct tr_stats *st);
/* OCPP-J over WebSocket (ws://, wss://) on base's loop (tr_ws.c); one per worker. */
struct transport *tr_ws_new(struct event_base *base, const struct tr_stats *st);

#endif
