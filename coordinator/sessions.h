/* sessions.h - the page's sign-in sessions: a random id in an HttpOnly cookie, a per-session
 * CSRF token the page sends back with every request that changes something, who signed in
 * and with which role. In memory only (a restarted coordinator asks again), bounded: the
 * least recently used session makes room for a new one. Pure. */
#ifndef CS_COORD_SESSIONS_H
#define CS_COORD_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

#define SESS_MAX 256
#define SESS_IDLE_MS (8LL * 3600 * 1000)      /* unused this long: signed out */
#define SESS_LIFETIME_MS (24LL * 3600 * 1000) /* signed out this long after signing in */
#define SESS_ID_HEX 64                        /* 32 random bytes */

struct session {
    char id[SESS_ID_HEX + 1];
    char csrf[SESS_ID_HEX + 1];
    char name[AUTH_NAME_MAX + 1];
    enum auth_role role;
    int64_t created_ms, seen_ms;
};

struct sessions;

/* Caller frees with sess_free. */
struct sessions *sess_new(void);
void sess_free(struct sessions *s);
/* A new session (fresh id and CSRF token); borrowed until the next call on s. */
const struct session *sess_create(struct sessions *s, const char *name, enum auth_role role,
                                  int64_t now_ms);
/* The live session with this id (compared in constant time), marked as used now; NULL when
 * unknown or expired (an expired one is dropped). Borrowed until the next call on s. */
const struct session *sess_find(struct sessions *s, const char *id, int64_t now_ms);
/* Signs out (nothing when unknown). */
void sess_end(struct sessions *s, const char *id);
size_t sess_count(const struct sessions *s);

#endif
