/* mqtt.c - paho MQTTAsync behind mqtt.h. paho callbacks run on paho's threads: they copy what
 * arrived into an inbox item and return; the loop thread turns items into mqtt_events. */
#include <string.h>

#include <MQTTAsync.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "cs/util.h"
#include "inbox.h"
#include "mqtt.h"

struct mqtt_client {
    MQTTAsync h;
    uint64_t cookie;
    char *uri, *client_id, *username, *password; /* owned: paho may keep pointers */
    char *tls_ca, *tls_cert, *tls_key, *tls_key_password;
    bool tls, tls_verify;
    int keepalive_s;
    bool clean_session;
    int connect_timeout_s;
    int max_inflight;
};

/* Process-wide, like paho's own state. Written on the loop thread before any client exists
 * and read by paho threads only through the immutable inbox pointer. */
static struct {
    struct inbox *inbox;
    mqtt_event_fn *fn;
    void *privdata;
} mq;

/* What an inbox item carries: the event header, then topic, payload and msg bytes. */
struct wire {
    enum mqtt_ev_type type;
    uint64_t cookie;
    int code;
    int token;
    size_t topic_len, payload_len, msg_len;
};

static inline void *cookie_ptr(uint64_t cookie)
{
    return (void *)(uintptr_t)cookie;
}

