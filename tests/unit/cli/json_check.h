/* A JSON checker for the CLI's unit tests (RFC 8259 grammar, no more): what | display json
 * prints must parse as exactly one value. */
#ifndef PICSEC_TEST_JSON_CHECK_H
#define PICSEC_TEST_JSON_CHECK_H

/* The end of the value at p (after leading whitespace), or NULL when it is not JSON. */
const char *json_value(const char *p, int depth);
/* p past any whitespace. */
const char *json_ws(const char *p);
/* Fails the test unless s is one JSON value and nothing more. */
void assert_json(const char *s);

#endif
