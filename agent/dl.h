/* dl.h - what the handlers of the platform's CALLs share, for both OCPP versions
 * (handlers16.c, handlers201.c): the handler's shape, what it asks to happen once its answer
 * is out (a follow-up: the CALLRESULT precedes what it causes), and readers of the request's
 * checked fields. downlink.c dispatches to them. [loop] */
#ifndef CS_AGENT_DL_H
#define CS_AGENT_DL_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"
#include "cs/ocpp.h"

struct charger_rt;
struct cJSON;

enum follow_kind {
    F_NONE,
    F_START,
    F_STOP,
    F_RESET,
    F_AVAILABILITY,
    F_UNLOCK,
    F_TRIGGER,
    F_FIRMWARE,
    F_DIAGNOSTICS,
    F_CONFIG,
    F_AFTER /* the module's own step: after(ch, req) */
};

/* What happens after the answer went out. */
struct follow {
    enum follow_kind kind;
    int conn;
    bool flag; /* F_RESET: hard; F_AVAILABILITY: operative */
    int32_t tx;
    char id_tag[21];
    char msg[64];
    char key[64];
    char value[501];
    char location[256];
    int64_t at_ms;
    void (*after)(struct charger_rt *ch, const struct cJSON *req);
};

typedef int handler_fn(struct charger_rt *ch, const struct cJSON *req, struct jw *resp,
                       struct follow *then, const char **code, struct cs_error *err);

/* One version's handlers, by the index of that version's action list. */
struct dl_table {
    handler_fn *const *fn;
    int n;
    int (*index)(const char *action);
    const struct ocpp_field *(*fields)(const char *action);
};

/* Readers of a request's fields (checked by ocpp_check before the handler runs). */
int dl_int(const struct cJSON *req, const char *k, int def);
const char *dl_str(const struct cJSON *req, const char *k);
/* An object field, or NULL (absent or not an object). */
const struct cJSON *dl_obj(const struct cJSON *req, const char *k);
int32_t dl_i32(const struct cJSON *req, const char *k);
bool dl_conn_exists(const struct charger_rt *ch, int conn, bool allow_zero);
/* ChangeAvailability's status for conn (0: all): Accepted, or Scheduled while one is in use;
 * Rejected for a connector that does not exist. */
const char *dl_availability_status(const struct charger_rt *ch, int conn, bool operative);
/* ClearCache, the same in both versions: the Authorization Cache is emptied, Accepted. */
handler_fn dl_clear_cache;
/* Runs the follow-up once the answer went out (req: the request, still alive). */
void dl_run_follow(struct charger_rt *ch, const struct follow *f, const struct cJSON *req);

#endif
