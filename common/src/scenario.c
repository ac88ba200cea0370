/* scenario.c - scenario files: the schema table, checking with positions, expanding repeats. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cs/cfg.h"
#include "cs/cmd.h"
#include "cs/ids.h"
#include "cs/jpos.h"
#include "cs/mem.h"
#include "cs/scenario.h"
#include "cs/selector.h"
#include "cs/util.h"

/* ---- the schema table ---------------------------------------------------------------------- */

enum ftype {
    FT_STR, /* a string, min..max characters */
    FT_INT, /* an integer number, min..max */
    FT_BOOL,
    FT_DUR,         /* "30s", "500ms", "2m", "1h", or a number of seconds */
    FT_CHARGER_CFG, /* an object: charger config keys (docs/config.md) and their values */
    FT_FLEET_CFG,   /* an object: fleet settings */
    FT_SELECTOR,    /* a selector (docs/commands.md) */
    FT_CHARGER,     /* a charger ID */
    FT_LAYER,       /* a layer name */
    FT_COMMAND,     /* a fleet command line */
    FT_CHAOS_VERB,
    FT_ARGS,       /* an object of key: value (strings, numbers, booleans) */
    FT_STAGES,     /* an array of stages */
    FT_THRESHOLDS, /* an array of threshold expressions */
    FT_REPORT,     /* an object: format, out */
    FT_FORMAT,     /* table, csv, json, html */
    FT_TRUE,       /* the value true */
};

static const char *const ftype_doc[] = {
    [FT_STR] = "string",
    [FT_INT] = "integer",
    [FT_BOOL] = "boolean",
    [FT_DUR] = "duration: `\"30s\"`, `\"500ms\"`, `\"2m\"`, `\"1h\"` or seconds",
    [FT_CHARGER_CFG] = "object: charger config keys and values ([config.md](config.md))",
    [FT_FLEET_CFG] = "object: fleet settings and values ([config.md](config.md))",
    [FT_SELECTOR] = "selector ([commands.md](commands.md))",
    [FT_CHARGER] = "charger ID",
    [FT_LAYER] = "layer name `[A-Za-z0-9_.-]`",
    [FT_COMMAND] = "a fleet command line ([commands.md](commands.md))",
    [FT_CHAOS_VERB] = "offline, online, storm, garble, dup, reboot, fault or clear",
    [FT_ARGS] = "object: the verb's keys and their values",
    [FT_STAGES] = "array of stages",
    [FT_THRESHOLDS] = "array of threshold expressions (below)",
    [FT_REPORT] = ("object: `format` (table, csv, json, html), `out` (a file; for csv the "
                   "prefix of Locust's three files)"),
    [FT_FORMAT] = "table, csv, json or html",
    [FT_TRUE] = "`true`",
};

struct sfield {
    const char *name;
    enum ftype type;
    bool required;
    int64_t min, max;
    const char *help;
};

#define LABEL                                                                                      \
    {                                                                                              \
        "label", FT_STR, false, 1, 100, "what the progress line calls the stage"                   \
    }

static const struct sfield top_fields[] = {
    {"name", FT_STR, true, 1, 127, "the run's name (`swarm-cli run list`)"},
    {"description", FT_STR, false, 0, 511, "what the test is for"},
    {"seed", FT_INT, false, 0, 2147483647,
     "the fleet's `seed` for the run: the chargers' random behaviour (sessions, faults) and "
     "`random:` selections without their own `:seed=` repeat from run to run"},
    {"fleet", FT_FLEET_CFG, false, 0, 0,
     "fleet settings written before the first stage (as `swarm-cli config set --fleet`)"},
    {"config", FT_CHARGER_CFG, false, 0, 0,
     "the fleet's charger defaults written before the first stage (as `swarm-cli config set`)"},
    {"stages", FT_STAGES, true, 1, 1000, "the timeline: stages run one after the other"},
    {"thresholds", FT_THRESHOLDS, false, 0, 100,
     "pass/fail criteria evaluated on the run at its end: they decide the exit status"},
    {"report", FT_REPORT, false, 0, 0,
     "the report written at the end (default: the table on stdout); `--format`/`--out` on the "
     "command line take precedence"},
};

