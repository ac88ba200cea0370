/* ocpp201.h - the CALLs OCPP 2.0.1 lets the platform (CSMS) send a charging station, and the
 * top-level fields of each request, checked with ocpp_check (cs/ocpp.h) before a handler sees
 * the payload. Names, types, required fields, maxLength and enum values are those of the
 * official 2.0.1 JSON schemas; nested objects and arrays are only type-checked here (their
 * inside is the handler's). Pure. */
#ifndef CS_OCPP201_H
#define CS_OCPP201_H

#include "cs/ocpp.h"

/* In a fixed order: stats count them by position, a handler table may be indexed by it. */
enum ocpp201_call {
    OC201_REQUEST_START_TRANSACTION,
    OC201_REQUEST_STOP_TRANSACTION,
    OC201_RESET,
    OC201_CHANGE_AVAILABILITY,
    OC201_UNLOCK_CONNECTOR,
    OC201_TRIGGER_MESSAGE,
    OC201_SET_VARIABLES,
    OC201_GET_VARIABLES,
    OC201_GET_BASE_REPORT,
    OC201_GET_REPORT,
    OC201_SET_CHARGING_PROFILE,
    OC201_CLEAR_CHARGING_PROFILE,
    OC201_GET_COMPOSITE_SCHEDULE,
    OC201_RESERVE_NOW,
    OC201_CANCEL_RESERVATION,
    OC201_SEND_LOCAL_LIST,
    OC201_GET_LOCAL_LIST_VERSION,
    OC201_CLEAR_CACHE,
    OC201_UPDATE_FIRMWARE,
    OC201_GET_LOG,
    OC201_GET_TRANSACTION_STATUS,
    OC201_DATA_TRANSFER,
    OCPP201_CALLS_IN
};

const char *ocpp201_call_name(int i);       /* NULL outside 0..OCPP201_CALLS_IN-1 */
int ocpp201_call_index(const char *action); /* -1 when not one of them */
/* The field list of a CALL, by action; NULL for actions not in enum ocpp201_call. */
const struct ocpp_field *ocpp201_call_fields(const char *action);

#endif
