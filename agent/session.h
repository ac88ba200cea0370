/* session.h - what a charger does, OCPP 1.6 style: boot, status changes through the
 * transition table of the model (common/src/charger.c), charging sessions (Authorize,
 * StartTransaction, MeterValues, StopTransaction), faults, resets, network loss. The
 * platform's answers are read by answers.c, above this. Every message goes through the CALL
 * layer (calls.h).
 * What happens on its own over time (automatic sessions, random faults, firmware steps, the
 * report timers' callbacks) is behaviour.c, above this. [loop] throughout. */
#ifndef CS_AGENT_SESSION_H
#define CS_AGENT_SESSION_H

#include <stdbool.h>

#include "cs/charger.h"
#include "cs/err.h"
#include "cs/kv.h"

struct charger_rt;

void session_init(struct charger_rt *ch);

/* The link came up: BootNotification (first time, or boot_on_reconnect), statuses. */
void session_on_connected(struct charger_rt *ch);
/* The link went down (lost, dropped or closed by us): reports stop, the CALL queue keeps its
 * transaction messages. */
void session_link_down(struct charger_rt *ch);
/* Arms the behaviour timer for the earliest thing due (its callback is behaviour.c's). */
void session_replan(struct charger_rt *ch);

/* Fleet verbs. conn < 0 picks the connector(s) the verb documents. A verb with nothing to do
 * on this charger fails with CS_ERR_NOOP. */
int session_status(struct charger_rt *ch, int conn, enum ocpp_status st, enum ocpp_error e,
                   const char *info, struct cs_error *err);
/* Authorised: StartTransaction, Charging, MeterValues Transaction.Begin. */
void session_begin_tx(struct charger_rt *ch, int conn);
/* The platform's answer to the idTag waiting on conn will not come: the charger decides alone
 * (authz_offline). */
void session_decide_offline(struct charger_rt *ch, int conn);
/* The idTag waiting on conn was refused (why: for the log): no session; an automatic one's
 * driver unplugs. */
void session_refused(struct charger_rt *ch, int conn, const char *why);
int session_start(struct charger_rt *ch, int conn, const char *id_tag, double kw, double kwh,
                  double minutes, bool remote, struct cs_error *err);
/* A session the charger's driver starts on its own (sessions_per_h): ends unplugged. */
int session_start_auto(struct charger_rt *ch, int conn, double kwh);
int session_stop(struct charger_rt *ch, int conn, enum stop_reason reason, struct cs_error *err);
int session_plug(struct charger_rt *ch, int conn, struct cs_error *err);
int session_unplug(struct charger_rt *ch, int conn, struct cs_error *err);
int session_fault(struct charger_rt *ch, int conn, enum ocpp_error code, const char *info,
                  struct cs_error *err);
int session_clear(struct charger_rt *ch, int conn, struct cs_error *err);
/* Stops transactions (reason), closes the link after what is queued went out; it reconnects
 * through the ramp and boots. */
void session_reboot(struct charger_rt *ch, enum stop_reason reason);
int session_offline(struct charger_rt *ch, int seconds, struct cs_error *err);
int session_online(struct charger_rt *ch, struct cs_error *err);
/* BootNotification again (the platform said Pending or Rejected). */
void session_retry_boot(struct charger_rt *ch);
/* FirmwareStatusNotification of the firmware update's present step. */
void session_report_firmware(struct charger_rt *ch);
/* Sessions that reached their limit (time, energy) end. */
void session_end_due(struct charger_rt *ch);
/* The MeterValues period elapsed. */
void session_meter_tick(struct charger_rt *ch);
/* Ends every open transaction with reason (the charger is leaving, a run ends); how many. */
int session_end_all(struct charger_rt *ch, enum stop_reason reason);

/* Platform commands (downlink.c). */
int session_availability(struct charger_rt *ch, int conn, bool operative, bool *scheduled,
                         struct cs_error *err);
bool session_remote_stop(struct charger_rt *ch, int32_t tx_id);
/* UnlockConnector: true when unlocked (a transaction on it stops first). */
bool session_unlock(struct charger_rt *ch, int conn);
/* The first connector a session could start on (for id_tag, when not NULL: one no reservation
 * keeps for another), or -1. */
int session_free_connector(struct charger_rt *ch, const char *id_tag);
/* Whether a session may start on conn now (RemoteStartTransaction). */
bool session_can_start(const struct charger_rt *ch, int conn);
/* FirmwareStatusNotification status of a firmware step (0 = Idle ... 4 = Installed). */
const char *session_firmware_step_name(int step);
/* DiagnosticsStatusNotification status of an upload step (0 = Idle, 1 Uploading, 2 Uploaded). */
const char *session_diagnostics_step_name(int step);

#endif
