/* Fuzz target: the downlink decoder of both profiles and the field checks of every CALL a
 * charger accepts (OCPP 1.6 and 2.0.1), plus re-encoding what decoded. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/ocpp.h"
#include "cs/ocpp201.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int p = PROFILE_OCPP16J; p <= PROFILE_JSON; p++) {
        struct ocpp_frame f;
        struct cs_error err;
        const char *code;
        if (ocpp_decode((enum ocpp_profile)p, (const char *)data, size, &f, &code, &err) == CS_OK) {
            struct buf b = BUF_INIT;
            if (f.type == OCPP_CALL) {
                for (int i = 0; i < OCPP_CALLS_IN; i++)
                    ocpp_check(f.payload, ocpp_call_fields(ocpp_call_name(i)), &code, &err);
                for (int i = 0; i < OCPP201_CALLS_IN; i++)
                    ocpp_check(f.payload, ocpp201_call_fields(ocpp201_call_name(i)), &code, &err);
                char *payload = cJSON_PrintUnformatted(f.payload);
                ocpp_encode_result((enum ocpp_profile)p, f.uid, f.action, 0, payload,
                                   strlen(payload), &b);
                cJSON_free(payload);
                /* Our answer is valid JSON. */
                cJSON *again = cJSON_ParseWithLength(b.s, b.len);
                if (!again)
                    __builtin_trap();
                cJSON_Delete(again);
            }
            buf_free(&b);
        } else if (!code) {
            __builtin_trap(); /* every refusal names the CALLERROR code to answer with */
        }
        ocpp_frame_free(&f);
    }
    return 0;
}
