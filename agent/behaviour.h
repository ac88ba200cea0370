/* behaviour.h - what a charger does on its own over time: its periodic reports, automatic
 * sessions (sessions_per_h, Poisson arrivals), random faults (fault_per_h) and their repair,
 * the steps of a firmware update, the end of a simulated network loss, BootNotification
 * retries. One behaviour timer per charger, armed for the earliest thing due. [loop] */
#ifndef CS_AGENT_BEHAVIOUR_H
#define CS_AGENT_BEHAVIOUR_H

#include <stdint.h>

struct charger_rt;
struct charger_cfg;

/* Creates the charger's timers. */
void behaviour_init(struct charger_rt *ch);
void behaviour_fini(struct charger_rt *ch);
/* The link came up (after session_on_connected): reports start, arrivals and faults planned. */
void behaviour_on_connected(struct charger_rt *ch);
/* Rates or the time scale changed. */
void behaviour_config_changed(struct charger_rt *ch, const struct charger_cfg *old);
/* UpdateFirmware: download from location at at_ms (wall clock), then install and reboot. */
void behaviour_firmware(struct charger_rt *ch, const char *location, int64_t at_ms);
/* GetDiagnostics: DiagnosticsStatusNotification Uploading at once, Uploaded a simulated
 * DIAG_UPLOAD_S later (Idle again after). */
void behaviour_diagnostics(struct charger_rt *ch);

#endif
