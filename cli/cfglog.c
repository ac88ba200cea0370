/* cfglog.c - config writes in the command log. swarm-cli records what it writes to the config
 * keys ({ns}:cfg, :fleet, :charger:ID, the layers, the catalog) as entries of {ns}:cmdlog with
 * a "write" field and no "cmd" (workers catching up skip them), so that replay writes the same
 * values again and config get can name the value in force while the hash holds one the workers
 * rejected. An entry: id, write = {"op":"hset","key":"cfg","fields":{"heartbeat_s":"30"}},
 * ops hset (fields object), hdel (fields array), del, zadd (member, score), zrem (member). */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cs/catalog.h"
#include "cs/cmdsend.h"
#include "cs/jtmpl.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/selector.h"
#include "cs/util.h"

/* Entries of {ns}:cmdlog config get reads back, newest first, looking for a key's history. */
#define HISTORY_MAX 5000
#define HISTORY_PAGE 500

const char *cfglog_rel(struct cli *c, const char *key)
{
    size_t nl = strlen(c->common.ns);
    return strncmp(key, c->common.ns, nl) == 0 && key[nl] == ':' ? key + nl + 1 : key;
}

/* Appends an entry with this write; a failure is reported, the write itself stands. */
static void record(struct cli *c, const char *json, size_t len)
{
    char k[CS_KEY_MAX], id[32], by[CMDSEND_BY_MAX];
    struct cs_error err;
    struct cs_rng rng;
    cs_rng_seed(&rng, cs_seed_entropy());
    snprintf(id, sizeof(id), "cfg-%08llx", (unsigned long long)(cs_rng_next(&rng) & 0xffffffffULL));
    struct rds_reply *r = cli_cmd(
        c->r, CLI_T(RDS_STRING), &err, "XADD %s MAXLEN ~ %d * id %s write %b to - by %s",
        cli_key(c, k, K_CMDLOG, NULL), CMDSEND_LOG_MAX, id, json, len, cli_sender(by, sizeof(by)));
    if (!r)
        fprintf(stderr,
                "swarm-cli: the write is not recorded in %s (%s): replay will not repeat it\n", k,
                err.msg);
    rds_reply_free(r);
}

static void append(struct cli *c, struct jw *j, struct buf *b)
{
    jw_end(j);
    record(c, b->s, b->len);
    buf_free(b);
}

static void begin(struct jw *j, struct buf *b, const char *op, const char *rel)
{
    buf_init(b);
    jw_init(j, b);
    jw_obj(j);
    jw_kstr(j, "op", op);
    jw_kstr(j, "key", rel);
}

void cfglog_hset(struct cli *c, const char *rel, int n, const char *const *kv)
{
    struct buf b;
    struct jw j;
    begin(&j, &b, "hset", rel);
    jw_key(&j, "fields");
    jw_obj(&j);
    for (int i = 0; i + 1 < n; i += 2)
        jw_kstr(&j, kv[i], kv[i + 1]);
    jw_end(&j);
    append(c, &j, &b);
}

void cfglog_hdel(struct cli *c, const char *rel, int n, char *const *fields)
{
    struct buf b;
    struct jw j;
    begin(&j, &b, "hdel", rel);
    jw_key(&j, "fields");
    jw_arr(&j);
    for (int i = 0; i < n; i++)
        jw_str(&j, fields[i]);
    jw_end(&j);
    append(c, &j, &b);
}

void cfglog_del(struct cli *c, const char *rel)
{
    struct buf b;
    struct jw j;
    begin(&j, &b, "del", rel);
    append(c, &j, &b);
}

void cfglog_zset(struct cli *c, const char *rel, const char *member, const char *score)
{
    struct buf b;
    struct jw j;
    begin(&j, &b, score ? "zadd" : "zrem", rel);
    jw_kstr(&j, "member", member);
    if (score)
        jw_kstr(&j, "score", score);
    append(c, &j, &b);
}

/* ---- replay ------------------------------------------------------------------------------ */

/* The schema a hash's fields follow, from its key relative to the namespace; NULL for the
 * catalog (templates) and the layer index (a zset). */
