/* config.c - config get/set/unset (validated against the schema before writing) and scale. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/util.h"

enum scope { SCOPE_CFG, SCOPE_CHARGER, SCOPE_FLEET };

struct target {
    enum scope scope;
    const struct cfg_schema *schema;
    char key[CS_KEY_MAX];      /* the hash */
    char reload[CS_KEY_MAX];   /* the reload argument */
    char charger[CS_ID_MAX + 1];
};

static void config_usage(FILE *out)
{
    fprintf(out,
            "Usage: swarm-cli config get   [--charger ID | --fleet] [KEY...]\n"
            "       swarm-cli config set   [--charger ID | --fleet] KEY=VALUE...\n"
            "       swarm-cli config unset [--charger ID | --fleet] KEY...\n"
            "\n"
            "Without a scope: the fleet-wide charger defaults ({ns}:cfg). --charger ID: one\n"
            "charger's overrides ({ns}:charger:ID); `get` then shows each key's effective value\n"
            "and where it comes from. --fleet: fleet settings ({ns}:fleet).\n"
            "Values are checked against the schema (docs/config.md) before anything is written;\n"
            "running chargers apply the change at once.\n");
}

static int parse_scope(struct cli *c, int *argc, char ***argv, struct target *t)
{
    enum { OPT_CHARGER = 1, OPT_FLEET, OPT_JSON, OPT_SECRETS };
    static const struct option opts[] = {{"charger", required_argument, NULL, OPT_CHARGER},
                                         {"fleet", no_argument, NULL, OPT_FLEET},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    memset(t, 0, sizeof(*t));
    t->scope = SCOPE_CFG;
    optind = 1;
    while ((opt = getopt_long(*argc, *argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_CHARGER:
            if (!cs_id_valid(optarg)) {
                fprintf(stderr, "swarm-cli config: '%s' is not a valid charger ID\n", optarg);
                return EXIT_USAGE;
            }
            t->scope = SCOPE_CHARGER;
            cs_strlcpy(t->charger, optarg, sizeof(t->charger));
            break;
        case OPT_FLEET: t->scope = SCOPE_FLEET; break;
        case OPT_JSON: c->json = true; break;
        case 'h': config_usage(stdout); return -1;
        default: config_usage(stderr); return EXIT_USAGE;
        }
    }
    *argc -= optind;
    *argv += optind;
    t->schema = t->scope == SCOPE_FLEET ? &cfg_fleet_schema : &cfg_charger_schema;
    switch (t->scope) {
    case SCOPE_CFG:
        cli_key(c, t->key, K_CFG, NULL);
        snprintf(t->reload, sizeof(t->reload), "cfg");
        break;
    case SCOPE_FLEET:
        cli_key(c, t->key, K_FLEET, NULL);
        snprintf(t->reload, sizeof(t->reload), "fleet");
        break;
    case SCOPE_CHARGER:
        cli_key(c, t->key, K_CHARGER, t->charger);
        snprintf(t->reload, sizeof(t->reload), "charger:%s", t->charger);
        break;
    }
    return EXIT_OK;
}

/* Tell the workers explicitly, for Redis setups without keyspace notifications. */
static int reload(struct cli *c, const struct target *t)
{
    return cli_reload(c, t->reload);
}

static int config_get(struct cli *c, struct target *t, int argc, char **argv)
{
    char k[CS_KEY_MAX];
    struct kvlist own = KVLIST_INIT, fleet = KVLIST_INIT;
    struct rds_reply *r = rds_sync_cmd(c->r, "HGETALL %s", t->key);
    if (!r) {
        fprintf(stderr, "swarm-cli: Redis: %s\n", rds_sync_error(c->r));
        return EXIT_REDIS;
    }
    rds_reply_kv(r, &own);
    rds_reply_free(r);
    if (t->scope == SCOPE_CHARGER) {
        r = rds_sync_cmd(c->r, "HGETALL %s", cli_key(c, k, K_CFG, NULL));
        rds_reply_kv(r, &fleet);
        rds_reply_free(r);
    }
    for (int i = 0; i < argc; i++) {
        if (!cfg_lookup(t->schema, argv[i])) {
            fprintf(stderr, "swarm-cli config: unknown key '%s' (see docs/config.md)\n", argv[i]);
            kv_free(&own);
            kv_free(&fleet);
            return EXIT_USAGE;
        }
    }
    cJSON *jo = c->json ? cJSON_CreateObject() : NULL;
    if (!c->json)
        printf("%-20s %-40s %s\n", "KEY", "VALUE", "FROM");
    for (size_t i = 0; i < t->schema->n; i++) {
        const struct cfg_def *d = &t->schema->defs[i];
        bool wanted = argc == 0;
        for (int a = 0; a < argc; a++)
            wanted |= strcmp(argv[a], d->name) == 0;
        if (!wanted)
            continue;
        const char *v = kv_get(&own, d->name), *from = t->scope == SCOPE_CHARGER ? "charger"
                                                     : t->scope == SCOPE_FLEET  ? "fleet"
                                                                                : "cfg";
        struct cs_error err;
        if (v && cfg_check(t->schema, d->name, v, &err) != CS_OK) {
            printf("%-20s %-40s %s (rejected: %s)\n", d->name, v, from, err.msg);
            v = NULL;
        }
        if (!v && t->scope == SCOPE_CHARGER) {
            v = kv_get(&fleet, d->name);
            from = "cfg";
            if (v && cfg_check(t->schema, d->name, v, NULL) != CS_OK)
                v = NULL;
        }
        if (!v) {
            v = d->def;
            from = "default";
        }
        const char *shown = (d->flags & CFG_F_SECRET) && *v ? "***" : v;
        if (jo) {
            cJSON *e = cJSON_AddObjectToObject(jo, d->name);
            cJSON_AddStringToObject(e, "value", shown);
            cJSON_AddStringToObject(e, "from", from);
        } else {
            printf("%-20s %-40s %s\n", d->name, shown, from);
        }
    }
    if (jo) {
        char *s = cJSON_PrintUnformatted(jo);
        printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(jo);
    }
    /* Keys in the hash the schema does not know: say so, they are ignored. */
    for (size_t i = 0; i < own.n && !c->json; i++)
        if (!cfg_lookup(t->schema, own.v[i].key))
            printf("%-20s %-40s ignored: unknown key\n", own.v[i].key, own.v[i].val);
    kv_free(&own);
    kv_free(&fleet);
    return EXIT_OK;
}

static int config_set(struct cli *c, struct target *t, int argc, char **argv)
{
    struct cs_error err;
    int bad = 0;
    if (argc == 0) {
        config_usage(stderr);
        return EXIT_USAGE;
    }
    const char **av = cs_calloc((size_t)(2 * argc + 2), sizeof(*av));
    size_t *al = cs_calloc((size_t)(2 * argc + 2), sizeof(*al));
    int n = 0;
    av[n++] = "HSET";
    av[n++] = t->key;
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "swarm-cli config set: '%s' is not KEY=VALUE\n", argv[i]);
            bad++;
            continue;
        }
        *eq = '\0';
        if (cfg_check(t->schema, argv[i], eq + 1, &err) != CS_OK) {
            fprintf(stderr, "swarm-cli config set: %s\n", err.msg);
            bad++;
            continue;
        }
        av[n++] = argv[i];
        av[n++] = eq + 1;
    }
    int rc = EXIT_OK;
    if (bad) {
        fprintf(stderr, "swarm-cli config set: nothing written\n");
        rc = EXIT_USAGE;
        goto out;
    }
    struct rds_reply *r = rds_sync_cmdv(c->r, n, av, NULL);
    if (!rds_reply_ok(r)) {
        fprintf(stderr, "swarm-cli: Redis: %s\n",
                r ? rds_reply_str(r, NULL) : rds_sync_error(c->r));
        rds_reply_free(r);
        rc = EXIT_REDIS;
        goto out;
    }
    rds_reply_free(r);
    if (!c->json)
        printf("set %d key%s in %s\n", argc, argc == 1 ? "" : "s", t->key);
    rc = reload(c, t);
