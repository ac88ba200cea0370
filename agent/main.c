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
    fprintf(
        out,
        "Usage: swarm-agent [options]\n"
        "\n"
        "Runs virtual EV chargers (one MQTT client each) for the fleet in Redis. The\n"
        "coordinator assigns charger index ranges to this agent's workers; commands and\n"
        "config changes published in Redis apply to the running chargers.\n"
        "\n"
        "Options:\n"
        "  --name NAME         agent name (default: hostname); workers are NAME.w0, NAME.w1...\n"
        "  --workers K         worker processes (default: number of cores)\n"
        "  --max-chargers N    chargers per worker (default 2000; 500 for chargers on paho)\n"
        "  --stop-timeout S    seconds a graceful stop may take (default 10)\n"
        "%s"
        "\n"
        "Signals: SIGTERM/SIGINT stop gracefully (chargers disconnect cleanly); SIGHUP\n"
        "makes every worker re-read its config, layers, catalog and assignment from Redis.\n",
        cs_opts_help());
}

enum { OPT_NAME = 1, OPT_WORKERS, OPT_MAX, OPT_STOP };

static int apply_opt(void *ctx, int opt, const char *arg, struct cs_error *err)
{
    struct agent_opts *ao = ctx;
    int64_t v;
    switch (opt) {
    case OPT_NAME:
        if (!cs_strlcpy(ao->name, arg, sizeof(ao->name)) || !cs_id_valid(arg) || arg[0] == '_')
            return cs_error_set(err, CS_ERR_INVAL,
                                "--name: use [A-Za-z0-9_.-], not starting with _");
        return CS_OK;
    case OPT_WORKERS:
        if (!cs_parse_i64(arg, 1, 256, &v))
            return cs_error_set(err, CS_ERR_RANGE, "--workers: 1..256");
        ao->workers = (int)v;
        return CS_OK;
    case OPT_MAX:
        if (!cs_parse_i64(arg, 1, 100000, &v))
            return cs_error_set(err, CS_ERR_RANGE, "--max-chargers: 1..100000");
        ao->max_chargers = (int)v;
        return CS_OK;
    case OPT_STOP:
        if (!cs_parse_i64(arg, 1, 3600, &v))
            return cs_error_set(err, CS_ERR_RANGE, "--stop-timeout: 1..3600 seconds");
        ao->stop_timeout_ms = (int)v * 1000;
        return CS_OK;
    case 'h':
        usage(stdout);
        return CS_OPTS_DONE;
    case 'V':
        printf("swarm-agent %s\n", CS_VERSION);
        return CS_OPTS_DONE;
    }
    return cs_error_set(err, CS_ERR_INVAL, "unknown option");
}

int main(int argc, char **argv)
{
    struct agent_opts ao;
    static const struct option longopts[] = {
        {"name", required_argument, NULL, OPT_NAME},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"max-chargers", required_argument, NULL, OPT_MAX},
        {"stop-timeout", required_argument, NULL, OPT_STOP},
        CS_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };

    memset(&ao, 0, sizeof(ao));
    cs_opts_defaults(&ao.common);
    gethostname(ao.name, sizeof(ao.name));
    ao.name[sizeof(ao.name) - 1] = '\0';
    /* Hostnames may hold characters IDs do not allow. */
    for (char *p = ao.name; *p; p++)
        if (!cs_id_char(*p))
            *p = '-';
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ao.workers = cores > 0 ? (int)cores : 1;
    ao.max_chargers = 2000; /* docs/performance.md, "Worker size" */
    ao.stop_timeout_ms = 10000;

    struct cs_optparse p = {"swarm-agent", longopts, "hV", apply_opt, &ao, &ao.common, 0};
    int rc = cs_opts_parse(&p, argc, argv);
    if (rc == CS_OPTS_DONE)
        return 0;
    if (rc)
        return 2;
    if (p.first_operand < argc) {
        fprintf(stderr, "swarm-agent: unexpected argument '%s'\n", argv[p.first_operand]);
        return 2;
    }
    cs_log_init("agent", ao.common.log_level);
    return supervisor_run(&ao);
}
