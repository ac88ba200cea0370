/* authz.h - how a charger decides an idTag itself: the Local Authorization List the platform
 * installs (SendLocalList, GetLocalListVersion) and the Authorization Cache filled from the
 * platform's answers (ClearCache empties it). The list wins over the cache; the config keys
 * local_auth_list, auth_cache, local_pre_authorize, local_authorize_offline and
 * allow_offline_unknown say when they are used (session.c asks). [loop] */
#ifndef CS_AGENT_AUTHZ_H
#define CS_AGENT_AUTHZ_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/err.h"

struct charger_rt;
struct cJSON;

enum authz_verdict {
    AUTHZ_UNKNOWN, /* neither the list nor the cache knows it */
    AUTHZ_ACCEPT,
    AUTHZ_REFUSE,
};

/* What the list (then the cache) says of id_tag now. */
enum authz_verdict authz_local(struct charger_rt *ch, const char *id_tag);
/* Without the platform (offline, or no answer): whether id_tag may start (3.4 Local
 * Authorization): as the list or cache says when local_authorize_offline, an unknown idTag
 * when allow_offline_unknown. */
bool authz_offline(struct charger_rt *ch, const char *id_tag);
/* The parentIdTag the list or cache holds for id_tag, or "". */
const char *authz_parent(struct charger_rt *ch, const char *id_tag);
/* An answer's idTagInfo for id_tag: into the cache (when enabled and the list lacks it). */
void authz_remember(struct charger_rt *ch, const char *id_tag, const struct cJSON *id_tag_info);
/* SendLocalList: *status is the answer's status; an error (with *code) for a malformed one. */
int authz_send_list(struct charger_rt *ch, const struct cJSON *req, const char **status,
                    const char **code, struct cs_error *err);
/* GetLocalListVersion: 0 when no list is installed. */
int32_t authz_list_version(const struct charger_rt *ch);
/* ClearCache. */
void authz_clear_cache(struct charger_rt *ch);
/* List (with its version) and cache as JSON (installed.c saves them with the charger's state),
 * and back. */
struct jw;
void authz_save(const struct charger_rt *ch, struct jw *w);
void authz_restore(struct charger_rt *ch, const struct cJSON *saved);
/* Entries held: list and cache (status, memory). */
uint32_t authz_entries(const struct charger_rt *ch);
void authz_free(struct charger_rt *ch);

#endif