static const struct sfield report_fields[] = {
    {"format", FT_FORMAT, false, 0, 0, "table, csv, json or html"},
    {"out", FT_STR, false, 1, 511, "the file (csv: the prefix of Locust's three files)"},
};

static const struct sfield scale_fields[] = {
    {"scale", FT_INT, true, 0, CS_FLEET_MAX, "the fleet size"},
    {"ramp_per_s", FT_INT, false, 1, 100000, "connects per second per worker, set first"},
    {"wait_connected", FT_BOOL, false, 0, 0,
     "wait until that many chargers are connected (default true)"},
    {"timeout", FT_DUR, false, 0, 86400000,
     "the longest wait for them (default 10m); the scenario fails past it"},
    LABEL,
};
static const struct sfield wait_fields[] = {
    {"wait", FT_DUR, true, 0, 86400000, "how long to hold (the fleet keeps running)"},
    LABEL,
};
static const struct sfield config_fields[] = {
    {"config", FT_CHARGER_CFG, true, 0, 0, "charger config keys and their values"},
    {"select", FT_SELECTOR, false, 1, 255,
     "a layer for the chargers it selects (as `config set --select`); without it and without "
     "`charger`: the fleet's defaults"},
    {"layer", FT_LAYER, false, 1, 64, "the layer's name (default: derived from `select`)"},
    {"charger", FT_CHARGER, false, 1, 47, "one charger's overrides instead"},
    LABEL,
};
static const struct sfield fleet_fields[] = {
    {"fleet", FT_FLEET_CFG, true, 0, 0, "fleet settings and their values"},
    LABEL,
};
static const struct sfield command_fields[] = {
    {"command", FT_COMMAND, true, 1, 1000,
     "any fleet command with its selector, e.g. `\"start 'CP-0000*' kw=11\"`; it waits for "
     "the workers' replies; error replies are logged and the run goes on"},
    LABEL,
};
static const struct sfield chaos_fields[] = {
    {"chaos", FT_CHAOS_VERB, true, 0, 0, "what happens to the chargers"},
    {"select", FT_SELECTOR, true, 1, 255, "to which chargers"},
    {"args", FT_ARGS, false, 0, 0, "the verb's keys, e.g. `{\"seconds\": 30}` for offline"},
    LABEL,
};
static const struct sfield reset_fields[] = {
    {"reset_stats", FT_TRUE, true, 0, 0,
     "the run's figures count from here (`swarm-cli stats reset`): drops a warm-up"},
    LABEL,
};
static const struct sfield repeat_fields[] = {
    {"repeat", FT_INT, true, 1, 1000, "how many times"},
    {"stages", FT_STAGES, true, 1, 1000, "the stages repeated"},
    LABEL,
};

static const struct kind_def {
    enum scn_kind kind;
    const struct sfield *fields; /* the first is the stage's own key */
    size_t n;
    const char *help, *example;
} kinds[] = {
    [SK_SCALE] = {SK_SCALE, scale_fields, ARRAY_SIZE(scale_fields),
                  "Sets the fleet size (a ramp up or down) and waits until that many chargers are "
                  "connected.",
                  "{\"scale\": 1000, \"ramp_per_s\": 100, \"timeout\": \"5m\"}"},
    [SK_WAIT] = {SK_WAIT, wait_fields, ARRAY_SIZE(wait_fields),
                 "Holds: the fleet runs as configured (a soak, a plateau).",
                 "{\"wait\": \"10m\", \"label\": \"hold\"}"},
    [SK_CONFIG] = {SK_CONFIG, config_fields, ARRAY_SIZE(config_fields),
                   "Changes charger config live: the fleet's defaults, a layer for a selection, "
                   "or one charger.",
                   "{\"config\": {\"sessions_per_h\": 2, \"time_scale\": 60}, \"select\": "
                   "\"random:20%\", \"layer\": \"busy\"}"},
    [SK_FLEET] = {SK_FLEET, fleet_fields, ARRAY_SIZE(fleet_fields), "Changes fleet settings live.",
                  "{\"fleet\": {\"stats_window_s\": 30}}"},
    [SK_COMMAND] = {SK_COMMAND, command_fields, ARRAY_SIZE(command_fields),
                    "Sends any fleet command and waits for the workers' replies.",
                    "{\"command\": \"trigger 'CP-00001*' StatusNotification status=Faulted "
                    "errorCode=GroundFailure\"}"},
    [SK_CHAOS] = {SK_CHAOS, chaos_fields, ARRAY_SIZE(chaos_fields),
                  "A chaos verb on a selection: network loss (offline/online), reconnect storms, "
                  "malformed or duplicated frames, reboots, faults.",
                  "{\"chaos\": \"offline\", \"select\": \"random:5%\", \"args\": {\"seconds\": "
                  "20}}"},
    [SK_RESET] = {SK_RESET, reset_fields, ARRAY_SIZE(reset_fields),
                  "Drops what the run counted so far.", "{\"reset_stats\": true}"},
    [SK_REPEAT] = {SK_REPEAT, repeat_fields, ARRAY_SIZE(repeat_fields),
                   "Runs a block of stages several times.",
                   "{\"repeat\": 3, \"stages\": [{\"chaos\": \"storm\", \"select\": "
                   "\"random:10%\"}, {\"wait\": \"1m\"}]}"},
};
_Static_assert(ARRAY_SIZE(kinds) == SK__COUNT, "a schema row per stage kind");

