/* catalog.c - swarm-cli catalog: user-defined message types in {ns}:catalog. A file is checked
 * completely (every template compiles) before anything is written. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cs/catalog.h"
#include "cs/jtmpl.h"
#include "cs/keys.h"
#include "cs/mem.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: swarm-cli catalog load FILE      add or replace the messages defined in FILE\n"
        "       swarm-cli catalog list           names, sizes and whether each compiles\n"
        "       swarm-cli catalog show NAME      print a template\n"
        "       swarm-cli catalog delete NAME... remove messages\n"
        "\n"
        "FILE is an object {\"Name\": template, ...}; a template is JSON whose values may be\n"
        "placeholders: {id} {index} {ts} {meter_wh} {power_w} {soc} {status} {connector}\n"
        "{tx_id} {seq} {vendor} {model} {firmware} {rand:LO:HI} {arg.NAME|default}. Inside a\n"
        "string they are interpolated (\"{{\" is a literal brace). Then:\n"
        "  swarm-cli trigger 'CP-0000*' Name NAME=value ...\n"
        "A sample: examples/messages.json (installed in /usr/share/doc/chargeswarm/examples/);\n"
        "docs/charger.md.\n");
}

struct loaded {
    const char *file;
    const char *src;
    struct kvlist ok;
    int errors;
};

/* Line and column of a byte offset. */
static void where(const char *src, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && src[i]; i++) {
        if (src[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int on_member(void *privdata, const char *name, const char *src, size_t len)
{
    struct loaded *l = privdata;
    int line, col;
    where(l->src, (size_t)(src - l->src), &line, &col);
    if (!catalog_name_valid(name)) {
        fprintf(stderr, "%s:%d:%d: message name '%s': use [A-Za-z0-9_], 1..%d characters\n",
                l->file, line, col, name, CATALOG_NAME_MAX);
        l->errors++;
        return CS_OK;
    }
    if (catalog_lookup(name)) {
        fprintf(stderr, "%s:%d:%d: '%s' is a built-in message; choose another name\n", l->file,
                line, col, name);
        l->errors++;
        return CS_OK;
    }
    struct cs_error err;
    struct jtmpl *t = jtmpl_compile(src, len, &err);
    if (!t) {
        /* The compiler names the offset inside the template: turn it into the file's line. */
        const char *at = strstr(err.msg, "at offset ");
        size_t off = at ? strtoul(at + 10, NULL, 10) : 0;
        where(l->src, (size_t)(src - l->src) + off, &line, &col);
        fprintf(stderr, "%s:%d:%d: %s: %s\n", l->file, line, col, name, err.msg);
        l->errors++;
        return CS_OK;
    }
    jtmpl_free(t);
    kv_setn(&l->ok, name, strlen(name), src, len);
    return CS_OK;
}

static int load(struct cli *c, const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "swarm-cli catalog: cannot open %s: %s\n", file, strerror(errno));
        return EXIT_USAGE;
    }
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < 4 * 1024 * 1024)
        buf_append(&b, chunk, n);
    fclose(f);
    struct loaded l = {file, buf_cstr(&b), KVLIST_INIT, 0};
    struct cs_error err;
    int rc = jtmpl_members(b.s ? b.s : "", b.len, on_member, &l, &err);
    if (rc) {
        const char *at = strstr(err.msg, "at offset ");
        int line, col;
        where(buf_cstr(&b), at ? strtoul(at + 10, NULL, 10) : 0, &line, &col);
        fprintf(stderr, "%s:%d:%d: %s\n", file, line, col, err.msg);
        l.errors++;
    }
    if (l.errors) {
        fprintf(stderr, "swarm-cli catalog: %d error%s; nothing loaded\n", l.errors,
                l.errors == 1 ? "" : "s");
        kv_free(&l.ok);
        buf_free(&b);
        return EXIT_USAGE;
    }
    rc = EXIT_OK;
    if (l.ok.n) {
        char k[CS_KEY_MAX];
        const char **av = cs_calloc(2 + 2 * l.ok.n, sizeof(*av));
        int ac = 0;
        av[ac++] = "HSET";
        av[ac++] = cli_key(c, k, K_CATALOG, NULL);
        for (size_t i = 0; i < l.ok.n; i++) {
            av[ac++] = l.ok.v[i].key;
            av[ac++] = l.ok.v[i].val;
        }
        struct rds_reply *r = cli_cmdv(c->r, CLI_INT, &err, ac, av);
        if (r)
            cfglog_hset(c, "catalog", ac - 2, av + 2);
        cs_free(av);
        if (!r)
            rc = cli_redis_fail(&err);
        rds_reply_free(r);
    }
    if (rc == EXIT_OK) {
        printf("loaded %zu message%s:", l.ok.n, l.ok.n == 1 ? "" : "s");
        for (size_t i = 0; i < l.ok.n; i++)
            printf(" %s", l.ok.v[i].key);
        printf("\n");
        rc = cli_reload(c, "catalog");
    }
    kv_free(&l.ok);
    buf_free(&b);
    return rc;
}

