/* opts.c - the shared flags. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/ids.h"
#include "cs/log.h"
#include "cs/opts.h"
#include "cs/url.h"
#include "cs/util.h"

void cs_opts_defaults(struct cs_common_opts *o)
{
    memset(o, 0, sizeof(*o));
    cs_strlcpy(o->redis, CS_REDIS_URL_DEFAULT, sizeof(o->redis));
    cs_strlcpy(o->ns, "swarm", sizeof(o->ns));
    o->log_level = CS_LOG_INFO;
}

void cs_opts_init(struct cs_common_opts *o)
{
    memset(o, 0, sizeof(*o));
    const char *e = getenv("SWARM_REDIS");
    cs_strlcpy(o->redis, e && *e ? e : CS_REDIS_URL_DEFAULT, sizeof(o->redis));
    e = getenv("SWARM_NAMESPACE");
    cs_strlcpy(o->ns, e && *e ? e : "swarm", sizeof(o->ns));
    e = getenv("SWARM_LOG_LEVEL");
    o->log_level = e && cs_log_parse_level(e) >= 0 ? cs_log_parse_level(e) : CS_LOG_INFO;
}

bool cs_ns_valid(const char *ns)
{
    size_t n = strlen(ns);
    if (n == 0 || n > CS_NS_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!cs_id_char(ns[i]))
            return false;
    return true;
}

int cs_opts_handle(struct cs_common_opts *o, int opt, const char *arg, struct cs_error *err)
{
    switch (opt) {
    case CS_OPT_REDIS:
        if (!cs_strlcpy(o->redis, arg, sizeof(o->redis)))
            return cs_error_set(err, CS_ERR_TOO_BIG, "--redis: URL too long");
        return 1;
    case CS_OPT_NAMESPACE:
        if (!cs_strlcpy(o->ns, arg, sizeof(o->ns)))
            return cs_error_set(err, CS_ERR_TOO_BIG, "--namespace: longer than %d", CS_NS_MAX);
        return 1;
    case CS_OPT_LOG_LEVEL:
        o->log_level = cs_log_parse_level(arg);
        if (o->log_level < 0)
            return cs_error_set(err, CS_ERR_INVAL,
                                "--log-level: '%s' is not one of error, warn, info, debug", arg);
        return 1;
    }
    return 0;
}

int cs_opts_finish(struct cs_common_opts *o, struct cs_error *err)
{
    if (!cs_ns_valid(o->ns))
        return cs_error_set(err, CS_ERR_INVAL, "namespace '%s': use [A-Za-z0-9_.-], 1..%d chars",
                            o->ns, CS_NS_MAX);
    return redis_url_parse(&o->url, o->redis, err);
}

const char *cs_opts_help(void)
{
    return "  --redis URL         Redis to use (default " CS_REDIS_URL_DEFAULT
           "; env SWARM_REDIS)\n"
           "                      redis://[user[:password]@]host[:port][/db]\n"
           "  --namespace NS      key and channel prefix (default swarm; env SWARM_NAMESPACE)\n"
           "  --log-level LEVEL   error, warn, info or debug (default info; env "
           "SWARM_LOG_LEVEL)\n"
           "  --config FILE       options as `name = value` lines (default " CS_CONFIG_DIR
           "/<program>.conf when it exists)\n"
           "  --print-config      show every option's value and where it came from, then exit\n"
           "  -h, --help          this help\n"
           "  -V, --version       print the version\n"
           "Precedence: flags > environment > config file > defaults.\n";
}

/* ---- the whole parse: defaults < file < environment < flags ------------------------------ */

#define MAX_SET 64

struct setting {
    const char *name;
    char value[512];
    char source[160];
};

struct parse_state {
    struct cs_optparse *p;
    const struct cs_optx *optx;
    struct setting set[MAX_SET];
    int nset;
    bool print;
};