static const struct cfg_schema *schema_of(const char *rel)
{
    if (strcmp(rel, "fleet") == 0)
        return &cfg_fleet_schema;
    if (strcmp(rel, "cfg") == 0 || strncmp(rel, "charger:", 8) == 0 ||
        strncmp(rel, "cfg:layer:", 10) == 0)
        return &cfg_charger_schema;
    return NULL;
}

/* Checks one field of a recorded hset as the writer did before writing it. */
static int check_field(struct cli *c, const char *rel, const char *field, const char *val,
                       struct cs_error *err)
{
    if (strcmp(rel, "catalog") == 0) {
        if (!catalog_name_valid(field) || catalog_lookup(field))
            return cs_error_set(err, CS_ERR_PARSE, "catalog: '%.*s' is not a user message name",
                                CS_UTF8_CLIP(field, 64));
        struct jtmpl *t = jtmpl_compile(val, strlen(val), err);
        if (!t)
            return CS_ERR_PARSE;
        jtmpl_free(t);
        return CS_OK;
    }
    if (strncmp(rel, "cfg:layer:", 10) == 0 && strcmp(field, CS_LAYER_SELECT_FIELD) == 0) {
        struct sel *s = sel_parse(val, &c->idf, err);
        sel_free(s);
        return s ? CS_OK : CS_ERR_PARSE;
    }
    return cfg_check(schema_of(rel), field, val, err);
}

/* The reload argument that makes the workers read rel again. */
static const char *reload_of(const char *rel)
{
    if (strcmp(rel, "layers") == 0 || strncmp(rel, "cfg:layer:", 10) == 0)
        return "layers";
    return rel;
}

int cfglog_apply(struct cli *c, const char *json, char *reload, size_t reload_len,
                 struct cs_error *err)
{
    char k[CS_KEY_MAX];
    int rc = CS_OK;
    cJSON *w = cJSON_Parse(json);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(w, "op");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(w, "key");
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(w, "fields");
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(w, "member");
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(w, "score");
    const cJSON *it;
    struct rds_reply *r = NULL;
    const char *rel = cJSON_IsString(key) ? key->valuestring : "";
    bool is_hash = schema_of(rel) || strcmp(rel, "catalog") == 0;
    if (!cJSON_IsString(op)) {
        rc = cs_error_set(err, CS_ERR_PARSE, "a config write without \"op\"");
        goto out;
    }
    if (strncmp(rel, "charger:", 8) == 0      ? !cs_id_valid(rel + 8)
        : strncmp(rel, "cfg:layer:", 10) == 0 ? !cs_id_valid(rel + 10)
                                              : !is_hash && strcmp(rel, "layers") != 0) {
        rc = cs_error_set(err, CS_ERR_PARSE, "a config write to '%.*s', not a config key",
                          CS_UTF8_CLIP(rel, 80));
        goto out;
    }
    snprintf(k, sizeof(k), "%s:%s", c->common.ns, rel);
    if (strcmp(op->valuestring, "hset") == 0 && is_hash && cJSON_IsObject(fields)) {
        int n = cJSON_GetArraySize(fields), ac = 0;
        const char **av = cs_calloc((size_t)(2 * n + 2), sizeof(*av));
        av[ac++] = "HSET";
        av[ac++] = k;
        cJSON_ArrayForEach(it, fields)
        {
            if (!cJSON_IsString(it) || (rc = check_field(c, rel, it->string, it->valuestring, err)))
                break;
            av[ac++] = it->string;
            av[ac++] = it->valuestring;
        }
        if (!rc && ac > 2)
            r = cli_cmdv(c->r, CLI_INT, err, ac, av);
        cs_free(av);
        if (!rc && ac > 2 && !r)
            rc = CS_ERR_IO;
    } else if (strcmp(op->valuestring, "hdel") == 0 && is_hash && cJSON_IsArray(fields)) {
        int n = cJSON_GetArraySize(fields), ac = 0;
        const char **av = cs_calloc((size_t)(n + 2), sizeof(*av));
        av[ac++] = "HDEL";
        av[ac++] = k;
        cJSON_ArrayForEach(it, fields) if (cJSON_IsString(it)) av[ac++] = it->valuestring;
        if (ac > 2 && !(r = cli_cmdv(c->r, CLI_INT, err, ac, av)))
            rc = CS_ERR_IO;
        cs_free(av);
    } else if (strcmp(op->valuestring, "del") == 0 && strncmp(rel, "cfg:layer:", 10) == 0) {
        if (!(r = cli_cmd(c->r, CLI_INT, err, "DEL %s", k)))
            rc = CS_ERR_IO;
    } else if ((strcmp(op->valuestring, "zadd") == 0 || strcmp(op->valuestring, "zrem") == 0) &&
               strcmp(rel, "layers") == 0 && cJSON_IsString(member) &&
               cs_id_valid(member->valuestring)) {
        double d;
        bool add = strcmp(op->valuestring, "zadd") == 0;
        if (add && !(cJSON_IsString(score) && cs_parse_double(score->valuestring, -1e12, 1e12, &d)))
            rc = cs_error_set(err, CS_ERR_PARSE, "layers: a zadd without a numeric score");
        else if (add)
            r = cli_cmd(c->r, CLI_INT, err, "ZADD %s %s %s", k, score->valuestring,
                        member->valuestring);
        else
            r = cli_cmd(c->r, CLI_INT, err, "ZREM %s %s", k, member->valuestring);
        if (!rc && !r)
            rc = CS_ERR_IO;
    } else {
        rc = cs_error_set(err, CS_ERR_PARSE,
                          "a config write '%.*s' to '%.*s' that swarm-cli "
                          "does not make",
                          CS_UTF8_CLIP(op->valuestring, 16), CS_UTF8_CLIP(rel, 80));
    }
    if (rc == CS_OK) {
        cs_strlcpy(reload, reload_of(rel), reload_len);
        record(c, json, strlen(json)); /* written again: recorded again */
    }
out:
    rds_reply_free(r);
    cJSON_Delete(w);
    return rc;
}

