/* lease.c - registration, lease, assignment. [loop] */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cs/buf.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/rset.h"
#include "ctx.h"
#include "holder.h"
#include "lease.h"

#define LEASE_REPLY_WAIT_MS 2000 /* a lapsed lease's refresh may take this long to confirm */
#define GONE_REFRESH_MS 50       /* freed indexes are reported this soon */

struct lease {
    struct agent_ctx *x;
    struct holder hd;
    uint32_t capacity;
    struct lease_hooks h;
    void *privdata;
    char instance[40]; /* this process's mark in its registration */
    int64_t ok_ms;     /* monotonic time of the last confirmed refresh */
    int64_t sent_ms;   /* when the refresh in flight was sent */
    bool inflight;
    bool reading; /* an assignment read (poke) in flight */
    bool parked;
    bool stopping;
    int64_t epoch;
    struct rset assigned; /* what the coordinator granted */
    bool assign_loaded;
    char problem[200]; /* the last unreadable-key problem reported (reported once) */
    bool reg_ok;       /* the last registration write was taken */
    struct event *ev;
};

bool lease_may_connect(const struct lease *l)
{
    return !l->stopping && l->ok_ms && cs_mono_ms() - l->ok_ms < l->x->fleet.lease_ms;
}

bool lease_parked(const struct lease *l)
{
    return l->parked;
}

/* ---- assignment ------------------------------------------------------------------------------ */

/* Whether a charger that leaves ends its transactions: it leaves the fleet (a smaller size)
 * and the fleet says so; a charger that only moves to another worker keeps them. */
static bool ends_tx(void *privdata, uint32_t index)
{
    const struct lease *l = privdata;
    const struct fleet_cfg *f = &l->x->fleet;
    return index > (uint32_t)f->size && strcmp(f->shrink_tx, "stop") == 0;
}

static void apply_assignment(struct lease *l, int64_t epoch, const struct rset *ranges)
{
    struct rset held = RSET_INIT, add = RSET_INIT;
    if (epoch < l->epoch) {
        log_debug("ignoring assignment of stale epoch %lld (have %lld)", (long long)epoch,
                  (long long)l->epoch);
        return;
    }
    bool changed = !rset_equal(ranges, &l->assigned);
    l->epoch = epoch;
    rset_copy(&l->assigned, ranges);
    l->assign_loaded = true;
    if (l->stopping)
        return;
    /* Releases take effect on a later turn: what is held does not change under this walk. */
    l->hd.ops->release_outside(l->hd.h, ranges, ends_tx, l);
    l->hd.ops->held(l->hd.h, &held);
    rset_subtract(&add, ranges, &held);
    uint64_t want = rset_count(&add), added = 0;
    for (size_t r = 0; r < add.n; r++) {
        for (uint64_t i = add.r[r].lo; i <= add.r[r].hi; i++) {
            if (!l->hd.ops->add(l->hd.h, (uint32_t)i))
                goto full;
            added++;
        }
    }
full:
    if (added < want)
        log_error("assignment of %llu chargers exceeds the free slots; %llu not started",
                  (unsigned long long)rset_count(ranges), (unsigned long long)(want - added));
    if (changed) {
        struct buf b = BUF_INIT;
        rset_format(ranges, &b);
        log_info("assignment epoch %lld: %llu chargers (%s)", (long long)epoch,
                 (unsigned long long)rset_count(ranges), b.len ? b.s : "none");
        buf_free(&b);
    }
    rset_free(&held);
    rset_free(&add);
}

void lease_chargers_gone(struct lease *l)
{
    if (l->stopping)
        return;
    /* Tell the coordinator soon that the indexes are free (debounced by the timer). */
    ctx_arm(l->ev, GONE_REFRESH_MS);
    /* An index granted again while its previous instance was closing starts now. */
    struct rset again = RSET_INIT;
    rset_copy(&again, &l->assigned);
    apply_assignment(l, l->epoch, &again);
    rset_free(&again);
}

