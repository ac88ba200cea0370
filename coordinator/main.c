/* swarm-coordinator: assigns the fleet's chargers to live workers and sums fleet stats. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"
#include "cs/log.h"
#include "cs/util.h"

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
            "  --id ID             leader lock holder id (default host:pid)\n"
            "  --tick-ms MS        how often to check membership (default 500)\n"
            "  --lock-ttl-ms MS    leader lock lifetime (default 3000)\n"
            "%s",
            cs_opts_help());
}

int main(int argc, char **argv)
{
    struct coord_opts o;
    struct cs_error err;
    enum { OPT_ID = 1, OPT_TICK, OPT_TTL };
    static const struct option longopts[] = {
        {"id", required_argument, NULL, OPT_ID},
        {"tick-ms", required_argument, NULL, OPT_TICK},
        {"lock-ttl-ms", required_argument, NULL, OPT_TTL},
        CS_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    char host[64];

    memset(&o, 0, sizeof(o));
    cs_opts_init(&o.common);
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    snprintf(o.id, sizeof(o.id), "%s:%d", host, (int)getpid());
    o.tick_ms = 500;
    o.lock_ttl_ms = 3000;

    int opt;
    while ((opt = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        int64_t v;
        int rc = cs_opts_handle(&o.common, opt, optarg, &err);
        if (rc < 0)
            goto bad;
        if (rc > 0)
            continue;
        switch (opt) {
        case OPT_ID:
            if (!cs_strlcpy(o.id, optarg, sizeof(o.id)) || !*optarg) {
                cs_error_set(&err, CS_ERR_INVAL, "--id: 1..127 characters");
                goto bad;
            }
            break;
        case OPT_TICK:
            if (!cs_parse_i64(optarg, 50, 60000, &v)) {
                cs_error_set(&err, CS_ERR_RANGE, "--tick-ms: 50..60000");
                goto bad;
            }
            o.tick_ms = (int)v;
            break;
        case OPT_TTL:
            if (!cs_parse_i64(optarg, 500, 600000, &v)) {
                cs_error_set(&err, CS_ERR_RANGE, "--lock-ttl-ms: 500..600000");
                goto bad;
            }
            o.lock_ttl_ms = (int)v;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("swarm-coordinator %s\n", CS_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        cs_error_set(&err, CS_ERR_INVAL, "unexpected argument '%s'", argv[optind]);
        goto bad;
    }
    if (o.lock_ttl_ms < 2 * o.tick_ms) {
        cs_error_set(&err, CS_ERR_RANGE, "--lock-ttl-ms must be at least twice --tick-ms");
        goto bad;
    }
    if (cs_opts_finish(&o.common, &err) != CS_OK)
        goto bad;
    cs_log_init("coordinator", o.common.log_level);
    return coord_run(&o);

bad:
    fprintf(stderr, "swarm-coordinator: %s\n", err.msg);
    return 2;
}
