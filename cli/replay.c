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
    fprintf(
        out,
        "Usage: swarm-cli replay --from TIME [--to TIME] [--speed X] [--dry-run]\n"
        "\n"
        "Does again what swarm-cli recorded in {ns}:cmdlog between --from and --to (default:\n"
        "now), with the original spacing divided by --speed (default 1): the commands, and\n"
        "the config writes of config set/unset, config layer, scale and catalog (each value\n"
        "checked again, then the workers told to reload). TIME: ISO-8601\n"
        "(2026-11-28T10:00:00Z), ms since the epoch, or -DURATION ago (-15m).\n"
        "\n"
        "Each command gets a new id (rN-ID) and is logged again; at= becomes the same delay\n"
        "from its point in the replay; every= with count= repeats as recorded; cancel ID\n"
        "cancels the replayed copy of ID. Not replayed, and said so: a repeating command\n"
        "without count= (it would run until cancelled; its cancel may lie outside the\n"
        "window), the cancel of a command the replay did not send, internal commands, and\n"
        "what redis-cli did directly (plain PUBLISH, HSET: not in the log). Exit status 0,\n"
        "1 when a replayed command reported errors or matched nothing, 3 on a Redis failure.\n");
}

/* One entry of the window: a command (JSON form) or a config write. */
struct entry {
    int64_t ms;
    bool write;
    char *text; /* owned */
};

/* Reads the window first: what replay sends is logged too and must not come back. */
static int read_window(struct cli *c, int64_t from, int64_t to, struct entry **out, size_t *n)
{
    char k[CS_KEY_MAX], start[48], end[32];
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    snprintf(start, sizeof(start), "%lld", (long long)from);
    snprintf(end, sizeof(end), "%lld", (long long)to);
    cli_key(c, k, K_CMDLOG, NULL);
    for (;;) {
        struct cs_error err;
        struct rds_reply *r =
            cli_cmd(c->r, CLI_ARRAY, &err, "XRANGE %s %s %s COUNT 1000", k, start, end);
        if (!r)
            return cli_redis_fail(&err);
        size_t got = rds_reply_len(r);
        const char *last = NULL;
        for (size_t i = 0; i < got; i++) {
            const struct rds_reply *e = rds_reply_at(r, i);
            struct kvlist f = KVLIST_INIT;
            last = rds_reply_str(rds_reply_at(e, 0), NULL);
            rds_reply_kv(rds_reply_at(e, 1), &f);
            const char *cmd = kv_get(&f, "cmd"), *write = kv_get(&f, "write");
            if ((cmd || write) && last) {
                if (*n == cap) {
                    cap = cap ? 2 * cap : 64;
                    *out = cs_realloc(*out, cap * sizeof(**out));
                }
                (*out)[*n].ms = (int64_t)strtoull(last, NULL, 10);
                (*out)[*n].write = !cmd;
                (*out)[*n].text = cs_strdup(cmd ? cmd : write);
                (*n)++;
            }
            kv_free(&f);
        }
        if (got < 1000 || !last) {
            rds_reply_free(r);
            return EXIT_OK;
        }
        snprintf(start, sizeof(start), "(%s", last);
        rds_reply_free(r);
    }
}

/* The id a command got in this replay, by its recorded id ("" when it was not replayed). */
static const char *replayed_id(const struct kvlist *ids, const char *orig)
{
    const char *v = orig[0] ? kv_get(ids, orig) : NULL;
    return v ? v : "";
}

/* Turns a recorded command into what the replay sends, or says why it is not sent (*why).
 * `at` is when it was recorded; `speed` scales a recorded at= into the replay's time. */
