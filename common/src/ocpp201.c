/* ocpp201.c - the OCPP 2.0.1 CALLs a charging station accepts and their top-level field specs,
 * from the official 2.0.1 request schemas. Like ocpp.c's 1.6 table, a negative integer is
 * refused (PropertyConstraintViolation) by ocpp_check: no id, count or duration is negative. */
#include <string.h>

#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/ocpp201.h"

/* Enumerations (the schema's *EnumType values, in its order). */
static const char *const reset_types[] = {"Immediate", "OnIdle", NULL};
static const char *const operational_statuses[] = {"Inoperative", "Operative", NULL};
static const char *const trigger_messages[] = {"BootNotification",
                                               "LogStatusNotification",
                                               "FirmwareStatusNotification",
                                               "Heartbeat",
                                               "MeterValues",
                                               "SignChargingStationCertificate",
                                               "SignV2GCertificate",
                                               "StatusNotification",
                                               "TransactionEvent",
                                               "SignCombinedCertificate",
                                               "PublishFirmwareStatusNotification",
                                               NULL};
static const char *const report_bases[] = {"ConfigurationInventory", "FullInventory",
                                           "SummaryInventory", NULL};
static const char *const rate_units[] = {"W", "A", NULL};
static const char *const connector_types[] = {
    "cCCS1",       "cCCS2",       "cG105",          "cTesla",          "cType1",   "cType2",
    "s309-1P-16A", "s309-1P-32A", "s309-3P-16A",    "s309-3P-32A",     "sBS1361",  "sCEE-7-7",
    "sType2",      "sType3",      "Other1PhMax16A", "Other1PhOver16A", "Other3Ph", "Pan",
    "wInductive",  "wResonant",   "Undetermined",   "Unknown",         NULL};
static const char *const update_types[] = {"Differential", "Full", NULL};
static const char *const log_types[] = {"DiagnosticsLog", "SecurityLog", NULL};

