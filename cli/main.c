/* swarm-cli: the operator's tool. Everything it does can also be done with redis-cli. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cs/buf.h"
#include "cs/devmodel.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/scenario.h"
#include "cs/stats.h"
#include "cs/thresh.h"
#include "cs/util.h"

static int cmd_send(struct cli *c, int argc, char **argv);
static int cmd_docs(struct cli *c, int argc, char **argv);

struct subcmd {
    const char *name;
    int (*fn)(struct cli *c, int argc, char **argv); /* NULL: a usage line of the one above */
    const char *usage;
    const char *summary;
};

static const struct subcmd subcmds[] = {
    {"status", cmd_status, "status [--watch] [--interval S] [--json] [--workers]",
     "fleet summary and per-worker rows"},
    {"top", cmd_top, "top [--interval S] [--ascii]",
     "live full-screen view of the fleet, like top(1)"},
    {"agents", cmd_agents, "agents [--json]", "live workers, their leases and index ranges"},
    {"watch", cmd_watch, "watch [--json]", "print replies and events as they arrive"},
    {"config", cmd_config, "config get|set|unset [--charger ID | --fleet] ...",
     "read or change live config (validated before writing)"},
    {"scale", cmd_scale, "scale N [--abrupt] [--wait]",
     "set the fleet size (--abrupt: leavers keep their transactions open; --wait: until "
     "connected)"},
    {"catalog", cmd_catalog, "catalog load FILE | list | show NAME | delete NAME",
     "user-defined message types (JSON templates)"},
    {"send", cmd_send, "send 'COMMAND LINE'", "publish any command line and wait for replies"},
    {"replay", cmd_replay, "replay --from TIME [--to TIME] [--speed X]",
     "send a recorded run's commands again ({ns}:cmdlog)"},
    {"run", cmd_run, "run start NAME | stop [--abrupt] | list | show [ID]",
     "mark a run of the load test (start, end, config) in Redis"},
    {"run FILE", NULL, "run [--check] FILE [--threshold EXPR]...",
     "run a scenario file: stages, progress, report, exit by thresholds"},
    {"stats", cmd_stats, "stats reset",
     "drop the running run's warm-up: its figures count from now"},
    {"report", cmd_report, "report [--run ID | --since T [--until T]] [--format F]",
     "a run's results: table, Locust CSV, JSON or HTML; --threshold gates"},
    {"completion", cmd_completion, "completion bash", "shell completion script"},
    {"docs", cmd_docs, "docs commands|config|stats|scenario|thresholds|runs",
     "print the generated reference (Markdown)"},
};

/* One "  USAGE   summary" row. A usage too long for its column puts the summary on the next
 * line, indented: help2man (the man page) reads a row as a term and its text only when two
 * blanks at least part them, and ran the long rows into one paragraph. */
static void usage_row(FILE *out, const char *use, const char *summary)
{
    if (strlen(use) <= 44)
        fprintf(out, "  %-44s  %s\n", use, summary);
    else
        fprintf(out, "  %s\n  %-44s  %s\n", use, "", summary);
}

static void usage(FILE *out)
{
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    fprintf(out, "Usage: swarm-cli [options] COMMAND [ARGS...]\n\n"
                 "Steers a running chargeswarm fleet through Redis.\n\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(subcmds); i++)
        usage_row(out, subcmds[i].usage, subcmds[i].summary);
    fprintf(out, "\nFleet commands (published on {ns}:cmd; every worker replies):\n");
    for (size_t i = 0; i < n; i++)
        if (!(t[i].flags & CMD_F_INTERNAL))
            usage_row(out, t[i].usage, t[i].summary);
    fprintf(out,
            "\nSEL is a selector: *, CP-000042, CP-000001..CP-000500, CP-00004?, worker:NAME,\n"
            "where:KEY=VALUE (config match), random:N or random:P%% (a sample, :seed=S), or a\n"
            "comma-separated union (docs/commands.md).\n\n"
            "Options:\n"
            "  --json              machine-readable output\n"
            "  --timeout MS        how long to wait for replies, or for progress with\n"
            "                      scale --wait (default 5000)\n"
            "--json and --timeout may also follow the command word.\n"
            "%s\n"
            "Exit status: 0 ok; 1 error replies, missing replies from workers, or a command\n"
            "that matched nothing; 2 usage; 3 Redis unreachable or answering an error (NOAUTH,\n"
            "NOPERM...): the message on stderr.\n",
            cs_opts_help());
}

static bool wants_help(int argc, char **argv)
{
    return argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
}

static int cmd_send(struct cli *c, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("Usage: swarm-cli send 'COMMAND LINE'\n\n"
               "Publishes any command line, in the line form ([@id] VERB [SELECTOR] ...) or the\n"
               "JSON form, logs it in {ns}:cmdlog, waits for every live worker's reply and prints\n"
               "one summary, like the verb subcommands do. The words may also be given apart:\n"
               "swarm-cli send trigger '*' Heartbeat. Reference: swarm-cli docs commands.\n");
        return EXIT_OK;
    }
    if (argc < 2) {
        fprintf(stderr, "Usage: swarm-cli send 'COMMAND LINE'\n");
        return EXIT_USAGE;
    }
    struct buf b = BUF_INIT;
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            buf_putc(&b, ' ');
        buf_puts(&b, argv[i]);
    }
    int rc = cli_send_line(c, buf_cstr(&b), false);
    buf_free(&b);
    return rc;
}

static int cmd_verb(struct cli *c, int argc, char **argv)
{
    struct buf b = BUF_INIT;
    cli_join_args(&b, argc, argv);
    int rc = cli_send_line(c, buf_cstr(&b), false);
    buf_free(&b);
    return rc;
}