/* The assignment as read from {ns}:assign: [ranges, epoch]. */
static void take_assignment(struct lease *l, const struct rds_reply *reply)
{
    const char *ranges = rds_reply_str(rds_reply_at(reply, 0), NULL);
    long long epoch = rds_reply_num(rds_reply_at(reply, 1), 0);
    struct rset set = RSET_INIT;
    struct cs_error err;
    if (ranges && rset_parse(&set, ranges, &err) != CS_OK) {
        log_warn("assignment in Redis does not parse: %s", err.msg);
        rset_free(&set);
        return;
    }
    /* An older epoch than ours means Redis lost the assignment (restart without persistence):
     * keep running until the coordinator has rebuilt it. */
    if (epoch > l->epoch || (epoch == l->epoch && !l->assign_loaded))
        apply_assignment(l, epoch, &set);
    rset_free(&set);
}

/* ---- the lease ------------------------------------------------------------------------------ */

/* Redis answers, but not as it should: a key of ours holds the wrong type (or an ACL refuses
 * us). Said once per distinct problem; the worker goes on with what it had. */
static void key_problem(struct lease *l, enum cs_key k, const char *arg,
                        const struct rds_reply *reply, const char *consequence)
{
    char key[CS_KEY_MAX], text[200];
    const char *why = rds_reply_str(reply, NULL);
    snprintf(text, sizeof(text), "%s: %s", ctx_key(l->x, key, k, arg), why ? why : "error");
    if (strcmp(text, l->problem) == 0)
        return;
    cs_strlcpy(l->problem, text, sizeof(l->problem));
    ctx_key_unreadable(l->x, key, why ? why : "error", consequence);
}

/* The lease lapsed and nobody told us whose chargers these are now. While Redis itself is down
 * (it closed on us, it refuses connects) nobody can reassign them and they keep running; when
 * Redis has gone silent (a partition, a hung server) the coordinator may already have given them
 * away: drop every link now, so that when the network returns no charger reconnects under an ID
 * another worker holds. */
void lease_check(struct lease *l)
{
    int64_t now = cs_mono_ms();
    if (l->parked || !l->ok_ms || l->stopping || now - l->ok_ms <= l->x->fleet.lease_ms)
        return;
    if (rds_server_down(l->x->rc))
        return;
    if (l->inflight && now - l->sent_ms < LEASE_REPLY_WAIT_MS)
        return; /* Redis is back and our refresh is on its way */
    l->parked = true;
    l->x->st->lease_lost++;
    size_t dropped = l->hd.ops->park(l->hd.h);
    log_warn("lease lapsed %lld ms ago and Redis does not answer: dropped %zu chargers until the "
             "lease is confirmed",
             (long long)(now - l->ok_ms), dropped);
    /* Anything buffered for the silent connection (state of chargers that may be someone
     * else's by the time it would arrive) goes with it. */
    rds_reconnect(l->x->rc);
}

static void unpark(struct lease *l)
{
    l->parked = false;
    size_t back = l->hd.ops->unpark(l->hd.h);
    log_info("lease confirmed again: %zu chargers are still ours and reconnect", back);
    char nb[24];
    snprintf(nb, sizeof(nb), "%zu", back);
    struct kvlist f = KVLIST_INIT;
    kv_set(&f, "chargers", nb);
    ctx_event(l->x, "lease_regained", &f);
    kv_free(&f);
}

/* Who wrote the registration before this refresh: [instance, started_ms, host, pid]. Once our
 * first refresh is confirmed the registration is ours; another process writing it between two
 * of our refreshes shares our name. The younger of the two gives way. */