static bool prepare(struct cmd *cmd, int64_t at, double speed, const struct kvlist *ids, size_t i,
                    char *why, size_t why_len)
{
    if (cmd->def->flags & CMD_F_INTERNAL) {
        snprintf(why, why_len, "internal command");
        return false;
    }
    if (cmd->every_ms && !cmd->count) {
        snprintf(why, why_len,
                 "repeats until cancelled (every= without count=): not re-armed; "
                 "send it again if you want it");
        return false;
    }
    if (cmd->def->verb == CMD_CANCEL) {
        const char *to = replayed_id(ids, cmd_pos(cmd, "cmd_id"));
        if (!to[0]) {
            snprintf(why, why_len, "cancels %s, which this replay did not send",
                     cmd_pos(cmd, "cmd_id"));
            return false;
        }
        cs_free(cmd->pos[0]);
        cmd->pos[0] = cs_strdup(to);
    }
    if (cmd->at_ms) { /* an absolute time from then: the same delay from now */
        int64_t delay = cmd->at_ms > at ? (int64_t)((double)(cmd->at_ms - at) / speed) : 0;
        cmd->at_ms = 0;
        cmd->in_ms = delay;
    }
    char id[CMD_ID_MAX + 32];
    snprintf(id, sizeof(id), "r%zu-%.50s", i, cmd->id[0] ? cmd->id : "x");
    cs_strlcpy(cmd->id, id, sizeof(cmd->id));
    cmd->log_id[0] = '\0';
    return true;
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
        case OPT_DRY:
            dry = true;
            break;
        case 'h':
            replay_usage(stdout);
            return EXIT_OK;
        default:
            replay_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (from < 0 || to < from) {
        replay_usage(stderr);
        return EXIT_USAGE;
    }
    if (!cli_connect(c) || !cli_load_fleet(c))
        return EXIT_REDIS;

    char k[CS_KEY_MAX];
    struct entry *e;
    size_t n;
    int rc = read_window(c, from, to, &e, &n);
    if (rc)
        return rc;
    size_t writes = 0;
    for (size_t i = 0; i < n; i++)
        writes += e[i].write;
    printf("replay: %zu command%s and %zu config write%s from %s%s\n", n - writes,
           cs_plural((long long)(n - writes)), writes, cs_plural((long long)writes),
           cli_key(c, k, K_CMDLOG, NULL), dry ? " (dry run)" : "");
    struct kvlist ids = KVLIST_INIT; /* recorded id -> replayed id */
    size_t sent = 0, applied = 0, skipped = 0;
    int64_t t0 = cs_mono_ms();
    for (size_t i = 0; i < n && rc != EXIT_REDIS; i++) {
        int64_t due = t0 + (int64_t)((double)(e[i].ms - e[0].ms) / speed);
        int64_t wait = due - cs_mono_ms();
        double rel_s = (double)(e[i].ms - e[0].ms) / 1000.0;
        if (wait > 0 && !dry) {
            struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        struct cs_error err;
        if (e[i].write) {
            char reload[CS_KEY_MAX];
            printf("[%zu/%zu] +%.1fs write %s\n", i + 1, n, rel_s, cli_safe(e[i].text));
            if (dry)
                continue;
            int w = cfglog_apply(c, e[i].text, reload, sizeof(reload), &err);
            if (w == CS_ERR_IO) {
                rc = cli_redis_fail(&err);
            } else if (w != CS_OK) {
                printf("  not written: %s\n", cli_safe(err.msg));
                rc = EXIT_ERRORS;
            } else {
                applied++;
                int r = cli_reload(c, reload);
                if (r == EXIT_REDIS)
                    rc = r;
            }
            continue;
        }
        struct cmd cmd;
        char why[160];
        if (cmd_parse(e[i].text, strlen(e[i].text), &cmd, &err) != CS_OK) {
            printf("[%zu/%zu] +%.1fs skipped, does not parse: %s\n", i + 1, n, rel_s,
                   cli_safe(err.msg));
            skipped++;
            continue;
        }
        char orig[CMD_ID_MAX + 1];
        memcpy(orig, cmd.id, sizeof(orig));
        if (!prepare(&cmd, e[i].ms, speed, &ids, i, why, sizeof(why))) {
            printf("[%zu/%zu] +%.1fs skipped %s: %s\n", i + 1, n, rel_s, cmd.def->name,
                   cli_safe(why));
            skipped++;
            cmd_free(&cmd);
            continue;
        }
        if (orig[0])
            kv_set(&ids, orig, cmd.id);
        struct buf line = BUF_INIT;
        cmd_to_json(&cmd, &line);
        printf("[%zu/%zu] +%.1fs %s\n", i + 1, n, rel_s, line.s);
        fflush(stdout);
        buf_free(&line);
        int r = dry ? EXIT_OK : cli_send(c, &cmd, false);
        cmd_free(&cmd);
        sent += !dry;
        if (r == EXIT_REDIS)
            rc = EXIT_REDIS; /* said why; the rest would fail alike */
        else if (r != EXIT_OK)
            rc = EXIT_ERRORS;
    }
    if (!dry)
        printf("replay: %zu command%s sent, %zu config write%s applied, %zu skipped\n", sent,
               cs_plural((long long)sent), applied, cs_plural((long long)applied), skipped);
    for (size_t i = 0; i < n; i++)
        cs_free(e[i].text);
    cs_free(e);
    kv_free(&ids);
    return rc;
}

/* ---- shell completion, generated from the tables ----------------------------------------- */

int cmd_completion(struct cli *c, int argc, char **argv)
{
    (void)c;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: swarm-cli completion bash\n\n"
               "Prints a bash completion script generated from the command and config tables:\n"
               "  eval \"$(swarm-cli completion bash)\"\n");
        return EXIT_OK;
    }
    if (argc != 2 || strcmp(argv[1], "bash") != 0) {
        fprintf(stderr,
                "Usage: swarm-cli completion bash   (eval \"$(swarm-cli completion bash)\")\n");
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
    printf(
        "    config) COMPREPLY=($(compgen -W \"get show set unset layers layer --charger --fleet "
        "--select --layer --json");
    for (size_t i = 0; i < cfg_charger_schema.n; i++)
        printf(" %s=", cfg_charger_schema.defs[i].name);
    for (size_t i = 0; i < cfg_fleet_schema.n; i++)
        printf(" %s=", cfg_fleet_schema.defs[i].name);
    printf("\" -- \"$cur\"));;\n");
    printf("    catalog) COMPREPLY=($(compgen -W \"load list show delete\" -- \"$cur\"));;\n");
    printf("    status) COMPREPLY=($(compgen -W \"--watch --interval --json --workers\" -- "
           "\"$cur\"));;\n");
    printf("    top) COMPREPLY=($(compgen -W \"--interval --ascii --help\" -- \"$cur\"));;\n");
    printf(
        "    replay) COMPREPLY=($(compgen -W \"--from --to --speed --dry-run\" -- \"$cur\"));;\n");
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