static const char *const chaos_verbs[] = {"offline", "online", "storm", "garble",
                                          "dup",     "reboot", "fault", "clear"};

/* ---- checking ------------------------------------------------------------------------------ */

struct ctx {
    const char *file;
    struct cs_error *err;
    struct scenario *s;
    struct idfmt idf; /* for selectors: the scenario's id_format, or the default */
    size_t depth;     /* repeat nesting */
};

static int at(struct ctx *x, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int at(struct ctx *x, int line, int col, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return cs_error_set(x->err, CS_ERR_PARSE, "%s:%d:%d: %s", x->file, line, col, msg);
}

static int type_error(struct ctx *x, const struct jnode *v, const char *key, const char *want)
{
    return at(x, v->line, v->col, "\"%s\" is %s, not %s", key, want, jpos_type_name(v->type));
}

/* The scalar value of a config member as text. */
static bool scalar_text(const struct jnode *v, char *out, size_t n)
{
    switch (v->type) {
    case JP_STRING:
        return cs_strlcpy(out, v->str, n);
    case JP_NUMBER:
        if (v->num == floor(v->num) && fabs(v->num) < 1e15)
            snprintf(out, n, "%.0f", v->num);
        else
            snprintf(out, n, "%.10g", v->num);
        return true;
    case JP_BOOL:
        snprintf(out, n, "%s", v->b ? "1" : "0");
        return true;
    default:
        return false;
    }
}

static int check_cfg(struct ctx *x, const struct jnode *v, const char *key,
                     const struct cfg_schema *schema, struct kvlist *out)
{
    if (v->type != JP_OBJECT)
        return type_error(x, v, key, "an object of config keys");
    for (const struct jnode *m = v->child; m; m = m->next) {
        char val[1024];
        struct cs_error e;
        if (!cfg_lookup(schema, m->key))
            return at(x, m->key_line, m->key_col, "unknown %s setting \"%s\" (docs/config.md)",
                      schema->name, m->key);
        if (!scalar_text(m, val, sizeof(val)))
            return at(x, m->line, m->col, "\"%s\": a string, number or boolean, not %s", m->key,
                      jpos_type_name(m->type));
        if (cfg_check(schema, m->key, val, &e) != CS_OK)
            return at(x, m->line, m->col, "%s", e.msg);
        kv_set(out, m->key, val);
    }
    return CS_OK;
}

static int check_selector(struct ctx *x, const struct jnode *v)
{
    struct cs_error e;
    struct sel *s = sel_parse(v->str, &x->idf, &e);
    if (!s)
        return at(x, v->line, v->col, "%s", e.msg);
    sel_free(s);
    return CS_OK;
}

/* A command line that swarm-cli would send: it parses, its verb is an operator's, its selector
 * is valid. */
static int check_command(struct ctx *x, const struct jnode *v, const char *line)
{
    struct cmd c;
    struct cs_error e;
    if (cmd_parse(line, strlen(line), &c, &e) != CS_OK)
        return at(x, v->line, v->col, "%s", e.msg);
    int rc = CS_OK;
    if (c.def->flags & CMD_F_INTERNAL)
        rc = at(x, v->line, v->col, "'%s' is sent by the coordinator only", c.def->name);
    else if (c.id[0])
        rc = at(x, v->line, v->col, "no @id: the run gives its commands their ids");
    if (rc == CS_OK && c.select) {
        struct sel *s = sel_parse(c.select, &x->idf, &e);
        if (!s)
            rc = at(x, v->line, v->col, "%s", e.msg);
        sel_free(s);
    }
    cmd_free(&c);
    return rc;
}

/* A value against its field's type and bounds. */
static int check_value(struct ctx *x, const struct sfield *f, const struct jnode *v)
{
    switch (f->type) {
    case FT_STR:
    case FT_SELECTOR:
    case FT_CHARGER:
    case FT_LAYER:
    case FT_COMMAND: {
        if (v->type != JP_STRING)
            return type_error(x, v, f->name, "a string");
        size_t n = strlen(v->str);
        if ((int64_t)n < f->min || (int64_t)n > f->max)
            return at(x, v->line, v->col, "\"%s\": %lld to %lld characters", f->name,
                      (long long)f->min, (long long)f->max);
        for (const char *p = v->str; *p; p++)
            if ((unsigned char)*p < 0x20)
                return at(x, v->line, v->col, "\"%s\": a control character", f->name);
        if (f->type == FT_SELECTOR)
            return check_selector(x, v);
        if (f->type == FT_CHARGER && !cs_id_valid(v->str))
            return at(x, v->line, v->col, "\"%s\" is not a charger ID ([A-Za-z0-9_.-])", v->str);
        if (f->type == FT_LAYER) {
            for (const char *p = v->str; *p; p++)
                if (!(cs_id_char(*p)))
                    return at(x, v->line, v->col, "a layer name uses [A-Za-z0-9_.-]");
        }
        if (f->type == FT_COMMAND)
            return check_command(x, v, v->str);
        return CS_OK;
    }
    case FT_INT:
        if (v->type != JP_NUMBER || v->num != floor(v->num))
            return type_error(x, v, f->name, "an integer");
        if (v->num < (double)f->min || v->num > (double)f->max)
            return at(x, v->line, v->col, "\"%s\": %lld..%lld", f->name, (long long)f->min,
                      (long long)f->max);
        return CS_OK;
    case FT_BOOL:
        return v->type == JP_BOOL ? CS_OK : type_error(x, v, f->name, "true or false");
    case FT_TRUE:
        return v->type == JP_BOOL && v->b ? CS_OK : type_error(x, v, f->name, "true");
    case FT_DUR: {
        int64_t ms;
        if (v->type == JP_NUMBER)
            ms = v->num >= 0 && v->num <= 1e9 ? (int64_t)(v->num * 1000.0 + 0.5) : -1;
        else if (v->type == JP_STRING)
            ms = cs_parse_duration_ms(v->str, &ms) ? ms : -1;
        else
            return type_error(x, v, f->name, "a duration (\"30s\", \"2m\" or seconds)");
        if (ms < f->min || ms > f->max)
            return at(x, v->line, v->col,
                      "\"%s\": a duration of at most %lld s (\"30s\", "
                      "\"500ms\", \"2m\", \"1h\" or seconds)",
                      f->name, (long long)(f->max / 1000));
        return CS_OK;
    }
    case FT_CHAOS_VERB:
        if (v->type != JP_STRING)
            return type_error(x, v, f->name, "a string");
        for (size_t i = 0; i < ARRAY_SIZE(chaos_verbs); i++)
            if (strcmp(chaos_verbs[i], v->str) == 0)
                return CS_OK;
        return at(x, v->line, v->col, "\"%s\" is not a chaos verb (%s)", v->str,
                  ftype_doc[FT_CHAOS_VERB]);
    case FT_ARGS:
        if (v->type != JP_OBJECT)
            return type_error(x, v, f->name, "an object");
        for (const struct jnode *m = v->child; m; m = m->next) {
            char t[8];
            if (!scalar_text(m, t, sizeof(t)) && m->type != JP_STRING)
                return at(x, m->line, m->col, "\"%s\": a string, number or boolean", m->key);
            for (const char *p = m->key; *p; p++)
                if (!(cs_id_char(*p)) || *p == '.' || *p == '-')
                    return at(x, m->key_line, m->key_col, "\"%s\" is not a key name", m->key);
        }
        return CS_OK;
    case FT_FORMAT:
        if (v->type != JP_STRING)
            return type_error(x, v, f->name, "a string");
        if (strcmp(v->str, "table") && strcmp(v->str, "csv") && strcmp(v->str, "json") &&
            strcmp(v->str, "html"))
            return at(x, v->line, v->col, "\"%s\": table, csv, json or html", f->name);
        return CS_OK;
    case FT_STAGES:
    case FT_THRESHOLDS:
        if (v->type != JP_ARRAY)
            return type_error(x, v, f->name, "an array");
        if ((int64_t)v->n < f->min || (int64_t)v->n > f->max)
            return at(x, v->line, v->col, "\"%s\": %lld to %lld entries", f->name,
                      (long long)f->min, (long long)f->max);
        return CS_OK;
    case FT_REPORT:
        return v->type == JP_OBJECT ? CS_OK : type_error(x, v, f->name, "an object");
    case FT_CHARGER_CFG:
    case FT_FLEET_CFG:
        return v->type == JP_OBJECT ? CS_OK : type_error(x, v, f->name, "an object");
    }
    return CS_OK;
}

/* Every member of obj is a field of the table, typed right; the required ones are there. */
static int check_fields(struct ctx *x, const struct jnode *obj, const struct sfield *f, size_t n,
                        const char *what)
{
    for (const struct jnode *m = obj->child; m; m = m->next) {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(f[i].name, m->key) == 0)
                break;
        if (i == n) {
            struct buf known = BUF_INIT;
            for (size_t k = 0; k < n; k++)
                buf_printf(&known, "%s%s", k ? ", " : "", f[k].name);
            int rc = at(x, m->key_line, m->key_col, "unknown key \"%s\" in %s (%s)", m->key, what,
                        buf_cstr(&known));
            buf_free(&known);
            return rc;
        }
        int rc = check_value(x, &f[i], m);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < n; i++)
        if (f[i].required && !jpos_get(obj, f[i].name))
            return at(x, obj->line, obj->col, "%s without \"%s\"", what, f[i].name);
    return CS_OK;
}

