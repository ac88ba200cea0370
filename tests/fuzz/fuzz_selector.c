/* Fuzz target: selectors (compile, then match a few subjects). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct idfmt f;
    struct cs_error err;
    idfmt_parse(&f, "CP-%06u", NULL);
    struct sel *s = sel_parse(text, size % 2 ? &f : NULL, &err);
    if (s) {
        /* random: over a fleet size and seed taken from the input (up to the largest fleet) */
        uint32_t fleet = 0;
        for (size_t i = 0; i < size && i < 4; i++)
            fleet = fleet * 251 + data[i];
        sel_prepare(s, fleet % (CS_FLEET_MAX + 1), size);
        static const struct sel_subject subjects[] = {
            {.id = "CP-000001", .index = 1, .worker = "a.w0"},
            {.id = "CP-999999", .index = 999999},
            {.id = "X", .worker = "b.w1"}};
        for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++)
            sel_match(s, &subjects[i]);
        sel_free(s);
    }
    free(text);
    return 0;
}