static inline uint64_t ptr_cookie(void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* [paho thread] Copy and hand to the loop. */
static void post(enum mqtt_ev_type type, void *context, int code, int token, const char *topic,
                 size_t tlen, const void *payload, size_t plen, const char *msg)
{
    size_t mlen = msg ? strlen(msg) : 0;
    struct inbox_item *it = inbox_item_new(sizeof(struct wire) + tlen + plen + mlen + 3);
    struct wire *w = (struct wire *)it->data;
    w->type = type;
    w->cookie = ptr_cookie(context);
    w->code = code;
    w->token = token;
    w->topic_len = tlen;
    w->payload_len = plen;
    w->msg_len = mlen;
    char *p = it->data + sizeof(*w);
    if (tlen)
        memcpy(p, topic, tlen);
    p[tlen] = '\0';
    p += tlen + 1;
    if (plen)
        memcpy(p, payload, plen);
    p[plen] = '\0';
    p += plen + 1;
    if (mlen)
        memcpy(p, msg, mlen);
    p[mlen] = '\0';
    inbox_push(mq.inbox, it);
}

/* [loop] */
static void on_inbox(struct inbox_item *first, void *privdata)
{
    (void)privdata;
    for (struct inbox_item *it = first, *next; it; it = next) {
        next = it->next;
        const struct wire *w = (const struct wire *)it->data;
        const char *topic = it->data + sizeof(*w);
        const char *payload = topic + w->topic_len + 1;
        const char *msg = payload + w->payload_len + 1;
        struct mqtt_event ev = {w->type, w->cookie, w->code, w->token, topic, payload,
                                w->payload_len, msg};
        mq.fn(mq.privdata, &ev);
        inbox_item_free(it);
    }
}

/* [paho thread] */
static void on_paho_connected(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    post(MQTT_EV_CONNECTED, context, 0, 0, NULL, 0, NULL, 0, NULL);
}

/* [paho thread] */
static void on_paho_connect_failed(void *context, MQTTAsync_failureData *resp)
{
    /* MQTT 3.1.1 CONNACK return codes, which paho passes on as the code. */
    static const char *const connack[] = {
        NULL, "CONNACK: unacceptable protocol version", "CONNACK: client identifier rejected",
        "CONNACK: server unavailable", "CONNACK: bad user name or password",
        "CONNACK: not authorised"};
    int code = resp ? resp->code : -1;
    const char *msg = resp && resp->message ? resp->message : "";
    if (code > 0 && (size_t)code < ARRAY_SIZE(connack))
        msg = connack[code];
    post(MQTT_EV_CONNECT_FAILED, context, code, 0, NULL, 0, NULL, 0, msg);
}

/* [paho thread] */
static void on_paho_lost(void *context, char *cause)
{
    post(MQTT_EV_LOST, context, 0, 0, NULL, 0, NULL, 0, cause ? cause : "");
    MQTTAsync_free(cause);
}

/* [paho thread] */
static int on_paho_message(void *context, char *topic, int tlen, MQTTAsync_message *m)
{
    size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic);
    post(MQTT_EV_MESSAGE, context, 0, 0, topic, tl, m->payload, (size_t)m->payloadlen, NULL);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

/* [paho thread] */
static void on_paho_sent(void *context, MQTTAsync_successData *resp)
{
    post(MQTT_EV_SENT, context, 0, resp ? resp->token : 0, NULL, 0, NULL, 0, NULL);
}

/* [paho thread] */
static void on_paho_send_failed(void *context, MQTTAsync_failureData *resp)
{
    post(MQTT_EV_SEND_FAILED, context, resp ? resp->code : -1, resp ? resp->token : 0, NULL, 0,
         NULL, 0, resp && resp->message ? resp->message : "");
}

/* [paho thread] */
static void on_paho_disconnected(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    post(MQTT_EV_DISCONNECTED, context, 0, 0, NULL, 0, NULL, 0, NULL);
}

/* [paho thread] */
static void on_paho_disconnect_failed(void *context, MQTTAsync_failureData *resp)
{
    post(MQTT_EV_DISCONNECTED, context, resp ? resp->code : -1, 0, NULL, 0, NULL, 0, NULL);
}

/* [paho thread] */
static void on_paho_subscribed(void *context, MQTTAsync_successData *resp)
{
    /* MQTT 3.1.1 SUBACK carries 0x80 for a refused subscription. */
    int granted = resp ? resp->alt.qos : 0;
    post(granted == 0x80 ? MQTT_EV_SUBSCRIBE_FAILED : MQTT_EV_SUBSCRIBED, context, granted, 0,
         NULL, 0, NULL, 0, granted == 0x80 ? "subscription refused by the broker" : NULL);
}

/* [paho thread] */
static void on_paho_subscribe_failed(void *context, MQTTAsync_failureData *resp)
{
    post(MQTT_EV_SUBSCRIBE_FAILED, context, resp ? resp->code : -1, 0, NULL, 0, NULL, 0,
         resp && resp->message ? resp->message : "");
}

/* [paho thread] OpenSSL's reason for a failed handshake, line by line. */
static int on_paho_ssl_error(const char *str, size_t len, void *context)
{
    char line[256], out[256];
    while (len && (str[len - 1] == '\n' || str[len - 1] == '\0'))
        len--;
    if (len >= sizeof(line))
        len = sizeof(line) - 1;
    memcpy(line, str, len);
    line[len] = '\0';
    snprintf(out, sizeof(out), "%s", line);
    /* OpenSSL 3: "<thread>:error:<code>:<library>:<function>:<reason>:<file>:<line>:..."
     * The reason says it all; the function says where. */
    char *f[6] = {0}, *save = NULL, *p = line;
    size_t n = 0;
    for (char *t; n < ARRAY_SIZE(f) && (t = strtok_r(p, ":", &save)); p = NULL)
        f[n++] = t;
    if (n == ARRAY_SIZE(f) && strcmp(f[1], "error") == 0)
        snprintf(out, sizeof(out), "%s (%s)", f[5], f[4]);
    post(MQTT_EV_TLS_ERROR, context, 0, 0, NULL, 0, NULL, 0, out);
    return 0;
}

/* [paho thread] paho's trace lines, at its ERROR level, into our log (one write per line). */
static void on_paho_trace(enum MQTTASYNC_TRACE_LEVELS level, char *message)
{
    (void)level;
    cs_log(CS_LOG_DEBUG, "paho: %s", message);
}

int mqtt_init(struct event_base *base, mqtt_event_fn *fn, void *privdata)
{
    mq.fn = fn;
    mq.privdata = privdata;
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    init.do_openssl_init = 1;
    MQTTAsync_global_init(&init);
    mq.inbox = inbox_new(base, on_inbox, NULL);
    if (!mq.inbox)
        return CS_ERR_IO;
    if (cs_log_enabled(CS_LOG_DEBUG)) {
        MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
        MQTTAsync_setTraceCallback(on_paho_trace);
    }
    return CS_OK;
}

void mqtt_shutdown(void)
{
    inbox_free(mq.inbox);
    mq.inbox = NULL;
}

struct mqtt_client *mqtt_client_new(const struct mqtt_opts *o, uint64_t cookie,
                                    struct cs_error *err)
{
    struct mqtt_client *c = cs_calloc(1, sizeof(*c));
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.sendWhileDisconnected = 0;
    co.maxBufferedMessages = o->max_inflight > 0 ? o->max_inflight : 10;
    int rc = MQTTAsync_createWithOptions(&c->h, o->uri, o->client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        cs_error_set(err, CS_ERR_INVAL, "mqtt: cannot create client %s for %s: %s", o->client_id,
                     o->uri, MQTTAsync_strerror(rc));
        cs_free(c);
        return NULL;
    }
    c->cookie = cookie;
    c->uri = cs_strdup(o->uri);
    c->client_id = cs_strdup(o->client_id);
    c->username = o->username && *o->username ? cs_strdup(o->username) : NULL;
    c->password = o->password && *o->password ? cs_strdup(o->password) : NULL;
    c->tls = strncmp(o->uri, "ssl://", 6) == 0;
    c->tls_ca = o->tls_ca && *o->tls_ca ? cs_strdup(o->tls_ca) : NULL;
    c->tls_cert = o->tls_cert && *o->tls_cert ? cs_strdup(o->tls_cert) : NULL;
    c->tls_key = o->tls_key && *o->tls_key ? cs_strdup(o->tls_key) : NULL;
    c->tls_key_password =
        o->tls_key_password && *o->tls_key_password ? cs_strdup(o->tls_key_password) : NULL;
    c->tls_verify = o->tls_verify;
    c->keepalive_s = o->keepalive_s;
    c->clean_session = o->clean_session;
    c->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 15;
    c->max_inflight = o->max_inflight > 0 ? o->max_inflight : 10;
    MQTTAsync_setCallbacks(c->h, cookie_ptr(cookie), on_paho_lost, on_paho_message, NULL);
    return c;
}

int mqtt_connect(struct mqtt_client *c)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.keepAliveInterval = c->keepalive_s;
    co.cleansession = c->clean_session;
    co.maxInflight = c->max_inflight;
    co.connectTimeout = c->connect_timeout_s;
    co.username = c->username;
    co.password = c->password;
    co.automaticReconnect = 0; /* reconnects are ours: paced by the ramp, gated by the lease */
    co.MQTTVersion = MQTTVERSION_3_1_1;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    if (c->tls) {
        ssl.trustStore = c->tls_ca;
        ssl.keyStore = c->tls_cert;
        ssl.privateKey = c->tls_key;
        ssl.privateKeyPassword = c->tls_key_password;
        ssl.enableServerCertAuth = c->tls_verify;
        ssl.verify = c->tls_verify; /* the host name, after the handshake */
        ssl.sslVersion = MQTT_SSL_VERSION_DEFAULT; /* OpenSSL's: TLS 1.2 or newer */
        ssl.ssl_error_cb = on_paho_ssl_error;
        ssl.ssl_error_context = cookie_ptr(c->cookie);
        co.ssl = &ssl;
    }
    co.onSuccess = on_paho_connected;
    co.onFailure = on_paho_connect_failed;
    co.context = cookie_ptr(c->cookie);
    int rc = MQTTAsync_connect(c->h, &co);
    return rc == MQTTASYNC_SUCCESS ? CS_OK : CS_ERR_IO;
}