static int64_t dur_ms(const struct jnode *v)
{
    int64_t ms = 0;
    if (v->type == JP_NUMBER)
        ms = (int64_t)(v->num * 1000.0 + 0.5);
    else
        cs_parse_duration_ms(v->str, &ms);
    return ms;
}

static struct scn_step *new_step(struct ctx *x, enum scn_kind k, const struct jnode *st,
                                 const char *prefix)
{
    struct scenario *s = x->s;
    if (s->nsteps == SCN_MAX_STEPS) {
        at(x, st->line, st->col, "more than %d steps once repeats are expanded", SCN_MAX_STEPS);
        return NULL;
    }
    if (s->nsteps == s->cap_steps) { /* doubling: a big repeat is not quadratic */
        s->cap_steps = s->cap_steps ? s->cap_steps * 2 : 16;
        s->steps = cs_realloc(s->steps, s->cap_steps * sizeof(*s->steps));
    }
    struct scn_step *p = &s->steps[s->nsteps++];
    memset(p, 0, sizeof(*p));
    p->kind = k;
    p->line = st->line;
    p->col = st->col;
    p->ramp_per_s = -1;
    const struct jnode *label = jpos_get(st, "label");
    if (label)
        snprintf(p->label, sizeof(p->label), "%s%s", prefix, label->str);
    else
        snprintf(p->label, sizeof(p->label), "%s", prefix);
    return p;
}

