/* session.h - what a charger does, OCPP 1.6 style: boot, status changes through the
 * transition table, charging sessions (Authorize, StartTransaction, MeterValues,
 * StopTransaction), faults, resets, network loss, firmware updates, automatic sessions and
 * faults from config, and what it does with the platform's answers. [loop] throughout. */
#ifndef CS_SESSION_H
#define CS_SESSION_H

#include <stdbool.h>

#include "cs/charger.h"
#include "cs/err.h"
#include "cs/kv.h"

struct charger_rt;
struct call;
struct cJSON;
struct charger_cfg;

void session_setup(struct charger_rt *ch);
void session_teardown(struct charger_rt *ch);

/* The MQTT link came up: BootNotification (first time, or boot_on_reconnect), statuses. */
void session_on_connected(struct charger_rt *ch);
/* The answer to one of our CALLs; payload NULL with err_code for a CALLERROR, both NULL for
 * a timeout; answered=false when nobody answers this charger and it goes on regardless. */
void session_on_answer(struct charger_rt *ch, const struct call *c, const struct cJSON *payload,
                       const char *err_code, bool answered);
/* An answer arriving after the charger already went on without it. */
void session_on_late_answer(struct charger_rt *ch, const struct call *c,
                            const struct cJSON *payload);
/* Config changed (rates, time scale). */
void session_config_changed(struct charger_rt *ch, const struct charger_cfg *old);
/* The MeterValues period elapsed. */
void session_meter_tick(struct charger_rt *ch);

/* Fleet verbs. conn < 0 picks the connector(s) the verb documents. CS_ERR_NOOP: the charger had
 * nothing to do (stop without a transaction, clear with nothing Faulted, online when online...),
 * which the reply counts as skipped, not failed. */
int session_trigger(struct charger_rt *ch, const char *msg, int conn, const struct kvlist *args,
                    struct cs_error *err);
int session_status(struct charger_rt *ch, int conn, enum ocpp_status st, enum ocpp_error e,
                   const char *info, struct cs_error *err);
int session_start(struct charger_rt *ch, int conn, const char *id_tag, double kw, double kwh,
                  double minutes, bool remote, struct cs_error *err);
int session_stop(struct charger_rt *ch, int conn, enum stop_reason reason, struct cs_error *err);
int session_plug(struct charger_rt *ch, int conn, struct cs_error *err);
int session_unplug(struct charger_rt *ch, int conn, struct cs_error *err);
int session_fault(struct charger_rt *ch, int conn, enum ocpp_error code, const char *info,
                  struct cs_error *err);
int session_clear(struct charger_rt *ch, int conn, struct cs_error *err);
/* Stops transactions (reason), disconnects after what is queued went out, reconnects, boots. */
void session_reboot(struct charger_rt *ch, bool hard, enum stop_reason reason);
int session_offline(struct charger_rt *ch, int seconds, struct cs_error *err);
int session_online(struct charger_rt *ch, struct cs_error *err);

/* Platform commands (downlink.c). */
int session_availability(struct charger_rt *ch, int conn, bool operative, bool *scheduled,
                         struct cs_error *err);
bool session_remote_stop(struct charger_rt *ch, int32_t tx_id);
/* UnlockConnector: true when unlocked (a transaction on it stops first). */
bool session_unlock(struct charger_rt *ch, int conn);
void session_firmware(struct charger_rt *ch, const char *location, int64_t at_ms);
/* The first connector a session could start on, or -1. */
int session_free_connector(const struct charger_rt *ch);
/* FirmwareStatusNotification status for TriggerMessage. */
const char *session_firmware_status(const struct charger_rt *ch);

#endif
