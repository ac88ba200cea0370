/* smart.h - OCPP 1.6 Smart Charging on a charger: the profiles the platform installs
 * (SetChargingProfile, ClearChargingProfile, a RemoteStartTransaction's chargingProfile), the
 * limit they set on each connector at each moment, which the charger's power follows (and so
 * its energy register, MeterValues' Power.Active.Import and Power.Offered), and
 * GetCompositeSchedule. A limit of 0 W suspends charging (SuspendedEVSE) until it rises. The
 * ChargePointMaxProfile's limit is shared equally by the connectors charging. The profiles
 * are saved with the charger's state (installed.c): a charger moved or taken over keeps
 * them. [loop] */
#ifndef CS_AGENT_SMART_H
#define CS_AGENT_SMART_H

#include <stdint.h>

#include "cs/err.h"

struct charger_rt;
struct cJSON;
struct jw;

/* SetChargingProfile: installs (or *status "Rejected"); an error with *code for a malformed
 * profile. smart_update after the answer applies it. */
int smart_set(struct charger_rt *ch, const struct cJSON *req, const char **status,
              const char **code, struct cs_error *err);
/* ClearChargingProfile: "Accepted" when a profile went, else "Unknown". */
const char *smart_clear(struct charger_rt *ch, const struct cJSON *req);
/* GetCompositeSchedule.conf's fields into the open object. */
void smart_composite(struct charger_rt *ch, const struct cJSON *req, struct jw *out);
/* A RemoteStartTransaction's chargingProfile, kept for the transaction it starts on conn:
 * CS_OK, or an error with *code (malformed), or CS_ERR_STATE when it is not a TxProfile (the
 * answer is Rejected). */
int smart_remote_profile(struct charger_rt *ch, int conn, const struct cJSON *profile,
                         const char **code, struct cs_error *err);
/* The start on conn was refused: its remote profile goes. */
void smart_drop_remote(struct charger_rt *ch, int conn);
/* The transaction on conn started (its remote profile installs), ended (its TxProfiles go),
 * or the platform confirmed its id. */
void smart_tx_started(struct charger_rt *ch, int conn);
void smart_tx_ended(struct charger_rt *ch, int conn);
void smart_tx_confirmed(struct charger_rt *ch, int32_t local, int32_t confirmed);
/* Brings every connector's limit up to date and arms the timer for the next change. */
void smart_update(struct charger_rt *ch);
/* The installed profiles as JSON (installed.c saves them with the charger's state), and back
 * once the charger's transactions are restored. */
void smart_save(const struct charger_rt *ch, struct jw *w);
void smart_restore(struct charger_rt *ch, const struct cJSON *saved);
/* Profiles installed (status). */
int smart_count(const struct charger_rt *ch);
void smart_free(struct charger_rt *ch);

#endif
