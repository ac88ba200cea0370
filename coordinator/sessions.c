/* sessions.c - a fixed table of sessions; a few hundred entries, scanned whole. */
#include <string.h>

#include "cs/mem.h"
#include "cs/util.h"
#include "sessions.h"

struct sessions {
    struct session s[SESS_MAX];
    bool used[SESS_MAX];
};

struct sessions *sess_new(void)
{
    return cs_calloc(1, sizeof(struct sessions));
}

void sess_free(struct sessions *s)
{
    if (s)
        memset(s, 0, sizeof(*s)); /* ids and tokens do not linger in freed memory */
    cs_free(s);
}

static bool expired(const struct session *x, int64_t now)
{
    return now - x->seen_ms > SESS_IDLE_MS || now - x->created_ms > SESS_LIFETIME_MS;
}

const struct session *sess_create(struct sessions *s, const char *name, enum auth_role role,
                                  int64_t now_ms)
{
    size_t slot = SESS_MAX, oldest = 0;
    for (size_t i = 0; i < SESS_MAX; i++) {
        if (s->used[i] && expired(&s->s[i], now_ms))
            s->used[i] = false;
        if (!s->used[i] && slot == SESS_MAX)
            slot = i;
        if (s->used[i] && s->s[i].seen_ms < s->s[oldest].seen_ms)
            oldest = i;
    }
    if (slot == SESS_MAX)
        slot = oldest; /* full: the least recently used goes */
    struct session *x = &s->s[slot];
    memset(x, 0, sizeof(*x));
    auth_random_hex(x->id, SESS_ID_HEX / 2);
    auth_random_hex(x->csrf, SESS_ID_HEX / 2);
    cs_strlcpy(x->name, name, sizeof(x->name));
    x->role = role;
    x->created_ms = x->seen_ms = now_ms;
    s->used[slot] = true;
    return x;
}

static int find(struct sessions *s, const char *id)
{
    int at = -1;
    if (strlen(id) != SESS_ID_HEX)
        return -1;
    for (size_t i = 0; i < SESS_MAX; i++) /* every live id compared: no early exit */
        if (s->used[i] && auth_str_equal(s->s[i].id, id))
            at = (int)i;
    return at;
}

const struct session *sess_find(struct sessions *s, const char *id, int64_t now_ms)
{
    int i = find(s, id);
    if (i < 0)
        return NULL;
    if (expired(&s->s[i], now_ms)) {
        s->used[i] = false;
        return NULL;
    }
    s->s[i].seen_ms = now_ms;
    return &s->s[i];
}

void sess_end(struct sessions *s, const char *id)
{
    int i = find(s, id);
    if (i >= 0) {
        memset(&s->s[i], 0, sizeof(s->s[i]));
        s->used[i] = false;
    }
}

size_t sess_count(const struct sessions *s)
{
    size_t n = 0;
    for (size_t i = 0; i < SESS_MAX; i++)
        n += s->used[i];
    return n;
}
