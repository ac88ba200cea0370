/* ocpp.h - frames between charger and platform, for both profiles (pure; fuzzed):
 *   ocpp16j  OCPP-J: CALL [2,"uid","Action",{...}], CALLRESULT [3,"uid",{...}],
 *            CALLERROR [4,"uid","Code","description",{...}]
 *   json     {"id":"uid","ts":"...","type":"Action","data":{...}}; answers carry
 *            "type":"<Action>Response" or "type":"Error" with data {"code","description"}.
 * Plus the per-action field specs that validate the platform's CALL payloads. */
#ifndef CS_OCPP_H
#define CS_OCPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"

struct cJSON;

enum ocpp_profile { PROFILE_OCPP16J, PROFILE_JSON };

/* The OCPP version a charger speaks (its `ocpp_version` key): "1.6" or "2.0.1". Both use the
 * OCPP-J frames; over WebSocket the subprotocol names the version. */
enum ocpp_version { OCPP_V16, OCPP_V201 };
enum ocpp_version ocpp_version_of(const char *name);       /* anything but "2.0.1" is 1.6 */
const char *ocpp_version_subprotocol(enum ocpp_version v); /* "ocpp1.6", "ocpp2.0.1" */

/* The profile a charger's `profile` key names ("ocpp16j", "json"). */
enum ocpp_profile ocpp_profile_of(const char *name);

enum ocpp_frame_type { OCPP_CALL = 2, OCPP_RESULT = 3, OCPP_ERROR = 4 };

#define OCPP_UID_MAX 64
#define OCPP_DOWNLINK_MAX 65536 /* larger downlink payloads are refused */

/* OCPP-J error codes (FormationViolation is the 1.6 spelling; FormatViolation is accepted
 * from the platform too). */
#define OCPP_E_NOT_IMPLEMENTED "NotImplemented"
#define OCPP_E_NOT_SUPPORTED "NotSupported"
#define OCPP_E_INTERNAL "InternalError"
#define OCPP_E_PROTOCOL "ProtocolError"
#define OCPP_E_FORMATION "FormationViolation"
#define OCPP_E_PROPERTY "PropertyConstraintViolation"
#define OCPP_E_OCCURRENCE "OccurenceConstraintViolation"
#define OCPP_E_TYPE "TypeConstraintViolation"
#define OCPP_E_GENERIC "GenericError"

struct ocpp_frame {
    int type; /* enum ocpp_frame_type */
    char uid[OCPP_UID_MAX + 1];
    char action[64];       /* CALL: the action; json profile answers: the type */
    struct cJSON *payload; /* CALL / RESULT payload object; owned */
    char err_code[48];     /* ERROR */
    char err_desc[256];
};

/* Decodes a downlink message. On failure returns non-zero with f->uid filled when it could
 * be read and *code set to the CALLERROR code to answer with. Free with ocpp_frame_free. */
int ocpp_decode(enum ocpp_profile p, const char *buf, size_t len, struct ocpp_frame *f,
                const char **code, struct cs_error *err);
void ocpp_frame_free(struct ocpp_frame *f);
/* True for "FormationViolation" and the later spelling "FormatViolation". */
bool ocpp_is_formation_violation(const char *code);

/* Frames we send. payload is a serialised JSON object (borrowed). */
void ocpp_encode_call(enum ocpp_profile p, const char *uid, const char *action, int64_t ts_ms,
                      const char *payload, size_t len, struct buf *out);
void ocpp_encode_result(enum ocpp_profile p, const char *uid, const char *action, int64_t ts_ms,
                        const char *payload, size_t len, struct buf *out);
void ocpp_encode_error(enum ocpp_profile p, const char *uid, const char *code, const char *desc,
                       int64_t ts_ms, struct buf *out);

/* ---- payload validation ---------------------------------------------------------------- */

enum ocpp_ftype {
    FT_STRING, /* with maxlen (0 = none) and optional choices */
    FT_INT,
    FT_NUMBER,
    FT_BOOL,
    FT_DATETIME, /* ISO 8601 text */
    FT_OBJECT,
    FT_ARRAY,
};

struct ocpp_field {
    const char *name;
    enum ocpp_ftype type;
    bool required;
    int maxlen;
    const char *const *choices; /* NULL-terminated, for strings */
};

/* Checks an object against its field list: missing required fields give
 * OccurenceConstraintViolation, wrong JSON types TypeConstraintViolation, bad values
 * (length, enum) PropertyConstraintViolation. *code is set on failure. Unknown fields pass. */
int ocpp_check(const struct cJSON *obj, const struct ocpp_field *fields, const char **code,
               struct cs_error *err);
/* The actions OCPP 1.6 lets the platform send a charge point, in a fixed order (stats count
 * them by position; the agent's handler table is indexed by it). */
enum ocpp_call {
    OC_REMOTE_START,
    OC_REMOTE_STOP,
    OC_RESET,
    OC_CHANGE_CONFIGURATION,
    OC_GET_CONFIGURATION,
    OC_CHANGE_AVAILABILITY,
    OC_UNLOCK_CONNECTOR,
    OC_TRIGGER_MESSAGE,
    OC_DATA_TRANSFER,
    OC_UPDATE_FIRMWARE,
    OC_CANCEL_RESERVATION,
    OC_CLEAR_CACHE,
    OC_CLEAR_CHARGING_PROFILE,
    OC_GET_COMPOSITE_SCHEDULE,
    OC_GET_DIAGNOSTICS,
    OC_GET_LOCAL_LIST_VERSION,
    OC_RESERVE_NOW,
    OC_SEND_LOCAL_LIST,
    OC_SET_CHARGING_PROFILE,
    OCPP_CALLS_IN
};
const char *ocpp_call_name(int i);
int ocpp_call_index(const char *action); /* -1 when not one of them */
/* Field lists of the CALLs a charger accepts, by action; NULL for unknown actions. */
const struct ocpp_field *ocpp_call_fields(const char *action);
/* Whether text is an ISO 8601 date-time as OCPP uses it (YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm)). */
bool ocpp_datetime_valid(const char *s);
/* Parses such a date-time into ms since the epoch. */
bool ocpp_datetime_parse(const char *s, int64_t *ms);

#endif
