/* selector.c - selector compilation and matching. */
#include <fnmatch.h>
#include <string.h>

#include <stdlib.h>

#include "cs/cfg.h"
#include "cs/mem.h"
#include "cs/perm.h"
#include "cs/util.h"
#include "cs/selector.h"

enum elem_kind { EL_ALL, EL_EXACT, EL_RANGE, EL_GLOB, EL_WORKER, EL_WHERE, EL_RANDOM };

struct elem {
    enum elem_kind kind;
    char *a;         /* exact ID, glob pattern, range low end, worker pattern, where: key */
    char *b;         /* range high end, where: value (may be a glob) */
    bool by_index;   /* range or exact compared by fleet index */
    uint32_t ia, ib; /* indexes when by_index */
    /* random: */
    bool pct; /* P% of the fleet, else N chargers */
    double amount;
    bool has_seed;
    uint64_t seed;
    double threshold; /* P%: hash below which an index is picked */
    /* N (set by sel_prepare): index i is picked when its place in a permutation of the fleet
     * comes before `take`; all when take >= fleet. */
    struct perm perm;
    uint64_t take;
    uint32_t fleet;
};

struct sel {
    char *text;
    struct elem *el;
    size_t n;
    bool all;
};

static int parse_worker(struct elem *e, const char *p, size_t n, size_t off, struct cs_error *err);
static int parse_where(struct elem *e, const char *p, size_t n, size_t off, struct cs_error *err);
static int parse_random(struct elem *e, const char *p, size_t n, size_t off, struct cs_error *err);

/* The "kind:" elements, each with its parser (given the text after the prefix). */
static const struct {
    const char *prefix;
    int (*parse)(struct elem *e, const char *p, size_t n, size_t off, struct cs_error *err);
} prefixes[] = {
    {"worker:", parse_worker},
    {"where:", parse_where},
    {"random:", parse_random},
};

static bool glob_char(char c)
{
    return c == '*' || c == '?' || c == '[' || c == ']' || c == '!';
}

static int check_chars(const char *p, size_t n, size_t off, bool glob_ok, struct cs_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (cs_id_char(p[i]) || (glob_ok && glob_char(p[i])))
            continue;
        return cs_error_set(err, CS_ERR_PARSE, "selector: '%c' not allowed (offset %zu)", p[i],
                            off + i);
    }
    return CS_OK;
}

static int parse_worker(struct elem *e, const char *p, size_t n, size_t off, struct cs_error *err)
{
    int rc = check_chars(p, n, off, true, err);
    if (rc)
        return rc;
    e->kind = EL_WORKER;
    e->a = cs_strndup(p, n);
    return CS_OK;
}

/* where:KEY=VALUE: KEY a charger config key, VALUE text or a glob (no commas). */
static int parse_where(struct elem *e, const char *p, size_t n, size_t off, struct cs_error *err)
{
    const char *eq = memchr(p, '=', n);
    if (!eq || eq == p)
        return cs_error_set(err, CS_ERR_PARSE, "selector: where: needs KEY=VALUE (offset %zu)",
                            off);
    size_t kl = (size_t)(eq - p), vl = n - kl - 1;
    char key[64];
    if (kl >= sizeof(key))
        return cs_error_set(err, CS_ERR_RANGE, "selector: where: key too long (offset %zu)", off);
    memcpy(key, p, kl);
    key[kl] = '\0';
    if (!cfg_lookup(&cfg_charger_schema, key))
        return cs_error_set(err, CS_ERR_UNKNOWN,
                            "selector: where: '%s' is not a charger config key (offset %zu)", key,
                            off);
    if (vl > 255)
        return cs_error_set(err, CS_ERR_RANGE, "selector: where: value too long (offset %zu)", off);
    for (size_t i = 0; i < vl; i++)
        if ((unsigned char)eq[1 + i] < 0x20)
            return cs_error_set(err, CS_ERR_PARSE,
                                "selector: control character in where: value (offset %zu)",
                                off + kl + 1 + i);
    e->kind = EL_WHERE;
    e->a = cs_strdup(key);
    e->b = cs_strndup(eq + 1, vl);
    return CS_OK;
}

