/* Fuzz target: what a WebSocket server sends a charger, any bytes, read as the transport reads
 * them (a frame at a time from the start of the buffer, asking for more when cut short). Every
 * event points inside what it was given or the reader's own buffer; a message is never longer
 * than the limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs/wsframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wsf_reader r;
    wsf_reader_init(&r, 4096);
    size_t at = 0;
    while (at < size) {
        struct wsf_event ev;
        struct cs_error err = {0};
        int code = 0;
        long used = wsf_next(&r, data + at, size - at, &ev, &code, &err);
        if (used < 0) {
            if ((code != 1002 && code != 1009) || !err.msg[0])
                abort();
            break;
        }
        if (used == 0) {
            if (ev.type != WSF_EV_NEED || ev.need <= size - at)
                abort(); /* asks for more only when more is missing */
            break;
        }
        if (ev.type == WSF_EV_MESSAGE && ev.len > 4096)
            abort();
        if (ev.len) {
            volatile uint8_t sum = 0;
            for (size_t i = 0; i < ev.len; i++)
                sum ^= ev.data[i];
            (void)sum;
        }
        at += (size_t)used;
    }
    wsf_reader_free(&r);
    return 0;
}
