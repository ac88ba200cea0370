/* reply.c - reading the replies to a command. */
#include "cs/reply.h"

cJSON *reply_parse(const char *payload, size_t len, const char **id)
{
    cJSON *obj = cJSON_ParseWithLength(payload, len);
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, "id") : NULL;
    /* Runs of a scheduled command come later under the same id: not part of its answer. */
    if (!cJSON_IsString(v) || cJSON_GetObjectItemCaseSensitive(obj, "run")) {
        cJSON_Delete(obj);
        return NULL;
    }
    *id = v->valuestring;
    return obj;
}

/* A count from a reply: NaN, negatives and absurd values read as 0. */
static long long count_of(const cJSON *reply, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e12)
        return 0;
    return (long long)v->valuedouble;
}

void reply_tally_add(struct reply_tally *t, const cJSON *reply,
                     void (*on_error)(void *ctx, int n, const char *worker, const char *msg),
                     void *ctx)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(reply, "worker");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(reply, "errors");
    const cJSON *e;
    long long matched = count_of(reply, "matched");
    t->replied++;
    t->matched += matched;
    t->with_match += matched > 0;
    t->done += count_of(reply, "done");
    cJSON_ArrayForEach(e, errs)
    {
        if (!cJSON_IsString(e))
            continue;
        t->nerr++;
        if (on_error)
            on_error(ctx, t->nerr, cJSON_IsString(w) ? w->valuestring : "?", e->valuestring);
    }
}

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

void reply_summary(const struct reply_tally *t, const struct cmd *c, const char *cancel,
                   struct buf *out)
{
    const char *verb = c->def->name;
    if (cmd_scheduled(c) && c->every_ms)
        buf_printf(out, "%s: scheduled on %d worker%s, repeating (stop it: %s %s), %d error%s",
                   verb, t->replied, plural(t->replied), cancel, c->id, t->nerr, plural(t->nerr));
    else if (cmd_scheduled(c))
        buf_printf(out, "%s: scheduled on %d worker%s, %d error%s", verb, t->replied,
                   plural(t->replied), t->nerr, plural(t->nerr));
    else
        buf_printf(out, "%s: %lld charger%s on %d worker%s, %lld done, %d error%s", verb,
                   t->matched, plural(t->matched), t->with_match, plural(t->with_match), t->done,
                   t->nerr, plural(t->nerr));
}