/* random:N, random:P%, either followed by :seed=S. */
static int parse_random(struct elem *e, const char *p, size_t n, size_t off, struct cs_error *err)
{
    char text[64];
    if (n >= sizeof(text))
        return cs_error_set(err, CS_ERR_RANGE, "selector: random: too long (offset %zu)", off);
    memcpy(text, p, n);
    text[n] = '\0';
    char *seed = strstr(text, ":seed=");
    if (seed) {
        int64_t s;
        if (!cs_parse_i64(seed + 6, 0, INT64_MAX, &s))
            return cs_error_set(err, CS_ERR_PARSE, "selector: random: bad seed (offset %zu)", off);
        e->has_seed = true;
        e->seed = (uint64_t)s;
        *seed = '\0';
    }
    size_t l = strlen(text);
    e->pct = l > 0 && text[l - 1] == '%';
    if (e->pct)
        text[l - 1] = '\0';
    if (!cs_parse_double(text, 0, e->pct ? 100 : CS_FLEET_MAX, &e->amount) ||
        (!e->pct && e->amount != (double)(uint32_t)e->amount))
        return cs_error_set(err, CS_ERR_PARSE,
                            "selector: random: wants N (a count) or P%% (0..100), optionally "
                            ":seed=S (offset %zu)",
                            off);
    e->kind = EL_RANDOM;
    e->threshold = e->pct ? e->amount / 100.0 : 0;
    return CS_OK;
}

static int parse_elem(struct sel *s, const char *p, size_t n, size_t off, const struct idfmt *fmt,
                      struct cs_error *err)
{
    struct elem *e = &s->el[s->n];
    memset(e, 0, sizeof(*e));
    if (n == 0)
        return cs_error_set(err, CS_ERR_PARSE, "selector: empty element at offset %zu", off);

    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t pl = strlen(prefixes[i].prefix);
        if (n < pl || strncmp(p, prefixes[i].prefix, pl) != 0)
            continue;
        if (n == pl)
            return cs_error_set(err, CS_ERR_PARSE, "selector: '%s' needs an argument (offset %zu)",
                                prefixes[i].prefix, off);
        int rc = prefixes[i].parse(e, p + pl, n - pl, off + pl, err);
        if (rc) {
            cs_free(e->a);
            cs_free(e->b);
            e->a = e->b = NULL;
            return rc;
        }
        s->n++;
        return CS_OK;
    }

    if (n == 1 && p[0] == '*') {
        e->kind = EL_ALL;
        s->n++;
        return CS_OK;
    }

    const char *dots = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '.' && p[i + 1] == '.') {
            dots = p + i;
            break;
        }
    if (dots) {
        size_t la = (size_t)(dots - p), lb = n - la - 2;
        if (la == 0 || lb == 0)
            return cs_error_set(err, CS_ERR_PARSE,
                                "selector: range needs two IDs, A..B (offset %zu)", off);
        /* A..B..C or A...B: not one range; refused rather than read as A..(B..C). */
        for (size_t i = 0; i < lb; i++)
            if (dots[2 + i] == '.' && (i == 0 || (i + 1 < lb && dots[3 + i] == '.')))
                return cs_error_set(err, CS_ERR_PARSE,
                                    "selector: a range is A..B with one '..' (offset %zu)",
                                    off + la + 2 + i);
        int rc = check_chars(p, la, off, false, err);
        if (!rc)
            rc = check_chars(dots + 2, lb, off + la + 2, false, err);
        if (rc)
            return rc;
        if (la > CS_ID_MAX || lb > CS_ID_MAX)
            return cs_error_set(err, CS_ERR_RANGE, "selector: ID longer than %d (offset %zu)",
                                CS_ID_MAX, off);
        e->kind = EL_RANGE;
        e->a = cs_strndup(p, la);
        e->b = cs_strndup(dots + 2, lb);
        if (fmt && idfmt_index(fmt, e->a, &e->ia) && idfmt_index(fmt, e->b, &e->ib))
            e->by_index = true;
        if (e->by_index ? e->ia > e->ib : strcmp(e->a, e->b) > 0) {
            cs_free(e->a);
            cs_free(e->b);
            return cs_error_set(err, CS_ERR_RANGE,
                                "selector: range end comes before its start (offset %zu)", off);
        }
        s->n++;
        return CS_OK;
    }

    bool is_glob = false;
    for (size_t i = 0; i < n; i++)
        is_glob |= glob_char(p[i]);
    int rc = check_chars(p, n, off, is_glob, err);
    if (rc)
        return rc;
    if (n > (is_glob ? 256 : CS_ID_MAX))
        return cs_error_set(err, CS_ERR_RANGE, "selector: element too long (offset %zu)", off);
    e->kind = is_glob ? EL_GLOB : EL_EXACT;
    e->a = cs_strndup(p, n);
    if (!is_glob && fmt && idfmt_index(fmt, e->a, &e->ia))
        e->by_index = true;
    s->n++;
    return CS_OK;
}

