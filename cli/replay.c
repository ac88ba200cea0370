/* replay.c - swarm-cli replay: re-sends the commands of a recorded run from {ns}:cmdlog,
 * keeping their spacing (scaled by --speed); and swarm-cli completion. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cs/catalog.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/util.h"

/* ISO-8601, ms since the epoch, or -DURATION (ago). */
static bool parse_time(const char *s, int64_t *ms)
{
    int64_t d;
    if (s[0] == '-' && cs_parse_duration_ms(s + 1, &d)) {
        *ms = cs_now_ms() - d;
        return true;
    }
    return cs_parse_i64(s, 0, INT64_MAX / 2, ms) || ocpp_datetime_parse(s, ms);
}

static void replay_usage(FILE *out)
{
    fprintf(out,
            "Usage: swarm-cli replay --from TIME [--to TIME] [--speed X] [--dry-run]\n"
            "\n"
            "Sends again the commands swarm-cli logged in {ns}:cmdlog between --from and --to\n"
            "(default: now), with their original spacing divided by --speed (default 1).\n"
            "TIME: ISO-8601 (2026-11-28T10:00:00Z), ms since the epoch, or -DURATION ago\n"
            "(-15m). Each replayed command gets a new id and is logged again.\n");
}

int cmd_replay(struct cli *c, int argc, char **argv)
{
    enum { OPT_FROM = 1, OPT_TO, OPT_SPEED, OPT_DRY };
    static const struct option opts[] = {{"from", required_argument, NULL, OPT_FROM},
                                         {"to", required_argument, NULL, OPT_TO},
                                         {"speed", required_argument, NULL, OPT_SPEED},
                                         {"dry-run", no_argument, NULL, OPT_DRY},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int64_t from = -1, to = cs_now_ms();
    double speed = 1;
    bool dry = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_FROM:
            if (!parse_time(optarg, &from)) {
                fprintf(stderr, "swarm-cli replay: --from: bad time '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_TO:
            if (!parse_time(optarg, &to)) {
                fprintf(stderr, "swarm-cli replay: --to: bad time '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_SPEED:
            if (!cs_parse_double(optarg, 0.001, 1e6, &speed)) {
                fprintf(stderr, "swarm-cli replay: --speed: 0.001..1000000\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_DRY: dry = true; break;
        case 'h': replay_usage(stdout); return EXIT_OK;
        default: replay_usage(stderr); return EXIT_USAGE;
        }
    }
    if (from < 0 || to < from) {
        replay_usage(stderr);
        return EXIT_USAGE;
    }
    if (!cli_connect(c))
        return EXIT_REDIS;

    /* Read the window first: what we send is logged too and must not be replayed again. */
    char k[CS_KEY_MAX], start[32], end[32];
    snprintf(start, sizeof(start), "%lld", (long long)from);
    snprintf(end, sizeof(end), "%lld", (long long)to);
    struct buf list = BUF_INIT; /* NUL-separated "ms\tjson" records */
    size_t n = 0;
    cli_key(c, k, K_CMDLOG, NULL);
    for (;;) {
        struct cs_error err;
        struct rds_reply *r =
            cli_cmd(c->r, CLI_ARRAY, &err, "XRANGE %s %s %s COUNT 1000", k, start, end);
        if (!r) {
            buf_free(&list);
            return cli_redis_fail(&err);
        }
        size_t got = rds_reply_len(r);
        const char *last = NULL;
        for (size_t i = 0; i < got; i++) {
            const struct rds_reply *e = rds_reply_at(r, i);
            struct kvlist f = KVLIST_INIT;
            last = rds_reply_str(rds_reply_at(e, 0), NULL);
            rds_reply_kv(rds_reply_at(e, 1), &f);
            const char *cmd = kv_get(&f, "cmd");
            if (cmd && last) {
                buf_printf(&list, "%llu\t%s", strtoull(last, NULL, 10), cmd);
                buf_putc(&list, '\0');
                n++;
            }
            kv_free(&f);
        }
        if (got < 1000 || !last) {
            rds_reply_free(r);
            break;
        }
        snprintf(start, sizeof(start), "(%s", last);
        rds_reply_free(r);
    }
    printf("replay: %zu command%s from %s%s\n", n, n == 1 ? "" : "s", k,
           dry ? " (dry run)" : "");
    int rc = EXIT_OK;
    int64_t first = -1, t0 = cs_mono_ms();
    size_t i = 0;
    for (const char *p = list.s; p && p < list.s + list.len; p += strlen(p) + 1, i++) {
        int64_t at = strtoll(p, NULL, 10);
        const char *json = strchr(p, '\t') + 1;
        struct cmd cmd;
        struct cs_error err;
        if (cmd_parse(json, strlen(json), &cmd, &err) != CS_OK || cmd.def->flags & CMD_F_INTERNAL) {
            cmd_free(&cmd);
            continue;
        }
        if (first < 0)
            first = at;
        int64_t due = t0 + (int64_t)((double)(at - first) / speed);
        int64_t wait = due - cs_mono_ms();
        if (wait > 0 && !dry) {
            struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        char id[CMD_ID_MAX + 1];
        snprintf(id, sizeof(id), "r%zu-%.50s", i, cmd.id[0] ? cmd.id : "x");
        memcpy(cmd.id, id, sizeof(cmd.id));
        cmd.log_id[0] = '\0';
        struct buf line = BUF_INIT;
        cmd_to_json(&cmd, &line);
        printf("[%zu/%zu] +%.1fs %s\n", i + 1, n, (double)(at - first) / 1000.0, line.s);
        fflush(stdout);
        buf_free(&line);
        int sent = dry ? EXIT_OK : cli_send(c, &cmd, false);
        cmd_free(&cmd);
        if (sent == EXIT_REDIS) {
            rc = EXIT_REDIS; /* said why; the rest would fail alike */
            break;
        }
        if (sent != EXIT_OK)
            rc = EXIT_ERRORS;
    }
    buf_free(&list);
    return rc;
}

/* ---- shell completion, generated from the tables ----------------------------------------- */

int cmd_completion(struct cli *c, int argc, char **argv)
{
    (void)c;
    if (argc != 2 || strcmp(argv[1], "bash") != 0) {
        fprintf(stderr, "Usage: swarm-cli completion bash   (eval \"$(swarm-cli completion bash)\")\n");
        return EXIT_USAGE;
    }
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    printf("# bash completion for swarm-cli, generated from its tables\n_swarm_cli() {\n"
           "  local cur=${COMP_WORDS[COMP_CWORD]} first=\"\" i\n"
           "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "    case ${COMP_WORDS[i]} in --redis|--namespace|--log-level|--timeout) ((i++));;\n"
           "    -*) ;; *) first=${COMP_WORDS[i]}; break;; esac\n  done\n"
           "  if [ -z \"$first\" ]; then\n    COMPREPLY=($(compgen -W \"");
    printf("status top agents watch config scale catalog send replay run stats report docs "
           "completion");
    for (size_t i = 0; i < n; i++)
        if (!(t[i].flags & CMD_F_INTERNAL))
            printf(" %s", t[i].name);
    printf(" --json --timeout --redis --namespace --log-level --help --version\" -- \"$cur\"))\n"
           "    return\n  fi\n  case $first in\n");
    printf("    trigger) COMPREPLY=($(compgen -W \"");
    for (int m = 0; m < MSG__COUNT; m++)
        printf("%s ", catalog_get((enum msg_id)m)->name);
    printf("connector=\" -- \"$cur\"));;\n");
    printf("    config) COMPREPLY=($(compgen -W \"get show set unset layers layer --charger --fleet "
           "--select --layer --json");
    for (size_t i = 0; i < cfg_charger_schema.n; i++)
        printf(" %s=", cfg_charger_schema.defs[i].name);
    for (size_t i = 0; i < cfg_fleet_schema.n; i++)
        printf(" %s=", cfg_fleet_schema.defs[i].name);
    printf("\" -- \"$cur\"));;\n");
    printf("    catalog) COMPREPLY=($(compgen -W \"load list show delete\" -- \"$cur\"));;\n");
    printf("    status) COMPREPLY=($(compgen -W \"--watch --interval --json\" -- \"$cur\"));;\n");
    printf("    top) COMPREPLY=($(compgen -W \"--interval --ascii --help\" -- \"$cur\"));;\n");
    printf("    replay) COMPREPLY=($(compgen -W \"--from --to --speed --dry-run\" -- \"$cur\"));;\n");
    printf("    run) COMPREPLY=($(compgen -f -W \"start stop list show --check --abrupt --reason "
           "--timeout --run --seed --threshold --format --out --json\" -- \"$cur\"));;\n");
    printf("    stats) COMPREPLY=($(compgen -W \"reset\" -- \"$cur\"));;\n");
    printf("    report) COMPREPLY=($(compgen -W \"--run --since --until --format --out "
           "--threshold table csv json html\" -- \"$cur\"));;\n");
    for (size_t i = 0; i < n; i++) {
        if (t[i].flags & CMD_F_INTERNAL || !t[i].keys || !t[i].keys->name ||
            strcmp(t[i].keys->name, "FIELD") == 0 || t[i].verb == CMD_TRIGGER)
            continue;
        printf("    %s) COMPREPLY=($(compgen -W \"", t[i].name);
        for (const struct cmd_key *k = t[i].keys; k->name; k++)
            printf("%s= ", k->name);
        printf("at= in= every= count=\" -- \"$cur\"));;\n");
    }
    printf("  esac\n}\ncomplete -o nospace -F _swarm_cli swarm-cli\n");
    return EXIT_OK;
}
