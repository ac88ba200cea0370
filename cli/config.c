/* config.c - config get/set/unset (validated against the schema before writing), config
 * layers, and scale. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/selector.h"
#include "cs/util.h"

enum scope { SCOPE_CFG, SCOPE_CHARGER, SCOPE_FLEET, SCOPE_LAYER };

struct target {
    enum scope scope;
    const struct cfg_schema *schema;
    char key[CS_KEY_MAX];    /* the hash */
    char reload[CS_KEY_MAX]; /* the reload argument */
    char charger[CS_ID_MAX + 1];
    char layer[65];
    const char *select; /* --select: the layer's selector */
};

static void config_usage(FILE *out)
{
    fprintf(out,
            "Usage: swarm-cli config get   [--charger ID | --fleet | --layer NAME] [KEY...]\n"
            "       swarm-cli config show  ID [KEY...]          (= get --charger ID)\n"
            "       swarm-cli config set   [--charger ID | --fleet] KEY=VALUE...\n"
            "       swarm-cli config set   --select SEL [--layer NAME] KEY=VALUE...\n"
            "       swarm-cli config unset [--charger ID | --fleet | --layer NAME] KEY...\n"
            "       swarm-cli config layers                     list layers, lowest order first\n"
            "       swarm-cli config layer rm NAME              remove a layer\n"
            "       swarm-cli config layer order NAME N         move a layer (higher order wins)\n"
            "\n"
            "Without a scope: the fleet-wide charger defaults ({ns}:cfg). --charger ID: one\n"
            "charger's overrides ({ns}:charger:ID); `get`/`show` then print each key's effective\n"
            "value and where it comes from (charger, layer:NAME, cfg or default). --select SEL:\n"
            "a config layer for the chargers SEL matches (one hash, whatever the selection's\n"
            "size; named sel-<hash> unless --layer names it). --fleet: fleet settings.\n"
            "Precedence: charger > layers (highest order first) > cfg > default.\n"
            "Values are checked against the schema (docs/config.md) before anything is written;\n"
            "running chargers apply the change at once.\n");
}

static void layer_name_of(const char *sel, char out[65])
{
    snprintf(out, 65, "sel-%08llx",
             (unsigned long long)(cs_hash64(sel, strlen(sel)) & 0xffffffffULL));
}

