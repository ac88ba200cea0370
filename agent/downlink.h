/* downlink.h - what the platform sends a charger: its CALLs (answered with CALLRESULT or
 * CALLERROR, then acted on) and its answers to the charger's CALLs. Garbage gets a CALLERROR
 * FormationViolation; nothing a platform sends can crash a charger. [loop] */
#ifndef CS_AGENT_DOWNLINK_H
#define CS_AGENT_DOWNLINK_H

#include <stdbool.h>
#include <stddef.h>

struct charger_rt;

void downlink_on_frame(struct charger_rt *ch, const char *payload, size_t len);

#endif