static void on_owner_read(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct lease *l = privdata;
    if (!rds_reply_ok(reply) || rds_reply_len(reply) != 4 || !l->ok_ms)
        return;
    const char *inst = rds_reply_str(rds_reply_at(reply, 0), NULL);
    long long started = rds_reply_num(rds_reply_at(reply, 1), 0);
    const char *host = rds_reply_str(rds_reply_at(reply, 2), NULL);
    const char *pid = rds_reply_str(rds_reply_at(reply, 3), NULL);
    if (!inst || !*inst || strcmp(inst, l->instance) == 0)
        return;
    char other[200];
    snprintf(other, sizeof(other), "pid %.16s on %.64s, started %lld", pid ? pid : "?",
             host ? host : "?", started);
    bool younger = started > l->x->started_ms ||
                   (started == l->x->started_ms && strcmp(inst, l->instance) < 0);
    if (younger) {
        log_error("another process registers as %s (%s): it is newer and will give way", l->x->name,
                  other);
        return;
    }
    l->h.duplicate(l->privdata, other);
}

static void on_assign_read(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct lease *l = privdata;
    l->reading = false;
    if (reply && !rds_reply_ok(reply))
        key_problem(l, K_ASSIGN, NULL, reply, "the assignment is kept as it was");
    if (!rds_reply_ok(reply) || rds_reply_len(reply) != 2)
        return;
    take_assignment(l, reply);
    l->hd.ops->kick(l->hd.h);
}

/* The registration itself was refused (the key holds another type, an ACL): no lease. */
static void on_registration(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct lease *l = privdata;
    l->reg_ok = rds_reply_ok(reply);
    if (!reply || l->reg_ok)
        return;
    const char *why = rds_reply_str(reply, NULL);
    if (why && strncmp(why, "WRONGTYPE", 9) == 0) {
        /* The registration key is this worker's own: whatever sits there goes. */
        char key[CS_KEY_MAX];
        key_problem(l, K_AGENT, l->x->name, reply, "replacing it with this worker's registration");
        rds_cmd(l->x->rc, NULL, NULL, "DEL %s", ctx_key(l->x, key, K_AGENT, l->x->name));
        return;
    }
    key_problem(l, K_AGENT, l->x->name, reply, "this worker cannot register");
}

/* The refresh sent at `sent` is confirmed: the lease holds from then. */
static void confirmed(struct lease *l, int64_t sent)
{
    if (!l->ok_ms) {
        log_info("registered; lease %d ms", l->x->fleet.lease_ms);
        l->h.registered(l->privdata);
    }
    l->ok_ms = sent;
}

static void on_lease_read(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct lease *l = privdata;
    int64_t sent = l->sent_ms;
    l->inflight = false;
    if (!reply || !l->reg_ok)
        return; /* no answer, or no registration: the lease stays unconfirmed */
    if (!rds_reply_ok(reply) || rds_reply_len(reply) != 2) {
        /* Redis answers, the registration was written, but the assignment cannot be read: the
         * lease holds and the chargers stay as they are rather than go offline over a key of
         * the wrong type. */
        if (!rds_reply_ok(reply))
            key_problem(l, K_ASSIGN, NULL, reply, "the assignment is kept as it was");
        confirmed(l, sent);
    } else {
        confirmed(l, sent);
        take_assignment(l, reply);
    }
    /* Only now, with what is ours known again, may parked chargers come back. */
    if (l->parked)
        unpark(l);
    l->hd.ops->kick(l->hd.h);
}

