/* swarm-agent: runs virtual EV chargers on this host, in worker processes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs/ids.h"
#include "cs/log.h"
#include "cs/util.h"
#include "supervisor.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: swarm-agent [options]\n"
            "\n"
            "Runs virtual EV chargers (one MQTT client each) for the fleet in Redis. The\n"
            "coordinator assigns charger index ranges to this agent's workers; commands and\n"
            "config changes published in Redis apply to the running chargers.\n"
            "\n"
            "Options:\n"
            "  --name NAME         agent name (default: hostname); workers are NAME.w0, NAME.w1...\n"
            "  --workers K         worker processes (default: number of cores)\n"
            "  --max-chargers N    chargers per worker (default 500)\n"
            "  --stop-timeout S    seconds a graceful stop may take (default 10)\n"
            "%s"
            "\n"
            "Signals: SIGTERM/SIGINT stop gracefully (chargers disconnect cleanly).\n",
            cs_opts_help());
}

int main(int argc, char **argv)
{
    struct agent_opts ao;
    struct cs_error err;
    enum { OPT_NAME = 1, OPT_WORKERS, OPT_MAX, OPT_STOP };
    static const struct option longopts[] = {
        {"name", required_argument, NULL, OPT_NAME},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"max-chargers", required_argument, NULL, OPT_MAX},
        {"stop-timeout", required_argument, NULL, OPT_STOP},
        CS_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };

    memset(&ao, 0, sizeof(ao));
    cs_opts_init(&ao.common);
    gethostname(ao.name, sizeof(ao.name));
    ao.name[sizeof(ao.name) - 1] = '\0';
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ao.workers = cores > 0 ? (int)cores : 1;
    ao.max_chargers = 500;
    ao.stop_timeout_ms = 10000;

    int opt;
    while ((opt = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        int64_t v;
        int rc = cs_opts_handle(&ao.common, opt, optarg, &err);
        if (rc < 0)
            goto bad;
        if (rc > 0)
            continue;
        switch (opt) {
        case OPT_NAME:
            if (!cs_strlcpy(ao.name, optarg, sizeof(ao.name)) || !cs_id_valid(optarg) ||
                optarg[0] == '_') {
                cs_error_set(&err, CS_ERR_INVAL, "--name: use [A-Za-z0-9_.-], not starting with _");
                goto bad;
            }
            break;
        case OPT_WORKERS:
            if (!cs_parse_i64(optarg, 1, 256, &v)) {
                cs_error_set(&err, CS_ERR_RANGE, "--workers: 1..256");
                goto bad;
            }
            ao.workers = (int)v;
            break;
        case OPT_MAX:
            if (!cs_parse_i64(optarg, 1, 100000, &v)) {
                cs_error_set(&err, CS_ERR_RANGE, "--max-chargers: 1..100000");
                goto bad;
            }
            ao.max_chargers = (int)v;
            break;
        case OPT_STOP:
            if (!cs_parse_i64(optarg, 1, 3600, &v)) {
                cs_error_set(&err, CS_ERR_RANGE, "--stop-timeout: 1..3600 seconds");
                goto bad;
            }
            ao.stop_timeout_ms = (int)v * 1000;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("swarm-agent %s\n", CS_VERSION);
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
    /* Hostnames may hold characters IDs do not allow. */
    for (char *p = ao.name; *p; p++)
        if (!cs_id_char(*p))
            *p = '-';
    if (cs_opts_finish(&ao.common, &err) != CS_OK)
        goto bad;
    cs_log_init("agent", ao.common.log_level);
    return supervisor_run(&ao);

bad:
    fprintf(stderr, "swarm-agent: %s\n", err.msg);
    return 2;
}
