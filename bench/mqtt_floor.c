/* mqtt-floor - the least CPU an MQTT publisher can spend per message on this machine: N bare
 * MQTT 3.1.1 connections on one libevent loop, each publishing a charger-sized message every
 * period (QoS 0, or QoS 1 with its PUBACK read), with nothing else: no OCPP, no queue, no
 * statistics, one write() per PUBLISH and one read() per readable socket. bench/run puts it
 * beside the agent at the same load, so the agent's CPU per message reads against what the
 * kernel and the loop alone cost here.
 *
 *   mqtt-floor --broker tcp://HOST:PORT --clients N [--period-ms 100] [--qos 0|1]
 *              [--warmup-s 2] [--seconds 6]
 *
 * Prints one JSON object: clients, qos, seconds, sent_per_s, acked_per_s, cpu_pct (of one
 * core, this process), us_per_msg. Loopback only in the benchmarks; every run is bounded by
 * --seconds. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cs/cfg.h"
#include "cs/err.h"
#include "cs/mem.h"
#include "cs/util.h"

struct conn {
    int fd;
    uint16_t next_id;
    struct event *rd, *tick;
    size_t len; /* of pkt */
    unsigned char pkt[128];
};

static struct {
    int qos;
    const struct timeval *period; /* a common timeout: every connection's */
    long sent, acked, errors;
    bool counting;
} g;

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static size_t put_str(unsigned char *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (unsigned char)(n >> 8);
    p[1] = (unsigned char)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

/* A fixed header with a one-byte remaining length (every packet here is under 128 bytes). */
static size_t finish(unsigned char *pkt, unsigned char type, size_t body)
{
    pkt[0] = type;
    pkt[1] = (unsigned char)body;
    return body + 2;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (!(event_get_events(c->tick) & EV_PERSIST)) {
        /* The phase's one-shot has fired: from now on the shared period, kept by libevent
         * from each deadline (not from when the callback ran), so the rate does not drift. */
        event_assign(c->tick, event_get_base(c->tick), -1, EV_PERSIST, on_tick, c);
        event_add(c->tick, g.period);
    }
    if (g.qos == 1) {
        /* The packet id sits after the topic: the last two bytes before the payload. */
        size_t topic = (size_t)(c->pkt[2] << 8 | c->pkt[3]) + 2;
        if (++c->next_id == 0)
            c->next_id = 1;
        c->pkt[2 + topic] = (unsigned char)(c->next_id >> 8);
        c->pkt[3 + topic] = (unsigned char)c->next_id;
    }
    ssize_t n = write(c->fd, c->pkt, c->len);
    if (n != (ssize_t)c->len)
        g.errors++;
    else if (g.counting)
        g.sent++;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    unsigned char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            g.errors++;
        return;
    }
    /* PUBACKs (4 bytes each) and the odd PINGRESP: count the PUBACKs. */
    for (ssize_t i = 0; i + 1 < n; i += 2 + buf[i + 1])
        if ((buf[i] & 0xF0) == 0x40 && g.counting)
            g.acked++;
}

static int open_conn(struct conn *c, const struct sockaddr_in *sa, int index)
{
    unsigned char pkt[128];
    char id[32];
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    snprintf(id, sizeof(id), "floor-%06d", index);
    size_t b = 2;
    b += put_str(pkt + b, "MQTT");
    pkt[b++] = 4;    /* 3.1.1 */
    pkt[b++] = 0x02; /* clean session */
    pkt[b++] = 0;
    pkt[b++] = 60; /* keepalive */
    b += put_str(pkt + b, id);
    size_t len = finish(pkt, 0x10, b - 2);
    unsigned char ack[4];
    if (write(c->fd, pkt, len) != (ssize_t)len || read(c->fd, ack, 4) != 4 || ack[0] != 0x20 ||
        ack[3] != 0)
        return -1;
    /* The message a charger sends: an OCPP Heartbeat CALL on its uplink topic. */
    char topic[64], payload[64];
    snprintf(topic, sizeof(topic), "chargers/FL-%06d/up", index);
    /* a 36-character message id, as the agent's */
    snprintf(payload, sizeof(payload), "[2,\"%08x-0000-4000-8000-000000000001\",\"Heartbeat\",{}]",
             (unsigned)index);
    b = 2 + put_str(c->pkt + 2, topic);
    if (g.qos == 1)
        b += 2;
    memcpy(c->pkt + b, payload, strlen(payload));
    b += strlen(payload);
    c->len = finish(c->pkt, g.qos == 1 ? 0x32 : 0x30, b - 2);
    return evutil_make_socket_nonblocking(c->fd);
}

static void usage(FILE *f)
{
    fputs("usage: mqtt-floor --broker tcp://HOST:PORT --clients N [--period-ms 100] [--qos 0|1]\n"
          "                  [--warmup-s 2] [--seconds 6]\n"
          "The least CPU an MQTT publisher spends per message here: bare connections on one\n"
          "libevent loop, one write per PUBLISH, one read per readable socket. Prints JSON.\n",
          f);
}

