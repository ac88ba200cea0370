/* restore.c - a Redis that lost its data. [loop] */
#include <stdio.h>
#include <string.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "ctx.h"
#include "restore.h"

struct restore {
    struct agent_ctx *x;
    restore_done_fn *done;
    void *privdata;
    char run_id[48];         /* of the Redis last seen; "" before the first */
    char seen[48];           /* ... in the check under way */
    char marker[CS_KEY_MAX]; /* a key that was there and would still be, but for a loss */
    bool checking;
    bool had_data;
};

/* "run_id:<hex>" out of INFO server. */
static bool run_id_of(const char *info, char *out, size_t n)
{
    const char *p = info ? strstr(info, "run_id:") : NULL;
    if (!p)
        return false;
    p += 7;
    size_t len = strcspn(p, "\r\n");
    if (len == 0 || len >= n)
        return false;
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

/* Both answers of a check, in order on one connection. */
static void on_info(struct rds *rd, const struct rds_reply *reply, void *privdata)
{
    (void)rd;
    struct restore *r = privdata;
    const char *info = rds_reply_ok(reply) ? rds_reply_str(reply, NULL) : NULL;
    if (!run_id_of(info, r->seen, sizeof(r->seen)))
        r->seen[0] = '\0';
}

static void on_exists(struct rds *rd, const struct rds_reply *reply, void *privdata)
{
    (void)rd;
    struct restore *r = privdata;
    bool lost = false;
    r->checking = false;
    if (r->seen[0] && rds_reply_ok(reply)) {
        bool there = rds_reply_num(reply, 1) > 0;
        lost = r->run_id[0] && strcmp(r->seen, r->run_id) != 0 && r->had_data && !there;
        if (lost)
            log_warn("Redis restarted without its data (run_id %.12s -> %.12s, %s gone): "
                     "writing back what this worker knew",
                     r->run_id, r->seen, r->marker);
        cs_strlcpy(r->run_id, r->seen, sizeof(r->run_id));
    }
    r->done(r->privdata, lost);
}

void restore_check(struct restore *r, bool had_data, const char *marker)
{
    if (r->checking)
        return;
    r->had_data = had_data || marker;
    if (marker)
        cs_strlcpy(r->marker, marker, sizeof(r->marker));
    else
        ctx_key(r->x, r->marker, K_FLEET, NULL);
    r->seen[0] = '\0';
    if (rds_cmd(r->x->rc, on_info, r, "INFO server") != CS_OK ||
        rds_cmd(r->x->rc, on_exists, r, "EXISTS %s", r->marker) != CS_OK) {
        r->done(r->privdata, false); /* the connection went: the next one checks again */
        return;
    }
    r->checking = true;
}

struct restore *restore_new(struct agent_ctx *x, restore_done_fn *done, void *privdata)
{
    struct restore *r = cs_calloc(1, sizeof(*r));
    r->x = x;
    r->done = done;
    r->privdata = privdata;
    return r;
}

void restore_free(struct restore *r)
{
    cs_free(r);
}