out:
    cs_free(av);
    cs_free(al);
    return rc;
}

static int config_unset(struct cli *c, struct target *t, int argc, char **argv)
{
    if (argc == 0) {
        config_usage(stderr);
        return EXIT_USAGE;
    }
    const char **av = cs_calloc((size_t)argc + 2, sizeof(*av));
    av[0] = "HDEL";
    av[1] = t->key;
    for (int i = 0; i < argc; i++)
        av[i + 2] = argv[i];
    struct rds_reply *r = rds_sync_cmdv(c->r, argc + 2, av, NULL);
    cs_free(av);
    if (!rds_reply_ok(r)) {
        fprintf(stderr, "swarm-cli: Redis: %s\n", r ? rds_reply_str(r, NULL) : rds_sync_error(c->r));
        rds_reply_free(r);
        return EXIT_REDIS;
    }
    if (!c->json)
        printf("removed %lld key%s from %s\n", rds_reply_int(r), rds_reply_int(r) == 1 ? "" : "s",
               t->key);
    rds_reply_free(r);
    return reload(c, t);
}

int cmd_config(struct cli *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        config_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    argc--;
    argv++;
    struct target t;
    int rc = parse_scope(c, &argc, &argv, &t);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (!cli_connect(c))
        return EXIT_REDIS;
    if (strcmp(sub, "get") == 0 || strcmp(sub, "show") == 0)
        return config_get(c, &t, argc, argv);
    if (strcmp(sub, "set") == 0)
        return config_set(c, &t, argc, argv);
    if (strcmp(sub, "unset") == 0)
        return config_unset(c, &t, argc, argv);
    fprintf(stderr, "swarm-cli config: unknown action '%s' (get, set, unset)\n", sub);
    return EXIT_USAGE;
}