static const struct option *find_long(const struct option *o, const char *name)
{
    for (; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static const struct option *find_code(const struct option *o, int code)
{
    for (; o->name; o++)
        if (o->val == code)
            return o;
    return NULL;
}

static const struct cs_optx *find_x(const struct parse_state *s, int code)
{
    for (const struct cs_optx *x = s->optx; x && x->opt; x++)
        if (x->opt == code)
            return x;
    return NULL;
}

/* A secret as --print-config shows it: its first `shown` ':'-fields, then ***. */
static void mask(const char *value, int shown, char *out, size_t n)
{
    const char *p = value;
    for (int i = 0; i < shown && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    size_t keep = p ? (size_t)(p - value) : 0;
    snprintf(out, n, "%.*s***", (int)(keep < n ? keep : 0), value);
}

/* Applies one option (common or the program's) and records where it came from. */
static int apply(struct parse_state *s, const struct option *o, const char *arg, const char *source,
                 struct cs_error *err)
{
    struct cs_optparse *p = s->p;
    const struct cs_optx *x = find_x(s, o->val);
    int rc = cs_opts_handle(p->common, o->val, arg, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        rc = p->apply(p->ctx, o->val, arg, err);
        if (rc)
            return rc;
    }
    int i = s->nset;
    if (!(x && x->flags & CS_OPTX_MULTI))
        for (i = 0; i < s->nset; i++)
            if (strcmp(s->set[i].name, o->name) == 0)
                break;
    if (i == s->nset && s->nset < MAX_SET)
        s->set[s->nset++].name = o->name;
    if (i < MAX_SET) {
        if (x && x->flags & CS_OPTX_SECRET) /* the secret itself is not even kept */
            mask(arg ? arg : "", x->shown, s->set[i].value, sizeof(s->set[i].value));
        else
            cs_strlcpy(s->set[i].value, arg ? arg : "yes", sizeof(s->set[i].value));
        cs_strlcpy(s->set[i].source, source, sizeof(s->set[i].source));
    }
    return CS_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int load_file(struct parse_state *s, const char *path, bool must_exist, struct cs_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return must_exist ? cs_error_set(err, CS_ERR_IO, "cannot read config file %s", path)
                          : CS_OK;
    char line[1024];
    int n = 0, rc = CS_OK;
    while (rc == CS_OK && fgets(line, sizeof(line), f)) {
        n++;
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        char *sep = l + strcspn(l, "= \t");
        char *val = sep;
        if (*sep) {
            *sep = '\0';
            val = trim(sep + 1);
            if (*val == '=')
                val = trim(val + 1);
        }
        /* Quoted values keep their blanks. */
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        const struct option *o = find_long(s->p->longopts, l);
        if (!o || o->val == 'h' || o->val == 'V' || o->val == CS_OPT_CONFIG ||
            o->val == CS_OPT_PRINT_CONFIG) {
            rc = cs_error_set(err, CS_ERR_UNKNOWN, "%s:%d: unknown option '%s'", path, n, l);
            break;
        }
        char source[160];
        snprintf(source, sizeof(source), "file %s:%d", path, n);
        rc = apply(s, o, o->has_arg == no_argument ? NULL : val, source, err);
        if (rc) {
            struct cs_error inner = *err;
            rc = cs_error_set(err, inner.code ? inner.code : CS_ERR_INVAL, "%s:%d: %s", path, n,
                              inner.msg);
        }
    }
    fclose(f);
    return rc;
}

static void print_config(struct parse_state *s)
{
    struct cs_optparse *p = s->p;
    printf("%-16s %-42s %s\n", "OPTION", "VALUE", "FROM");
    for (const struct option *o = p->longopts; o->name; o++) {
        const struct cs_optx *x = find_x(s, o->val);
        if (o->val == CS_OPT_CONFIG || o->val == CS_OPT_PRINT_CONFIG || o->val == 'h' ||
            o->val == 'V')
            continue;
        if (x && x->flags & CS_OPTX_MULTI) { /* every value given, or none */
            for (int i = 0; i < s->nset; i++)
                if (strcmp(s->set[i].name, o->name) == 0)
                    printf("%-16s %-42s %s\n", o->name, s->set[i].value, s->set[i].source);
            continue;
        }
        const struct setting *st = NULL;
        for (int i = 0; i < s->nset; i++)
            if (strcmp(s->set[i].name, o->name) == 0)
                st = &s->set[i];
        char value[512];
        if (o->has_arg == no_argument) { /* a switch: given (by a flag or the file) or not */
            printf("%-16s %-42s %s\n", o->name, st ? "on" : "off", st ? st->source : "default");
            continue;
        }
        cs_strlcpy(value, st ? st->value : "", sizeof(value));
        if (o->val == CS_OPT_REDIS) {
            /* Never show a password. */
            struct buf b = BUF_INIT;
            redis_url_format(&p->common->url, true, &b);
            cs_strlcpy(value, buf_cstr(&b), sizeof(value));
            buf_free(&b);
        }
        printf("%-16s %-42s %s\n", o->name, st || o->val == CS_OPT_REDIS ? value : "(default)",
               st ? st->source : "default");
    }
}

int cs_opts_parse(struct cs_optparse *p, int argc, char **argv)
{
    return cs_opts_parse_x(p, NULL, argc, argv);
}

int cs_opts_parse_x(struct cs_optparse *p, const struct cs_optx *optx, int argc, char **argv)
{
    struct parse_state *s = calloc(1, sizeof(*s));
    struct cs_error err = {0};
    int rc = CS_OK;
    const char *file = NULL;
    char deflt[256];
    if (!s)
        return 2;
    s->p = p;
    s->optx = optx;

    /* The file first: find --config among the flags. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    if (file) {
        rc = load_file(s, file, true, &err);
    } else {
        snprintf(deflt, sizeof(deflt), "%s/%s.conf", CS_CONFIG_DIR, p->prog);
        rc = load_file(s, deflt, false, &err);
    }

    /* Then the environment. */
    static const struct {
        const char *var;
        int opt;
    } env[] = {{"SWARM_REDIS", CS_OPT_REDIS},
               {"SWARM_NAMESPACE", CS_OPT_NAMESPACE},
               {"SWARM_LOG_LEVEL", CS_OPT_LOG_LEVEL}};
    for (size_t i = 0; rc == CS_OK && i < sizeof(env) / sizeof(env[0]); i++) {
        const char *v = getenv(env[i].var);
        const struct option *o = find_code(p->longopts, env[i].opt);
        char source[64];
        snprintf(source, sizeof(source), "env %s", env[i].var);
        if (v && *v && o)
            rc = apply(s, o, v, source, &err);
    }
    for (const struct cs_optx *x = s->optx; rc == CS_OK && x && x->opt; x++) {
        const char *v = x->env ? getenv(x->env) : NULL;
        const struct option *o = find_code(p->longopts, x->opt);
        char source[64];
        snprintf(source, sizeof(source), "env %s", x->env ? x->env : "");
        if (v && *v && o && (rc = apply(s, o, v, source, &err)) != CS_OK) {
            struct cs_error inner = err;
            rc = cs_error_set(&err, inner.code ? inner.code : CS_ERR_INVAL, "%s: %s", x->env,
                              inner.msg);
        }
    }

    /* Then the flags. */
    int opt, idx = -1;
    optind = 1;
    while (rc == CS_OK && (opt = getopt_long(argc, argv, p->shortopts, p->longopts, &idx)) != -1) {
        const struct option *o = idx >= 0 ? &p->longopts[idx] : find_code(p->longopts, opt);
        idx = -1;
        if (opt == '?' || !o) {
            rc = 2;
            break;
        }
        if (opt == CS_OPT_CONFIG)
            continue;
        if (opt == CS_OPT_PRINT_CONFIG) {
            s->print = true;
            continue;
        }
        const struct cs_optx *x = find_x(s, opt);
        if (x && x->flags & CS_OPTX_NO_FLAG) {
            rc = cs_error_set(&err, CS_ERR_INVAL,
                              "--%s is not taken on the command line (every user of the host "
                              "sees it there): put `%s = ...` in the config file%s%s",
                              o->name, o->name, x->env ? " or set " : "", x->env ? x->env : "");
            break;
        }
        rc = apply(s, o, optarg, "flag", &err);
    }
    p->first_operand = optind;
    if (rc == CS_OK)
        rc = cs_opts_finish(p->common, &err);
    if (rc == CS_OK && s->print) {
        print_config(s);
        rc = CS_OPTS_DONE;
    }
    if (rc != CS_OK && rc != CS_OPTS_DONE) {
        if (err.msg[0])
            fprintf(stderr, "%s: %s\n", p->prog, err.msg);
        rc = 2;
    }
    free(s);
    return rc;
}
