/* tr_paho_int.h - private to the paho transport: what its callbacks, which run on paho's
 * threads (tr_paho_cb.c), hand to the loop (tr_paho.c) through the inbox. */
#ifndef CS_AGENT_TR_PAHO_INT_H
#define CS_AGENT_TR_PAHO_INT_H

#include <stddef.h>
#include <stdint.h>

#include <MQTTAsync.h>

struct inbox;

enum paho_ev {
    PE_CONNECTED,
    PE_CONNECT_FAILED,
    PE_LOST,
    PE_MESSAGE,
    PE_SENT,
    PE_SEND_FAILED,
    PE_DISCONNECTED,
    PE_SUBSCRIBE_FAILED,
    PE_TLS_ERROR,
};

/* What an inbox item carries: the event header, then topic/payload/msg bytes. */
struct wire {
    enum paho_ev type;
    uint64_t cookie;
    int code;
    int token;
    size_t payload_len, msg_len;
};

/* The inbox paho's threads post to; written on the loop before any client exists. */
extern struct inbox *g_paho_inbox;

static inline void *cookie_ptr(uint64_t cookie)
{
    return (void *)(uintptr_t)cookie;
}

/* [paho thread] The callbacks given to paho: each copies what arrived and posts it. */
void on_paho_connected(void *context, MQTTAsync_successData *resp);
void on_paho_connect_failed(void *context, MQTTAsync_failureData *resp);
void on_paho_lost(void *context, char *cause);
int on_paho_message(void *context, char *topic, int tlen, MQTTAsync_message *m);
void on_paho_sent(void *context, MQTTAsync_successData *resp);
void on_paho_send_failed(void *context, MQTTAsync_failureData *resp);
void on_paho_disconnected(void *context, MQTTAsync_successData *resp);
void on_paho_disconnect_failed(void *context, MQTTAsync_failureData *resp);
void on_paho_subscribed(void *context, MQTTAsync_successData *resp);
void on_paho_subscribe_failed(void *context, MQTTAsync_failureData *resp);
int on_paho_ssl_error(const char *str, size_t len, void *context);
void on_paho_trace(enum MQTTASYNC_TRACE_LEVELS level, char *message);

#endif
