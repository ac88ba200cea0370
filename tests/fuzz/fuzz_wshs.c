/* Fuzz target: a WebSocket server's answer to a charger's upgrade request, as it arrives on
 * the socket (any bytes): delimited, then checked. Whatever comes, an answer is taken or refused
 * with a message, never read past its end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs/wshs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = wshs_head_len((const char *)data, size);
    if (n == 0)
        n = size; /* an answer cut short is checked as it is */
    char *head = malloc(n + 1);
    memcpy(head, data, n);
    head[n] = '\0';
    struct cs_error err = {0};
    int status = -1;
    int rc = wshs_check(head, "dGhlIHNhbXBsZSBub25jZQ==", "ocpp1.6", &status, &err);
    if (rc != CS_OK && !err.msg[0])
        abort(); /* every refusal says why */
    if (status < 0 || status > 599)
        abort();
    free(head);
    return 0;
}