/* The numeric options: one row each, parsed strictly within their range. */
struct num_opt {
    const char *name;
    int *dst;
    int64_t min, max;
};

int main(int argc, char **argv)
{
    const char *broker = NULL;
    int clients = 0, period_ms = 100, warmup_s = 2, seconds = 6;
    const struct num_opt nums[] = {{"clients", &clients, 1, 100000},
                                   {"period-ms", &period_ms, 1, 60000},
                                   {"qos", &g.qos, 0, 1},
                                   {"warmup-s", &warmup_s, 0, 60},
                                   {"seconds", &seconds, 1, 600}};
    enum { O_BROKER = 0x100, O_NUM = 0x200 };
    struct option opts[ARRAY_SIZE(nums) + 3] = {{"broker", required_argument, NULL, O_BROKER},
                                                {"help", no_argument, NULL, 'h'}};
    for (size_t i = 0; i < ARRAY_SIZE(nums); i++)
        opts[2 + i] = (struct option){nums[i].name, required_argument, NULL, O_NUM + (int)i};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int64_t v;
        if (o == 'h') {
            usage(stdout);
            return 0;
        } else if (o == O_BROKER) {
            broker = optarg;
        } else if (o >= O_NUM && o < O_NUM + (int)ARRAY_SIZE(nums) &&
                   cs_parse_i64(optarg, nums[o - O_NUM].min, nums[o - O_NUM].max, &v)) {
            *nums[o - O_NUM].dst = (int)v;
        } else {
            if (o >= O_NUM && o < O_NUM + (int)ARRAY_SIZE(nums))
                fprintf(stderr, "mqtt-floor: --%s: '%s' is not a number from %lld to %lld\n",
                        nums[o - O_NUM].name, optarg, (long long)nums[o - O_NUM].min,
                        (long long)nums[o - O_NUM].max);
            usage(stderr);
            return 2;
        }
    }
    struct cfg_broker b = {0};
    struct cs_error err;
    if (!broker || clients < 1) {
        usage(stderr);
        return 2;
    }
    if (cfg_broker_parse(broker, &b, &err) != CS_OK) {
        fprintf(stderr, "mqtt-floor: %s\n", err.msg);
        return 2;
    }
    if (b.tls || b.ws) {
        fprintf(stderr, "mqtt-floor: %s: plain MQTT (tcp:// or mqtt://) only\n", broker);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b.port)};
    if (inet_pton(AF_INET, b.host, &sa.sin_addr) != 1) {
        fprintf(stderr, "mqtt-floor: %s: not an IPv4 address\n", b.host);
        return 2;
    }
    struct event_base *base = event_base_new();
    struct conn *cs = calloc((size_t)clients, sizeof(*cs));
    if (!base || !cs)
        return 1;
    struct timeval period = {period_ms / 1000, (period_ms % 1000) * 1000};
    g.period = event_base_init_common_timeout(base, &period);
    for (int i = 0; i < clients; i++) {
        if (open_conn(&cs[i], &sa, i) != 0) {
            fprintf(stderr, "mqtt-floor: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
        cs[i].rd = event_new(base, cs[i].fd, EV_READ | EV_PERSIST, on_read, &cs[i]);
        cs[i].tick = evtimer_new(base, on_tick, &cs[i]);
        event_add(cs[i].rd, NULL);
    }
    /* Phases spread over one period, as the agent's chargers are; each tick re-arms itself
     * on the shared period at its first tick. */
    for (int i = 0; i < clients; i++) {
        int64_t us = (int64_t)period_ms * 1000 * i / clients;
        struct timeval ph = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
        event_add(cs[i].tick, &ph);
    }
    struct timeval wu = {warmup_s, 0}, run = {seconds, 0};
    event_base_loopexit(base, &wu);
    event_base_dispatch(base);
    g.counting = true;
    fputs("mqtt-floor: measuring\n", stderr); /* bench/run times the broker's window from here */
    double c0 = cpu_s();
    struct timeval t0, t1;
    evutil_gettimeofday(&t0, NULL);
    event_base_loopexit(base, &run);
    event_base_dispatch(base);
    evutil_gettimeofday(&t1, NULL);
    double cpu = cpu_s() - c0;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
    printf("{\"clients\":%d,\"qos\":%d,\"seconds\":%.2f,\"sent_per_s\":%.1f,\"acked_per_s\":%.1f,"
           "\"cpu_pct\":%.1f,\"us_per_msg\":%.2f,\"errors\":%ld}\n",
           clients, g.qos, secs, g.sent / secs, g.acked / secs, cpu / secs * 100,
           g.sent ? cpu * 1e6 / (double)g.sent : 0.0, g.errors);
    for (int i = 0; i < clients; i++) {
        event_free(cs[i].rd);
        event_free(cs[i].tick);
        close(cs[i].fd);
    }
    free(cs);
    event_base_free(base);
    return g.errors ? 1 : 0;
}