static int parse_scope(struct cli *c, int *argc, char ***argv, struct target *t)
{
    enum { OPT_CHARGER = 1, OPT_FLEET, OPT_JSON, OPT_SELECT, OPT_LAYER };
    static const struct option opts[] = {{"charger", required_argument, NULL, OPT_CHARGER},
                                         {"fleet", no_argument, NULL, OPT_FLEET},
                                         {"select", required_argument, NULL, OPT_SELECT},
                                         {"layer", required_argument, NULL, OPT_LAYER},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    memset(t, 0, sizeof(*t));
    t->scope = SCOPE_CFG;
    optind = 1;
    while ((opt = getopt_long(*argc, *argv, "+h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_CHARGER:
            if (!cs_id_valid(optarg)) {
                fprintf(stderr, "swarm-cli config: '%s' is not a valid charger ID\n", optarg);
                return EXIT_USAGE;
            }
            t->scope = SCOPE_CHARGER;
            cs_strlcpy(t->charger, optarg, sizeof(t->charger));
            break;
        case OPT_FLEET:
            t->scope = SCOPE_FLEET;
            break;
        case OPT_SELECT:
            t->scope = SCOPE_LAYER;
            t->select = optarg;
            if (!t->layer[0])
                layer_name_of(optarg, t->layer);
            break;
        case OPT_LAYER:
            if (!cs_id_valid(optarg)) {
                fprintf(stderr, "swarm-cli config: layer names use [A-Za-z0-9_.-]\n");
                return EXIT_USAGE;
            }
            t->scope = SCOPE_LAYER;
            cs_strlcpy(t->layer, optarg, sizeof(t->layer));
            break;
        case OPT_JSON:
            c->json = true;
            break;
        case 'h':
            config_usage(stdout);
            return -1;
        default:
            config_usage(stderr);
            return EXIT_USAGE;
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
    case SCOPE_LAYER:
        cli_key(c, t->key, K_LAYER, t->layer);
        snprintf(t->reload, sizeof(t->reload), "layers");
        break;
    }
    return EXIT_OK;
}

/* Tell the workers explicitly, for Redis setups without keyspace notifications. */
static int reload(struct cli *c, const struct target *t)
{
    return cli_reload(c, t->reload);
}

/* HGETALL key into *out. False with *err on a Redis failure. */
static bool hash(struct cli *c, const char *key, struct kvlist *out, struct cs_error *err)
{
    struct rds_reply *r = cli_cmd(c->r, CLI_ARRAY, err, "HGETALL %s", key);
    bool ok = r != NULL;
    rds_reply_kv(r, out);
    rds_reply_free(r);
    return ok;
}

/* Keeps only the fields that pass the schema (what a worker would accept). */
static void valid_only(struct kvlist *kv)
{
    for (size_t i = 0; i < kv->n;) {
        if (cfg_check(&cfg_charger_schema, kv->v[i].key, kv->v[i].val, NULL) != CS_OK)
            kv_del(kv, kv->v[i].key);
        else
            i++;
    }
}

struct layer_view {
    char *name;
    double order;
    struct kvlist fields;
    char *select;
};

/* The config layers, lowest order first: *out and *n (free_layers, also after a failure).
 * False with *err on a Redis failure. */
static bool load_layers(struct cli *c, struct layer_view **out, size_t *n, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    bool ok;
    *out = NULL;
    *n = 0;
    struct rds_reply *r =
        cli_cmd(c->r, CLI_ARRAY, err, "ZRANGE %s 0 -1 WITHSCORES", cli_key(c, k, K_LAYERS, NULL));
    if (!r)
        return false;
    *n = rds_reply_len(r) / 2;
    struct layer_view *l = cs_calloc(*n ? *n : 1, sizeof(*l));
    ok = true;
    for (size_t i = 0; ok && i < *n; i++) {
        const char *name = rds_reply_str(rds_reply_at(r, 2 * i), NULL);
        l[i].name = cs_strdup(name ? name : "");
        if (!cs_parse_double(rds_reply_str(rds_reply_at(r, 2 * i + 1), NULL), -1e300, 1e300,
                             &l[i].order))
            l[i].order = 0;
        ok = hash(c, cli_key(c, k, K_LAYER, l[i].name), &l[i].fields, err);
        const char *s = kv_get(&l[i].fields, CS_LAYER_SELECT_FIELD);
        l[i].select = cs_strdup(s ? s : "");
        kv_del(&l[i].fields, CS_LAYER_SELECT_FIELD);
    }
    rds_reply_free(r);
    *out = l;
    return ok;
}

static void free_layers(struct layer_view *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cs_free(l[i].name);
        cs_free(l[i].select);
        kv_free(&l[i].fields);
    }
    cs_free(l);
}

static bool pre_value(void *privdata, const char *key, struct buf *out)
{
    const struct kvlist *pre = privdata;
    const char *v = kv_get(pre, key);
    const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, key);
    if (!d)
        return false;
    buf_puts(out, v ? v : d->def);
    return true;
}

/* What a charger's effective config depends on besides its own hash. */
struct charger_view {
    struct kvlist fleet; /* {ns}:cfg */
    struct layer_view *layers;
    size_t nl;
    bool *hit; /* layers[i] applies to the charger */
};

static void charger_view_free(struct charger_view *v)
{
    kv_free(&v->fleet);
    free_layers(v->layers, v->nl);
    cs_free(v->hit);
    memset(v, 0, sizeof(*v));
}

/* Which layers this charger is in, decided as the workers do: where: reads config without
 * layers, random: picks from the fleet with its seed. False with *err on a Redis failure. */
static bool charger_view(struct cli *c, const struct target *t, const struct kvlist *own,
                         struct charger_view *v, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct kvlist pre = KVLIST_INIT, ov = KVLIST_INIT;
    if (!hash(c, cli_key(c, k, K_CFG, NULL), &v->fleet, err) ||
        !load_layers(c, &v->layers, &v->nl, err))
        return false;
    struct rds_reply *r =
        cli_cmd(c->r, CLI_STR, err, "HGET %s owner", cli_key(c, k, K_STATE, t->charger));
    if (!r)
        return false;
    const char *owner = rds_reply_str(r, NULL);
    kv_copy(&pre, &v->fleet);
    valid_only(&pre);
    kv_copy(&ov, own);
    valid_only(&ov);
    for (size_t i = 0; i < ov.n; i++)
        kv_set(&pre, ov.v[i].key, ov.v[i].val);
    kv_free(&ov);
    v->hit = cs_calloc(v->nl ? v->nl : 1, sizeof(*v->hit));
    uint32_t index = 0;
    idfmt_index(&c->idf, t->charger, &index);
    for (size_t i = 0; i < v->nl; i++) {
        struct sel *s = sel_parse(v->layers[i].select, &c->idf, NULL);
        if (!s)
            continue;
        sel_prepare(s, (uint32_t)c->fleet.size, sel_layer_seed(v->layers[i].name));
        struct sel_subject subj = {t->charger, index, owner && *owner ? owner : NULL, pre_value,
                                   &pre};
        v->hit[i] = sel_match(s, &subj);
        sel_free(s);
    }
    rds_reply_free(r);
    kv_free(&pre);
    return true;
}

/* One key as shown: the value in force and its source; and, when a hash on the way holds a
 * value the workers reject, that value, why, and what a worker started since runs instead. */
struct shown {
    char *value; /* owned */
    char from[96];
    char *rejected; /* owned; NULL: nothing rejected on the way */
    char rejected_in[CS_KEY_MAX];
    char why[256];
    bool earlier; /* value is the one accepted before the rejected one (from the log) */
    char *fresh;  /* owned: what a worker that never accepted it runs (when earlier) */
    char fresh_from[96];
};

static void shown_free(struct shown *v)
{
    cs_free(v->value);
    cs_free(v->rejected);
    cs_free(v->fresh);
}

/* A source of a key's value, in precedence order. */
struct source {
    const struct kvlist *hash; /* NULL: the built-in default */
    char key[CS_KEY_MAX];      /* the hash */
    char name[96];             /* "charger", "layer:NAME", "cfg", "fleet", "default" */
};

/* Walks the sources as a worker does: the first valid value wins; a rejected one leaves the
 * value accepted before it in force on workers that saw it (the log's last good write), and
 * the next source on a worker started since. False with *err on a Redis failure. */
static bool resolve(struct cli *c, const struct cfg_def *d, const struct cfg_schema *schema,
                    const struct source *src, size_t n, struct shown *v, struct cs_error *err)
{
    memset(v, 0, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        const char *raw = src[i].hash ? kv_get(src[i].hash, d->name) : d->def;
        struct cs_error why;
        if (!raw)
            continue;
        if (!src[i].hash || cfg_check(schema, d->name, raw, &why) == CS_OK) {
            char **slot = v->earlier ? &v->fresh : &v->value;
            *slot = cs_strdup(raw);
            snprintf(v->earlier ? v->fresh_from : v->from, sizeof(v->from), "%s", src[i].name);
            return true;
        }
        if (v->rejected) /* the first rejection is the one shown; a lower one goes on */
            continue;
        v->rejected = cs_strdup(raw);
        cs_strlcpy(v->rejected_in, src[i].key, sizeof(v->rejected_in));
        cs_strlcpy(v->why, why.msg, sizeof(v->why));
        char *prev = NULL;
        if (cfglog_last_value(c, cfglog_rel(c, src[i].key), d->name, schema, &prev, err) != CS_OK)
            return false;
        if (prev) {
            v->value = prev;
            v->earlier = true;
            snprintf(v->from, sizeof(v->from), "%s", src[i].name);
        }
    }
    return true;
}

static void print_config(struct cli *c, const struct target *t, const struct shown *v, int argc,
                         char **argv, const struct kvlist *own)
{
    cJSON *jo = c->json ? cJSON_CreateObject() : NULL;
    if (!c->json)
        printf("%-20s %-40s %s\n", "KEY", "VALUE", "FROM");
    for (size_t i = 0; i < t->schema->n; i++) {
        const struct cfg_def *d = &t->schema->defs[i];
        bool wanted = argc == 0;
        for (int a = 0; a < argc; a++)
            wanted |= strcmp(argv[a], d->name) == 0;
        if (!wanted || (!v[i].value && !v[i].rejected))
            continue; /* a layer lists only what it sets */
        bool secret = (d->flags & CFG_F_SECRET) != 0;
        const char *shown = !v[i].value ? "-" : secret && *v[i].value ? "***" : v[i].value;
        const char *bad = v[i].rejected && secret ? "***" : v[i].rejected;
        const char *fresh = v[i].fresh && secret && *v[i].fresh ? "***" : v[i].fresh;
        if (jo) {
            cJSON *e = cJSON_AddObjectToObject(jo, d->name);
            if (v[i].value)
                cJSON_AddStringToObject(e, "value", shown);
            else
                cJSON_AddNullToObject(e, "value");
            cJSON_AddStringToObject(e, "from", v[i].from);
            if (bad) {
                cJSON_AddStringToObject(e, "rejected", bad);
                cJSON_AddStringToObject(e, "rejected_in", v[i].rejected_in);
                cJSON_AddStringToObject(e, "error", v[i].why);
                cJSON_AddBoolToObject(e, "accepted_before", v[i].earlier);
                if (fresh) {
                    cJSON_AddStringToObject(e, "new_worker_value", fresh);
                    cJSON_AddStringToObject(e, "new_worker_from", v[i].fresh_from);
                }
            }
            continue;
        }
        printf("%-20s %-40s %s%s\n", d->name, cli_safe(shown), v[i].from,
               v[i].earlier ? " (accepted before)" : "");
        if (!bad)
            continue;
        printf("%-20s   ! %s holds '%s', rejected: %s\n", "", cli_safe(v[i].rejected_in),
               cli_safe(bad), cli_safe(v[i].why));
        if (v[i].earlier && fresh)
            printf("%-20s     in force where it was accepted before; a worker started since runs "
                   "%s (%s)\n",
                   "", cli_safe(fresh), v[i].fresh_from);
        else if (!v[i].earlier)
            printf("%-20s     workers keep a value they accepted before it (not recorded in the "
                   "command log); a worker started since runs the value above\n",
                   "");
    }
    if (jo) {
        cli_print_json(jo);
        cJSON_Delete(jo);
    }
    for (size_t i = 0; i < own->n && !c->json; i++)
        if (own->v[i].key[0] != '_' && !cfg_lookup(t->schema, own->v[i].key))
            printf("%-20s %-40s ignored: unknown key\n", cli_safe(own->v[i].key),
                   cli_safe(own->v[i].val));
}

/* Every key of the scope resolved into v[] (schema order). False with *err on Redis failure. */
static bool resolve_all(struct cli *c, const struct target *t, const struct kvlist *own,
                        const struct charger_view *cv, struct shown *v, struct cs_error *err)
{
    struct source *src = cs_calloc(cv->nl + 3, sizeof(*src));
    size_t n = 0;
    bool ok = true;
    src[n].hash = own;
    cs_strlcpy(src[n].key, t->key, sizeof(src[n].key));
    snprintf(src[n++].name, sizeof(src[0].name), "%s",
             t->scope == SCOPE_CHARGER ? "charger"
             : t->scope == SCOPE_FLEET ? "fleet"
             : t->scope == SCOPE_LAYER ? "layer"
                                       : "cfg");
    if (t->scope == SCOPE_CHARGER) {
        for (size_t l = cv->nl; l-- > 0;) {
            if (!cv->hit[l])
                continue;
            src[n].hash = &cv->layers[l].fields;
            cli_key(c, src[n].key, K_LAYER, cv->layers[l].name);
            snprintf(src[n++].name, sizeof(src[0].name), "layer:%s", cv->layers[l].name);
        }
        src[n].hash = &cv->fleet;
        cli_key(c, src[n].key, K_CFG, NULL);
        snprintf(src[n++].name, sizeof(src[0].name), "cfg");
    }
    if (t->scope != SCOPE_LAYER)
        snprintf(src[n++].name, sizeof(src[0].name), "default"); /* hash NULL */
    for (size_t i = 0; ok && i < t->schema->n; i++)
        ok = resolve(c, &t->schema->defs[i], t->schema, src, n, &v[i], err);
    cs_free(src);
    return ok;
}

static int config_get(struct cli *c, struct target *t, int argc, char **argv)
{
    struct kvlist own = KVLIST_INIT;
    struct charger_view v = {KVLIST_INIT, NULL, 0, NULL};
    struct cs_error err;
    int rc = EXIT_OK;
    for (int i = 0; i < argc; i++) {
        if (!cfg_lookup(t->schema, argv[i])) {
            fprintf(stderr, "swarm-cli config: unknown key '%s' (see docs/config.md)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    /* Nothing is printed unless every read succeeded: an error reply read as an empty hash
     * would show the defaults as if they were the live config. */
    if (!hash(c, t->key, &own, &err))
        rc = cli_redis_fail(&err);
    else if (t->scope == SCOPE_CHARGER && !cli_load_fleet(c))
        rc = EXIT_REDIS;
    else if (t->scope == SCOPE_CHARGER && !charger_view(c, t, &own, &v, &err))
        rc = cli_redis_fail(&err);
    else {
        struct shown *sv = cs_calloc(t->schema->n, sizeof(*sv));
        if (resolve_all(c, t, &own, &v, sv, &err))
            print_config(c, t, sv, argc, argv, &own);
        else
            rc = cli_redis_fail(&err);
        for (size_t i = 0; i < t->schema->n; i++)
            shown_free(&sv[i]);
        cs_free(sv);
    }
    kv_free(&own);
    charger_view_free(&v);
    return rc;
}

/* Registers a layer in {ns}:cfg:layers, on top (highest order wins) when it is new. */
static bool add_layer(struct cli *c, const char *layer, struct cs_error *err)
{
    char k[CS_KEY_MAX], score[32];
    double top = 0;
    cli_key(c, k, K_LAYERS, NULL);
    struct rds_reply *r = cli_cmd(c->r, CLI_ARRAY, err, "ZREVRANGE %s 0 0 WITHSCORES", k);
    if (!r)
        return false;
    if (rds_reply_len(r) == 2)
        cs_parse_double(rds_reply_str(rds_reply_at(r, 1), NULL), -1e300, 1e300, &top);
    rds_reply_free(r);
    snprintf(score, sizeof(score), "%g", top + 1);
    r = cli_cmd(c->r, CLI_INT, err, "ZADD %s NX %s %s", k, score, layer);
    bool ok = r != NULL;
    if (ok && rds_reply_int(r) == 1)
        cfglog_zset(c, "layers", layer, score);
    rds_reply_free(r);
    return ok;
}

static int config_set(struct cli *c, struct target *t, int argc, char **argv)
{
    struct cs_error err;
    int bad = 0;
    if (argc == 0) {
        config_usage(stderr);
        return EXIT_USAGE;
    }
    if (t->scope == SCOPE_LAYER) {
        if (!cli_load_fleet(c))
            return EXIT_REDIS;
        if (t->select) {
            struct sel *s = sel_parse(t->select, &c->idf, &err);
            if (!s) {
                fprintf(stderr, "swarm-cli config set: %s\n", err.msg);
                return EXIT_USAGE;
            }
            sel_free(s);
        } else {
            struct rds_reply *r =
                cli_cmd(c->r, CLI_INT, &err, "HEXISTS %s %s", t->key, CS_LAYER_SELECT_FIELD);
            if (!r)
                return cli_redis_fail(&err);
            bool exists = rds_reply_int(r) == 1;
            rds_reply_free(r);
            if (!exists) {
                fprintf(stderr,
                        "swarm-cli config set: layer %s does not exist; create it with "
                        "--select SEL\n",
                        t->layer);
                return EXIT_USAGE;
            }
        }
    }
    const char **av = cs_calloc((size_t)(2 * argc + 4), sizeof(*av));
    int n = 0;
    av[n++] = "HSET";
    av[n++] = t->key;
    if (t->select) {
        av[n++] = CS_LAYER_SELECT_FIELD;
        av[n++] = t->select;
    }
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
    struct rds_reply *r = cli_cmdv(c->r, CLI_INT, &err, n, av);
    if (r) /* recorded for replay and config get, layer entry after its hash */
        cfglog_hset(c, cfglog_rel(c, t->key), n - 2, av + 2);
    if (!r || (t->scope == SCOPE_LAYER && !add_layer(c, t->layer, &err))) {
        rds_reply_free(r);
        rc = cli_redis_fail(&err);
        goto out;
    }
    rds_reply_free(r);
    if (!c->json)
        printf("set %d key%s in %s%s%s\n", argc, argc == 1 ? "" : "s", t->key,
               t->select ? " for " : "", t->select ? t->select : "");
    rc = reload(c, t);
out:
    cs_free(av);
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
    struct cs_error err;
    struct rds_reply *r = cli_cmdv(c->r, CLI_INT, &err, argc + 2, av);
    cs_free(av);
    if (!r)
        return cli_redis_fail(&err);
    cfglog_hdel(c, cfglog_rel(c, t->key), argc, argv);
    if (!c->json)
        printf("removed %lld key%s from %s\n", rds_reply_int(r), rds_reply_int(r) == 1 ? "" : "s",
               t->key);
    rds_reply_free(r);
    return reload(c, t);
}

static int config_layers(struct cli *c)
{
    struct layer_view *l;
    size_t n;
    struct cs_error err;
    if (!load_layers(c, &l, &n, &err)) {
        free_layers(l, n);
        return cli_redis_fail(&err);
    }
    if (c->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject(), *f = cJSON_AddObjectToObject(o, "fields");
            cJSON_AddStringToObject(o, "name", l[i].name);
            cJSON_AddNumberToObject(o, "order", l[i].order);
            cJSON_AddStringToObject(o, "select", l[i].select);
            for (size_t k = 0; k < l[i].fields.n; k++)
                cJSON_AddStringToObject(f, l[i].fields.v[k].key, l[i].fields.v[k].val);
            cJSON_AddItemToArray(arr, o);
        }
        cli_print_json(arr);
        cJSON_Delete(arr);
    } else {
        printf("%-6s %-20s %-32s %s\n", "ORDER", "LAYER", "SELECT", "SETS");
        for (size_t i = 0; i < n; i++) {
            printf("%-6g %-20s %-32s", l[i].order, cli_safe(l[i].name), cli_safe(l[i].select));
            for (size_t k = 0; k < l[i].fields.n; k++)
                printf(" %s=%s", cli_safe(l[i].fields.v[k].key), cli_safe(l[i].fields.v[k].val));
            printf("\n");
        }
        if (n == 0)
            printf("(no layers)\n");
    }
    free_layers(l, n);
    return EXIT_OK;
}

static int config_layer(struct cli *c, int argc, char **argv)
{
    char k[CS_KEY_MAX], lk[CS_KEY_MAX];
    struct cs_error err;
    double order;
    if (argc >= 2 && strcmp(argv[0], "rm") == 0) {
        for (int i = 1; i < argc; i++) {
            struct rds_reply *r =
                cli_cmd(c->r, CLI_INT, &err, "DEL %s", cli_key(c, lk, K_LAYER, argv[i]));
            if (!r)
                return cli_redis_fail(&err);
            rds_reply_free(r);
            cfglog_del(c, cfglog_rel(c, lk));
            r = cli_cmd(c->r, CLI_INT, &err, "ZREM %s %s", cli_key(c, k, K_LAYERS, NULL), argv[i]);
            if (!r)
                return cli_redis_fail(&err);
            cfglog_zset(c, "layers", argv[i], NULL);
            if (rds_reply_int(r) != 1)
                fprintf(stderr, "swarm-cli config layer rm: no layer %s\n", argv[i]);
            else
                printf("removed layer %s\n", argv[i]);
            rds_reply_free(r);
        }
        return cli_reload(c, "layers");
    }
    if (argc == 3 && strcmp(argv[0], "order") == 0 &&
        cs_parse_double(argv[2], -1e12, 1e12, &order)) {
        struct rds_reply *r = cli_cmd(c->r, CLI_INT, &err, "ZADD %s XX CH %s %s",
                                      cli_key(c, k, K_LAYERS, NULL), argv[2], argv[1]);
        if (!r)
            return cli_redis_fail(&err);
        long long changed = rds_reply_int(r);
        rds_reply_free(r);
        if (!(r = cli_cmd(c->r, CLI_STR, &err, "ZSCORE %s %s", k, argv[1])))
            return cli_redis_fail(&err);
        bool exists = rds_reply_type(r) == RDS_STRING;
        rds_reply_free(r);
        if (!exists) {
            fprintf(stderr, "swarm-cli config layer order: no layer %s\n", argv[1]);
            return EXIT_USAGE;
        }
        cfglog_zset(c, "layers", argv[1], argv[2]);
        printf("layer %s: order %s%s\n", argv[1], argv[2], changed ? "" : " (unchanged)");
        return cli_reload(c, "layers");
    }
    config_usage(stderr);
    return EXIT_USAGE;
}

int cmd_config(struct cli *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        config_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (!cli_connect(c))
        return EXIT_REDIS;
    if (strcmp(sub, "layers") == 0)
        return config_layers(c);
    if (strcmp(sub, "layer") == 0)
        return config_layer(c, argc - 2, argv + 2);
    argc--;
    argv++;
    struct target t;
    if (strcmp(sub, "show") == 0) {
        /* config show ID [KEY...] */
        if (argc < 2 || !cs_id_valid(argv[1])) {
            config_usage(stderr);
            return EXIT_USAGE;
        }
        memset(&t, 0, sizeof(t));
        t.scope = SCOPE_CHARGER;
        t.schema = &cfg_charger_schema;
        cs_strlcpy(t.charger, argv[1], sizeof(t.charger));
        cli_key(c, t.key, K_CHARGER, t.charger);
        return config_get(c, &t, argc - 2, argv + 2);
    }
    int rc = parse_scope(c, &argc, &argv, &t);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (strcmp(sub, "get") == 0)
        return config_get(c, &t, argc, argv);
    if (strcmp(sub, "set") == 0)
        return config_set(c, &t, argc, argv);
    if (strcmp(sub, "unset") == 0)
        return config_unset(c, &t, argc, argv);
    fprintf(stderr,
            "swarm-cli config: unknown action '%s' (get, show, set, unset, layers, layer)\n", sub);
    return EXIT_USAGE;
}

/* What --wait watches: over the live workers, connected and assigned chargers (from their
 * stats), capacity (from their agent hashes) and failed connect attempts so far. */
struct progress {
    long long conn, assigned, capacity, connect_failures;
    size_t workers;
};

/* False with *err on a Redis failure (counted as no progress, --wait would end in a misleading
 * "no progress"). */
static bool progress_now(struct cli *c, struct progress *p, struct cs_error *err)
{
    static const unsigned want[] = {CLI_ARRAY, CLI_STR};
    char k[CS_KEY_MAX];
    struct kvlist live = KVLIST_INIT;
    size_t asked = 0;
    memset(p, 0, sizeof(*p));
    if (!cli_live_workers(c, &live, err))
        return false;
    for (size_t i = 0; i < live.n; i++) {
        if (rds_sync_append(c->r, "HMGET %s connected assigned connect_failures",
                            cli_key(c, k, K_STATS_W, live.v[i].key)) != CS_OK)
            break;
        if (rds_sync_append(c->r, "HGET %s capacity", cli_key(c, k, K_AGENT, live.v[i].key)) !=
            CS_OK) {
            asked++; /* the first of the pair is on its way: read it, then stop */
            break;
        }
        asked += 2;
    }
    struct rds_reply **r = cs_calloc(asked ? asked : 1, sizeof(*r));
    bool ok = cli_read_all(c->r, r, asked, want, ARRAY_SIZE(want), err);
    for (size_t i = 0; ok && i + 1 < asked; i += 2) {
        p->conn += rds_reply_num(rds_reply_at(r[i], 0), 0);
        p->assigned += rds_reply_num(rds_reply_at(r[i], 1), 0);
        p->connect_failures += rds_reply_num(rds_reply_at(r[i], 2), 0);
        p->capacity += rds_reply_num(r[i + 1], 0);
        p->workers++;
    }
    cli_free_all(r, asked);
    cs_free(r);
    kv_free(&live);
    return ok;
}

/* Why --wait gave up: the first cause that explains it. */
static void explain_stall(struct cli *c, const struct progress *p, long long size,
                          long long failures_before)
{
    char k[CS_KEY_MAX];
    struct cs_error err;
    if (p->workers == 0) {
        printf("scale: nothing registered: no live worker holds chargers (start swarm-agent; "
               "swarm-cli agents lists the live ones)\n");
        return;
    }
    if (p->capacity < size) {
        printf("scale: capacity too small: the %zu live worker%s hold%s at most %lld charger%s, "
               "%lld short of %lld (start more workers or agents, or raise --max-chargers)\n",
               p->workers, cs_plural((long long)p->workers), p->workers == 1 ? "s" : "",
               p->capacity, cs_plural(p->capacity), size - p->capacity, size);
        return;
    }
    if (p->connect_failures > failures_before) {
        printf("scale: the broker refuses connects: %lld failed attempt%s during the wait "
               "(check broker=, the credentials and TLS settings; swarm-cli config get broker)\n",
               p->connect_failures - failures_before,
               cs_plural(p->connect_failures - failures_before));
        return;
    }
    if (p->assigned != size) {
        struct rds_reply *r =
            cli_cmd(c->r, CLI_STR, &err, "GET %s", cli_key(c, k, K_COORDINATOR, NULL));
        const char *leader = r ? rds_reply_str(r, NULL) : NULL;
        printf("scale: %lld of %lld chargers assigned to workers; %s\n", p->assigned, size,
               leader ? "the coordinator has not finished moving them (swarm-cli agents)"
                      : "no coordinator leads the fleet (start swarm-coordinator)");
        rds_reply_free(r);
        return;
    }
    printf("scale: %lld of %lld connected and no progress (swarm-cli status, swarm-cli watch)\n",
           p->conn < size ? p->conn : size, size);
}

static void scale_usage(FILE *out)
{
    fprintf(out,
            "Usage: swarm-cli scale N [--abrupt] [--wait] [--timeout MS]\n\n"
            "Sets the fleet size ({ns}:fleet size, 0..%d). The coordinator assigns the new\n"
            "chargers to workers, which connect them at ramp_per_s each; a smaller size drops\n"
            "the highest indexes and moves no other charger. Chargers leaving end their open\n"
            "transactions first (StopTransaction, reason Local; shrink_tx=stop is written with\n"
            "the size); --abrupt disconnects them at once and leaves their transactions open\n"
            "(shrink_tx=keep). --wait shows progress until\n"
            "exactly N are connected, or gives up when --timeout MS (default 5000, anywhere on\n"
            "the line) pass without progress, saying why: no live worker, capacity too small,\n"
            "the broker refusing connects, chargers not assigned yet. Exit status 0 when all\n"
            "are connected (or without --wait), 1 when --wait gave up.\n",
            CS_FLEET_MAX);
}

int cmd_scale(struct cli *c, int argc, char **argv)
{
    char k[CS_KEY_MAX], n[24];
    int64_t size = -1;
    bool wait = false, abrupt = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wait") == 0) {
            wait = true;
        } else if (strcmp(argv[i], "--abrupt") == 0) {
            abrupt = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            scale_usage(stdout);
            return EXIT_OK;
        } else if (size < 0 && cs_parse_i64(argv[i], 0, CS_FLEET_MAX, &size)) {
            continue;
        } else {
            fprintf(stderr, "swarm-cli scale: unexpected '%s'\n", argv[i]);
            scale_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (size < 0) {
        scale_usage(stderr);
        return EXIT_USAGE;
    }
    if (!cli_connect(c))
        return EXIT_REDIS;
    snprintf(n, sizeof(n), "%lld", (long long)size);
    struct cs_error err;
    struct progress p;
    /* The failed connects so far: the wait counts only its own. */
    if (wait && !progress_now(c, &p, &err))
        return cli_redis_fail(&err);
    long long failures_before = wait ? p.connect_failures : 0;
    /* One HSET: a worker reading the new size reads how its leavers go with it. */
    const char *tx = abrupt ? "keep" : "stop";
    struct rds_reply *r = cli_cmd(c->r, CLI_INT, &err, "HSET %s size %s shrink_tx %s",
                                  cli_key(c, k, K_FLEET, NULL), n, tx);
    if (!r)
        return cli_redis_fail(&err);
    rds_reply_free(r);
    const char *const w[] = {"size", n, "shrink_tx", tx};
    cfglog_hset(c, "fleet", 4, w);
    printf("fleet size set to %lld\n", (long long)size);
    if (!wait)
        return EXIT_OK;
    long long last_conn = -1, last_assigned = -1;
    int64_t last_change = cs_mono_ms(), t0 = cs_mono_ms();
    for (;;) {
        if (!progress_now(c, &p, &err))
            return cli_redis_fail(&err);
        if (p.conn != last_conn || p.assigned != last_assigned) {
            double s = (double)(cs_mono_ms() - t0) / 1000.0;
            if (p.conn > size) /* shrinking: those beyond the new size are still closing */
                printf("scale: %lld connected, %lld more than the new size %lld (chargers "
                       "beyond it still disconnecting), %.1f s\n",
                       p.conn, p.conn - size, (long long)size, s);
            else
                printf("scale: %lld/%lld connected (%lld assigned), %.1f s\n", p.conn,
                       (long long)size, p.assigned, s);
            fflush(stdout);
            last_conn = p.conn;
            last_assigned = p.assigned;
            last_change = cs_mono_ms();
        }
        if (p.conn == size && p.assigned == size)
            return EXIT_OK;
        if (cs_mono_ms() - last_change > c->timeout_ms) {
            printf("scale: gave up after %d ms without progress\n", c->timeout_ms);
            explain_stall(c, &p, size, failures_before);
            return EXIT_ERRORS;
        }
        struct timespec ts = {0, 250 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
