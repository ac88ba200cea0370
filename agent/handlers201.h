/* handlers201.h - the platform's OCPP 2.0.1 CALLs and how a charger answers them
 * (docs/charger.md). [loop] */
#ifndef CS_AGENT_HANDLERS201_H
#define CS_AGENT_HANDLERS201_H

#include "dl.h"

const struct dl_table *handlers201(void);

#endif