static int list(struct cli *c, const char *k)
{
    struct cs_error err;
    struct rds_reply *r = cli_cmd(c->r, CLI_ARRAY, &err, "HGETALL %s", k);
    if (!r)
        return cli_redis_fail(&err);
    struct kvlist all = KVLIST_INIT;
    rds_reply_kv(r, &all);
    rds_reply_free(r);
    cJSON *arr = c->json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < all.n; i++) {
        struct jtmpl *t = jtmpl_compile(all.v[i].val, strlen(all.v[i].val), &err);
        if (arr) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", all.v[i].key);
            cJSON_AddNumberToObject(o, "bytes", (double)strlen(all.v[i].val));
            cJSON_AddBoolToObject(o, "ok", t != NULL);
            if (!t)
                cJSON_AddStringToObject(o, "error", err.msg);
            cJSON_AddItemToArray(arr, o);
        } else {
            printf("%-32s %6zu bytes  %s\n", cli_safe(all.v[i].key), strlen(all.v[i].val),
                   t ? "ok" : cli_safe(err.msg));
        }
        jtmpl_free(t);
    }
    if (arr) {
        cli_print_json(arr);
        cJSON_Delete(arr);
    } else if (all.n == 0)
        printf("(no user-defined messages)\n");
    kv_free(&all);
    return EXIT_OK;
}

static int show(struct cli *c, const char *k, const char *name)
{
    struct cs_error err;
    struct rds_reply *r = cli_cmd(c->r, CLI_STR, &err, "HGET %s %s", k, name);
    if (!r)
        return cli_redis_fail(&err);
    const char *s = rds_reply_str(r, NULL);
    int rc = EXIT_OK;
    if (s) {
        printf("%s\n", cli_safe_text(s));
    } else {
        fprintf(stderr, "swarm-cli catalog: no message '%s'\n", cli_safe(name));
        rc = EXIT_ERRORS;
    }
    rds_reply_free(r);
    return rc;
}

static int remove_msgs(struct cli *c, const char *k, int argc, char **argv)
{
    struct cs_error err;
    const char **av = cs_calloc((size_t)argc + 2, sizeof(*av));
    av[0] = "HDEL";
    av[1] = k;
    for (int i = 0; i < argc; i++)
        av[i + 2] = argv[i];
    struct rds_reply *r = cli_cmdv(c->r, CLI_INT, &err, argc + 2, av);
    cs_free(av);
    if (!r)
        return cli_redis_fail(&err);
    cfglog_hdel(c, "catalog", argc, argv);
    printf("removed %lld message%s\n", rds_reply_int(r), rds_reply_int(r) == 1 ? "" : "s");
    rds_reply_free(r);
    return cli_reload(c, "catalog");
}

int cmd_catalog(struct cli *c, int argc, char **argv)
{
    char k[CS_KEY_MAX];
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!cli_connect(c))
        return EXIT_REDIS;
    cli_key(c, k, K_CATALOG, NULL);
    const char *sub = argv[1];
    if (strcmp(sub, "load") == 0 && argc == 3)
        return load(c, argv[2]);
    if (strcmp(sub, "list") == 0 && argc == 2)
        return list(c, k);
    if (strcmp(sub, "show") == 0 && argc == 3)
        return show(c, k, argv[2]);
    if (strcmp(sub, "delete") == 0 && argc >= 3)
        return remove_msgs(c, k, argc - 2, argv + 2);
    usage(stderr);
    return EXIT_USAGE;
}
