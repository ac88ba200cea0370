/* reports.h - the timers of a charger's periodic reports (Heartbeat, MeterValues): first
 * reports at a random point of their period (no lockstep across the fleet), a period change
 * keeps the charger's phase, and every report is moved up to the worker's report grid
 * (report_tick_ms) so that the reports of many chargers leave together. What a report sends
 * is decided above (behaviour.c gives the timer callbacks). [loop] */
#ifndef CS_AGENT_REPORTS_H
#define CS_AGENT_REPORTS_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

struct charger_rt;

/* Creates the two timers (privdata: the charger). */
void reports_init(struct charger_rt *ch, event_callback_fn on_heartbeat,
                  event_callback_fn on_meter);
void reports_fini(struct charger_rt *ch);
/* The link came up: both start at a random point of their period (unless paused). */
void reports_start(struct charger_rt *ch);
/* The link went down: heartbeats stop; meter readings go on while a transaction is open (they
 * queue for the return), unless the charger is leaving. */
void reports_link_down(struct charger_rt *ch);
void reports_pause(struct charger_rt *ch, bool paused);
/* Heartbeat period in force (BootNotification.conf interval, else heartbeat_s). */
int reports_heartbeat_s(const struct charger_rt *ch);
/* A period changed: the next report keeps the phase when it can. */
void reports_rearm_heartbeat(struct charger_rt *ch);
void reports_rearm_meter(struct charger_rt *ch);
/* After a report went: the next one a period later. */
void reports_next_heartbeat(struct charger_rt *ch);
void reports_next_meter(struct charger_rt *ch);

#endif