static void label_add(struct scn_step *p, const struct jnode *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void label_add(struct scn_step *p, const struct jnode *st, const char *fmt, ...)
{
    if (jpos_get(st, "label"))
        return;
    size_t n = strlen(p->label);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->label + n, sizeof(p->label) - n, fmt, ap);
    va_end(ap);
}

static int stages(struct ctx *x, const struct jnode *arr, const char *prefix);

static int stage(struct ctx *x, const struct jnode *st, const char *prefix)
{
    if (st->type != JP_OBJECT)
        return at(x, st->line, st->col, "a stage is an object, not %s", jpos_type_name(st->type));
    const struct kind_def *k = NULL;
    const struct jnode *key = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        const struct jnode *m = jpos_get(st, kinds[i].fields[0].name);
        if (!m)
            continue;
        if (k) {
            /* point at the later of the two */
            bool later = m->key_line > key->key_line ||
                         (m->key_line == key->key_line && m->key_col > key->key_col);
            const struct jnode *first = later ? key : m, *second = later ? m : key;
            return at(x, second->key_line, second->key_col,
                      "a stage does one thing: \"%s\" and \"%s\"", first->key, second->key);
        }
        k = &kinds[i];
        key = m;
    }
    if (!k)
        return at(x, st->line, st->col,
                  "a stage needs one of scale, wait, config, fleet, command, chaos, reset_stats, "
                  "repeat");
    char what[48];
    snprintf(what, sizeof(what), "a %s stage", k->fields[0].name);
    int rc = check_fields(x, st, k->fields, k->n, what);
    if (rc)
        return rc;
    struct scn_step *p;
    const struct jnode *v;
    switch (k->kind) {
    case SK_SCALE:
        if (!(p = new_step(x, SK_SCALE, st, prefix)))
            return CS_ERR_PARSE;
        p->size = (int64_t)key->num;
        p->ramp_per_s = (v = jpos_get(st, "ramp_per_s")) ? (int64_t)v->num : -1;
        p->wait = !(v = jpos_get(st, "wait_connected")) || v->b;
        p->timeout_ms = (v = jpos_get(st, "timeout")) ? dur_ms(v) : 600000;
        label_add(p, st, "scale %lld", (long long)p->size);
        if (p->ramp_per_s > 0)
            label_add(p, st, " (ramp %lld/s)", (long long)p->ramp_per_s);
        return CS_OK;
    case SK_WAIT:
        if (!(p = new_step(x, SK_WAIT, st, prefix)))
            return CS_ERR_PARSE;
        p->ms = dur_ms(key);
        x->s->planned_ms += p->ms;
        label_add(p, st, "wait %.1f s", (double)p->ms / 1000.0);
        return CS_OK;
    case SK_CONFIG:
        if (jpos_get(st, "charger") && (jpos_get(st, "select") || jpos_get(st, "layer")))
            return at(x, st->line, st->col,
                      "a config stage for one charger takes no "
                      "\"select\" or \"layer\"");
        if (jpos_get(st, "layer") && !jpos_get(st, "select"))
            return at(x, st->line, st->col, "\"layer\" names the layer of a \"select\"");
        if (!(p = new_step(x, SK_CONFIG, st, prefix)))
            return CS_ERR_PARSE;
        if ((rc = check_cfg(x, key, "config", &cfg_charger_schema, &p->set)))
            return rc;
        if ((v = jpos_get(st, "select")))
            cs_strlcpy(p->select, v->str, sizeof(p->select));
        if ((v = jpos_get(st, "layer")))
            cs_strlcpy(p->layer, v->str, sizeof(p->layer));
        if ((v = jpos_get(st, "charger")))
            cs_strlcpy(p->charger, v->str, sizeof(p->charger));
        label_add(p, st, "config %zu key%s%s%s", p->set.n, p->set.n == 1 ? "" : "s",
                  p->select[0]    ? " for "
                  : p->charger[0] ? " of "
                                  : "",
                  p->select[0] ? p->select : p->charger);
        return CS_OK;
    case SK_FLEET:
        if (!(p = new_step(x, SK_FLEET, st, prefix)))
            return CS_ERR_PARSE;
        if ((rc = check_cfg(x, key, "fleet", &cfg_fleet_schema, &p->set)))
            return rc;
        label_add(p, st, "fleet %zu setting%s", p->set.n, p->set.n == 1 ? "" : "s");
        return CS_OK;
    case SK_COMMAND:
        if (!(p = new_step(x, SK_COMMAND, st, prefix)))
            return CS_ERR_PARSE;
        cs_strlcpy(p->line_, key->str, sizeof(p->line_));
        label_add(p, st, "%.80s", p->line_);
        return CS_OK;
    case SK_CHAOS: {
        if (!(p = new_step(x, SK_CHAOS, st, prefix)))
            return CS_ERR_PARSE;
        struct buf line = BUF_INIT;
        const struct jnode *sel = jpos_get(st, "select"), *args = jpos_get(st, "args");
        buf_printf(&line, "%s \"", key->str);
        for (const char *c = sel->str; *c; c++) {
            if (*c == '"' || *c == '\\')
                buf_putc(&line, '\\');
            buf_putc(&line, *c);
        }
        buf_putc(&line, '"');
        for (const struct jnode *m = args ? args->child : NULL; m; m = m->next) {
            char val[1024];
            scalar_text(m, val, sizeof(val));
            buf_printf(&line, " %s=\"", m->key);
            for (const char *c = val; *c; c++) {
                if (*c == '"' || *c == '\\')
                    buf_putc(&line, '\\');
                buf_putc(&line, *c);
            }
            buf_putc(&line, '"');
        }
        if (line.len >= sizeof(p->line_)) {
            buf_free(&line);
            return at(x, st->line, st->col, "the chaos command is longer than %zu characters",
                      sizeof(p->line_) - 1);
        }
        cs_strlcpy(p->line_, buf_cstr(&line), sizeof(p->line_));
        buf_free(&line);
        if ((rc = check_command(x, key, p->line_)))
            return rc;
        label_add(p, st, "chaos %s %s", key->str, sel->str);
        return CS_OK;
    }
    case SK_RESET:
        if (!(p = new_step(x, SK_RESET, st, prefix)))
            return CS_ERR_PARSE;
        label_add(p, st, "reset stats");
        return CS_OK;
    case SK_REPEAT: {
        if (++x->depth > 8)
            return at(x, st->line, st->col, "repeats nested more than 8 deep");
        int times = (int)key->num;
        for (int i = 1; i <= times; i++) {
            char pfx[160];
            snprintf(pfx, sizeof(pfx), "%srepeat %d/%d: ", prefix, i, times);
            if ((rc = stages(x, jpos_get(st, "stages"), pfx)))
                return rc;
        }
        x->depth--;
        return CS_OK;
    }
    case SK__COUNT:
        break;
    }
    return CS_OK;
}

