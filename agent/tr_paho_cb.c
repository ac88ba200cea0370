/* tr_paho_cb.c - the paho transport's callbacks. They run on paho's threads and touch nothing
 * of the loop's: each copies what arrived into an inbox item and wakes the loop. [paho thread]
 * throughout. */
#include <stdio.h>
#include <string.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "cs/util.h"
#include "inbox.h"
#include "tr_paho_int.h"

/* paho threads reach the inbox only through this pointer, written before any client exists. */
struct inbox *g_paho_inbox;

/* ---- paho threads -------------------------------------------------------------------------- */

/* [paho thread] Copy and hand to the loop. */
static void post(enum paho_ev type, void *context, int code, int token, const void *payload,
                 size_t plen, const char *msg)
{
    size_t mlen = msg ? strlen(msg) : 0;
    struct inbox_item *it = inbox_item_new(sizeof(struct wire) + plen + mlen + 2);
    struct wire *w = (struct wire *)it->data;
    w->type = type;
    w->cookie = (uint64_t)(uintptr_t)context;
    w->code = code;
    w->token = token;
    w->payload_len = plen;
    w->msg_len = mlen;
    char *p = it->data + sizeof(*w);
    if (plen)
        memcpy(p, payload, plen);
    p[plen] = '\0';
    p += plen + 1;
    if (mlen)
        memcpy(p, msg, mlen);
    p[mlen] = '\0';
    inbox_push(g_paho_inbox, it);
}

/* [paho thread] */
void on_paho_connected(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    post(PE_CONNECTED, context, 0, 0, NULL, 0, NULL);
}

/* [paho thread] */
void on_paho_connect_failed(void *context, MQTTAsync_failureData *resp)
{
    /* MQTT 3.1.1 CONNACK return codes, which paho passes on as the code. */
    static const char *const connack[] = {NULL,
                                          "CONNACK: unacceptable protocol version",
                                          "CONNACK: client identifier rejected",
                                          "CONNACK: server unavailable",
                                          "CONNACK: bad user name or password",
                                          "CONNACK: not authorised"};
    int code = resp ? resp->code : -1;
    const char *msg = resp && resp->message ? resp->message : "";
    if (code > 0 && (size_t)code < ARRAY_SIZE(connack))
        msg = connack[code];
    post(PE_CONNECT_FAILED, context, code, 0, NULL, 0, msg);
}

/* [paho thread] */
void on_paho_lost(void *context, char *cause)
{
    post(PE_LOST, context, 0, 0, NULL, 0, cause ? cause : "");
    MQTTAsync_free(cause);
}

/* [paho thread] */
int on_paho_message(void *context, char *topic, int tlen, MQTTAsync_message *m)
{
    (void)tlen;
    post(PE_MESSAGE, context, 0, 0, m->payload, (size_t)m->payloadlen, NULL);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

/* [paho thread] */
void on_paho_sent(void *context, MQTTAsync_successData *resp)
{
    post(PE_SENT, context, 0, resp ? resp->token : 0, NULL, 0, NULL);
}

/* [paho thread] */
void on_paho_send_failed(void *context, MQTTAsync_failureData *resp)
{
    post(PE_SEND_FAILED, context, resp ? resp->code : -1, resp ? resp->token : 0, NULL, 0,
         resp && resp->message ? resp->message : "");
}

/* [paho thread] */
void on_paho_disconnected(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    post(PE_DISCONNECTED, context, 0, 0, NULL, 0, NULL);
}

/* [paho thread] */
void on_paho_disconnect_failed(void *context, MQTTAsync_failureData *resp)
{
    post(PE_DISCONNECTED, context, resp ? resp->code : -1, 0, NULL, 0, NULL);
}

/* [paho thread] */
void on_paho_subscribed(void *context, MQTTAsync_successData *resp)
{
    /* MQTT 3.1.1 SUBACK carries 0x80 for a refused subscription. */
    if (resp && resp->alt.qos == 0x80)
        post(PE_SUBSCRIBE_FAILED, context, 0x80, 0, NULL, 0, "refused by the broker");
}

/* [paho thread] */
void on_paho_subscribe_failed(void *context, MQTTAsync_failureData *resp)
{
    post(PE_SUBSCRIBE_FAILED, context, resp ? resp->code : -1, 0, NULL, 0,
         resp && resp->message ? resp->message : "");
}

/* [paho thread] OpenSSL's reason for a failed handshake, line by line. */
int on_paho_ssl_error(const char *str, size_t len, void *context)
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
    post(PE_TLS_ERROR, context, 0, 0, NULL, 0, out);
    return 0;
}

/* [paho thread] paho's trace lines, at its ERROR level, into our log (one write per line). */
void on_paho_trace(enum MQTTASYNC_TRACE_LEVELS level, char *message)
{
    (void)level;
    cs_log(CS_LOG_DEBUG, "paho: %s", message);
}
