/* ids.h - charger identity: index <-> ID through the fleet's id_format (DESIGN §2). */
#ifndef CS_IDS_H
#define CS_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/err.h"

#define CS_ID_MAX 64           /* longest charger ID, NUL excluded */
#define CS_FLEET_MAX 100000000 /* largest fleet size */

/* A parsed id_format such as "CP-%06u": prefix, one unsigned conversion, suffix. */
struct idfmt {
    char prefix[32];
    char suffix[32];
    int width; /* minimum digits, 0 = none */
    bool zero; /* pad with zeros */
};

/* Accepts exactly one %u (optionally %0Nu / %Nu, N <= 12; %d and %i are taken as %u);
 * every other character must be an ID character. */
int idfmt_parse(struct idfmt *f, const char *fmt, struct cs_error *err);
/* Writes the ID of `index` into out (CS_ID_MAX + 1 bytes is always enough). */
void idfmt_format(const struct idfmt *f, uint32_t index, char *out, size_t outlen);
/* Reverse of idfmt_format: true only if id is exactly what format(index) would give. */
bool idfmt_index(const struct idfmt *f, const char *id, uint32_t *index);

/* IDs are [A-Za-z0-9_.-]{1,64}: they become MQTT topic levels and client IDs. */
bool cs_id_char(char c);
bool cs_id_valid(const char *id);

#endif