static int cmd_docs(struct cli *c, int argc, char **argv)
{
    (void)c;
    struct buf b = BUF_INIT;
    if (wants_help(argc, argv)) {
        printf("Usage: swarm-cli docs commands|config|stats|devmodel|scenario|thresholds|runs\n\n"
               "Prints a reference generated from the program's own tables, in Markdown: the\n"
               "command verbs and selectors (docs/commands.md), the config keys\n"
               "(docs/config.md), the stats fields (docs/stats.md), the OCPP 2.0.1 device\n"
               "model (docs/devmodel.md), and parts of docs/results.md.\n");
        return EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "commands") == 0) {
        cmd_doc_markdown(&b);
    } else if (argc == 2 && strcmp(argv[1], "config") == 0) {
        cfg_doc_markdown(&b);
    } else if (argc == 2 && strcmp(argv[1], "stats") == 0) {
        stats_doc_markdown(&b);
    } else if (argc == 2 && strcmp(argv[1], "devmodel") == 0) {
        devmodel_doc_markdown(&b);
    } else if (argc == 2 && strcmp(argv[1], "scenario") == 0) {
        scenario_doc_markdown(&b);
    } else if (argc == 2 && strcmp(argv[1], "thresholds") == 0) {
        thresh_doc_markdown(&b);
    } else if (argc == 2 && strcmp(argv[1], "runs") == 0) {
        run_doc_fields(&b);
    } else {
        fprintf(stderr,
                "Usage: swarm-cli docs commands|config|stats|devmodel|scenario|thresholds|runs\n");
        return EXIT_USAGE;
    }
    fputs(buf_cstr(&b), stdout);
    buf_free(&b);
    return EXIT_OK;
}

enum { OPT_JSON = 1, OPT_TIMEOUT };

static int apply_opt(void *ctx, int opt, const char *arg, struct cs_error *err)
{
    struct cli *c = ctx;
    int64_t v;
    switch (opt) {
    case OPT_JSON:
        c->json = true;
        return CS_OK;
    case OPT_TIMEOUT:
        if (!cs_parse_i64(arg, 1, 3600000, &v))
            return cs_error_set(err, CS_ERR_RANGE, "--timeout: 1..3600000 ms");
        c->timeout_ms = (int)v;
        return CS_OK;
    case 'h':
        usage(stdout);
        return CS_OPTS_DONE;
    case 'V':
        printf("swarm-cli %s\n", CS_VERSION);
        return CS_OPTS_DONE;
    }
    return cs_error_set(err, CS_ERR_INVAL, "unknown option");
}

/* --json and --timeout MS also work after the command word (`scale 600 --wait --timeout 3000`,
 * `watch --json`): taken out of the command's arguments wherever they sit, up to a "--". */
static int hoist_global_opts(struct cli *c, int *argc, char **argv)
{
    struct cs_error err;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--json") == 0) {
            c->json = true;
            continue;
        }
        if (strcmp(a, "--timeout") == 0 && i + 1 < *argc)
            val = argv[++i];
        else if (strncmp(a, "--timeout=", 10) == 0)
            val = a + 10;
        else if (strcmp(a, "--timeout") == 0)
            val = "";
        if (val) {
            if (apply_opt(c, OPT_TIMEOUT, val, &err) != CS_OK) {
                fprintf(stderr, "swarm-cli: %s\n", err.msg);
                return CS_ERR_RANGE;
            }
            continue;
        }
        argv[out++] = argv[i];
    }
    *argc = out;
    return CS_OK;
}

int main(int argc, char **argv)
{
    struct cli c;
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        CS_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    memset(&c, 0, sizeof(c));
    cs_opts_defaults(&c.common);
    c.timeout_ms = 5000;

    /* '+': options end at the first command word. */
    struct cs_optparse p = {"swarm-cli", longopts, "+hV", apply_opt, &c, &c.common, 0};
    int prc = cs_opts_parse(&p, argc, argv);
    if (prc == CS_OPTS_DONE)
        return EXIT_OK;
    if (prc)
        return EXIT_USAGE;
    if (p.first_operand >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int optind_ = p.first_operand;
    cs_log_init("swarm-cli", c.common.log_level);
    int sub_argc = argc - optind_;
    char **sub_argv = argv + optind_;
    if (hoist_global_opts(&c, &sub_argc, sub_argv) != CS_OK)
        return EXIT_USAGE;
    const char *name = sub_argv[0];
    int rc = -1;
    for (size_t i = 0; i < ARRAY_SIZE(subcmds); i++)
        if (subcmds[i].fn && strcmp(subcmds[i].name, name) == 0) {
            rc = subcmds[i].fn(&c, sub_argc, sub_argv);
            break;
        }
    if (rc < 0) {
        const struct cmd_def *d = cmd_lookup(name);
        if (d && !(d->flags & CMD_F_INTERNAL)) {
            if (sub_argc > 1 &&
                (strcmp(sub_argv[1], "--help") == 0 || strcmp(sub_argv[1], "-h") == 0)) {
                printf("Usage: swarm-cli %s\n\n%s\n\nExample: swarm-cli %s\n", d->usage, d->summary,
                       d->example);
                rc = EXIT_OK;
            } else {
                rc = cmd_verb(&c, sub_argc, sub_argv);
            }
        } else {
            fprintf(stderr, "swarm-cli: unknown command '%s' (swarm-cli --help)\n", name);
            rc = EXIT_USAGE;
        }
    }
    rds_sync_free(c.r);
    return rc;
}
