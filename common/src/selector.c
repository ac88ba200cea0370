/* selector.c - selector compilation and matching. */
#include <fnmatch.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/selector.h"

enum elem_kind { EL_ALL, EL_EXACT, EL_RANGE, EL_GLOB, EL_WORKER };

struct elem {
    enum elem_kind kind;
    char *a;          /* exact ID, glob pattern, range low end, worker pattern */
    char *b;          /* range high end */
    bool by_index;    /* range or exact compared by fleet index */
    uint32_t ia, ib;  /* indexes when by_index */
};

struct sel {
    char *text;
    struct elem *el;
    size_t n;
    bool all;
};

/* A prefix table: each "kind:" the grammar knows, with whether this build evaluates it. */
static const struct {
    const char *prefix;
    bool supported;
} prefixes[] = {
    {"worker:", true},
    {"where:", false},
    {"random:", false},
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

static int parse_elem(struct sel *s, const char *p, size_t n, size_t off,
                      const struct idfmt *fmt, struct cs_error *err)
{
    struct elem *e = &s->el[s->n];
    memset(e, 0, sizeof(*e));
    if (n == 0)
        return cs_error_set(err, CS_ERR_PARSE, "selector: empty element at offset %zu", off);

    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t pl = strlen(prefixes[i].prefix);
        if (n < pl || strncmp(p, prefixes[i].prefix, pl) != 0)
            continue;
        if (!prefixes[i].supported)
            return cs_error_set(err, CS_ERR_UNKNOWN,
                                "selector: '%s' selectors are not supported by this version",
                                prefixes[i].prefix);
        if (n == pl)
            return cs_error_set(err, CS_ERR_PARSE, "selector: '%s' needs a name (offset %zu)",
                                prefixes[i].prefix, off);
        int rc = check_chars(p + pl, n - pl, off + pl, true, err);
        if (rc)
            return rc;
        e->kind = EL_WORKER;
        e->a = cs_strndup(p + pl, n - pl);
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
            return cs_error_set(err, CS_ERR_PARSE, "selector: range needs two IDs, A..B (offset %zu)",
                                off);
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
            return cs_error_set(err, CS_ERR_RANGE, "selector: range end comes before its start (offset %zu)",
                                off);
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