/* ---- history ----------------------------------------------------------------------------- */

int cfglog_last_value(struct cli *c, const char *rel, const char *field,
                      const struct cfg_schema *schema, char **out, struct cs_error *err)
{
    char k[CS_KEY_MAX], end[48] = "+";
    int seen = 0;
    *out = NULL;
    cli_key(c, k, K_CMDLOG, NULL);
    while (seen < HISTORY_MAX) {
        struct rds_reply *r =
            cli_cmd(c->r, CLI_ARRAY, err, "XREVRANGE %s %s - COUNT %d", k, end, HISTORY_PAGE);
        if (!r)
            return CS_ERR_IO;
        size_t n = rds_reply_len(r);
        const char *last = NULL;
        for (size_t i = 0; i < n && !*out; i++, seen++) {
            const struct rds_reply *e = rds_reply_at(r, i);
            struct kvlist f = KVLIST_INIT;
            last = rds_reply_str(rds_reply_at(e, 0), NULL);
            rds_reply_kv(rds_reply_at(e, 1), &f);
            cJSON *w = kv_get(&f, "write") ? cJSON_Parse(kv_get(&f, "write")) : NULL;
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(w, "op");
            const cJSON *key = cJSON_GetObjectItemCaseSensitive(w, "key");
            const cJSON *fields = cJSON_GetObjectItemCaseSensitive(w, "fields");
            bool mine =
                cJSON_IsString(op) && cJSON_IsString(key) && strcmp(key->valuestring, rel) == 0;
            const cJSON *v = mine && cJSON_IsObject(fields)
                                 ? cJSON_GetObjectItemCaseSensitive(fields, field)
                                 : NULL;
            bool deleted = false;
            const cJSON *it;
            if (mine && strcmp(op->valuestring, "hdel") == 0)
                cJSON_ArrayForEach(it, fields) deleted |=
                    cJSON_IsString(it) && strcmp(it->valuestring, field) == 0;
            if (mine && strcmp(op->valuestring, "del") == 0)
                deleted = true;
            if (cJSON_IsString(v) && cfg_check(schema, field, v->valuestring, NULL) == CS_OK)
                *out = cs_strdup(v->valuestring);
            cJSON_Delete(w);
            kv_free(&f);
            if (deleted) { /* before that delete, older values do not count */
                rds_reply_free(r);
                return CS_OK;
            }
        }
        if (*out || n < HISTORY_PAGE || !last) {
            rds_reply_free(r);
            return CS_OK;
        }
        snprintf(end, sizeof(end), "(%s", last);
        rds_reply_free(r);
    }
    return CS_OK;
}