struct sel *sel_parse(const char *text, const struct idfmt *fmt, struct cs_error *err)
{
    size_t len = strlen(text);
    if (len == 0) {
        cs_error_set(err, CS_ERR_PARSE, "selector: empty");
        return NULL;
    }
    if (len > SEL_MAX_LEN) {
        cs_error_set(err, CS_ERR_TOO_BIG, "selector: longer than %d characters", SEL_MAX_LEN);
        return NULL;
    }
    struct sel *s = cs_calloc(1, sizeof(*s));
    s->text = cs_strdup(text);
    s->el = cs_calloc(SEL_MAX_ELEMS, sizeof(*s->el));
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (s->n == SEL_MAX_ELEMS) {
            cs_error_set(err, CS_ERR_TOO_BIG, "selector: more than %d elements", SEL_MAX_ELEMS);
            goto out_free;
        }
        if (parse_elem(s, p, n, (size_t)(p - text), fmt, err))
            goto out_free;
        if (s->el[s->n - 1].kind == EL_ALL)
            s->all = true;
        if (!comma)
            break;
        p = comma + 1;
    }
    return s;

out_free:
    sel_free(s);
    return NULL;
}

void sel_free(struct sel *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        cs_free(s->el[i].a);
        cs_free(s->el[i].b);
    }
    cs_free(s->el);
    cs_free(s->text);
    cs_free(s);
}

/* A charger's place in a seeded random order: uniform in [0, 1), the same for every worker. */
static double rank(uint64_t seed, uint32_t index)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ULL + index + 0x632be59bd9b4e019ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

void sel_prepare(struct sel *s, uint32_t fleet_size, uint64_t default_seed)
{
    for (size_t i = 0; i < s->n; i++) {
        struct elem *e = &s->el[i];
        if (e->kind != EL_RANDOM)
            continue;
        if (!e->has_seed)
            e->seed = default_seed;
        e->fleet = fleet_size;
        if (e->pct)
            continue;
        /* Exactly N of the fleet: the first N of a keyed permutation of 1..size. O(1) now
         * and per charger, whatever the fleet size (no array of the fleet, no sort). */
        e->take = (uint64_t)e->amount;
        if (fleet_size)
            perm_init(&e->perm, fleet_size, e->seed);
    }
}

uint64_t sel_layer_seed(const char *layer)
{
    return cs_hash64(layer, strlen(layer)) ^ 0x6c61796572ULL; /* "layer" */
}

bool sel_uses_config(const struct sel *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->el[i].kind == EL_WHERE)
            return true;
    return false;
}

bool sel_index_set(const struct sel *s, struct rset *out)
{
    rset_clear(out);
    for (size_t i = 0; i < s->n; i++) {
        const struct elem *e = &s->el[i];
        if (e->kind == EL_EXACT && e->by_index)
            rset_add(out, e->ia, e->ia);
        else if (e->kind == EL_RANGE && e->by_index)
            rset_add(out, e->ia, e->ib);
        else
            return false;
    }
    return true;
}

static bool where_match(const struct elem *e, const struct sel_subject *subj)
{
    if (!subj->cfg)
        return false;
    struct buf v = BUF_INIT;
    bool ok = subj->cfg(subj->cfg_privdata, e->a, &v) && fnmatch(e->b, buf_cstr(&v), 0) == 0;
    buf_free(&v);
    return ok;
}

static bool elem_match(const struct elem *e, const struct sel_subject *subj)
{
    switch (e->kind) {
    case EL_ALL:
        return true;
    case EL_EXACT:
        return e->by_index && subj->index ? subj->index == e->ia : strcmp(subj->id, e->a) == 0;
    case EL_RANGE:
        if (e->by_index && subj->index)
            return subj->index >= e->ia && subj->index <= e->ib;
        return strcmp(subj->id, e->a) >= 0 && strcmp(subj->id, e->b) <= 0;
    case EL_GLOB:
        return fnmatch(e->a, subj->id, 0) == 0;
    case EL_WORKER:
        return subj->worker && fnmatch(e->a, subj->worker, 0) == 0;
    case EL_WHERE:
        return where_match(e, subj);
    case EL_RANDOM:
        if (!subj->index)
            return false;
        if (e->pct)
            return rank(e->seed, subj->index) < e->threshold;
        if (subj->index > e->fleet)
            return false;
        return e->take >= e->fleet || perm_fwd(&e->perm, subj->index - 1) < e->take;
    }
    return false;
}

bool sel_match(const struct sel *s, const struct sel_subject *subj)
{
    if (s->all)
        return true;
    for (size_t i = 0; i < s->n; i++)
        if (elem_match(&s->el[i], subj))
            return true;
    return false;
}

bool sel_is_all(const struct sel *s)
{
    return s->n == 1 && s->all;
}

const char *sel_text(const struct sel *s)
{
    return s->text;
}