int mqtt_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len,
                 int qos, int *token)
{
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    m.payload = (void *)payload;
    m.payloadlen = (int)len;
    m.qos = qos;
    m.retained = 0;
    ro.onSuccess = on_paho_sent;
    ro.onFailure = on_paho_send_failed;
    ro.context = cookie_ptr(c->cookie);
    int rc = MQTTAsync_sendMessage(c->h, topic, &m, &ro);
    if (token)
        *token = ro.token;
    return rc == MQTTASYNC_SUCCESS ? CS_OK : CS_ERR_IO;
}

int mqtt_subscribe(struct mqtt_client *c, const char *topic, int qos)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_paho_subscribed;
    ro.onFailure = on_paho_subscribe_failed;
    ro.context = cookie_ptr(c->cookie);
    return MQTTAsync_subscribe(c->h, topic, qos, &ro) == MQTTASYNC_SUCCESS ? CS_OK : CS_ERR_IO;
}

int mqtt_disconnect(struct mqtt_client *c, int timeout_ms)
{
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = timeout_ms;
    d.onSuccess = on_paho_disconnected;
    d.onFailure = on_paho_disconnect_failed;
    d.context = cookie_ptr(c->cookie);
    int rc = MQTTAsync_disconnect(c->h, &d);
    return rc == MQTTASYNC_SUCCESS ? CS_OK : CS_ERR_STATE;
}

void mqtt_client_free(struct mqtt_client *c)
{
    if (!c)
        return;
    MQTTAsync_destroy(&c->h);
    cs_free(c->uri);
    cs_free(c->client_id);
    cs_free(c->username);
    cs_free(c->password);
    cs_free(c->tls_ca);
    cs_free(c->tls_cert);
    cs_free(c->tls_key);
    cs_free(c->tls_key_password);
    cs_free(c);
}