/* Connected chargers over the live workers. */
static long long connected_now(struct cli *c, long long *assigned)
{
    char k[CS_KEY_MAX];
    struct kvlist live = KVLIST_INIT;
    long long conn = 0;
    *assigned = 0;
    cli_live_workers(c, &live);
    for (size_t i = 0; i < live.n; i++)
        rds_sync_append(c->r, "HMGET %s connected assigned",
                        cli_key(c, k, K_STATS_W, live.v[i].key));
    for (size_t i = 0; i < live.n; i++) {
        struct rds_reply *r = NULL;
        if (rds_sync_read(c->r, 3000, &r) == CS_OK) {
            conn += rds_reply_num(rds_reply_at(r, 0), 0);
            *assigned += rds_reply_num(rds_reply_at(r, 1), 0);
        }
        rds_reply_free(r);
    }
    kv_free(&live);
    return conn;
}

int cmd_scale(struct cli *c, int argc, char **argv)
{
    char k[CS_KEY_MAX], n[24];
    int64_t size;
    bool wait = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wait") == 0)
            wait = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: swarm-cli scale N [--wait]\n\nSets the fleet size ({ns}:fleet size). "
                   "The coordinator assigns the new chargers\nto workers, which connect them at "
                   "ramp_per_s each. --wait shows progress until\nall are connected (or "
                   "--timeout ms pass without progress).\n");
            return EXIT_OK;
        }
    }
    if (argc < 2 || !cs_parse_i64(argv[1], 0, CS_FLEET_MAX, &size)) {
        fprintf(stderr, "Usage: swarm-cli scale N [--wait]   (0 <= N <= %d)\n", CS_FLEET_MAX);
        return EXIT_USAGE;
    }
    if (!cli_connect(c))
        return EXIT_REDIS;
    snprintf(n, sizeof(n), "%lld", (long long)size);
    struct rds_reply *r =
        rds_sync_cmd(c->r, "HSET %s size %s", cli_key(c, k, K_FLEET, NULL), n);
    if (!rds_reply_ok(r)) {
        fprintf(stderr, "swarm-cli: Redis: %s\n", r ? rds_reply_str(r, NULL) : rds_sync_error(c->r));
        rds_reply_free(r);
        return EXIT_REDIS;
    }
    rds_reply_free(r);
    printf("fleet size set to %lld\n", (long long)size);
    if (!wait)
        return EXIT_OK;
    long long last = -1, assigned;
    int64_t last_change = cs_mono_ms();
    for (;;) {
        long long conn = connected_now(c, &assigned);
        if (conn != last) {
            printf("scale: %lld/%lld connected (%lld assigned)\n", conn, (long long)size, assigned);
            fflush(stdout);
            last = conn;
            last_change = cs_mono_ms();
        }
        if (conn == size && assigned == size)
            return EXIT_OK;
        if (cs_mono_ms() - last_change > c->timeout_ms) {
            printf("scale: no progress for %d ms; %lld of %lld connected\n", c->timeout_ms, conn,
                   (long long)size);
            return EXIT_ERRORS;
        }
        struct timespec ts = {0, 500 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