static const struct ocpp_field f_request_start[] = {{"evseId", FT_INT, false, 0, NULL},
                                                    {"groupIdToken", FT_OBJECT, false, 0, NULL},
                                                    {"idToken", FT_OBJECT, true, 0, NULL},
                                                    {"remoteStartId", FT_INT, true, 0, NULL},
                                                    {"chargingProfile", FT_OBJECT, false, 0, NULL},
                                                    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_request_stop[] = {{"transactionId", FT_STRING, true, 36, NULL},
                                                   {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_reset[] = {{"type", FT_STRING, true, 0, reset_types},
                                            {"evseId", FT_INT, false, 0, NULL},
                                            {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_change_availability[] = {
    {"evse", FT_OBJECT, false, 0, NULL},
    {"operationalStatus", FT_STRING, true, 0, operational_statuses},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_unlock[] = {{"evseId", FT_INT, true, 0, NULL},
                                             {"connectorId", FT_INT, true, 0, NULL},
                                             {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_trigger[] = {
    {"evse", FT_OBJECT, false, 0, NULL},
    {"requestedMessage", FT_STRING, true, 0, trigger_messages},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_set_variables[] = {{"setVariableData", FT_ARRAY, true, 0, NULL},
                                                    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_get_variables[] = {{"getVariableData", FT_ARRAY, true, 0, NULL},
                                                    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_get_base_report[] = {
    {"requestId", FT_INT, true, 0, NULL},
    {"reportBase", FT_STRING, true, 0, report_bases},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_get_report[] = {{"componentVariable", FT_ARRAY, false, 0, NULL},
                                                 {"requestId", FT_INT, true, 0, NULL},
                                                 {"componentCriteria", FT_ARRAY, false, 0, NULL},
                                                 {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_set_profile[] = {{"evseId", FT_INT, true, 0, NULL},
                                                  {"chargingProfile", FT_OBJECT, true, 0, NULL},
                                                  {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_clear_profile[] = {
    {"chargingProfileId", FT_INT, false, 0, NULL},
    {"chargingProfileCriteria", FT_OBJECT, false, 0, NULL},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_composite[] = {
    {"duration", FT_INT, true, 0, NULL},
    {"chargingRateUnit", FT_STRING, false, 0, rate_units},
    {"evseId", FT_INT, true, 0, NULL},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_reserve_now[] = {
    {"id", FT_INT, true, 0, NULL},
    {"expiryDateTime", FT_DATETIME, true, 0, NULL},
    {"connectorType", FT_STRING, false, 0, connector_types},
    {"idToken", FT_OBJECT, true, 0, NULL},
    {"evseId", FT_INT, false, 0, NULL},
    {"groupIdToken", FT_OBJECT, false, 0, NULL},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_cancel_reservation[] = {{"reservationId", FT_INT, true, 0, NULL},
                                                         {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_send_local_list[] = {
    {"localAuthorizationList", FT_ARRAY, false, 0, NULL},
    {"versionNumber", FT_INT, true, 0, NULL},
    {"updateType", FT_STRING, true, 0, update_types},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_none[] = {{NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_update_firmware[] = {{"retries", FT_INT, false, 0, NULL},
                                                      {"retryInterval", FT_INT, false, 0, NULL},
                                                      {"requestId", FT_INT, true, 0, NULL},
                                                      {"firmware", FT_OBJECT, true, 0, NULL},
                                                      {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_get_log[] = {
    {"log", FT_OBJECT, true, 0, NULL},         {"logType", FT_STRING, true, 0, log_types},
    {"requestId", FT_INT, true, 0, NULL},      {"retries", FT_INT, false, 0, NULL},
    {"retryInterval", FT_INT, false, 0, NULL}, {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_get_transaction_status[] = {
    {"transactionId", FT_STRING, false, 36, NULL}, {NULL, 0, false, 0, NULL}};
/* data may be any JSON value: not checked */
static const struct ocpp_field f_data_transfer[] = {{"messageId", FT_STRING, false, 50, NULL},
                                                    {"vendorId", FT_STRING, true, 255, NULL},
                                                    {NULL, 0, false, 0, NULL}};

static const struct {
    const char *action;
    const struct ocpp_field *fields;
} call_fields[] = {
    [OC201_REQUEST_START_TRANSACTION] = {"RequestStartTransaction", f_request_start},
    [OC201_REQUEST_STOP_TRANSACTION] = {"RequestStopTransaction", f_request_stop},
    [OC201_RESET] = {"Reset", f_reset},
    [OC201_CHANGE_AVAILABILITY] = {"ChangeAvailability", f_change_availability},
    [OC201_UNLOCK_CONNECTOR] = {"UnlockConnector", f_unlock},
    [OC201_TRIGGER_MESSAGE] = {"TriggerMessage", f_trigger},
    [OC201_SET_VARIABLES] = {"SetVariables", f_set_variables},
    [OC201_GET_VARIABLES] = {"GetVariables", f_get_variables},
    [OC201_GET_BASE_REPORT] = {"GetBaseReport", f_get_base_report},
    [OC201_GET_REPORT] = {"GetReport", f_get_report},
    [OC201_SET_CHARGING_PROFILE] = {"SetChargingProfile", f_set_profile},
    [OC201_CLEAR_CHARGING_PROFILE] = {"ClearChargingProfile", f_clear_profile},
    [OC201_GET_COMPOSITE_SCHEDULE] = {"GetCompositeSchedule", f_composite},
    [OC201_RESERVE_NOW] = {"ReserveNow", f_reserve_now},
    [OC201_CANCEL_RESERVATION] = {"CancelReservation", f_cancel_reservation},
    [OC201_SEND_LOCAL_LIST] = {"SendLocalList", f_send_local_list},
    [OC201_GET_LOCAL_LIST_VERSION] = {"GetLocalListVersion", f_none},
    [OC201_CLEAR_CACHE] = {"ClearCache", f_none},
    [OC201_UPDATE_FIRMWARE] = {"UpdateFirmware", f_update_firmware},
    [OC201_GET_LOG] = {"GetLog", f_get_log},
    [OC201_GET_TRANSACTION_STATUS] = {"GetTransactionStatus", f_get_transaction_status},
    [OC201_DATA_TRANSFER] = {"DataTransfer", f_data_transfer},
};
_Static_assert(ARRAY_SIZE(call_fields) == OCPP201_CALLS_IN,
               "call_fields out of step with enum ocpp201_call");

const char *ocpp201_call_name(int i)
{
    return i >= 0 && i < OCPP201_CALLS_IN ? call_fields[i].action : NULL;
}

int ocpp201_call_index(const char *action)
{
    for (size_t i = 0; i < ARRAY_SIZE(call_fields); i++)
        if (strcmp(call_fields[i].action, action) == 0)
            return (int)i;
    return -1;
}

const struct ocpp_field *ocpp201_call_fields(const char *action)
{
    int i = ocpp201_call_index(action);
    return i < 0 ? NULL : call_fields[i].fields;
}
