/* handlers16.h - the platform's OCPP 1.6 CALLs and how a charger answers them
 * (docs/charger.md). [loop] */
#ifndef CS_AGENT_HANDLERS16_H
#define CS_AGENT_HANDLERS16_H

#include "dl.h"

const struct dl_table *handlers16(void);

#endif
