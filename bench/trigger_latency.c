/* trigger-latency: PUBLISH a trigger for one charger on {ns}:cmd, time until the message
 * arrives at an MQTT subscriber on the broker. One trigger at a time, N of them; prints
 * p50/p90/p99/max. The fleet may be under load meanwhile.
 *
 *   trigger-latency --broker tcp://127.0.0.1:1883 --charger CP-000042 [--count 1000]
 *                   [--redis URL] [--namespace NS] [--json] */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTClient.h>

#include "cs/hist.h"
#include "cs/keys.h"
#include "cs/opts.h"
#include "cs/rds.h"
#include "cs/util.h"

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long want;         /* seq we wait for */
    int64_t got_us;    /* arrival time of `want`, 0 until then */
} rx = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1, 0};

/* [paho thread] */
static int on_message(void *ctx, char *topic, int tlen, MQTTClient_message *m)
{
    (void)ctx;
    (void)tlen;
    int64_t now = cs_mono_us();
    char buf[64] = "";
    const char *p = memmem(m->payload, (size_t)m->payloadlen, "\"seq\":", 6);
    if (p) {
        size_t n = (size_t)((const char *)m->payload + m->payloadlen - p - 6);
        memcpy(buf, p + 6, n < sizeof(buf) - 1 ? n : sizeof(buf) - 1);
        long seq = strtol(buf, NULL, 10);
        pthread_mutex_lock(&rx.lock);
        if (seq == rx.want) {
            rx.got_us = now;
            pthread_cond_signal(&rx.cond);
        }
        pthread_mutex_unlock(&rx.lock);
    }
    MQTTClient_freeMessage(&m);
    MQTTClient_free(topic);
    return 1;
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    fprintf(stderr, "trigger-latency: MQTT connection lost: %s\n", cause ? cause : "?");
}

int main(int argc, char **argv)
{
    struct cs_common_opts o;
    struct cs_error err;
    const char *broker = "tcp://127.0.0.1:1883", *charger = "CP-000042", *msg = "Heartbeat";
    long count = 1000;
    int json = 0;
    enum { OPT_BROKER = 1, OPT_CHARGER, OPT_COUNT, OPT_JSON };
    static const struct option longopts[] = {
        {"broker", required_argument, NULL, OPT_BROKER},
        {"charger", required_argument, NULL, OPT_CHARGER},
        {"count", required_argument, NULL, OPT_COUNT},
        {"json", no_argument, NULL, OPT_JSON},
        CS_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    cs_opts_init(&o);
    int opt;
    while ((opt = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        if (cs_opts_handle(&o, opt, optarg, &err) > 0)
            continue;
        switch (opt) {
        case OPT_BROKER: broker = optarg; break;
        case OPT_CHARGER: charger = optarg; break;
        case OPT_COUNT: count = strtol(optarg, NULL, 10); break;
        case OPT_JSON: json = 1; break;
        case 'h':
            printf("Usage: trigger-latency --broker URI --charger ID [--count N] [--json]\n%s",
                   cs_opts_help());
            return 0;
        default: return 2;
        }
    }
    if (count < 1 || count > 1000000 || cs_opts_finish(&o, &err) != CS_OK) {
        fprintf(stderr, "trigger-latency: bad arguments\n");
        return 2;
    }

    struct rds_sync *r = rds_sync_connect(&o.url, 3000, &err);
    if (!r) {
        fprintf(stderr, "trigger-latency: %s\n", err.msg);
        return 3;
    }
    MQTTClient mc;
    MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
    char cid[64], topic[256], key[CS_KEY_MAX];
    snprintf(cid, sizeof(cid), "trigger-latency-%d", (int)getpid());
    snprintf(topic, sizeof(topic), "chargers/%s/up/%s", charger, msg);
    MQTTClient_create(&mc, broker, cid, MQTTCLIENT_PERSISTENCE_NONE, NULL);
    MQTTClient_setCallbacks(mc, NULL, on_lost, on_message, NULL);
    if (MQTTClient_connect(mc, &co) != MQTTCLIENT_SUCCESS ||
        MQTTClient_subscribe(mc, topic, 0) != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "trigger-latency: cannot subscribe at %s\n", broker);
        return 3;
    }
    cs_key(key, o.ns, CH_CMD, NULL);

    struct hist h = {0};
    long lost = 0;
    int64_t t_start = cs_mono_ms();
    for (long i = 0; i < count; i++) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "trigger %s %s seq=%ld", charger, msg, i);
        pthread_mutex_lock(&rx.lock);
        rx.want = i;
        rx.got_us = 0;
        pthread_mutex_unlock(&rx.lock);
        int64_t t0 = cs_mono_us();
        rds_reply_free(rds_sync_cmd(r, "PUBLISH %s %s", key, cmd));
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 2;
        pthread_mutex_lock(&rx.lock);
        while (!rx.got_us)
            if (pthread_cond_timedwait(&rx.cond, &rx.lock, &dl) != 0)
                break;
        int64_t got = rx.got_us;
        pthread_mutex_unlock(&rx.lock);
        if (got)
            hist_add(&h, (uint64_t)(got - t0));
        else
            lost++;
    }
    double secs = (double)(cs_mono_ms() - t_start) / 1000.0;
    if (json)
        printf("{\"count\":%ld,\"lost\":%ld,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
               "\"max_ms\":%.3f,\"mean_ms\":%.3f}\n",
               count, lost, hist_quantile(&h, 0.5) / 1000.0, hist_quantile(&h, 0.9) / 1000.0,
               hist_quantile(&h, 0.99) / 1000.0, h.max / 1000.0,
               h.count ? (double)h.sum / (double)h.count / 1000.0 : 0);
    else
        printf("%ld triggers of %s on %s in %.1f s: p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  "
               "max %.2f ms  lost %ld\n",
               count, msg, charger, secs, hist_quantile(&h, 0.5) / 1000.0,
               hist_quantile(&h, 0.9) / 1000.0, hist_quantile(&h, 0.99) / 1000.0, h.max / 1000.0,
               lost);
    MQTTClient_disconnect(mc, 1000);
    MQTTClient_destroy(&mc);
    rds_sync_free(r);
    return lost ? 1 : 0;
}
