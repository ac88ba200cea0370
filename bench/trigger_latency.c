/* trigger-latency: PUBLISH a trigger on {ns}:cmd, time until the messages arrive at an MQTT
 * subscriber on the broker(s). One trigger at a time, N of them; prints p50/p90/p99/max of the
 * time until the last expected message arrived (and of the first, for fleet-wide triggers).
 * The fleet may be under load meanwhile.
 *
 *   trigger-latency --broker tcp://127.0.0.1:1883 --charger CP-000042 [--count 1000]
 *   trigger-latency --broker URI[,URI...] --select '*' --expect 10000 --count 5
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
    long want;      /* seq we wait for */
    long need, got; /* messages expected for it, arrived */
    int64_t first_us, last_us;
} rx = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1, 1, 0, 0, 0};

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
            if (rx.got++ == 0)
                rx.first_us = now;
            rx.last_us = now;
            if (rx.got >= rx.need)
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
    const char *select = NULL;
    long count = 1000, expect = 1;
    int json = 0;
    enum { OPT_BROKER = 1, OPT_CHARGER, OPT_COUNT, OPT_JSON, OPT_SELECT, OPT_EXPECT, OPT_MSG };
    static const struct option longopts[] = {
        {"broker", required_argument, NULL, OPT_BROKER},
        {"charger", required_argument, NULL, OPT_CHARGER},
        {"select", required_argument, NULL, OPT_SELECT},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"msg", required_argument, NULL, OPT_MSG},
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
        case OPT_BROKER:
            broker = optarg;
            break;
        case OPT_CHARGER:
            charger = optarg;
            break;
        case OPT_COUNT:
            count = strtol(optarg, NULL, 10);
            break;
        case OPT_SELECT:
            select = optarg;
            break;
        case OPT_EXPECT:
            expect = strtol(optarg, NULL, 10);
            break;
        case OPT_MSG:
            msg = optarg;
            break;
        case OPT_JSON:
            json = 1;
            break;
        case 'h':
            printf("Usage: trigger-latency --broker URI[,URI...] (--charger ID | --select SEL "
                   "--expect N) [--msg TYPE] [--count N] [--json]\n%s",
                   cs_opts_help());
            return 0;
        default:
            return 2;
        }
    }
    if (count < 1 || count > 1000000 || expect < 1 || expect > 1000000 ||
        cs_opts_finish(&o, &err) != CS_OK) {
        fprintf(stderr, "trigger-latency: bad arguments\n");
        return 2;
    }

    struct rds_sync *r = rds_sync_connect(&o.url, 3000, &err);
    if (!r) {
        fprintf(stderr, "trigger-latency: %s\n", err.msg);
        return 3;
    }
    /* One subscriber per broker: a fleet spread over several sees every message. */
    enum { MAXB = 8 };
    MQTTClient mc[MAXB];
    int nb = 0;
    char topic[256], key[CS_KEY_MAX], brokers[1024];
    snprintf(topic, sizeof(topic), "chargers/%s/up/%s", select ? "+" : charger, msg);
    snprintf(brokers, sizeof(brokers), "%s", broker);
    for (char *save = NULL, *b = strtok_r(brokers, ",", &save); b && nb < MAXB;
         b = strtok_r(NULL, ",", &save), nb++) {
        MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
        char cid[64];
        snprintf(cid, sizeof(cid), "trigger-latency-%d-%d", (int)getpid(), nb);
        MQTTClient_create(&mc[nb], b, cid, MQTTCLIENT_PERSISTENCE_NONE, NULL);
        MQTTClient_setCallbacks(mc[nb], NULL, on_lost, on_message, NULL);
        if (MQTTClient_connect(mc[nb], &co) != MQTTCLIENT_SUCCESS ||
            MQTTClient_subscribe(mc[nb], topic, 0) != MQTTCLIENT_SUCCESS) {
            fprintf(stderr, "trigger-latency: cannot subscribe at %s\n", b);
            return 3;
        }
    }
    cs_key(key, o.ns, CH_CMD, NULL);

    struct hist h = {0}, hf = {0};
    long lost = 0, partial = 0;
    int64_t t_start = cs_mono_ms();
    for (long i = 0; i < count; i++) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "trigger %s %s seq=%ld", select ? select : charger, msg, i);
        pthread_mutex_lock(&rx.lock);
        rx.want = i;
        rx.need = expect;
        rx.got = 0;
        rx.first_us = rx.last_us = 0;
        pthread_mutex_unlock(&rx.lock);
        int64_t t0 = cs_mono_us();
        rds_reply_free(rds_sync_cmd(r, "PUBLISH %s %s", key, cmd));
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += expect > 1 ? 30 : 2;
        pthread_mutex_lock(&rx.lock);
        while (rx.got < rx.need)
            if (pthread_cond_timedwait(&rx.cond, &rx.lock, &dl) != 0)
                break;
        long got = rx.got;
        int64_t first = rx.first_us, last = rx.last_us;
        rx.want = -1;
        pthread_mutex_unlock(&rx.lock);
        if (got >= expect) {
            hist_add(&h, (uint64_t)(last - t0));
            hist_add(&hf, (uint64_t)(first - t0));
        } else if (got) {
            partial++;
        } else {
            lost++;
        }
        if (expect > 1) /* let the fleet's queues drain between fleet-wide rounds */
            usleep(500000);
    }
    double secs = (double)(cs_mono_ms() - t_start) / 1000.0;
    const char *what = select ? select : charger;
    if (json)
        printf("{\"count\":%ld,\"expect\":%ld,\"lost\":%ld,\"partial\":%ld,\"p50_ms\":%.3f,"
               "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"mean_ms\":%.3f,"
               "\"first_p50_ms\":%.3f}\n",
               count, expect, lost, partial, hist_quantile(&h, 0.5) / 1000.0,
               hist_quantile(&h, 0.9) / 1000.0, hist_quantile(&h, 0.99) / 1000.0, h.max / 1000.0,
               h.count ? (double)h.sum / (double)h.count / 1000.0 : 0,
               hist_quantile(&hf, 0.5) / 1000.0);
    else
        printf("%ld triggers of %s on %s (%ld messages each) in %.1f s: until the last: p50 "
               "%.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms; first p50 %.2f ms; lost %ld, "
               "partial %ld\n",
               count, msg, what, expect, secs, hist_quantile(&h, 0.5) / 1000.0,
               hist_quantile(&h, 0.9) / 1000.0, hist_quantile(&h, 0.99) / 1000.0, h.max / 1000.0,
               hist_quantile(&hf, 0.5) / 1000.0, lost, partial);
    for (int b = 0; b < nb; b++) {
        MQTTClient_disconnect(mc[b], 1000);
        MQTTClient_destroy(&mc[b]);
    }
    rds_sync_free(r);
    return lost || partial ? 1 : 0;
}