static int stages(struct ctx *x, const struct jnode *arr, const char *prefix)
{
    for (const struct jnode *st = arr->child; st; st = st->next) {
        int rc = stage(x, st, prefix);
        if (rc)
            return rc;
    }
    return CS_OK;
}

int scenario_parse(const char *text, size_t len, const char *file, struct scenario *s,
                   struct cs_error *err)
{
    struct cs_error e;
    memset(s, 0, sizeof(*s));
    s->seed = -1;
    struct jnode *root = jpos_parse(text, len, &e);
    if (!root) {
        int line, col, off = 0;
        if (sscanf(e.msg, "line %d, column %d: %n", &line, &col, &off) == 2 && off > 0)
            return cs_error_set(err, CS_ERR_PARSE, "%s:%d:%d: %s", file, line, col, e.msg + off);
        return cs_error_set(err, CS_ERR_PARSE, "%s: %s", file, e.msg);
    }
    struct ctx x;
    memset(&x, 0, sizeof(x));
    x.file = file;
    x.err = err;
    x.s = s;
    int rc;
    if (root->type != JP_OBJECT) {
        rc = at(&x, root->line, root->col, "a scenario is an object, not %s",
                jpos_type_name(root->type));
        goto out;
    }
    if ((rc = check_fields(&x, root, top_fields, ARRAY_SIZE(top_fields), "the scenario")))
        goto out;
    const struct jnode *v;
    cs_strlcpy(s->name, jpos_get(root, "name")->str, sizeof(s->name));
    if ((v = jpos_get(root, "description")))
        cs_strlcpy(s->description, v->str, sizeof(s->description));
    if ((v = jpos_get(root, "seed")))
        s->seed = (int64_t)v->num;
    if ((v = jpos_get(root, "fleet")) &&
        (rc = check_cfg(&x, v, "fleet", &cfg_fleet_schema, &s->fleet)))
        goto out;
    if ((v = jpos_get(root, "config")) &&
        (rc = check_cfg(&x, v, "config", &cfg_charger_schema, &s->config)))
        goto out;
    /* Selectors use the fleet's ID format: the scenario's own, else the default. */
    struct fleet_cfg fc;
    cfg_defaults(&cfg_fleet_schema, &fc);
    const char *idf = kv_get(&s->fleet, "id_format");
    idfmt_parse(&x.idf, idf ? idf : fc.id_format, NULL);
    if ((v = jpos_get(root, "thresholds"))) {
        s->th = cs_calloc(v->n ? v->n : 1, sizeof(*s->th));
        for (const struct jnode *t = v->child; t; t = t->next) {
            if (t->type != JP_STRING) {
                rc = at(&x, t->line, t->col, "a threshold is a string, not %s",
                        jpos_type_name(t->type));
                goto out;
            }
            if (thresh_parse(t->str, &s->th[s->nth], &e) != CS_OK) {
                rc = at(&x, t->line, t->col, "%s", e.msg);
                goto out;
            }
            s->nth++;
        }
    }
    if ((v = jpos_get(root, "report"))) {
        if ((rc = check_fields(&x, v, report_fields, ARRAY_SIZE(report_fields), "\"report\"")))
            goto out;
        const struct jnode *f = jpos_get(v, "format"), *o = jpos_get(v, "out");
        if (f)
            cs_strlcpy(s->report_format, f->str, sizeof(s->report_format));
        if (o)
            cs_strlcpy(s->report_out, o->str, sizeof(s->report_out));
    }
    rc = stages(&x, jpos_get(root, "stages"), "");
out:
    jpos_free(root);
    return rc;
}

