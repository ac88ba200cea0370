/* swarm-coordinator: assigns the fleet's chargers to live workers and sums fleet stats; serves
 * /metrics and the web dashboard on request. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"
#include "cs/log.h"
#include "cs/util.h"
#include "web.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: swarm-coordinator [options]\n"
            "\n"
            "Hands charger index ranges to live agent workers by capacity, moves them when a\n"
            "worker joins or its lease expires, and writes fleet totals to {ns}:stats and\n"
            "{ns}:ts. Run two for a hot standby: one holds the leader lock {ns}:coordinator.\n"
            "\n"
            "Options:\n"
            "  --id ID             leader lock holder id (default host:pid); unique per\n"
            "                      coordinator: a second one started with an id in use exits 1\n"
            "  --tick-ms MS        how often to check membership (default 500)\n"
            "  --lock-ttl-ms MS    leader lock lifetime (default 3000)\n"
            "  --metrics-listen ADDR:PORT\n"
            "                      serve GET /metrics (Prometheus text format): fleet totals and\n"
            "                      one series per worker (label worker=\"NAME\")\n"
            "  --http ADDR:PORT    serve the web dashboard at / (fleet summary, charts, workers,\n"
            "                      events, a command line) with /api/status, /api/events,\n"
            "                      POST /api/command and /metrics; give both flags the same\n"
            "                      address for one listener. ADDR may be [v6], empty for every\n"
            "                      interface; PORT 0 takes a free port (logged). No\n"
            "                      authentication: bind to loopback or a trusted network.\n"
            "                      A standby serves both too, from its own reads of the same\n"
            "                      keys (chargeswarm_coordinator_leader 0).\n"
            "%s",
            cs_opts_help());
}

enum { OPT_ID = 1, OPT_TICK, OPT_TTL, OPT_METRICS, OPT_HTTP };

static int apply_opt(void *ctx, int opt, const char *arg, struct cs_error *err)
{
    struct coord_opts *o = ctx;
    int64_t v;
    switch (opt) {
    case OPT_ID:
        if (!cs_strlcpy(o->id, arg, sizeof(o->id)) || !*arg)
            return cs_error_set(err, CS_ERR_INVAL, "--id: 1..127 characters");
        return CS_OK;
    case OPT_TICK:
        if (!cs_parse_i64(arg, 50, 60000, &v))
            return cs_error_set(err, CS_ERR_RANGE, "--tick-ms: 50..60000");
        o->tick_ms = (int)v;
        return CS_OK;
    case OPT_TTL:
        if (!cs_parse_i64(arg, 500, 600000, &v))
            return cs_error_set(err, CS_ERR_RANGE, "--lock-ttl-ms: 500..600000");
        o->lock_ttl_ms = (int)v;
        return CS_OK;
    case OPT_METRICS:
    case OPT_HTTP: {
        char host[WEB_LISTEN_MAX];
        int port;
        struct cs_error perr;
        const char *flag = opt == OPT_METRICS ? "--metrics-listen" : "--http";
        if (web_parse_listen(arg, host, sizeof(host), &port, &perr) != CS_OK)
            return cs_error_set(err, CS_ERR_INVAL, "%s: %s", flag, perr.msg);
        if (!cs_strlcpy(opt == OPT_METRICS ? o->metrics_listen : o->http_listen, arg,
                        sizeof(o->http_listen)))
            return cs_error_set(err, CS_ERR_TOO_BIG, "%s: address too long", flag);
        return CS_OK;
    }
    case 'h':
        usage(stdout);
        return CS_OPTS_DONE;
    case 'V':
        printf("swarm-coordinator %s\n", CS_VERSION);
        return CS_OPTS_DONE;
    }
    return cs_error_set(err, CS_ERR_INVAL, "unknown option");
}

int main(int argc, char **argv)
{
    struct coord_opts o;
    static const struct option longopts[] = {
        {"id", required_argument, NULL, OPT_ID},
        {"tick-ms", required_argument, NULL, OPT_TICK},
        {"lock-ttl-ms", required_argument, NULL, OPT_TTL},
        {"metrics-listen", required_argument, NULL, OPT_METRICS},
        {"http", required_argument, NULL, OPT_HTTP},
        CS_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    char host[64];

    memset(&o, 0, sizeof(o));
    cs_opts_defaults(&o.common);
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    snprintf(o.id, sizeof(o.id), "%s:%d", host, (int)getpid());
    o.tick_ms = 500;
    o.lock_ttl_ms = 3000;

    struct cs_optparse p = {"swarm-coordinator", longopts, "hV", apply_opt, &o, &o.common, 0};
    int rc = cs_opts_parse(&p, argc, argv);
    if (rc == CS_OPTS_DONE)
        return 0;
    if (rc)
        return 2;
    if (p.first_operand < argc) {
        fprintf(stderr, "swarm-coordinator: unexpected argument '%s'\n", argv[p.first_operand]);
        return 2;
    }
    if (o.lock_ttl_ms < 2 * o.tick_ms) {
        fprintf(stderr, "swarm-coordinator: --lock-ttl-ms must be at least twice --tick-ms\n");
        return 2;
    }
    cs_log_init("coordinator", o.common.log_level);
    return coord_run(&o);
}
