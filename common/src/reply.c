/* reply.c - reading the replies to a command. */
#include "cs/reply.h"
#include "cs/util.h"

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
    long long matched = count_of(reply, "matched"), failed = count_of(reply, "failed");
    int lines = 0;
    t->replied++;
    t->matched += matched;
    t->with_match += matched > 0;
    t->done += count_of(reply, "done");
    t->skipped += count_of(reply, "skipped");
    t->failed += failed;
    t->connected += count_of(reply, "connected");
    cJSON_ArrayForEach(e, errs)
    {
        if (!cJSON_IsString(e))
            continue;
        lines++;
        t->lines++;
        if (on_error)
            on_error(ctx, t->lines, cJSON_IsString(w) ? w->valuestring : "?", e->valuestring);
    }
    /* The lines are examples: the count is "failed". A worker that refused the command as a
     * whole (a bad argument) has nothing failed and says why in its lines. Without "failed"
     * (an older worker) the lines are all there is. */
    t->nerr += failed ? failed : lines;
}

bool reply_nothing_matched(const struct reply_tally *t, const struct cmd *c)
{
    bool targeted = (c->def->flags & CMD_F_SEL) || c->def->verb == CMD_CANCEL;
    return targeted && !cmd_scheduled(c) && t->replied > 0 && t->matched == 0 && t->nerr == 0;
}

void reply_summary(const struct reply_tally *t, const struct cmd *c, const char *cancel,
                   struct buf *out)
{
    const char *verb = c->def->name;
    if (cmd_scheduled(c) && c->every_ms)
        buf_printf(out, "%s: scheduled on %d worker%s, repeating (stop it: %s %s), %lld error%s",
                   verb, t->replied, cs_plural(t->replied), cancel, c->id, t->nerr,
                   cs_plural(t->nerr));
    else if (cmd_scheduled(c))
        buf_printf(out, "%s: scheduled on %d worker%s, %lld error%s", verb, t->replied,
                   cs_plural(t->replied), t->nerr, cs_plural(t->nerr));
    else if (c->def->verb == CMD_PING)
        buf_printf(out, "%s: %d worker%s answered, %lld charger%s held, %lld connected", verb,
                   t->replied, cs_plural(t->replied), t->matched, cs_plural(t->matched),
                   t->connected);
    else if (c->def->verb == CMD_SCHEDULES)
        buf_printf(out, "%s: %lld scheduled command%s on %d worker%s", verb, t->matched,
                   cs_plural(t->matched), t->replied, cs_plural(t->replied));
    else if (c->def->verb == CMD_CANCEL && !reply_nothing_matched(t, c))
        buf_printf(out, "%s: %lld schedule%s stopped on %d worker%s, %lld error%s", verb,
                   t->matched, cs_plural(t->matched), t->replied, cs_plural(t->replied), t->nerr,
                   cs_plural(t->nerr));
    else if (reply_nothing_matched(t, c) && c->def->verb == CMD_CANCEL)
        buf_printf(out, "%s: nothing scheduled under id '%s' on the %d worker%s that answered",
                   verb, cmd_pos(c, "cmd_id") ? cmd_pos(c, "cmd_id") : "", t->replied,
                   cs_plural(t->replied));
    else if (reply_nothing_matched(t, c))
        buf_printf(out, "%s: no charger matched '%s' (%d worker%s answered)", verb, c->select,
                   t->replied, cs_plural(t->replied));
    else if (!(c->def->flags & CMD_F_SEL))
        buf_printf(out, "%s: %d worker%s answered (%lld charger%s), %lld error%s", verb, t->replied,
                   cs_plural(t->replied), t->matched, cs_plural(t->matched), t->nerr,
                   cs_plural(t->nerr));
    else {
        buf_printf(out, "%s: %lld charger%s on %d worker%s, %lld done", verb, t->matched,
                   cs_plural(t->matched), t->with_match, cs_plural(t->with_match), t->done);
        if (t->skipped)
            buf_printf(out, ", %lld skipped (nothing to do)", t->skipped);
        buf_printf(out, ", %lld error%s", t->nerr, cs_plural(t->nerr));
    }
}
