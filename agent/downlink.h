/* downlink.h - what the platform sends a charger on topic_down: its CALLs (answered with
 * CALLRESULT or CALLERROR, then acted on) and its answers to the charger's CALLs. Garbage
 * gets a CALLERROR FormationViolation; nothing a platform sends can crash a charger. [loop] */
#ifndef CS_DOWNLINK_H
#define CS_DOWNLINK_H

#include <stddef.h>

struct charger_rt;

void downlink_on_message(struct charger_rt *ch, const char *payload, size_t len);

/* Names of the platform CALLs a charger answers (docs). */
const char *downlink_actions(void);

#endif