void lease_refresh(struct lease *l)
{
    struct agent_ctx *x = l->x;
    char key[CS_KEY_MAX], idx[CS_KEY_MAX], asg[CS_KEY_MAX], host[128], pid[16], slot[16], cap[16],
        started[24], epoch[24], nch[16], conn[16], now[24], lease[16];
    struct buf held = BUF_INIT;
    struct rset hs = RSET_INIT;
    if (!rds_is_up(x->rc) || l->inflight || l->stopping)
        return;
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    snprintf(slot, sizeof(slot), "%d", x->slot);
    snprintf(cap, sizeof(cap), "%u", l->capacity);
    snprintf(started, sizeof(started), "%lld", (long long)x->started_ms);
    snprintf(epoch, sizeof(epoch), "%lld", (long long)l->epoch);
    snprintf(nch, sizeof(nch), "%zu", l->hd.ops->count(l->hd.h));
    snprintf(conn, sizeof(conn), "%llu", (unsigned long long)x->st->connected);
    snprintf(now, sizeof(now), "%lld", (long long)cs_now_ms());
    snprintf(lease, sizeof(lease), "%d", x->fleet.lease_ms);
    l->hd.ops->held(l->hd.h, &hs);
    rset_format(&hs, &held);
    rset_free(&hs);
    ctx_key(x, key, K_AGENT, x->name);
    const char *argv[] = {"HSET",       key,        "host",         host,
                          "pid",        pid,        "slot",         slot,
                          "capacity",   cap,        "version",      CS_VERSION,
                          "started_ms", started,    "held",         buf_cstr(&held),
                          "epoch",      epoch,      "chargers",     nch,
                          "connected",  conn,       "refreshed_ms", now,
                          "instance",   l->instance};
    int64_t sent = cs_mono_ms();
    rds_cmd(x->rc, on_owner_read, l, "HMGET %s instance started_ms host pid", key);
    if (rds_cmdv(x->rc, on_registration, l, ARRAY_SIZE(argv), argv, NULL) == CS_OK) {
        l->sent_ms = sent;
        rds_cmd(x->rc, NULL, NULL, "PEXPIRE %s %s", key, lease);
        rds_cmd(x->rc, NULL, NULL, "ZADD %s %s %s", ctx_key(x, idx, K_AGENTS, NULL), now, x->name);
        l->inflight =
            rds_cmd(x->rc, on_lease_read, l, "HMGET %s %s %s", ctx_key(x, asg, K_ASSIGN, NULL),
                    x->name, CS_ASSIGN_EPOCH_FIELD) == CS_OK;
    }
    buf_free(&held);
    /* Chargers whose config or state could not be read yet try again. */
    l->hd.ops->retry_loading(l->hd.h);
}

void lease_poke(struct lease *l)
{
    char asg[CS_KEY_MAX];
    if (l->reading || l->stopping || !rds_is_up(l->x->rc))
        return;
    l->reading =
        rds_cmd(l->x->rc, on_assign_read, l, "HMGET %s %s %s", ctx_key(l->x, asg, K_ASSIGN, NULL),
                l->x->name, CS_ASSIGN_EPOCH_FIELD) == CS_OK;
}

static void arm(struct lease *l)
{
    ctx_arm(l->ev, l->x->fleet.lease_ms / 3);
}

static void on_lease_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct lease *l = privdata;
    if (l->stopping)
        return;
    lease_refresh(l);
    arm(l);
}

void lease_fleet_changed(struct lease *l, const struct fleet_cfg *old)
{
    struct agent_ctx *x = l->x;
    if (old->lease_ms != x->fleet.lease_ms) {
        /* A shorter lease must never lapse on the old period: refresh now, then on the new. */
        lease_refresh(l);
        arm(l);
    }
    if (strcmp(old->id_format, x->fleet.id_format) != 0 && l->hd.ops->count(l->hd.h)) {
        /* Every ID changes: hand the chargers back and take them again once they are gone. */
        log_info("id_format is now %s: restarting this worker's chargers", x->fleet.id_format);
        l->hd.ops->release_outside(l->hd.h, NULL, NULL, NULL);
    }
}

void lease_stop(struct lease *l)
{
    l->stopping = true;
    evtimer_del(l->ev);
    l->hd.ops->release_outside(l->hd.h, NULL, NULL, NULL);
}

struct lease *lease_new(struct agent_ctx *x, const struct holder *hd, uint32_t capacity,
                        const struct lease_hooks *h, void *privdata)
{
    struct lease *l = cs_calloc(1, sizeof(*l));
    l->x = x;
    l->hd = *hd;
    l->capacity = capacity;
    l->h = *h;
    l->privdata = privdata;
    cs_uuid4(&x->rng, l->instance);
    l->ev = evtimer_new(x->base, on_lease_timer, l);
    ctx_arm(l->ev, 1000);
    return l;
}

void lease_free(struct lease *l)
{
    if (!l)
        return;
    rset_free(&l->assigned);
    if (l->ev)
        event_free(l->ev);
    cs_free(l);
}
