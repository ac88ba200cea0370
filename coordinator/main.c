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
            "                      events, commands sent, a command line) with its JSON API\n"
            "                      (/api/...) and /metrics; give both flags the same address\n"
            "                      for one listener. ADDR may be [v6], empty for every\n"
            "                      interface; PORT 0 takes a free port (logged). A standby\n"
            "                      serves both too, from its own reads of the same keys\n"
            "                      (chargeswarm_coordinator_leader 0).\n"
            "\n"
            "Access (docs/security.md). Without credentials whoever reaches a listener reads\n"
            "everything and sends commands: refused on addresses other than loopback unless\n"
            "--http-read-only or --http-insecure. Users and tokens come from the config file\n"
            "or the environment, never from the command line:\n"
            "  http-user = NAME:ROLE:PASSWORD\n"
            "                      a user (may repeat; env SWARM_HTTP_USER) for HTTP Basic or\n"
            "                      the page's sign-in; ROLE viewer (the page, API reads,\n"
            "                      /metrics) or operator (also commands); 8+ characters\n"
            "  http-token = NAME:ROLE:TOKEN\n"
            "                      a token for `Authorization: Bearer TOKEN` (may repeat; env\n"
            "                      SWARM_HTTP_TOKEN); 16+ characters\n"
            "  --http-tls-cert FILE  --http-tls-key FILE\n"
            "                      HTTPS on both listeners (PEM certificate chain, its\n"
            "                      unencrypted key), with HSTS; needed for credentials on\n"
            "                      addresses other than loopback\n"
            "  --http-origin ORIGIN another origin the page may post from, e.g. a reverse\n"
            "                      proxy's https://swarm.lab.example (may repeat)\n"
            "  --http-read-only    no commands: the page and the API only read\n"
            "  --http-insecure     serve what the checks above refuse\n"
            "\n"
            "%s",
            cs_opts_help());
}

enum {
    OPT_ID = 1,
    OPT_TICK,
    OPT_TTL,
    OPT_METRICS,
    OPT_HTTP,
    OPT_USER,
    OPT_TOKEN,
    OPT_CERT,
    OPT_KEY,
    OPT_ORIGIN,
    OPT_READ_ONLY,
    OPT_INSECURE
};

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
        char host[LISTEN_MAX];
        int port;
        struct cs_error perr;
        const char *flag = opt == OPT_METRICS ? "--metrics-listen" : "--http";
        if (listen_parse(arg, host, sizeof(host), &port, &perr) != CS_OK)
            return cs_error_set(err, CS_ERR_INVAL, "%s: %s", flag, perr.msg);
        if (!cs_strlcpy(opt == OPT_METRICS ? o->metrics_listen : o->http_listen, arg,
                        sizeof(o->http_listen)))
            return cs_error_set(err, CS_ERR_TOO_BIG, "%s: address too long", flag);
        return CS_OK;
    }
    case OPT_USER:
    case OPT_TOKEN:
        return auth_add(&o->auth, opt == OPT_TOKEN ? AUTH_TOKEN : AUTH_PASSWORD, arg, err);
    case OPT_CERT:
    case OPT_KEY:
        if (!cs_strlcpy(opt == OPT_CERT ? o->tls_cert : o->tls_key, arg, sizeof(o->tls_cert)))
            return cs_error_set(err, CS_ERR_TOO_BIG, "file name too long");
        return CS_OK;
    case OPT_ORIGIN: {
        int rc = listen_check_origin(arg, WEB_ORIGIN_MAX, err);
        if (rc != CS_OK)
            return rc;
        if (o->norigins >= WEB_ORIGINS_MAX)
            return cs_error_set(err, CS_ERR_TOO_BIG, "--http-origin: at most %d", WEB_ORIGINS_MAX);
        cs_strlcpy(o->origins[o->norigins++], arg, WEB_ORIGIN_MAX);
        return CS_OK;
    }
    case OPT_READ_ONLY:
        o->read_only = true;
        return CS_OK;
    case OPT_INSECURE:
        o->insecure = true;
        return CS_OK;
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
        {"http-user", required_argument, NULL, OPT_USER},
        {"http-token", required_argument, NULL, OPT_TOKEN},
        {"http-tls-cert", required_argument, NULL, OPT_CERT},
        {"http-tls-key", required_argument, NULL, OPT_KEY},
        {"http-origin", required_argument, NULL, OPT_ORIGIN},
        {"http-read-only", no_argument, NULL, OPT_READ_ONLY},
        {"http-insecure", no_argument, NULL, OPT_INSECURE},
        CS_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    /* Secrets: never on the command line, never printed. */
    static const struct cs_optx optx[] = {
        {OPT_USER, "SWARM_HTTP_USER", CS_OPTX_SECRET | CS_OPTX_NO_FLAG | CS_OPTX_MULTI, 2},
        {OPT_TOKEN, "SWARM_HTTP_TOKEN", CS_OPTX_SECRET | CS_OPTX_NO_FLAG | CS_OPTX_MULTI, 2},
        {OPT_ORIGIN, NULL, CS_OPTX_MULTI, 0},
        {0, NULL, 0, 0},
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
    int rc = cs_opts_parse_x(&p, optx, argc, argv);
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
    struct cs_error err;
    struct web_opts wo;
    coord_web_opts(&o, &wo);
    if (web_check_access(&wo, &err) != CS_OK) {
        fprintf(stderr, "swarm-coordinator: %s\n", err.msg);
        return 2;
    }
    cs_log_init("coordinator", o.common.log_level);
    return coord_run(&o);
}
