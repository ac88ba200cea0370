/* authlist.h - OCPP 1.6 authorisation the charger keeps itself: the Local Authorization List
 * the platform installs (SendLocalList, full or differential, versioned) and the
 * Authorization Cache of idTagInfo from the platform's answers. Pure; fuzzed.
 *
 * Both are arrays sorted by idTag (binary search), allocated on first use: most chargers of a
 * fleet never get a list, and an empty one costs nothing. */
#ifndef CS_AUTHLIST_H
#define CS_AUTHLIST_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/err.h"

struct cJSON;

#define AUTHLIST_MAX 1000     /* LocalAuthListMaxLength */
#define AUTHLIST_SEND_MAX 100 /* SendLocalListMaxLength: entries in one SendLocalList */
#define AUTHCACHE_MAX 64      /* entries of the cache; the least recently used goes first */
#define ID_TAG_MAX 20

/* AuthorizationStatus. */
enum auth_status { AS_ACCEPTED, AS_BLOCKED, AS_EXPIRED, AS_INVALID, AS_CONCURRENT_TX, AS__COUNT };

struct auth_entry {
    char id_tag[ID_TAG_MAX + 1];
    char parent[ID_TAG_MAX + 1]; /* parentIdTag; "" = none */
    uint8_t status;              /* enum auth_status */
    int64_t expiry_ms;           /* expiryDate; 0 = none */
    uint64_t used;               /* cache: when it was last stored or read (a counter) */
};

struct authlist {
    int32_t version; /* the local list's listVersion (0: none installed) */
    uint32_t n, cap;
    struct auth_entry *e; /* sorted by id_tag */
    uint64_t clock;       /* cache: use counter */
};

const char *auth_status_name(enum auth_status s);
bool auth_status_parse(const char *name, enum auth_status *out);

/* Reads an idTagInfo object ({status, expiryDate?, parentIdTag?}) into e (id_tag untouched).
 * *code is the CALLERROR code for a bad one. */
int auth_info_parse(const struct cJSON *info, struct auth_entry *e, const char **code,
                    struct cs_error *err);

/* SendLocalList.req applied to the local list. Returns CS_OK with *status the answer's
 * (Accepted, Failed, VersionMismatch) or an error with *code for a malformed request. The
 * list is changed only when the answer is Accepted. */
int authlist_apply(struct authlist *l, const struct cJSON *req, const char **status,
                   const char **code, struct cs_error *err);
/* Inserts or replaces e in the list, no bound (a saved list read back). */
void authlist_put(struct authlist *l, const struct auth_entry *e);
/* The entry for id_tag, or NULL. */
const struct auth_entry *authlist_find(const struct authlist *l, const char *id_tag);
/* Cache: stores (or refreshes) id_tag's idTagInfo; at AUTHCACHE_MAX the least recently used
 * entry goes. A lookup through authcache_get counts as a use. */
void authcache_put(struct authlist *c, const char *id_tag, const struct auth_entry *info);
const struct auth_entry *authcache_get(struct authlist *c, const char *id_tag);
/* What an entry says at now_ms: its status, Expired once its expiryDate passed. */
enum auth_status auth_entry_status(const struct auth_entry *e, int64_t now_ms);
void authlist_clear(struct authlist *l); /* entries go, the version stays */
void authlist_free(struct authlist *l);

#endif
