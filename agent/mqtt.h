/* mqtt.h - MQTT clients behind one small interface whose events arrive on the loop thread.
 * The only file that includes MQTTAsync.h is mqtt.c. paho is a process-wide singleton with
 * its own threads; so is this module: mqtt_init once per worker process, after fork. */
#ifndef CS_MQTT_H
#define CS_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/err.h"

struct event_base;
struct mqtt_client;

enum mqtt_ev_type {
    MQTT_EV_CONNECTED,
    MQTT_EV_CONNECT_FAILED,
    MQTT_EV_LOST,         /* an established connection dropped */
    MQTT_EV_MESSAGE,      /* a message arrived on a subscription */
    MQTT_EV_SENT,         /* publish completed (QoS0 written, QoS1 PUBACK, QoS2 PUBCOMP) */
    MQTT_EV_SEND_FAILED,
    MQTT_EV_DISCONNECTED, /* our mqtt_disconnect finished (or failed: either way, down) */
    MQTT_EV_SUBSCRIBED,
    MQTT_EV_SUBSCRIBE_FAILED,
    MQTT_EV_TLS_ERROR,    /* why a TLS handshake failed (OpenSSL's text); CONNECT_FAILED follows */
};

struct mqtt_event {
    enum mqtt_ev_type type;
    uint64_t cookie;     /* the owner's tag given to mqtt_client_new */
    int code;            /* paho return / reason code, 0 if none */
    int token;           /* SENT / SEND_FAILED: the token mqtt_publish returned */
    const char *topic;   /* MESSAGE; borrowed for the callback */
    const char *payload; /* MESSAGE */
    size_t len;
    const char *msg;     /* failures: text from the library, may be "" */
};

/* [loop] Every event of every client, in order per client. */
typedef void mqtt_event_fn(void *privdata, const struct mqtt_event *ev);

struct mqtt_opts {
    const char *uri;
    const char *client_id;
    const char *username; /* NULL or "" = none */
    const char *password;
    int keepalive_s;
    bool clean_session;
    int connect_timeout_s;
    int max_inflight;
    /* TLS, for ssl:// URIs. Files in PEM; NULL or "" = none. */
    const char *tls_ca;           /* CA the broker's certificate chains to; none: system store */
    const char *tls_cert;         /* client certificate (chain) */
    const char *tls_key;          /* its private key; none: in tls_cert */
    const char *tls_key_password; /* for an encrypted key */
    bool tls_verify;              /* check the broker's chain and host name */
};

/* [loop] Once per process, before any client. */
int mqtt_init(struct event_base *base, mqtt_event_fn *fn, void *privdata);
/* [loop] After every client is freed. */
void mqtt_shutdown(void);

/* [loop] Creates a client (not connected). The cookie comes back in every event; events of
 * a freed client may still arrive and must be recognised as stale by the owner (generation
 * in the cookie). Caller frees with mqtt_client_free. */
struct mqtt_client *mqtt_client_new(const struct mqtt_opts *o, uint64_t cookie,
                                    struct cs_error *err);
/* [loop] Never blocks; the outcome arrives as CONNECTED / CONNECT_FAILED. */
int mqtt_connect(struct mqtt_client *c);
/* [loop] Queues a publish; *token identifies its SENT / SEND_FAILED event. */
int mqtt_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len,
                 int qos, int *token);
int mqtt_subscribe(struct mqtt_client *c, const char *topic, int qos);
/* [loop] Graceful DISCONNECT. Returns CS_ERR_STATE when not connected (no event follows). */
int mqtt_disconnect(struct mqtt_client *c, int timeout_ms);
/* [loop] Destroys the client (closing its socket if still open). */
void mqtt_client_free(struct mqtt_client *c);

#endif
