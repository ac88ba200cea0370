/* adapt201.h - OCPP 2.0.1 requests served by the 1.6 modules: handlers (dl.h's handler_fn)
 * for ReserveNow, CancelReservation, SendLocalList, SetChargingProfile, ClearChargingProfile
 * and GetCompositeSchedule, and a 2.0.1 chargingProfile as a 1.6 csChargingProfiles. [loop] */
#ifndef CS_AGENT_ADAPT201_H
#define CS_AGENT_ADAPT201_H

#include "dl.h"

struct cJSON;

handler_fn adapt201_reserve_now, adapt201_cancel_reservation, adapt201_send_local_list,
    adapt201_set_charging_profile, adapt201_clear_charging_profile, adapt201_get_composite_schedule;
/* p (ChargingProfileType) for EVSE evse as a 1.6 csChargingProfiles (its first schedule); NULL
 * when its transactionId is not the EVSE's running transaction. Free with cJSON_Delete. */
struct cJSON *adapt201_profile(struct charger_rt *ch, int evse, const struct cJSON *p);
/* An idTokenInfo as a 1.6 idTagInfo: status (values 1.6 lacks as Invalid), expiryDate,
 * parentIdTag (the groupIdToken cut to 20 characters); NULL if not an object. */
struct cJSON *adapt201_tag_info(const struct cJSON *info);
const char *adapt201_status16(const char *status);
/* Checks an IdTokenType field k of req (required or not): a CALLERROR code when malformed. */
int adapt201_check_token(const struct cJSON *req, const char *k, bool required, const char **code,
                         struct cs_error *err);

#endif