void scenario_free(struct scenario *s)
{
    for (size_t i = 0; i < s->nsteps; i++)
        kv_free(&s->steps[i].set);
    cs_free(s->steps);
    cs_free(s->th);
    kv_free(&s->fleet);
    kv_free(&s->config);
    memset(s, 0, sizeof(*s));
}

void scenario_thresholds_text(const struct scenario *s, struct buf *out)
{
    for (size_t i = 0; i < s->nth; i++)
        buf_printf(out, "%s%s", i ? "\n" : "", s->th[i].text);
}

/* ---- the reference ------------------------------------------------------------------------- */

static void fields_table(struct buf *b, const struct sfield *f, size_t n)
{
    buf_puts(b, "| key | type | required | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "| `%s` | %s", f[i].name, ftype_doc[f[i].type]);
        if ((f[i].type == FT_INT) && (f[i].min || f[i].max))
            buf_printf(b, ", %lld..%lld", (long long)f[i].min, (long long)f[i].max);
        buf_printf(b, " | %s | %s |\n", f[i].required ? "yes" : "no", f[i].help);
    }
}

void scenario_doc_markdown(struct buf *b)
{
    buf_puts(b, "A scenario is one JSON object. Its keys:\n\n");
    fields_table(b, top_fields, ARRAY_SIZE(top_fields));
    buf_puts(b, "\n`report` takes:\n\n");
    fields_table(b, report_fields, ARRAY_SIZE(report_fields));
    buf_printf(b,
               "\nEach stage is an object with one of the keys below, which says what it does, "
               "and that stage's other keys. Stages run one after the other; `repeat` blocks "
               "are expanded (at most %d steps in all).\n",
               SCN_MAX_STEPS);
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        buf_printf(b, "\n#### `%s`\n\n%s\n\n", kinds[i].fields[0].name, kinds[i].help);
        fields_table(b, kinds[i].fields, kinds[i].n);
        buf_printf(b, "\n```json\n%s\n```\n", kinds[i].example);
    }
}
